using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Add.Kernels.Cpu;

/// <summary>What the GEMM adds when it writes C: a bias per row or per column, and a residual of C's layout (both on the
/// first K block, or the residual after the last one: <see cref="ResidualApart"/>); then, when <see cref="Relu"/>,
/// max(·, 0) on the last K block's store (AutoencoderTiny's conv + ReLU).</summary>
internal readonly unsafe struct GemmEpilogue(float* bias, bool biasPerRow, float* residual, int residualStride, bool relu = false,
    bool residualApart = false)
{
    public readonly float* Bias = bias;             // [M] (per row) or [N] (per column), or null
    public readonly bool BiasPerRow = biasPerRow;
    public readonly float* Residual = residual;     // R[i, j] at i·ResidualStride + j, or null
    public readonly int ResidualStride = residualStride;
    public readonly bool Relu = relu;
    /// <summary>The linear order adds R in a pass over each row block after its tiles (see GemmCpu.Block), not in their stores.</summary>
    public readonly bool ResidualApart = residualApart;

    /// <summary>This epilogue for one call C [m, n] (row stride ldc): R apart where it may be: no ReLU
    /// to apply after it and R's memory not overlapping C's (an in-place residual, R = C, is read by the stores before
    /// they overwrite it); Vector512 only.</summary>
    public GemmEpilogue ForCall(float* c, int ldc, int m, int n, SimdPath path)
    {
        if (Residual == null || Relu || path != SimdPath.Vector512 || m == 0 || n == 0)
            return this;
        nint c0 = (nint)c, c1 = (nint)(c + (long)(m - 1) * ldc + n), r0 = (nint)Residual, r1 = (nint)(Residual + (long)(m - 1) * ResidualStride + n);
        bool overlap = c0 < r1 && r0 < c1;
        return overlap ? this : new GemmEpilogue(Bias, BiasPerRow, Residual, ResidualStride, false, true);
    }
}

/// <summary>
/// Single-precision GEMM in the BLIS style (Van Zee &amp; van de Geijn 2015, "BLIS: A Framework for Rapidly
/// Instantiating BLAS Functionality", Fig. 2; Goto &amp; van de Geijn 2008): <c>C = A·B (+ bias) (+ R)</c>, with
/// A [M, K] and B [K, N] from <see cref="IPanelSource"/>s (strided memory, im2col, or panels packed once at load by
/// <see cref="PackedWeight"/>), C [M, N] with row stride ldc.
/// <para>
/// Legend: M rows of C, N columns, K reduction; MR×NR the register tile, MC×KC the packed A block (L2), KC×NC the packed
/// B block (L3/L2); KC = <see cref="KBlock"/>(K), equal blocks of at most <see cref="KcMax"/>. Loops, outermost first:
/// jc over N by NC; pc over K by KC (pack B once per (jc, pc), unless prepacked, while the next block's source is asked
/// into L2: <see cref="BlockPrefetch"/>); ic over M by MC (pack A, unless prepacked); jr over NR-panels; ir over
/// MR-panels; the micro-kernel does kc rank-1 updates of an MR×NR tile held in registers. When B is prepacked and A is
/// not (a linear), ic comes first, then pc, then jc, and A's whole MR-row panels are read in place (Vector512; the edge
/// panel is packed). In the conv order B is read where it lies instead of packed when its source can give each 32
/// columns as consecutive floats at a per-k offset (<see cref="IPanelSource.Halves"/>: a strided conv's phase-split
/// image on rows of whole halves, or the kx-shifted copies of an 8² or 16² plane), on Vector512, for whole panels.
/// Packed panels are zero-padded to whole tiles, so the micro-kernel never branches; edge tiles are computed into a stack
/// tile and copied.
/// </para>
/// <para>
/// Versions (micro-kernels, chosen by <see cref="SimdPath"/>):
/// <list type="bullet">
/// <item>Vector512: MR×NR = 6×64, 24 zmm accumulators, per k 4 loads of B, 6 broadcasts of A, 24 FMAs. The 8×32 tile it
/// replaced (16 accumulators, 10 loads per 16 FMAs) ran at 72-80 % of one core's FMA peak with both panels in L1, this one
/// at 83-87 % (gemmlab, 2026-12-03 on an Intel Xeon: loads per FMA, not registers, bound these tiles there; 8×48 ties,
/// 4×96 and 14×32 lose). On an AMD EPYC (Zen 5) every one of these tiles runs at 96-99 %, resident or streaming its
/// block from L2 (gemmlab, 2026-12-04): there the losses are outside the loop (perf/logs/gemm-rows-2026-12-04).</item>
/// <item>Vector512, one row (M = 1, a GEMV): <see cref="KernelRow64"/>, 1×64 in the 6×64 kernel's order, not a tile five rows of padding.</item>
/// <item>Vector256: 6×16, 12 ymm accumulators (the classic AVX2 shape).</item>
/// <item>Scalar: 4×4 of float locals.</item>
/// </list>
/// Threads: the N or the M range (<see cref="SplitN"/>) is cut into chunks of whole panels (up to four per core in the
/// linear order, M split against a prepacked B; else one per core: see Run), claimed by the cores through <see cref="CpuWorkers.For"/>; each core
/// runs the loops above with its own packing buffers. Problems under 2^18 flops stay on one core.
/// Epilogue: on the first K block the tile is stored as acc + bias + R, later blocks add to C; ReLU (when asked) is
/// applied as the last K block stores, so C is never read again for it. The linear order adds R instead in a pass over
/// each row block once its tiles are done (<see cref="GemmEpilogue.ResidualApart"/>): no ReLU, R apart from C.
/// </para>
/// </summary>
public static unsafe partial class GemmCpu
{
    internal const int KcMax = 512, MC = 96, NC = 512;  // MC is a multiple of every MR (6, 6, 4), NC of every NR (64, 16, 4)

