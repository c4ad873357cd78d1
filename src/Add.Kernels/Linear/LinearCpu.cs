namespace Add.Kernels.Cpu;

/// <summary>
/// Linear layer on the CPU: <c>Y = X·Wᵀ + b (+ R)</c>, Y[m, n] = Σ_k X[m, k]·W[n, k] + b[n] + R[m, n]
/// (torch.nn.functional.linear, then an optional residual add fused into the store).
/// <para>Legend: M rows (tokens, B·L), K input features, N output features. X [M, K], W [N, K] (torch's [out, in]),
/// b [N], R [M, N], Y [M, N], all row-major.</para>
/// <para>Versions: reference <see cref="LinearReference.Forward"/> (triple loop, double accumulator);
/// <see cref="Forward"/>: <see cref="GemmCpu"/> with A = X, B = Wᵀ (packed once at load by <see cref="PackedWeight"/>,
/// or per call straight from W's rows) and a per-column bias / residual epilogue, for every M: one or two rows too (the
/// time-embedding projections, M = batch), so that a row's result never depends on how many rows came with it (a dot
/// product path for M ≤ 2 summed in another order, and an image's bytes changed with the batch size).</para>
/// </summary>
public static unsafe class LinearCpu
{
    /// <summary>Floats of workspace <see cref="Forward"/> needs for these sizes.</summary>
    public static long WorkspaceFloats(int m, int n, int k) => GemmCpu.WorkspaceFloats(m, n, k);

    /// <summary>Y = X·Wᵀ (+ b) (+ R).</summary>
    /// <param name="x">[M, K]</param>
    /// <param name="w">[N, K], or empty when <paramref name="packed"/> is given (the panels hold every value)</param>
    /// <param name="bias">[N], or empty</param>
    /// <param name="residual">[M, N], or empty; may be <paramref name="y"/> itself (y += X·Wᵀ + b)</param>
    /// <param name="y">[M, N]; may not overlap x</param>
    /// <param name="workspace">at least <see cref="WorkspaceFloats"/> floats, contents ignored</param>
    /// <param name="packed">W packed ahead of time (<see cref="PackedWeight.ForLinear"/>, same path), or null to pack it per call</param>
    public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, ReadOnlySpan<float> residual,
        Span<float> y, int m, int n, int k, Span<float> workspace, SimdPath path = SimdPath.Auto, PackedWeight? packed = null)
    {
        packed?.Check(n, k, path);
        KernelArgs.Length(nameof(x), x.Length, (long)m * k);
        if (packed is null || !w.IsEmpty)
            KernelArgs.Length(nameof(w), w.Length, (long)n * k);
        KernelArgs.Length(nameof(y), y.Length, (long)m * n);
        if (!bias.IsEmpty)
            KernelArgs.Length(nameof(bias), bias.Length, n);
        if (!residual.IsEmpty)
            KernelArgs.Length(nameof(residual), residual.Length, (long)m * n);
        fixed (float* px = x, pw = w, pb = bias, pr = residual, py = y)
        {
            var epilogue = new GemmEpilogue(bias.IsEmpty ? null : pb, false, residual.IsEmpty ? null : pr, n);
            var rowsOfX = new StridedPanels(px, 1, k);
            if (packed is not null)
                GemmCpu.Run(m, n, k, rowsOfX, packed.Panels(GemmCpu.Tile(packed.Path).Nr), py, n, epilogue, workspace, path);
            else
                GemmCpu.Run(m, n, k, rowsOfX, new StridedPanels(pw, 1, k), py, n, epilogue, workspace, path);
        }
    }
}
