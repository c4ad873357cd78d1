using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Add.Kernels.Cpu;

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