    /// <summary>
    /// KC, the K block of a reduction of length k: k itself up to <see cref="KcMax"/> (one block), else k cut into the
    /// fewest equal blocks of at most KcMax (the last one shorter by the rounding). Every block past the first reads C back
    /// and stores it again, so fewer blocks mean fewer round trips of C: K = 320 is one block, not 256 + 64; 640 is
    /// 2 × 320, not 256 + 256 + 128; 960 2 × 480; 2,880 (a 3×3 conv over 320 channels) 6 × 480, not 11 × 256 + 64. The
    /// B panel of a 512 block is 128 KB, in L2 as the 64 KB one of 256 was (L1 holds neither). A maximum of 384 gained
    /// 0-10 % on the K = 320-2,560 linears over 256; 512 another 2-5 % on the 1×1 convs (perf/logs/gemm-rows-2026-12-04).
    /// Everything that packs panels for the GEMM (<see cref="PackedWeight"/>, Winograd's transforms, attention's Q and
    /// K) blocks K with this.
    /// </summary>
    internal static int KBlock(int k)
    {
        if (k <= KcMax)
            return Math.Max(k, 1);
        int blocks = (k + KcMax - 1) / KcMax;
        return (k + blocks - 1) / blocks;
    }
    private const int MaxTile = 6 * 64;                 // largest MR·NR, for the edge tile on the stack
    private const long MinFlopsPerThread = 1 << 18;     // ~3 µs of work: below that a chunk costs more to hand out than it saves
    private const int ChunksPerThread = 4;
    private const int PrepackedSplitRatio = 2;          // see SplitN: packing a row costs about what streaming one does, twice over
    private const long MinStreamedFloats = 1 << 18;     // 1 MB: smaller prepacked weights (all of the emoji model's) keep the old split

    /// <summary>Register tile of a path.</summary>
    internal static (int Mr, int Nr) Tile(SimdPath path) => path switch
    {
        SimdPath.Vector512 => (6, 64),
        SimdPath.Vector256 => (6, 16),
        _ => (4, 4),
    };

