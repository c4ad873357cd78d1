using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Add.Kernels.Cpu;

/// <summary>
/// im2col(x) of one image or of several side by side, never formed: element (k, p) = x[n, ci, oy·s + ky − pad, ox·s + kx − pad]
/// (zero outside the image), with k = (ci·kh + ky)·kw + kx and p = (n·Ho + oy)·Wo + ox (n = 0 for one image). As B it is
/// the conv's [K, P] right operand; as A (panels of MR pixels) it is im2colᵀ, for convs whose planes are too small to
/// fill NR columns.
/// <para>A panel's columns fall into runs of consecutive ox in one output row; the runs are listed once per panel, then
/// every k of the panel copies each run, a vector copy of consecutive floats. (ci, ky, kx) advance by counting, not dividing.
/// Three sources:
/// <list type="bullet">
/// <item>stride 1, x itself: the zero border is written here, per run: a run whose input row is outside the image is
/// zeros, and a run's first and last values are zeros where its columns leave the image, so no padded copy of x is made
/// (at 512×512×64 that copy was a pass over 67 MB per conv).</item>
/// <item>stride ≥ 2 (and stride 1 on rows under Conv2dCpu.PaddedCopyWidth outputs, one phase), x rearranged by
/// <see cref="PhaseSplitImage"/> (<see cref="Split"/>): padded, and each row's columns
/// dealt into s phases, so a run of ox is again consecutive floats, border included. On rows of whole 32-output
/// halves the GEMM reads them there, not packed (<see cref="Halves"/>).</item>
/// <item>stride 1 on rows dividing 32 outputs (8², 16² planes) on Vector512, x copied once per kernel column, each copy
/// shifted by kx (<see cref="ShiftedImage"/>, <see cref="Shifted"/>): whole output rows of a tap are consecutive floats, so
/// the GEMM reads every half of 32 outputs there (<see cref="Halves"/>): Conv2dCpu makes them only where the columns are
/// whole 64-column panels, as B.</item>
/// </list></para>
/// </summary>
internal readonly unsafe struct Im2ColPanels : IPanelSource
{
    private readonly float* _image;
    private readonly Conv2dShape _s;
    private readonly long _imageStride;
    private readonly Layout _layout;

    /// <summary>What the pointer holds: x itself, its phase-split copy, or its kx-shifted copies.</summary>
    private enum Layout { Image, Split, Shifted }

    /// <summary>Over x [images][Ci][H][W] itself (image n at n·imageStride): stride 1 only.</summary>
    public Im2ColPanels(float* image, Conv2dShape s, long imageStride = 0) : this(image, s, imageStride, Layout.Image)
    {
        if (s.Stride != 1)
            throw new ArgumentException($"conv stride {s.Stride}: a strided im2col reads x through PhaseSplitImage (Im2ColPanels.Split)");
    }

    private Im2ColPanels(float* image, Conv2dShape s, long imageStride, Layout layout)
    {
        _image = image;
        _s = s;
        _imageStride = imageStride;
        _layout = layout;
    }

    /// <summary>Over x rearranged by <see cref="PhaseSplitImage.Split"/>: [images][Ci][Rows][RowFloats], image n at
    /// n·<see cref="PhaseSplitImage.ImageFloats"/>.</summary>
    public static Im2ColPanels Split(float* split, Conv2dShape s) => new(split, s, PhaseSplitImage.ImageFloats(s), Layout.Split);

    /// <summary>Over x's kx-shifted copies (<see cref="ShiftedImage.Make"/>): [images][kw][KxFloats], image n at
    /// n·<see cref="ShiftedImage.ImageFloats"/>.</summary>
    public static Im2ColPanels Shifted(float* copies, Conv2dShape s) => new(copies, s, ShiftedImage.ImageFloats(s), Layout.Shifted);

    // A copy's geometry: floats from one output row to the next, from one channel to the next, and tap (ky, kx)'s offset.
    private int RowStep => _layout == Layout.Shifted ? _s.OutWidth : _s.Stride * PhaseSplitImage.RowFloats(_s);
    private long ChannelFloats => _layout == Layout.Shifted ? (long)ShiftedImage.Rows(_s) * _s.OutWidth
        : (long)PhaseSplitImage.Rows(_s) * PhaseSplitImage.RowFloats(_s);
    private long TapOffset(int ky, int kx) => _layout == Layout.Shifted ? ShiftedImage.TapOffset(_s, ky, kx)
        : ky * PhaseSplitImage.RowFloats(_s) + PhaseSplitImage.TapColumn(_s, kx);

    /// <summary>table[ky·kw + kx] = <see cref="TapOffset"/>(ky, kx), for the per-k loops (offsets fit an int: they stay
    /// inside one image's copy, which lies in a Span&lt;float&gt; workspace).</summary>
    private void TapOffsets(int* table)
    {
        for (int ky = 0; ky < _s.KernelH; ky++)
            for (int kx = 0; kx < _s.KernelW; kx++)
                table[ky * _s.KernelW + kx] = (int)TapOffset(ky, kx);
    }

    public bool Prepacked => false;

    public float* InPlace(int k0, int start, out int stride) { stride = 0; return null; }

    /// <summary>The input rows the block reads: for each of its channels, one run over the rows its output rows' taps
    /// touch (the block's pixels within one image; else null).</summary>
    public float* Runs(int k0, int kc, int start, int count, out long runStride, out int lines, out int runs)
    {
        var s = _s;
        int taps = s.KernelH * s.KernelW, plane = s.OutHeight * s.OutWidth, first = start, last = start + count - 1;
        bool split = _layout == Layout.Split;
        int rows = split ? PhaseSplitImage.Rows(s) : s.Height, width = split ? PhaseSplitImage.RowFloats(s) : s.Width;
        int pad = split ? 0 : s.Padding;                    // the split copy holds its border
        runStride = (long)rows * width;
        lines = runs = 0;
        // The shifted copies were just written and are read in place (Conv2dCpu makes them only for that): nothing to ask for.
        if (first / plane != last / plane || _layout == Layout.Shifted)
            return null;
        int c0 = k0 / taps, c1 = (k0 + kc - 1) / taps;
        int oy0 = first % plane / s.OutWidth, oy1 = last % plane / s.OutWidth;
        int iy0 = Math.Max(0, oy0 * s.Stride - pad), iy1 = Math.Min(rows - 1, oy1 * s.Stride - pad + s.KernelH - 1);
        if (iy1 < iy0)
            return null;
        float* from = _image + first / plane * _imageStride + c0 * runStride + (long)iy0 * width;
        lines = (int)(((nint)(from + (long)(iy1 - iy0 + 1) * width) - ((nint)from & ~63) + 63) / 64);
        runs = c1 - c0 + 1;
        return from;
    }

    /// <summary>From the phase-split copy on rows of whole halves (Wo a multiple of 32), or from the kx-shifted copies
    /// (<see cref="ShiftedImage.Applies"/>): a half is 32 consecutive floats at every tap (one output row's run, or whole
    /// rows of copy kx), so the kernel reads it there and nothing is packed. offsets[k] is tap k0 + k's place (channel,
    /// then <see cref="TapOffset"/>), <see cref="HalfAt"/> the half's first output (channel 0, tap 0).</summary>
    public bool Halves(int k0, int kc, int* offsets)
    {
        var s = _s;
        if (_layout == Layout.Image || (_layout == Layout.Split && s.OutWidth % 32 != 0))
            return false;
        int taps = s.KernelH * s.KernelW, channel = (int)ChannelFloats;
        int* tapOffset = stackalloc int[taps];
        TapOffsets(tapOffset);
        int ci = k0 / taps, tap = k0 - ci * taps;
        for (int kk = 0; kk < kc; kk++)
        {
            offsets[kk] = ci * channel + tapOffset[tap];
            if (++tap == taps)
            {
                tap = 0;
                ci++;
            }
        }
        return true;
    }

    public float* HalfAt(int start)
    {
        int plane = _s.OutHeight * _s.OutWidth, n = start / plane, q = start - n * plane, oy = q / _s.OutWidth, ox = q - oy * _s.OutWidth;
        return _image + n * _imageStride + (long)oy * RowStep + ox;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public float* Panels(float* scratch, int k0, int kc, int start, int count, int width)
    {
        if (_layout != Layout.Image)
            return SplitPanels(scratch, k0, kc, start, count, width);
        var s = _s;
        int pad = s.Padding, h = s.Height, w = s.Width;
        long channel = (long)h * w;
        long* runImage = stackalloc long[width];    // offset of the run's image
        int* runRow = stackalloc int[width];        // its output row oy, then input row for ky = 0: oy − pad
        int* runCol = stackalloc int[width];        // its first output column ox, then input column for kx = 0: ox − pad
        int* runColumn = stackalloc int[width];     // where it starts in the panel row
        int* runLength = stackalloc int[width];
        for (int jp = 0; jp < count; jp += width)
        {
            int cols = Math.Min(width, count - jp);
            float* panel = scratch + (long)jp * kc;
            int runs = ListRuns(start + jp, cols, runImage, runRow, runCol, runColumn, runLength);
            for (int r = 0; r < runs; r++)
            {
                runRow[r] -= pad;
                runCol[r] -= pad;
            }
            int taps = s.KernelH * s.KernelW;
            int ci = k0 / taps, tap = k0 - ci * taps, ky = tap / s.KernelW, kx = tap - ky * s.KernelW;
            if (runs == 1 && cols == width && runCol[0] >= 0 && runCol[0] + width + s.KernelW - 1 <= w)
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
                    // Values t in [lo, hi) read columns ix + t inside [0, w); the rest are the zero border.
                    int lo = ix >= 0 ? 0 : Math.Min(length, -ix), hi = Math.Max(lo, Math.Min(length, w - ix));
                    for (int t = 0; t < lo; t++)
                        dst[t] = 0f;
                    Copy(source + runImage[r] + (long)iy * w + ix + lo, dst + lo, hi - lo);
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

    /// <summary>The runs of columns [p, p + cols) of one panel: run r is output row oy[r] of the image at offset
    /// image[r], from output column ox[r], length[r] values, at column[r] of the panel row. Returns how many.</summary>
    private int ListRuns(int p, int cols, long* image, int* oy, int* ox, int* column, int* length)
    {
        int wo = _s.OutWidth, plane = _s.OutHeight * wo, n = p / plane, q = p - n * plane, y = q / wo, x = q - y * wo, runs = 0;
        for (int j = 0; j < cols; runs++)
        {
            int run = Math.Min(wo - x, cols - j);
            image[runs] = n * _imageStride;
            oy[runs] = y;
            ox[runs] = x;
            column[runs] = j;
            length[runs] = run;
            j += run;
            x = 0;
            if (++y == _s.OutHeight) { y = 0; n++; }
        }
        return runs;
    }

    /// <summary>The panels from the phase-split copy (<see cref="PhaseSplitImage"/>) or the kx-shifted copies
    /// (<see cref="ShiftedImage"/>): per k one copy per run from channel ci at output row oy's place (<see cref="RowStep"/>)
    /// + tap (ky, kx)'s offset (<see cref="TapOffset"/>) + ox; no border tests.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private float* SplitPanels(float* scratch, int k0, int kc, int start, int count, int width)
    {
        var s = _s;
        int rowStep = RowStep, kw = s.KernelW, kh = s.KernelH;
        long channel = ChannelFloats;
        long* runStart = stackalloc long[width];    // offset of the run's image, then of its first value for tap (0, 0) in channel 0
        int* runRow = stackalloc int[width];        // its output row oy
        int* runCol = stackalloc int[width];        // its first output column ox
        int* runColumn = stackalloc int[width];     // where it starts in the panel row
        int* runLength = stackalloc int[width];
        int* tapOffset = stackalloc int[kh * kw];   // offset of tap (ky, kx) from channel ci's output (0, 0)
        TapOffsets(tapOffset);
        int taps = kh * kw;
        for (int jp = 0; jp < count; jp += width)
        {
            int cols = Math.Min(width, count - jp);
            float* panel = scratch + (long)jp * kc;
            int runs = ListRuns(start + jp, cols, runStart, runRow, runCol, runColumn, runLength);
            for (int r = 0; r < runs; r++)
                runStart[r] += (long)runRow[r] * rowStep + runCol[r];
            int ci = k0 / taps, tap = k0 - ci * taps;
            float* source = _image + ci * channel;
            for (int kk = 0; kk < kc; kk++)
            {
                float* row = panel + kk * width, from = source + tapOffset[tap];
                for (int r = 0; r < runs; r++)
                    Copy(from + runStart[r], row + runColumn[r], runLength[r]);
                for (int j = cols; j < width; j++)
                    row[j] = 0f;
                if (++tap == taps)
                {
                    tap = 0;
                    source += channel;
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

    /// <summary>length floats from src to dst in inlined vector moves (runs are 8-64 floats: no call per run). Also the split copy's rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Copy(float* src, float* dst, int length)
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
