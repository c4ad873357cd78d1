using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Add.Kernels.Cpu;

/// <summary>
/// Where the GEMM's operands come from, as micro-panels: for the index range [start, start+count) (rows of A, or columns
/// of B) and the reduction range [k0, k0+kc), ⌈count/width⌉ panels of [kc, width] each (index j of a panel at offset
/// k·width + j), zero past count. A source either packs them into <c>scratch</c> and returns it, or returns a pointer
/// into panels packed once ahead of time (<see cref="PackedWeight"/>).
/// </summary>
internal unsafe interface IPanelSource
{
    float* Panels(float* scratch, int k0, int kc, int start, int count, int width);

    /// <summary>True when <see cref="Panels"/> costs nothing (the panels were packed ahead of time).</summary>
    bool Prepacked { get; }

    /// <summary>Where the source can be read in place instead of packed: element (k0 + k, start + j) at
    /// result[j·<paramref name="stride"/> + k], k along memory (rows of A [M, K] row-major); null when it has to be packed.</summary>
    float* InPlace(int k0, int start, out int stride);

    /// <summary>The memory <see cref="Panels"/>(k0, kc, start, count) reads, as <paramref name="runs"/> runs of contiguous
    /// floats: run r at first + r·runStride, <paramref name="lines"/> cache lines long (B [K, N] rows and a 1×1 conv's
    /// image: kc runs; an im2col: one run of input rows per channel); null where there is nothing to fetch (prepacked).</summary>
    float* Runs(int k0, int kc, int start, int count, out long runStride, out int lines, out int runs);

    /// <summary>Whether B's panels can be read where they lie, in halves of 32 columns (the conv order on Vector512):
    /// then element (k0 + k, start + j) is at <see cref="HalfAt"/>(start)[offsets[k] + j] for j &lt; 32, start a multiple
    /// of 32, and offsets[0 .. kc) is filled here; false where the panels have to be packed.</summary>
    bool Halves(int k0, int kc, int* offsets);

    /// <summary>Where the half of 32 columns from <paramref name="start"/> begins (see <see cref="Halves"/>).</summary>
    float* HalfAt(int start);
}

/// <summary>
/// The next packed block's source, asked into L2 a share at a time while the current block computes (the conv order's B:
/// a 1×1 conv's image, packed per call from memory; its 512 KB blocks of a 512-channel 256² image came from DRAM between
/// two blocks' compute). Line t of the block is run t / LinesPerRun, line t % LinesPerRun.
/// </summary>
internal readonly unsafe struct BlockPrefetch(float* first, long runStride, int linesPerRun, int runs)
{
    /// <summary>Block (k0, kc, start, count) of <paramref name="source"/>, or nothing to ask for.</summary>
    public static BlockPrefetch Of<T>(T source, int k0, int kc, int start, int count) where T : struct, IPanelSource
    {
        float* first = source.Runs(k0, kc, start, count, out long runStride, out int lines, out int runs);
        return first == null ? default : new BlockPrefetch(first, runStride, lines, runs);
    }

    public int Count => first == null ? 0 : linesPerRun * runs;

    /// <summary>Asks for lines [from, to) of the block into L2.</summary>
    public void Ask(int from, int to)
    {
        if (!Sse.IsSupported || from >= to)
            return;
        int run = from / linesPerRun, line = from - run * linesPerRun;     // one division per call, not one per line
        float* p = first + run * runStride + line * 16L;
        for (int t = from; t < to; t++)
        {
            Sse.Prefetch1(p);
            p += 16;
            if (++line == linesPerRun)
            {
                line = 0;
                p += runStride - linesPerRun * 16L;
            }
        }
    }
}

