using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Add.Kernels.Cpu;

/// <summary>What the GEMM adds when it writes C: a bias per row or per column, and a residual of C's layout (both on the
/// first K block); then, when <see cref="Relu"/>, max(·, 0) on the last K block's store (AutoencoderTiny's conv + ReLU).</summary>
internal readonly unsafe struct GemmEpilogue(float* bias, bool biasPerRow, float* residual, int residualStride, bool relu = false)
{
    public readonly float* Bias = bias;             // [M] (per row) or [N] (per column), or null
    public readonly bool BiasPerRow = biasPerRow;
    public readonly float* Residual = residual;     // R[i, j] at i·ResidualStride + j, or null
    public readonly int ResidualStride = residualStride;
    public readonly bool Relu = relu;
}

/// <summary>
/// Single-precision GEMM in the BLIS style (Van Zee &amp; van de Geijn 2015, "BLIS: A Framework for Rapidly
/// Instantiating BLAS Functionality", Fig. 2; Goto &amp; van de Geijn 2008): <c>C = A·B (+ bias) (+ R)</c>, with
/// A [M, K] and B [K, N] from <see cref="IPanelSource"/>s (strided memory, im2col, or panels packed once at load by
/// <see cref="PackedWeight"/>), C [M, N] with row stride ldc.
/// <para>
/// Legend: M rows of C, N columns, K reduction; MR×NR the register tile, MC×KC the packed A block (L2), KC×NC the packed
/// B block (L3/L2). Loops, outermost first: jc over N by NC; pc over K by KC (pack B once per (jc, pc), unless
/// prepacked); ic over M by MC (pack A, unless prepacked); jr over NR-panels; ir over MR-panels; the micro-kernel does kc rank-1 updates of an MR×NR tile held in
/// registers. Packed panels are zero-padded to whole tiles, so the micro-kernel never branches; edge tiles are computed
/// into a stack tile and copied.
/// </para>
/// <para>
/// Versions (micro-kernels, chosen by <see cref="SimdPath"/>):
/// <list type="bullet">
/// <item>Vector512: MR×NR = 8×32, 16 zmm accumulators, per k 2 loads of B, 8 broadcasts of A, 16 FMAs.</item>
/// <item>Vector256: 6×16, 12 ymm accumulators (the classic AVX2 shape).</item>
/// <item>Scalar: 4×4 of float locals.</item>
/// </list>
/// Threads: the N or the M range (<see cref="SplitN"/>) is cut into chunks of whole panels (up to four per core when the
/// other operand is prepacked, else one per core), claimed by the cores through <see cref="CpuWorkers.For"/>; each core
/// runs the loops above with its own packing buffers. Problems under 2^18 flops stay on one core.
/// Epilogue: on the first K block the tile is stored as acc + bias + R, later blocks add to C; ReLU (when asked) is
/// applied as the last K block stores, so C is never read again for it.
/// </para>
/// </summary>
public static unsafe class GemmCpu
{
    internal const int KC = 256, MC = 96, NC = 512;     // MC is a multiple of every MR (8, 6, 4), NC of every NR
    private const int MaxTile = 8 * 32;                 // largest MR·NR, for the edge tile on the stack
    private const long MinFlopsPerThread = 1 << 18;     // ~3 µs of work: below that a chunk costs more to hand out than it saves
    private const int ChunksPerThread = 4;
    private const int PrepackedSplitRatio = 2;          // see SplitN: packing a row costs about what streaming one does, twice over
    private const long MinStreamedFloats = 1 << 18;     // 1 MB: smaller prepacked weights (all of the emoji model's) keep the old split

    /// <summary>Register tile of a path.</summary>
    internal static (int Mr, int Nr) Tile(SimdPath path) => path switch
    {
        SimdPath.Vector512 => (8, 32),
        SimdPath.Vector256 => (6, 16),
        _ => (4, 4),
    };

    /// <summary>Floats of workspace one GEMM of these sizes needs (any path, any thread count up to <see cref="CpuSimd.Threads"/>).</summary>
    public static long WorkspaceFloats(int m, int n, int k)
    {
        long mc = Math.Min(MC, RoundUp(Math.Max(m, 1), 24));     // 24 = lcm of the MRs
        long nc = Math.Min(NC, RoundUp(Math.Max(n, 1), 32));     // 32 = lcm of the NRs
        long kc = Math.Min(KC, Math.Max(k, 1));
        return CpuSimd.Threads * (mc * kc + kc * nc);
    }

