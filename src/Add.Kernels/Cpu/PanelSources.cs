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

    public float* Panels(float* scratch, int k0, int kc, int start, int count, int width) =>
        panels + (long)k0 * padded + (long)start * kc;
}

/// <summary>
/// im2col(x) of one image or of several side by side, never formed: element (k, p) = x[n, ci, oy·s + ky − pad, ox·s + kx − pad]
/// (zero outside the image), with k = (ci·kh + ky)·kw + kx and p = (n·Ho + oy)·Wo + ox (n = 0 for one image). As B it is
/// the conv's [K, P] right operand; as A (panels of MR pixels) it is im2colᵀ, for convs whose planes are too small to
/// fill NR columns.
/// <para>A panel's columns fall into runs of consecutive ox in one output row; the runs are listed once per panel, then
/// every k of the panel copies each run from one input row (stride 1: a vector copy; stride 2: a strided gather). The
/// zero border is written here, per run: a run whose input row is outside the image is zeros, and a run's first and
/// last values are zeros where its columns leave the image, so no padded copy of x is made (at 512×512×64 that copy was
/// a pass over 67 MB per conv). (ci, ky, kx) advance by counting, not dividing.</para>
/// </summary>
internal readonly unsafe struct Im2ColPanels : IPanelSource
{
    private readonly float* _image;
    private readonly Conv2dShape _s;
    private readonly long _imageStride;

    public Im2ColPanels(float* image, Conv2dShape s, long imageStride = 0)
    {
        _image = image;
        _s = s;
        _imageStride = imageStride;
    }

    public bool Prepacked => false;

    public float* InPlace(int k0, int start, out int stride) { stride = 0; return null; }

    /// <summary>The input rows the block reads: for each of its channels, one run over the rows its output rows' taps
    /// touch (the block's pixels within one image; else null).</summary>
    public float* Runs(int k0, int kc, int start, int count, out long runStride, out int lines, out int runs)
    {
        var s = _s;
        int taps = s.KernelH * s.KernelW, plane = s.OutHeight * s.OutWidth, first = start, last = start + count - 1;
        runStride = (long)s.Height * s.Width;
        lines = runs = 0;
        if (first / plane != last / plane)
            return null;
        int c0 = k0 / taps, c1 = (k0 + kc - 1) / taps;
        int oy0 = first % plane / s.OutWidth, oy1 = last % plane / s.OutWidth;
        int iy0 = Math.Max(0, oy0 * s.Stride - s.Padding), iy1 = Math.Min(s.Height - 1, oy1 * s.Stride - s.Padding + s.KernelH - 1);
        if (iy1 < iy0)
            return null;
        float* from = _image + first / plane * _imageStride + c0 * runStride + (long)iy0 * s.Width;
        lines = (int)(((nint)(from + (long)(iy1 - iy0 + 1) * s.Width) - ((nint)from & ~63) + 63) / 64);
        runs = c1 - c0 + 1;
        return from;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public float* Panels(float* scratch, int k0, int kc, int start, int count, int width)
    {
        var s = _s;
        int wo = s.OutWidth, plane = s.OutHeight * wo, stride = s.Stride, pad = s.Padding, h = s.Height, w = s.Width;
        long channel = (long)h * w;
        long* runImage = stackalloc long[width];    // offset of the run's image
        int* runRow = stackalloc int[width];        // input row of the run for ky = 0: oy·s − pad
        int* runCol = stackalloc int[width];        // input column of its first value for kx = 0: ox·s − pad
        int* runColumn = stackalloc int[width];     // where it starts in the panel row
        int* runLength = stackalloc int[width];
        for (int jp = 0; jp < count; jp += width)
        {
            int cols = Math.Min(width, count - jp);
            float* panel = scratch + (long)jp * kc;
            int p = start + jp, n = p / plane, q = p - n * plane, oy = q / wo, ox = q - oy * wo;
            int runs = 0;
            for (int j = 0; j < cols; runs++)
            {
                int run = Math.Min(wo - ox, cols - j);
                runImage[runs] = n * _imageStride;
                runRow[runs] = oy * stride - pad;
                runCol[runs] = ox * stride - pad;
                runColumn[runs] = j;
                runLength[runs] = run;
                j += run;
                ox = 0;
                if (++oy == s.OutHeight) { oy = 0; n++; }
            }
            int taps = s.KernelH * s.KernelW;
            int ci = k0 / taps, tap = k0 - ci * taps, ky = tap / s.KernelW, kx = tap - ky * s.KernelW;
            if (runs == 1 && cols == width && stride == 1 && runCol[0] >= 0 && runCol[0] + width + s.KernelW - 1 <= w)
            {
                InteriorPanel(panel, kc, width, _image + runImage[0] + runCol[0], ci, ky, kx, runRow[0], channel);
                continue;
            }
            for (int kk = 0; kk < kc; kk++)
            {
                float* row = panel + kk * width;
                float* source = _image + ci * channel;
                for (int r = 0; r < runs; r++)
                {
                    float* dst = row + runColumn[r];
                    int length = runLength[r], iy = runRow[r] + ky, ix = runCol[r] + kx;
                    if ((uint)iy >= (uint)h)
                    {
                        new Span<float>(dst, length).Clear();
                        continue;
                    }
                    // Values t in [lo, hi) read columns ix + t·stride inside [0, w); the rest are the zero border.
                    int lo, hi;
                    if (stride == 1)                                                // no divisions on the common path: runs are short on small planes
                        (lo, hi) = (ix >= 0 ? 0 : Math.Min(length, -ix), Math.Min(length, w - ix));
                    else if (stride == 2)                                           // the UNet's and the VAE encoder's downsamples
                        (lo, hi) = (ix >= 0 ? 0 : Math.Min(length, (-ix + 1) >> 1), Math.Min(length, (w - ix + 1) >> 1));
                    else
                        (lo, hi) = (ix >= 0 ? 0 : Math.Min(length, (-ix + stride - 1) / stride), Math.Min(length, (w - ix + stride - 1) / stride));
                    hi = Math.Max(lo, hi);
                    for (int t = 0; t < lo; t++)
                        dst[t] = 0f;
                    float* src = source + runImage[r] + (long)iy * w + ix;
                    if (stride == 1)
                        Copy(src + lo, dst + lo, hi - lo);
                    else if (stride == 2)
                        CopyEven(src, dst, lo, hi, ix, w);
                    else
                        for (int t = lo; t < hi; t++)
                            dst[t] = src[(long)t * stride];
                    for (int t = hi; t < length; t++)
                        dst[t] = 0f;
                }
                for (int j = cols; j < width; j++)
                    row[j] = 0f;
                if (++kx == s.KernelW)
                {
                    kx = 0;
                    if (++ky == s.KernelH) { ky = 0; ci++; }
                }
            }
        }
        return scratch;
    }

    /// <summary>
    /// A panel of <paramref name="width"/> pixels of one output row whose every tap reads inside the image's columns
    /// (stride 1): per k one contiguous copy of width values from input row runRow + ky, or zeros above/below the image.
    /// The conv's common case away from the left and right edges, without the general path's per-run bookkeeping.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void InteriorPanel(float* panel, int kc, int width, float* origin, int ci, int ky, int kx, int runRow, long channel)
    {
        int h = _s.Height, w = _s.Width, kw = _s.KernelW, kh = _s.KernelH;
        float* plane = origin + ci * channel;
        for (int kk = 0; kk < kc; kk++)
        {
            float* dst = panel + kk * width;
            int iy = runRow + ky;
            if ((uint)iy >= (uint)h)
                new Span<float>(dst, width).Clear();
            else
                Copy(plane + (long)iy * w + kx, dst, width);
            if (++kx == kw)
            {
                kx = 0;
                if (++ky == kh) { ky = 0; plane += channel; }
            }
        }
    }

    /// <summary>dst[t] = src[2t] for t in [lo, hi); src[-ix .. w − ix) is the input row, and every load stays inside it:
    /// 16 values per two loads and one two-source permute, the last 16 overlapping the ones before when the row's end
    /// leaves no room for a whole pair of vectors (then read from one float earlier, keeping the odd lanes).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyEven(float* src, float* dst, int lo, int hi, int ix, int w)
    {
        int t = lo, rowLeft = w - ix;
        if (Avx512F.IsSupported && hi - lo >= 16)
        {
            var even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
            for (; t + 16 <= hi && 2 * t + 32 <= rowLeft; t += 16)
                Vector512.Store(Avx512F.PermuteVar16x32x2(Vector512.Load(src + 2 * t), even, Vector512.Load(src + 2 * t + 16)), dst + t);
            int u = hi - 16;        // ≥ lo: the last 16 values, overlapping stores of the same values
            if (t < hi && 2 * u + 31 <= rowLeft && ix + 2 * u >= 1)
            {
                var odd = Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
                float* from = src + 2 * u - 1;                  // src[2u − 1 .. 2u + 30]: inside the row
                Vector512.Store(Avx512F.PermuteVar16x32x2(Vector512.Load(from), odd, Vector512.Load(from + 16)), dst + u);
                t = hi;
            }
        }
        for (; t < hi; t++)
            dst[t] = src[2 * t];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Copy(float* src, float* dst, int length)
    {
        int t = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; t <= length - 16; t += 16)
                Vector512.Store(Vector512.Load(src + t), dst + t);
        for (; t <= length - 8; t += 8)
            Vector256.Store(Vector256.Load(src + t), dst + t);
        for (; t < length; t++)
            dst[t] = src[t];
    }
}
