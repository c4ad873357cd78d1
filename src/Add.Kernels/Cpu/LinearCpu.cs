using System.Runtime.Intrinsics;

namespace Add.Kernels.Cpu;

/// <summary>
/// Linear layer on the CPU: <c>Y = X·Wᵀ + b (+ R)</c>, Y[m, n] = Σ_k X[m, k]·W[n, k] + b[n] + R[m, n]
/// (torch.nn.functional.linear, then an optional residual add fused into the store).
/// <para>Legend: M rows (tokens, B·L), K input features, N output features. X [M, K], W [N, K] (torch's [out, in]),
/// b [N], R [M, N], Y [M, N], all row-major.</para>
/// <para>Versions: reference <see cref="Add.Kernels.Ilgpu.Gemm.Reference"/> (triple loop, double accumulator);
/// <see cref="Forward"/>: <see cref="GemmCpu"/> with A = X, B = Wᵀ (packed once at load by <see cref="PackedWeight"/>,
/// or per call straight from W's rows) and a per-column bias / residual epilogue; for M ≤ <see cref="MaxDotRows"/> (the time-embedding projections, M = batch)
/// a dot product per output straight from W's rows, because packing W for one or two rows of X costs more than the
/// product itself.</para>
/// </summary>
public static unsafe class LinearCpu
{
    /// <summary>Floats of workspace <see cref="Forward"/> needs for these sizes.</summary>
    public static long WorkspaceFloats(int m, int n, int k) => GemmCpu.WorkspaceFloats(m, n, k);

    /// <summary>Y = X·Wᵀ (+ b) (+ R).</summary>
    /// <param name="x">[M, K]</param>
    /// <param name="w">[N, K]</param>
    /// <param name="bias">[N], or empty</param>
    /// <param name="residual">[M, N], or empty; may be <paramref name="y"/> itself (y += X·Wᵀ + b)</param>
    /// <param name="y">[M, N]; may not overlap x</param>
    /// <param name="workspace">at least <see cref="WorkspaceFloats"/> floats, contents ignored</param>
    /// <param name="packed">W packed ahead of time (<see cref="PackedWeight.ForLinear"/>, same path), or null to pack it per call</param>
    public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, ReadOnlySpan<float> residual,
        Span<float> y, int m, int n, int k, Span<float> workspace, SimdPath path = SimdPath.Auto, PackedWeight? packed = null)
    {
        packed?.Check(n, k, path);
        Check(nameof(x), x.Length, (long)m * k);
        Check(nameof(w), w.Length, (long)n * k);
        Check(nameof(y), y.Length, (long)m * n);
        if (!bias.IsEmpty)
            Check(nameof(bias), bias.Length, n);
        if (!residual.IsEmpty)
            Check(nameof(residual), residual.Length, (long)m * n);
        fixed (float* px = x, pw = w, pb = bias, pr = residual, py = y)
        {
            if (m <= MaxDotRows)
            {
                DotRows(px, pw, bias.IsEmpty ? null : pb, residual.IsEmpty ? null : pr, py, m, n, k, CpuSimd.Resolve(path));
                return;
            }
            var epilogue = new GemmEpilogue(bias.IsEmpty ? null : pb, false, residual.IsEmpty ? null : pr, n);
            var rowsOfX = new StridedPanels(px, 1, k);
            if (packed is not null)
                GemmCpu.Run(m, n, k, rowsOfX, packed.Panels(GemmCpu.Tile(packed.Path).Nr), py, n, epilogue, workspace, path);
            else
                GemmCpu.Run(m, n, k, rowsOfX, new StridedPanels(pw, 1, k), py, n, epilogue, workspace, path);
        }
    }

    /// <summary>Rows of X up to which <see cref="Forward"/> takes the dot-product path.</summary>
    public const int MaxDotRows = 2;

    private const long MinDotWorkPerThread = 1 << 16;

    /// <summary>Y[i, j] = ⟨X[i], W[j]⟩ + b[j] + R[i, j], the N outputs split across cores when the work is large.</summary>
    private static void DotRows(float* x, float* w, float* bias, float* residual, float* y, int m, int n, int k, SimdPath path)
    {
        int workers = (int)Math.Clamp((long)m * n * k / MinDotWorkPerThread, 1, CpuSimd.Threads);
        if (workers == 1)
        {
            DotRange(x, w, bias, residual, y, m, n, k, 0, n, path);
            return;
        }
        nint px = (nint)x, pw = (nint)w, pb = (nint)bias, pr = (nint)residual, py = (nint)y;
        CpuWorkers.For(workers, t => DotRange((float*)px, (float*)pw, (float*)pb, (float*)pr, (float*)py, m, n, k, n * t / workers, n * (t + 1) / workers, path));
    }

    private static void DotRange(float* x, float* w, float* bias, float* residual, float* y, int m, int n, int k, int j0, int j1, SimdPath path)
    {
        for (int i = 0; i < m; i++)
            for (int j = j0; j < j1; j++)
            {
                long o = (long)i * n + j;
                float v = Dot(x + (long)i * k, w + (long)j * k, k, path);
                if (bias != null) v += bias[j];
                if (residual != null) v += residual[o];
                y[o] = v;
            }
    }

    private static float Dot(float* a, float* b, int k, SimdPath path)
    {
        int c = 0;
        float sum = 0f;
        if (path == SimdPath.Vector512 && k >= 16)
        {
            var acc = Vector512<float>.Zero;
            for (; c <= k - 16; c += 16)
                acc = Vector512.FusedMultiplyAdd(Vector512.Load(a + c), Vector512.Load(b + c), acc);
            sum = Vector512.Sum(acc);
        }
        if (path != SimdPath.Scalar && k - c >= 8)
        {
            var acc = Vector256<float>.Zero;
            for (; c <= k - 8; c += 8)
                acc = Vector256.FusedMultiplyAdd(Vector256.Load(a + c), Vector256.Load(b + c), acc);
            sum += Vector256.Sum(acc);
        }
        for (; c < k; c++)
            sum = MathF.FusedMultiplyAdd(a[c], b[c], sum);
        return sum;
    }

    internal static void Check(string name, long actual, long expected)
    {
        if (actual != expected)
            throw new ArgumentException($"{name} has {actual} elements, expected {expected}");
    }
}
