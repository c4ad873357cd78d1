using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Add.Kernels.Cpu;

/// <summary>
/// Linear layer on the CPU: <c>Y = X·Wᵀ + b (+ R)</c>, Y[m, n] = Σ_k X[m, k]·W[n, k] + b[n] + R[m, n]
/// (torch.nn.functional.linear, then an optional residual add fused into the store).
/// <para>Legend: M rows (tokens, B·L), K input features, N output features. X [M, K], W [N, K] (torch's [out, in]),
/// b [N], R [M, N], Y [M, N], all row-major.</para>
/// <para>Versions: reference <see cref="LinearReference.Forward"/> (triple loop, double accumulator);
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
        KernelArgs.Length(nameof(x), x.Length, (long)m * k);
        KernelArgs.Length(nameof(w), w.Length, (long)n * k);
        KernelArgs.Length(nameof(y), y.Length, (long)m * n);
        if (!bias.IsEmpty)
            KernelArgs.Length(nameof(bias), bias.Length, n);
        if (!residual.IsEmpty)
            KernelArgs.Length(nameof(residual), residual.Length, (long)m * n);
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

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DotRange(float* x, float* w, float* bias, float* residual, float* y, int m, int n, int k, int j0, int j1, SimdPath path)
    {
        float* dots = stackalloc float[4];
        for (int i = 0; i < m; i++)
            for (int j = j0; j < j1;)
            {
                // Four outputs at a time on the 512 path; the residual is read before y is written (it may be y).
                int count = path == SimdPath.Vector512 && j1 - j >= 4 ? 4 : 1;
                if (count == 4)
                    Dot4(x + (long)i * k, w + (long)j * k, k, dots);
                else
                    dots[0] = Dot(x + (long)i * k, w + (long)j * k, k, path);
                for (int t = 0; t < count; t++, j++)
                {
                    long o = (long)i * n + j;
                    float v = dots[t];
                    if (bias != null) v += bias[j];
                    if (residual != null) v += residual[o];
                    y[o] = v;
                }
            }
    }

    /// <summary>y[0..4] = ⟨x, W[j]⟩ for four consecutive rows of W: four independent FMA chains, so the loop is bound by
    /// loads rather than by one chain's FMA latency (a single dot of K = 256 waits 4 cycles per 16 products).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Dot4(float* x, float* w, int k, float* y)
    {
        float* w1 = w + k, w2 = w1 + k, w3 = w2 + k;
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
        int c = 0;
        for (; c <= k - 16; c += 16)
        {
            var xv = Vector512.Load(x + c);
            a0 = Vector512.FusedMultiplyAdd(xv, Vector512.Load(w + c), a0);
            a1 = Vector512.FusedMultiplyAdd(xv, Vector512.Load(w1 + c), a1);
            a2 = Vector512.FusedMultiplyAdd(xv, Vector512.Load(w2 + c), a2);
            a3 = Vector512.FusedMultiplyAdd(xv, Vector512.Load(w3 + c), a3);
        }
        float s0 = CpuSimd.Sum(a0), s1 = CpuSimd.Sum(a1), s2 = CpuSimd.Sum(a2), s3 = CpuSimd.Sum(a3);
        for (; c < k; c++)
        {
            s0 = MathF.FusedMultiplyAdd(x[c], w[c], s0);
            s1 = MathF.FusedMultiplyAdd(x[c], w1[c], s1);
            s2 = MathF.FusedMultiplyAdd(x[c], w2[c], s2);
            s3 = MathF.FusedMultiplyAdd(x[c], w3[c], s3);
        }
        y[0] = s0; y[1] = s1; y[2] = s2; y[3] = s3;
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
            sum = CpuSimd.Sum(acc);
        }
        if (path != SimdPath.Scalar && k - c >= 8)
        {
            var acc = Vector256<float>.Zero;
            for (; c <= k - 8; c += 8)
                acc = Vector256.FusedMultiplyAdd(Vector256.Load(a + c), Vector256.Load(b + c), acc);
            sum += CpuSimd.Sum(acc);
        }
        for (; c < k; c++)
            sum = MathF.FusedMultiplyAdd(a[c], b[c], sum);
        return sum;
    }
}