    /// <summary>Floats of workspace one GEMM of these sizes needs (any path, any thread count up to <see cref="CpuSimd.Threads"/>).</summary>
    public static long WorkspaceFloats(int m, int n, int k)
    {
        long mc = Math.Min(MC, RoundUp(Math.Max(m, 1), 24));     // 24: a multiple of every MR (6, 6, 4)
        long nc = Math.Min(NC, RoundUp(Math.Max(n, 1), 64));     // 64 = lcm of the NRs (64, 16, 4)
        long kc = KBlock(k);
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
        epilogue = epilogue.ForCall(c, ldc, m, n, path);

        int nPanels = (n + nr - 1) / nr, mPanels = (m + mr - 1) / mr;
        bool splitN = SplitN(nPanels, mPanels, a.Prepacked, b.Prepacked, m, n, k);
        int panels = splitN ? nPanels : mPanels;
        // Chunks of whole panels, claimed by whichever core is free. A chunk packs its own share of the split operand and
        // all of the other one, so chunks beyond one per core cost nothing only when the other one is prepacked and the
        // chunk's traffic does not grow with their number: true of the linear order (split M against a prepacked B,
        // whose panels are streamed once per MC rows however the rows are chunked), not of the conv order (split N,
        // every chunk streaming all of A's prepacked weight panels: 4 chunks per core read a 3.7 MB weight 8 times;
        // one per core took the 1×1 convs and the stride-2 downsample from 0.95-1.10× libtorch to 0.92-1.04×, AMD EPYC
        // 2026-12-04, perf/logs/conv-chunks-2026-12-04).
        bool extraChunksFree = !splitN && b.Prepacked;
        int chunks = (int)Math.Clamp(2L * m * n * k / MinFlopsPerThread, 1, Math.Min(panels, extraChunksFree ? ChunksPerThread * CpuSimd.Threads : CpuSimd.Threads));

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
        {
            path = CpuSimd.Resolve(path);
            Block(0, m, 0, n, k, a, b, c, ldc, epilogue.ForCall(c, ldc, m, n, path), workspace, path);
        }
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
        int kb = KBlock(k), kcMax = kb;
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
        if (b.Prepacked && !a.Prepacked)
        {
            // A linear (tokens against a prepacked weight): rows outermost, so each MC×KC block of A is packed once, not
            // once per NC block of columns, and its C rows stay in L2 across the K blocks (4096×320·320×2560: 2 packings
            // of A instead of 10).
            // The residual is added after each row block, in a pass along its rows, not in the tiles' stores: read there,
            // 256 bytes of six rows per tile, it cost 15-25 % of a 4096×320·320×320 linear (the same row without its loads
            // ran as fast as to_q; prefetching them did not help), where a pass over rows streams: 64² to_out+residual
            // 2.13 → 1.92 ms (perf/logs/gemm-rows-2026-12-04/residual-after.log). Whatever M and the chunking, so an
            // image's bytes do not depend on its batch (C = Σ blocks + R, R last, for every row).
            var tileEpilogue = epilogue.ResidualApart ? new GemmEpilogue(epilogue.Bias, epilogue.BiasPerRow, null, 0) : epilogue;
            for (int ic = m0; ic < m1; ic += MC)
            {
                int mc = Math.Min(MC, m1 - ic);
                for (int pc = 0; pc < k; pc += kb)
                {
                    int kc = Math.Min(kb, k - pc), lda = 0;
                    // Whole MR-row panels of tokens that lie in memory along k are read where they are (Vector512), the
                    // rest packed: every panel of A meets only nc/NR panels of B, so at N = 320 packing them was ~10 % of
                    // the GEMM's time.
                    float* rows = path == SimdPath.Vector512 ? a.InPlace(pc, ic, out lda) : null;
                    int inPlace = rows == null || lda <= 0 ? 0 : mc / mr * mr;
                    float* ap = inPlace == mc ? null : a.Panels(aScratch, pc, kc, ic + inPlace, mc - inPlace, mr);
                    var aSource = new APanels(ap, rows, lda, inPlace);
                    for (int jc = n0; jc < n1; jc += NC)
                    {
                        int nc = Math.Min(NC, n1 - jc);
                        Tiles(aSource, b.Panels(bScratch, pc, kc, jc, nc, nr), ic, mc, jc, nc, pc, kc, k, c, ldc, tileEpilogue, edge, path, streamB: true);
                    }
                }
                if (epilogue.ResidualApart)
                    for (int i = ic; i < ic + mc; i++)
                    {
                        float* ci = c + (long)i * ldc + n0;
                        ElementwiseCpu.Add(new ReadOnlySpan<float>(ci, n1 - n0),
                            new ReadOnlySpan<float>(epilogue.Residual + (long)i * epilogue.ResidualStride + n0, n1 - n0), new Span<float>(ci, n1 - n0));
                    }
            }
            return;
        }
        int* offsets = stackalloc int[kcMax + InPlaceAhead];   // B in place: where each k of the block lies (IPanelSource.Halves)
        float** halves = stackalloc float*[NC / 32];  // and where each 32 columns of the NC block start
        for (int jc = n0; jc < n1; jc += NC)
        {
            int nc = Math.Min(NC, n1 - jc);
            for (int pc = 0; pc < k; pc += kb)
            {
                int kc = Math.Min(kb, k - pc);
                // B read where it lies when it can be (whole panels only), else packed.
                bool inPlace = path == SimdPath.Vector512 && (n1 - n0) % nr == 0 && b.Halves(pc, kc, offsets);
                for (int q = kc; inPlace && q < kc + InPlaceAhead; q++)
                    offsets[q] = offsets[kc - 1];
                float* bp = inPlace ? null : b.Panels(bScratch, pc, kc, jc, nc, nr);
                for (int q = 0; inPlace && q < nc / 32; q++)
                    halves[q] = b.HalfAt(jc + 32 * q);
                // B's next block, asked into L2 over this block's tiles: packed from memory, it stalled the core between blocks.
                int nextPc = pc + kb < k ? pc + kb : 0, nextJc = pc + kb < k ? jc : jc + NC;
                var next = nextJc < n1 ? BlockPrefetch.Of(b, nextPc, Math.Min(kb, k - nextPc), nextJc, Math.Min(NC, n1 - nextJc)) : default;
                int icBlocks = (m1 - m0 + MC - 1) / MC, lines = next.Count;
                for (int ic = m0, t = 0; ic < m1; ic += MC, t++)
                {
                    int mc = Math.Min(MC, m1 - ic);
                    Tiles(new APanels(a.Panels(aScratch, pc, kc, ic, mc, mr)), bp, ic, mc, jc, nc, pc, kc, k, c, ldc, epilogue, edge, path, streamB: false,
                        next, (int)((long)lines * t / icBlocks), (int)((long)lines * (t + 1) / icBlocks), inPlace ? halves : null, offsets);
                }
            }
        }
    }

