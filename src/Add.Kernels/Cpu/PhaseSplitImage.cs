using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Add.Kernels.Cpu;

/// <summary>
/// The input of a strided conv (s ≥ 2, or s = 1 on short rows: Conv2dCpu.PaddedCopyWidth) rearranged so that every run
/// of its im2col is a contiguous copy: each image
/// zero-padded by p on every side, and each padded row's columns dealt into s phases, column u at phase u mod s,
/// position ⌊u / s⌋. Tap (ky, kx) of output (oy, ox) reads padded row oy·s + ky, padded column ox·s + kx: phase kx mod s,
/// position ox + ⌊kx / s⌋, so consecutive ox are consecutive floats, and the zero border is in the copy, not tested per run.
/// <para>Layout per image: [Ci][<see cref="Rows"/>][s phases][<see cref="PhaseFloats"/>] (a row of
/// <see cref="RowFloats"/>). Made once per conv call, one pass over x (the UNet's 64² downsample: 5.2 MB in, 5.5 MB out).
/// It replaced gathers from x (two loads and a permute per 16 values, and the border's bookkeeping per run), ~15 % of
/// the 64² downsample's samples (perf record, AMD EPYC, 2026-12-04); the pass and the copies take about as much there,
/// but the 32² and 16² downsamples, with more runs per value, ran 4-10 % faster (perf/logs/strided-conv-2026-12-04).
/// On rows of 32·n outputs (the 64² one) the GEMM then reads B here without packing it (Im2ColPanels.Halves): 4-5 %
/// faster on one thread.</para>
/// </summary>
internal static unsafe class PhaseSplitImage
{
    /// <summary>Longest padded row kept on the stack (16 KB); wider ones (over 4,000 pixels) use a pinned array.</summary>
    private const int MaxStackLine = 4096;

    /// <summary>Positions per phase: ⌈(W + 2p) / s⌉.</summary>
    public static int PhaseFloats(Conv2dShape s) => (s.Width + 2 * s.Padding + s.Stride - 1) / s.Stride;

    /// <summary>Floats of one rearranged row: s phases.</summary>
    public static int RowFloats(Conv2dShape s) => s.Stride * PhaseFloats(s);

    /// <summary>Padded rows the taps read: (Ho − 1)·s + kh (≤ H + 2p).</summary>
    public static int Rows(Conv2dShape s) => (s.OutHeight - 1) * s.Stride + s.KernelH;

    /// <summary>Floats of one rearranged image.</summary>
    public static long ImageFloats(Conv2dShape s) => (long)s.InChannels * Rows(s) * RowFloats(s);

    /// <summary>Offset of tap kx's first value in a rearranged row: phase kx mod s, position ⌊kx / s⌋.</summary>
    public static int TapColumn(Conv2dShape s, int kx) => kx % s.Stride * PhaseFloats(s) + kx / s.Stride;

    /// <summary>d [images][Ci][Rows][RowFloats] from x [images][Ci][H][W] (image n of x at n·xImageStride), planes spread over the cores.</summary>
    public static void Split(float* x, long xImageStride, int images, Conv2dShape s, float* d)
    {
        int planes = images * s.InChannels, rows = Rows(s), rowFloats = RowFloats(s);
        long plane = (long)s.Height * s.Width, dPlane = (long)rows * rowFloats;
        nint xAddress = (nint)x, dAddress = (nint)d;
        int chunks = Math.Min(planes, 4 * CpuSimd.Threads);
        CpuWorkers.For(chunks, t =>
        {
            int p0 = (int)((long)planes * t / chunks), p1 = (int)((long)planes * (t + 1) / chunks);
            // One padded row, zeros around the image's W values, rounded up to whole pairs of vectors for the deal below.
            int padded = (rowFloats + 31) / 32 * 32;
            float[]? wide = padded > MaxStackLine ? GC.AllocateArray<float>(padded, pinned: true) : null;
            float* line = stackalloc float[wide is null ? padded : 0];
            if (wide is not null)
                line = (float*)Unsafe.AsPointer(ref wide[0]);
            new Span<float>(line, padded).Clear();
            for (int q = p0; q < p1; q++)
            {
                int n = q / s.InChannels, ci = q - n * s.InChannels;
                float* src = (float*)xAddress + n * xImageStride + ci * plane;
                float* dst = (float*)dAddress + (long)q * dPlane;
                for (int yp = 0; yp < rows; yp++, dst += rowFloats)
                {
                    int iy = yp - s.Padding;
                    if ((uint)iy >= (uint)s.Height)
                        new Span<float>(dst, rowFloats).Clear();
                    else
                    {
                        Im2ColPanels.Copy(src + (long)iy * s.Width, line + s.Padding, s.Width);
                        Deal(line, dst, s.Stride, rowFloats / s.Stride);
                    }
                }
            }
            GC.KeepAlive(wide);     // the pinned line must outlive the loop: nothing reads `wide` after AsPointer
        });
    }

    /// <summary>dst[φ·phase + i] = line[i·stride + φ] for φ &lt; stride, i &lt; phase; line holds whole pairs of vectors
    /// past stride·phase (zeros), so stride 2 deals 32 values per two loads and two permutes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Deal(float* line, float* dst, int stride, int phase)
    {
        int i = 0;
        if (stride == 1)
        {
            Im2ColPanels.Copy(line, dst, phase);
            return;
        }
        if (stride == 2 && Avx512F.IsSupported)
        {
            var even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
            var odd = Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
            for (; i + 16 <= phase; i += 16)
            {
                var lo = Vector512.Load(line + 2 * i);
                var hi = Vector512.Load(line + 2 * i + 16);
                Vector512.Store(Avx512F.PermuteVar16x32x2(lo, even, hi), dst + i);
                Vector512.Store(Avx512F.PermuteVar16x32x2(lo, odd, hi), dst + phase + i);
            }
        }
        for (; i < phase; i++)
            for (int f = 0; f < stride; f++)
                dst[f * phase + i] = line[i * stride + f];
    }
}
