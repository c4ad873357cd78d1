namespace Add.Kernels.Cpu;

/// <summary>
/// The input of a stride-1 conv on short output rows (Wo dividing 32, planes of 32·n pixels: the 8² and 16² levels), one
/// copy per kernel column kx, each shifted by kx: copy kx holds c[ci][yp][ox] = x[ci][yp − p][ox + kx − p] (zero outside
/// the image) for the <see cref="Rows"/> padded rows and the Wo output columns. Tap (ky, kx) of output (oy, ox) reads
/// copy kx at row oy + ky, column ox, so the outputs of consecutive rows are consecutive floats: every 32 outputs (whole
/// rows of one image) lie in one piece for every tap, and the GEMM reads B there instead of packing it
/// (<see cref="Im2ColPanels.Halves"/>, Vector512).
/// <para>Layout per image: [kw][<see cref="KxFloats"/>], copy kx being [Ci][Rows][Wo] plus 16 floats, so that copies kx and
/// kx + 1 (consecutive k of the GEMM) do not start on the same L1 sets when Ci·Rows·Wo is a multiple of 1,024.</para>
/// <para>Why: packing a 64-column panel of an 8² plane is 8 runs of 8 floats per k, and at batch 1 (one panel, split over
/// M) both cores packed all of it: the emoji UNet's 8² resnet convs spent ~40 % of their time packing even from the padded
/// copy (perf/logs/shifted-copy-2026-12-04). Made once per conv call: kw copies of x, each a pass of Ci·Rows·Wo floats.</para>
/// </summary>
internal static unsafe class ShiftedImage
{
    /// <summary>Widest kernel taken (its padded input row, under 32 + kw floats, stays on the stack); wider ones use the
    /// padded copy.</summary>
    private const int MaxKernelW = 64;

    /// <summary>Whether a conv's B can be read from the shifted copies: stride 1, rows under 32 outputs that divide 32,
    /// planes of whole 32-output halves (a half never crosses an image), kernels up to <see cref="MaxKernelW"/> wide.</summary>
    public static bool Applies(Conv2dShape s) =>
        s.Stride == 1 && s.OutWidth < 32 && 32 % s.OutWidth == 0 && s.OutHeight * s.OutWidth % 32 == 0 && s.KernelW <= MaxKernelW;

    /// <summary>Padded rows the taps read: Ho − 1 + kh.</summary>
    public static int Rows(Conv2dShape s) => s.OutHeight - 1 + s.KernelH;

    /// <summary>Floats of one shifted copy, with its 16 floats of spacing.</summary>
    public static long KxFloats(Conv2dShape s) => (long)s.InChannels * Rows(s) * s.OutWidth + 16;

    /// <summary>Floats of one image's copies.</summary>
    public static long ImageFloats(Conv2dShape s) => s.KernelW * KxFloats(s);

    /// <summary>Offset of tap (ky, kx) of channel 0, output (0, 0), within an image's copies.</summary>
    public static long TapOffset(Conv2dShape s, int ky, int kx) => kx * KxFloats(s) + (long)ky * s.OutWidth;

    /// <summary>d [images][kw][KxFloats] from x [images][Ci][H][W] (image n of x at n·xImageStride), planes spread over the cores.</summary>
    public static void Make(float* x, long xImageStride, int images, Conv2dShape s, float* d)
    {
        int planes = images * s.InChannels, rows = Rows(s), wo = s.OutWidth, kw = s.KernelW;
        long plane = (long)s.Height * s.Width, dPlane = (long)rows * wo, kxFloats = KxFloats(s), imageFloats = ImageFloats(s);
        nint xAddress = (nint)x, dAddress = (nint)d;
        int chunks = Math.Min(planes, 4 * CpuSimd.Threads);
        CpuWorkers.For(chunks, t =>
        {
            int p0 = (int)((long)planes * t / chunks), p1 = (int)((long)planes * (t + 1) / chunks);
            // One padded input row: W values at offset p, zeros around them (W + 2p = Wo − 1 + kw < 32 + MaxKernelW
            // floats are read).
            int padded = s.Width + 2 * s.Padding + 16;
            float* line = stackalloc float[padded];
            new Span<float>(line, padded).Clear();
            for (int q = p0; q < p1; q++)
            {
                int n = q / s.InChannels, ci = q - n * s.InChannels;
                float* src = (float*)xAddress + n * xImageStride + ci * plane;
                float* dst = (float*)dAddress + n * imageFloats + ci * dPlane;
                for (int yp = 0; yp < rows; yp++, dst += wo)
                {
                    int iy = yp - s.Padding;
                    bool inside = (uint)iy < (uint)s.Height;
                    if (inside)
                        Im2ColPanels.Copy(src + (long)iy * s.Width, line + s.Padding, s.Width);
                    for (int kx = 0; kx < kw; kx++)
                    {
                        if (inside)
                            Im2ColPanels.Copy(line + kx, dst + kx * kxFloats, wo);
                        else
                            new Span<float>(dst + kx * kxFloats, wo).Clear();
                    }
                }
            }
        });
    }
}