/// <summary>
/// Element (k, j) = Ptr[k·KStride + j·IndexStride]. A [M, K] row-major as rows of A: (a, 1, K). B [K, N] row-major:
/// (b, N, 1). B = Wᵀ for a linear weight W [N, K]: (w, 1, K). B of a 1×1 conv, x [Ci, P]: (x, P, 1).
/// </summary>
internal readonly unsafe struct StridedPanels(float* ptr, int kStride, int indexStride) : IPanelSource
{
    public bool Prepacked => false;

    public float* InPlace(int k0, int start, out int stride)
    {
        stride = indexStride;
        return kStride == 1 ? ptr + k0 + (long)start * indexStride : null;
    }

    public float* Runs(int k0, int kc, int start, int count, out long runStride, out int lines, out int runs)
    {
        runStride = kStride;
        runs = kc;
        float* first = ptr + (long)k0 * kStride + start;
        lines = (int)(((nint)(first + count) - ((nint)first & ~63) + 63) / 64);    // from the line holding the first float
        return indexStride == 1 ? first : null;
    }

    public bool Halves(int k0, int kc, int* offsets) => false;     // a 1×1 conv's image rows, read in place: 40 % slower (rows 2ⁿ floats apart share L1 sets)

    public float* HalfAt(int start) => null;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public float* Panels(float* scratch, int k0, int kc, int start, int count, int width)
    {
        for (int jp = 0; jp < count; jp += width)
        {
            int cols = Math.Min(width, count - jp);
            float* panel = scratch + (long)jp * kc;
            float* src = ptr + (long)k0 * kStride + (long)(start + jp) * indexStride;
            if (indexStride == 1)
            {
                // The index runs along memory (B [K, N] rows, a 1×1 conv's image): copy cols floats per k. A whole 64-wide
                // panel with four vector copies per k: through Unsafe.CopyBlockUnaligned (a Memmove call per 256 bytes)
                // it was ~8 % of a 1×1 conv's time (640→320 at 64², perf, AMD EPYC, 2026-12-04).
                if (cols == 64 && width == 64 && Vector512.IsHardwareAccelerated)
                {
                    for (int k = 0; k < kc; k++)
                    {
                        float* from = src + (long)k * kStride, to = panel + k * 64;
                        Vector512.Load(from).Store(to);
                        Vector512.Load(from + 16).Store(to + 16);
                        Vector512.Load(from + 32).Store(to + 32);
                        Vector512.Load(from + 48).Store(to + 48);
                    }
                    continue;
                }
                for (int k = 0; k < kc; k++)
                {
                    Unsafe.CopyBlockUnaligned(panel + k * width, src + (long)k * kStride, (uint)(cols * sizeof(float)));
                    for (int j = cols; j < width; j++)
                        panel[k * width + j] = 0f;
                }
            }
            else if (kStride == 1 && Avx.IsSupported && (width % 8 == 0 || width is >= 4 and < 8))
                TransposeRows(panel, src, kc, cols, width, indexStride);
            else
            {
                // k runs along memory (rows of A, rows of a weight W): read each of the width rows along k.
                for (int j = 0; j < cols; j++)
                {
                    float* line = src + (long)j * indexStride;
                    for (int k = 0; k < kc; k++)
                        panel[k * width + j] = line[(long)k * kStride];
                }
                for (int j = cols; j < width; j++)
                    for (int k = 0; k < kc; k++)
                        panel[k * width + j] = 0f;
            }
        }
        return scratch;
    }

    /// <summary>
    /// One panel [kc][width] from <paramref name="cols"/> rows that run along k (row j at src + j·rowStride), zero past
    /// cols: eight rows at a time, eight k at a time, an 8×8 transpose in ymm registers (unpack, shuffle, 128-bit permute;
    /// Intel's optimization manual, "8x8 matrix transpose") instead of width·kc scalar stores: a linear's tokens are
    /// packed this way on every call (the scalar loop was a quarter of the 4096×1280·1280×320 GEMM's time, perf
    /// 2026-12-03). A copy: the values and their places are those of the scalar loop.
    /// <para>A group narrower than eight (width 6) stores eight floats per k all the same, ascending: the two past its
    /// row are the next k's first two, rewritten by its own store; only the panel's last k stores exactly. That holds only
    /// for widths that are a multiple of 8 or one group of 4 to 7 (every tile's: 4, 6, 16, 64); the caller checks.</para>
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransposeRows(float* panel, float* src, int kc, int cols, int width, int rowStride)
    {
        for (int g = 0; g < width; g += 8)
        {
            int rows = Math.Clamp(cols - g, 0, 8), span = Math.Min(8, width - g);
            float* r = src + (long)g * rowStride;
            int k = 0;
            for (; k + 8 <= kc; k += 8)
            {
                var r0 = Row(r, 0, rows, rowStride, k); var r1 = Row(r, 1, rows, rowStride, k);
                var r2 = Row(r, 2, rows, rowStride, k); var r3 = Row(r, 3, rows, rowStride, k);
                var r4 = Row(r, 4, rows, rowStride, k); var r5 = Row(r, 5, rows, rowStride, k);
                var r6 = Row(r, 6, rows, rowStride, k); var r7 = Row(r, 7, rows, rowStride, k);
                var t0 = Avx.UnpackLow(r0, r1); var t1 = Avx.UnpackHigh(r0, r1);
                var t2 = Avx.UnpackLow(r2, r3); var t3 = Avx.UnpackHigh(r2, r3);
                var t4 = Avx.UnpackLow(r4, r5); var t5 = Avx.UnpackHigh(r4, r5);
                var t6 = Avx.UnpackLow(r6, r7); var t7 = Avx.UnpackHigh(r6, r7);
                var s0 = Avx.Shuffle(t0, t2, 0x44); var s1 = Avx.Shuffle(t0, t2, 0xEE);
                var s2 = Avx.Shuffle(t1, t3, 0x44); var s3 = Avx.Shuffle(t1, t3, 0xEE);
                var s4 = Avx.Shuffle(t4, t6, 0x44); var s5 = Avx.Shuffle(t4, t6, 0xEE);
                var s6 = Avx.Shuffle(t5, t7, 0x44); var s7 = Avx.Shuffle(t5, t7, 0xEE);
                float* d = panel + (long)k * width + g;
                bool exact = span < 8 && k + 8 == kc;      // the panel's last k: no store past its row
                Put(d, Avx.Permute2x128(s0, s4, 0x20), span, false); d += width;
                Put(d, Avx.Permute2x128(s1, s5, 0x20), span, false); d += width;
                Put(d, Avx.Permute2x128(s2, s6, 0x20), span, false); d += width;
                Put(d, Avx.Permute2x128(s3, s7, 0x20), span, false); d += width;
                Put(d, Avx.Permute2x128(s0, s4, 0x31), span, false); d += width;
                Put(d, Avx.Permute2x128(s1, s5, 0x31), span, false); d += width;
                Put(d, Avx.Permute2x128(s2, s6, 0x31), span, false); d += width;
                Put(d, Avx.Permute2x128(s3, s7, 0x31), span, exact);
            }
            for (; k < kc; k++)
                for (int j = 0; j < span; j++)
                    panel[(long)k * width + g + j] = j < rows ? r[(long)j * rowStride + k] : 0f;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Row(float* r, int j, int rows, int rowStride, int k) =>
        j < rows ? Vector256.Load(r + (long)j * rowStride + k) : Vector256<float>.Zero;

    /// <summary>The first <paramref name="span"/> floats of v at d: eight when <paramref name="exact"/> is false (the rest
    /// is rewritten by the next k's store), else exactly span.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put(float* d, Vector256<float> v, int span, bool exact)
    {
        if (!exact)
        {
            v.Store(d);
            return;
        }
        for (int j = 0; j < span; j++)
            d[j] = v.GetElement(j);
    }
}

/// <summary>Panels packed ahead of time by <see cref="PackedWeight"/>: K block k0 starts at k0·Padded, then panel
/// start/width at start·kc (start is always a multiple of the width: blocks and thread slabs begin on panels).</summary>
internal readonly unsafe struct PrepackedPanels(float* panels, int padded) : IPanelSource
{
    public bool Prepacked => true;

    /// <summary>The first panel. For a weight of at most one panel's rows, row r at k is at [k·width + r] for every k
    /// (block k0 starts at k0·width and holds [kc][width]).</summary>
    public float* First => panels;

    public float* InPlace(int k0, int start, out int stride) { stride = 0; return null; }

    public float* Runs(int k0, int kc, int start, int count, out long runStride, out int lines, out int runs) { runStride = 0; lines = runs = 0; return null; }

    public bool Halves(int k0, int kc, int* offsets) => false;

    public float* HalfAt(int start) => null;

    public float* Panels(float* scratch, int k0, int kc, int start, int count, int width) =>
        panels + (long)k0 * padded + (long)start * kc;
}