    /// <summary>The register tiles of one packed block: C[ic.., jc..] (mc × nc) gets A's panels ap times B's panels bp
    /// over K block pc (kc values of k); whole tiles in place, edge tiles through <paramref name="edge"/>.
    /// <para>
    /// <paramref name="streamB"/> (a linear's prepacked weight, read from memory once per call): while the A panels run
    /// against one B panel, the next B panel is prefetched into L2, a share of its lines per micro-kernel call, one line per k
    /// (Vector512). The hardware streamer stops at 4 KB pages, so without it the first A panel against each B panel waited on
    /// DRAM for the panel's 64 KB: SD-Turbo's linears ran 10-20 % faster with it (gemmlab5, cold weights, 2026-12-03:
    /// text fc1 77×4096×1024 132 → 161 GFLOP/s median, UNet ff 1024×5120×640 134 → 158). A B panel packed per call is in
    /// L2 already, so the other order does not prefetch.
    /// </para></summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tiles(APanels ap, float* bp, int ic, int mc, int jc, int nc, int pc, int kc, int k, float* c, int ldc,
        GemmEpilogue epilogue, float* edge, SimdPath path, bool streamB, BlockPrefetch next = default, int nextFrom = 0, int nextTo = 0,
        float** halves = null, int* offsets = null)
    {
        var (mr, nr) = Tile(path);
        // Lines [nextFrom, nextTo) of the next block, spread evenly over this block's micro-kernel calls.
        int calls = (nc + nr - 1) / nr * ((mc + mr - 1) / mr), call = 0;
        bool first = pc == 0, last = pc + kc >= k;
        int aPanels = (mc + mr - 1) / mr, linesPerCall = (nr * kc / 16 + aPanels - 1) / aPanels;    // of the next B panel's nr·kc/16 lines
        for (int jr = 0; jr < nc; jr += nr)
        {
            // In place (halves): the panel's two halves of 32 columns, each at its own place, k at offsets[k].
            float* bPanel = halves == null ? bp + (long)jr * kc : halves[jr / 32], bHigh = halves == null ? null : halves[jr / 32 + 1];
            float* nextB = streamB ? bPanel + (long)nr * kc : null;
            int cols = Math.Min(nr, nc - jr);
            for (int ir = 0; ir < mc; ir += mr)
            {
                float* aPanel = ap.Panel(ir, kc, out int aRow);
                int rows = Math.Min(mr, mc - ir);
                int i0 = ic + ir, j0 = jc + jr;
                float* prefetch = nextB == null ? null : nextB + (long)(ir / mr) * linesPerCall * 16;
                if (nextTo > nextFrom)
                {
                    next.Ask(nextFrom + (int)((long)(nextTo - nextFrom) * call / calls), nextFrom + (int)((long)(nextTo - nextFrom) * (call + 1) / calls));
                    call++;
                }
                if (mc == 1 && cols == nr && path == SimdPath.Vector512 && bHigh == null)
                    KernelRow64(kc, aPanel, mr, bPanel, c + (long)i0 * ldc + j0, first, last && epilogue.Relu, i0, j0, epilogue, nextB);
                else if (rows == mr && cols == nr)
                    MicroKernel(path, kc, aPanel, bPanel, c + (long)i0 * ldc + j0, ldc, first, last, i0, j0, epilogue, prefetch, aRow, offsets, bHigh);
                else
                {
                    // An edge tile: computed whole on the stack, its valid part stored, whole vectors first (with the
                    // full tiles' store: the emoji model's 64- and 128-wide C rows are all whole vectors, and MR 6 leaves
                    // an edge panel on every power-of-two M), then single columns.
                    MicroKernel(path, kc, aPanel, bPanel, edge, nr, true, false, 0, 0, default, prefetch, aRow, offsets, bHigh);
                    bool relu = last && epilogue.Relu;
                    for (int i = 0; i < rows; i++)
                    {
                        float* dst = c + (long)(i0 + i) * ldc + j0, src = edge + i * nr;
                        int j = 0;
                        if (path == SimdPath.Vector512)
                            for (; j + 16 <= cols; j += 16)
                                Store512(dst + j, Vector512.Load(src + j), first, relu, i0 + i, j0 + j, epilogue);
                        else if (path == SimdPath.Vector256)
                            for (; j + 8 <= cols; j += 8)
                                Store256(dst + j, Vector256.Load(src + j), first, relu, i0 + i, j0 + j, epilogue);
                        for (; j < cols; j++)
                        {
                            float v = first ? Epilogue(src[j], i0 + i, j0 + j, epilogue) : dst[j] + src[j];
                            dst[j] = relu && !(v > 0f) ? 0f : v;
                        }
                    }
                }
            }
        }
    }

    /// <summary>A's side of one packed block: its first <paramref name="inPlace"/> rows read where they lie (row i, k at
    /// rows[i·rowStride + k]), the rest as packed panels from <paramref name="packed"/> ([kc][MR] each).</summary>
    private readonly struct APanels(float* packed, float* rows = null, int rowStride = 0, int inPlace = 0)
    {
        /// <summary>The panel of rows ir.. (a multiple of MR); <paramref name="aRow"/> the row stride when in place, else 0.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public float* Panel(int ir, int kc, out int aRow)
        {
            aRow = ir < inPlace ? rowStride : 0;
            return ir < inPlace ? rows + (long)ir * rowStride : packed + (long)(ir - inPlace) * kc;
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
}