    private static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;

    /// <summary>C = A·B with the epilogue; C[i, j] = c[i·ldc + j]; A's rows and B's columns come as panels from their sources.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Run<TA, TB>(int m, int n, int k, TA a, TB b, float* c, int ldc, GemmEpilogue epilogue,
        Span<float> workspace, SimdPath path) where TA : struct, IPanelSource where TB : struct, IPanelSource
    {
        if (m == 0 || n == 0)
            return;
        path = CpuSimd.Resolve(path);
        var (mr, nr) = Tile(path);
        long need = WorkspaceFloats(m, n, k);
        if (workspace.Length < need)
            throw new ArgumentException($"workspace has {workspace.Length} floats, GEMM M={m} N={n} K={k} needs {need} (GemmCpu.WorkspaceFloats)");
        long perThread = need / CpuSimd.Threads;

        int nPanels = (n + nr - 1) / nr, mPanels = (m + mr - 1) / mr;
        bool splitN = SplitN(nPanels, mPanels, a.Prepacked, b.Prepacked, m, n, k);
        int panels = splitN ? nPanels : mPanels;
        // Chunks of whole panels, claimed by whichever core is free. A chunk packs its own share of the split operand and
        // all of the other one, so only when the other one is prepacked do chunks beyond one per core cost nothing.
        bool otherPrepacked = splitN ? a.Prepacked : b.Prepacked;
        int chunks = (int)Math.Clamp(2L * m * n * k / MinFlopsPerThread, 1, Math.Min(panels, otherPrepacked ? ChunksPerThread * CpuSimd.Threads : CpuSimd.Threads));

        fixed (float* ws = workspace)
        {
            if (chunks == 1)
            {
                Block(0, m, 0, n, k, a, b, c, ldc, epilogue, ws, path);
                return;
            }
            nint wsAddress = (nint)ws, cAddress = (nint)c;
            CpuWorkers.For(chunks, t =>
            {
                int p0 = (int)((long)panels * t / chunks), p1 = (int)((long)panels * (t + 1) / chunks);
                float* slab = (float*)wsAddress + CpuWorkers.Slot * perThread;
                if (splitN)
                    Block(0, m, p0 * nr, Math.Min(n, p1 * nr), k, a, b, (float*)cAddress, ldc, epilogue, slab, path);
                else
                    Block(p0 * mr, Math.Min(m, p1 * mr), 0, n, k, a, b, (float*)cAddress, ldc, epilogue, slab, path);
            });
        }
    }

    /// <summary>C = A·B with the epilogue on the calling thread alone, for callers that already run one task per core
    /// (flash attention's query tiles); <paramref name="workspace"/> holds one thread's share,
    /// <see cref="WorkspaceFloats"/>(m, n, k) / <see cref="CpuSimd.Threads"/> floats (none is touched when both sources are prepacked).</summary>
    internal static void RunSingle<TA, TB>(int m, int n, int k, TA a, TB b, float* c, int ldc, GemmEpilogue epilogue,
        float* workspace, SimdPath path) where TA : struct, IPanelSource where TB : struct, IPanelSource
    {
        if (m > 0 && n > 0)
            Block(0, m, 0, n, k, a, b, c, ldc, epilogue, workspace, CpuSimd.Resolve(path));
    }

    /// <summary>
    /// Whether the cores split C's columns (else its rows). Each core packs its own share of the split operand and all of
    /// the other one, so split the operand that is packed per call when the other was packed ahead of time (a linear's
    /// tokens against its prepacked weight: split M), as long as there is a panel per core; otherwise the longer side.
    /// Except when the prepacked operand is over <see cref="PrepackedSplitRatio"/> times the other's size: every chunk
    /// streams all of the operand it does not split, so 77 text tokens against a 1024→4096 weight read the 16 MB weight once
    /// per chunk (8 times; 2.85× libtorch's time); split the weight instead, and each core packs the 77 rows itself.
    /// The split does not change any sum (each element of C is one micro-kernel's K loop either way).
    /// </summary>
    private static bool SplitN(int nPanels, int mPanels, bool aPrepacked, bool bPrepacked, int m, int n, int k)
    {
        bool canN = nPanels >= CpuSimd.Threads, canM = mPanels >= CpuSimd.Threads;
        if (canN && canM && aPrepacked != bPrepacked)
        {
            long prepackedFloats = (long)k * (aPrepacked ? m : n);
            if (prepackedFloats <= MinStreamedFloats)
                return aPrepacked;          // a weight that stays in L2: streaming it per chunk costs little
            return aPrepacked ? m <= (long)PrepackedSplitRatio * n : n > (long)PrepackedSplitRatio * m;
        }
        if (canN != canM)
            return canN;
        return nPanels >= mPanels;
    }

    /// <summary>C[m0..m1, n0..n1] on one thread, packing into <paramref name="ws"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block<TA, TB>(int m0, int m1, int n0, int n1, int k, TA a, TB b, float* c, int ldc,
        GemmEpilogue epilogue, float* ws, SimdPath path) where TA : struct, IPanelSource where TB : struct, IPanelSource
    {
        var (mr, nr) = Tile(path);
        int kcMax = Math.Min(KC, Math.Max(k, 1));
        float* aScratch = ws;                                                      // [MC/MR panels][kc][MR]
        float* bScratch = ws + Math.Min(MC, RoundUp(m1 - m0, 24)) * (long)kcMax;  // [NC/NR panels][kc][NR]
        float* edge = stackalloc float[MaxTile];
        if (k == 0)
        {
            // Empty reduction: C = bias + R.
            for (int i = m0; i < m1; i++)
                for (int j = n0; j < n1; j++)
                    c[(long)i * ldc + j] = Epilogue(0f, i, j, epilogue);
            return;
        }
        for (int jc = n0; jc < n1; jc += NC)
        {
            int nc = Math.Min(NC, n1 - jc);
            for (int pc = 0; pc < k; pc += KC)
            {
                int kc = Math.Min(KC, k - pc);
                bool first = pc == 0, last = pc + kc >= k;
                float* bp = b.Panels(bScratch, pc, kc, jc, nc, nr);
                for (int ic = m0; ic < m1; ic += MC)
                {
                    int mc = Math.Min(MC, m1 - ic);
                    float* ap = a.Panels(aScratch, pc, kc, ic, mc, mr);
                    for (int jr = 0; jr < nc; jr += nr)
                    {
                        float* bPanel = bp + (long)jr * kc;
                        int cols = Math.Min(nr, nc - jr);
                        for (int ir = 0; ir < mc; ir += mr)
                        {
                            float* aPanel = ap + (long)ir * kc;
                            int rows = Math.Min(mr, mc - ir);
                            int i0 = ic + ir, j0 = jc + jr;
                            if (rows == mr && cols == nr)
                                MicroKernel(path, kc, aPanel, bPanel, c + (long)i0 * ldc + j0, ldc, first, last, i0, j0, epilogue);
                            else
                            {
                                MicroKernel(path, kc, aPanel, bPanel, edge, nr, true, false, 0, 0, default);
                                for (int i = 0; i < rows; i++)
                                    for (int j = 0; j < cols; j++)
                                    {
                                        float* dst = c + (long)(i0 + i) * ldc + j0 + j;
                                        float v = edge[i * nr + j];
                                        v = first ? Epilogue(v, i0 + i, j0 + j, epilogue) : *dst + v;
                                        *dst = last && epilogue.Relu && !(v > 0f) ? 0f : v;
                                    }
                            }
                        }
                    }
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Epilogue(float v, int i, int j, GemmEpilogue e)
    {
        if (e.Bias != null)
            v += e.BiasPerRow ? e.Bias[i] : e.Bias[j];
        if (e.Residual != null)
            v += e.Residual[(long)i * e.ResidualStride + j];
        return v;
    }

    /// <summary>
    /// One MR×NR tile: C[i, j] (=, or += when not <paramref name="first"/>) Σ_k a[k·MR + i]·b[k·NR + j]; when first,
    /// plus the epilogue's bias and residual at global row i0 + i, column j0 + j.
    /// </summary>
    private static void MicroKernel(SimdPath path, int kc, float* a, float* b, float* c, int ldc, bool first, bool last, int i0, int j0, GemmEpilogue e)
    {
        // ReLU only on the last K block's store.
        var relu = last && e.Relu;
        switch (path)
        {
            case SimdPath.Vector512: Kernel8x32(kc, a, b, c, ldc, first, relu, i0, j0, e); break;
            case SimdPath.Vector256: Kernel6x16(kc, a, b, c, ldc, first, relu, i0, j0, e); break;
            default: Kernel4x4(kc, a, b, c, ldc, first, relu, i0, j0, e); break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store512(float* c, Vector512<float> v, bool first, bool relu, int i, int j, GemmEpilogue e)
    {
        if (!first)
            v += Vector512.Load(c);
        else
        {
            if (e.Bias != null)
                v += e.BiasPerRow ? Vector512.Create(e.Bias[i]) : Vector512.Load(e.Bias + j);
            if (e.Residual != null)
                v += Vector512.Load(e.Residual + (long)i * e.ResidualStride + j);
        }
        if (relu)
            v = Vector512.Max(v, Vector512<float>.Zero);
        v.Store(c);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store256(float* c, Vector256<float> v, bool first, bool relu, int i, int j, GemmEpilogue e)
    {
        if (!first)
            v += Vector256.Load(c);
        else
        {
            if (e.Bias != null)
                v += e.BiasPerRow ? Vector256.Create(e.Bias[i]) : Vector256.Load(e.Bias + j);
            if (e.Residual != null)
                v += Vector256.Load(e.Residual + (long)i * e.ResidualStride + j);
        }
        if (relu)
            v = Vector256.Max(v, Vector256<float>.Zero);
        v.Store(c);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel8x32(int kc, float* a, float* b, float* c, int ldc, bool first, bool relu, int i0, int j0, GemmEpilogue e)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        Vector512<float> c40 = default, c41 = default, c50 = default, c51 = default, c60 = default, c61 = default, c70 = default, c71 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            var x = Vector512.Create(a[0]);
            c00 = Vector512.FusedMultiplyAdd(x, b0, c00); c01 = Vector512.FusedMultiplyAdd(x, b1, c01);
            x = Vector512.Create(a[1]);
            c10 = Vector512.FusedMultiplyAdd(x, b0, c10); c11 = Vector512.FusedMultiplyAdd(x, b1, c11);
            x = Vector512.Create(a[2]);
            c20 = Vector512.FusedMultiplyAdd(x, b0, c20); c21 = Vector512.FusedMultiplyAdd(x, b1, c21);
            x = Vector512.Create(a[3]);
            c30 = Vector512.FusedMultiplyAdd(x, b0, c30); c31 = Vector512.FusedMultiplyAdd(x, b1, c31);
            x = Vector512.Create(a[4]);
            c40 = Vector512.FusedMultiplyAdd(x, b0, c40); c41 = Vector512.FusedMultiplyAdd(x, b1, c41);
            x = Vector512.Create(a[5]);
            c50 = Vector512.FusedMultiplyAdd(x, b0, c50); c51 = Vector512.FusedMultiplyAdd(x, b1, c51);
            x = Vector512.Create(a[6]);
            c60 = Vector512.FusedMultiplyAdd(x, b0, c60); c61 = Vector512.FusedMultiplyAdd(x, b1, c61);
            x = Vector512.Create(a[7]);
            c70 = Vector512.FusedMultiplyAdd(x, b0, c70); c71 = Vector512.FusedMultiplyAdd(x, b1, c71);
            a += 8;
            b += 32;
        }
        Store512(c, c00, first, relu, i0, j0, e); Store512(c + 16, c01, first, relu, i0, j0 + 16, e); c += ldc;
        Store512(c, c10, first, relu, i0 + 1, j0, e); Store512(c + 16, c11, first, relu, i0 + 1, j0 + 16, e); c += ldc;
        Store512(c, c20, first, relu, i0 + 2, j0, e); Store512(c + 16, c21, first, relu, i0 + 2, j0 + 16, e); c += ldc;
        Store512(c, c30, first, relu, i0 + 3, j0, e); Store512(c + 16, c31, first, relu, i0 + 3, j0 + 16, e); c += ldc;
        Store512(c, c40, first, relu, i0 + 4, j0, e); Store512(c + 16, c41, first, relu, i0 + 4, j0 + 16, e); c += ldc;
        Store512(c, c50, first, relu, i0 + 5, j0, e); Store512(c + 16, c51, first, relu, i0 + 5, j0 + 16, e); c += ldc;
        Store512(c, c60, first, relu, i0 + 6, j0, e); Store512(c + 16, c61, first, relu, i0 + 6, j0 + 16, e); c += ldc;
        Store512(c, c70, first, relu, i0 + 7, j0, e); Store512(c + 16, c71, first, relu, i0 + 7, j0 + 16, e);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel6x16(int kc, float* a, float* b, float* c, int ldc, bool first, bool relu, int i0, int j0, GemmEpilogue e)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            var x = Vector256.Create(a[0]);
            c00 = Vector256.FusedMultiplyAdd(x, b0, c00); c01 = Vector256.FusedMultiplyAdd(x, b1, c01);
            x = Vector256.Create(a[1]);
            c10 = Vector256.FusedMultiplyAdd(x, b0, c10); c11 = Vector256.FusedMultiplyAdd(x, b1, c11);
            x = Vector256.Create(a[2]);
            c20 = Vector256.FusedMultiplyAdd(x, b0, c20); c21 = Vector256.FusedMultiplyAdd(x, b1, c21);
            x = Vector256.Create(a[3]);
            c30 = Vector256.FusedMultiplyAdd(x, b0, c30); c31 = Vector256.FusedMultiplyAdd(x, b1, c31);
            x = Vector256.Create(a[4]);
            c40 = Vector256.FusedMultiplyAdd(x, b0, c40); c41 = Vector256.FusedMultiplyAdd(x, b1, c41);
            x = Vector256.Create(a[5]);
            c50 = Vector256.FusedMultiplyAdd(x, b0, c50); c51 = Vector256.FusedMultiplyAdd(x, b1, c51);
            a += 6;
            b += 16;
        }
        Store256(c, c00, first, relu, i0, j0, e); Store256(c + 8, c01, first, relu, i0, j0 + 8, e); c += ldc;
        Store256(c, c10, first, relu, i0 + 1, j0, e); Store256(c + 8, c11, first, relu, i0 + 1, j0 + 8, e); c += ldc;
        Store256(c, c20, first, relu, i0 + 2, j0, e); Store256(c + 8, c21, first, relu, i0 + 2, j0 + 8, e); c += ldc;
        Store256(c, c30, first, relu, i0 + 3, j0, e); Store256(c + 8, c31, first, relu, i0 + 3, j0 + 8, e); c += ldc;
        Store256(c, c40, first, relu, i0 + 4, j0, e); Store256(c + 8, c41, first, relu, i0 + 4, j0 + 8, e); c += ldc;
        Store256(c, c50, first, relu, i0 + 5, j0, e); Store256(c + 8, c51, first, relu, i0 + 5, j0 + 8, e);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel4x4(int kc, float* a, float* b, float* c, int ldc, bool first, bool relu, int i0, int j0, GemmEpilogue e)
    {
        float c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
        float c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
        for (int p = 0; p < kc; p++)
        {
            float b0 = b[0], b1 = b[1], b2 = b[2], b3 = b[3];
            float x = a[0];
            c00 += x * b0; c01 += x * b1; c02 += x * b2; c03 += x * b3;
            x = a[1];
            c10 += x * b0; c11 += x * b1; c12 += x * b2; c13 += x * b3;
            x = a[2];
            c20 += x * b0; c21 += x * b1; c22 += x * b2; c23 += x * b3;
            x = a[3];
            c30 += x * b0; c31 += x * b1; c32 += x * b2; c33 += x * b3;
            a += 4;
            b += 4;
        }
        float* t = stackalloc float[16] { c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33 };
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++)
            {
                float* dst = c + (long)i * ldc + j;
                float v = first ? Epilogue(t[i * 4 + j], i0 + i, j0 + j, e) : *dst + t[i * 4 + j];
                *dst = relu && !(v > 0f) ? 0f : v;
            }
    }
}
