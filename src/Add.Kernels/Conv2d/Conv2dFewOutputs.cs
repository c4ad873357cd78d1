using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Add.Kernels.Cpu;

/// <summary>
/// A stride-1 convolution with at most <see cref="MaxOutChannels"/> output channels, computed directly, without the GEMM:
/// AutoencoderTiny's and the VAE's conv_out (64 or 128 → 3 channels at the full image size). Through the GEMM such a
/// conv fills 3 of the register tile's 6 rows and packs the whole im2col matrix (K·P floats, 151 M at 512² for K 576)
/// for 0.9 GFLOP of work, so the packing, not the arithmetic, was its time.
/// <para>Legend as <see cref="Conv2dCpu"/>: y[n, co, oy, ox] = b[co] + Σ_{ci, ky, kx} w[co, ci, ky, kx]·x[n, ci, oy + ky − p,
/// ox + kx − p] (+ R) (then ReLU when asked). Per output row: sums [4, Wo'] (Wo rounded up to runs of 2·W pixels, W = 16
/// / 8 by path) start at zero; each (ci, ky) whose input row is inside the image has that row copied into one of 8 staged
/// lines, with p zeros before it and zeros after it (the zero border, and reads past the row's end); when 8 are staged
/// (or the last), every run adds their kw taps line after line: two vectors per output channel held in registers across
/// the 8 lines' taps, one FMA per (line, kx, channel, vector) (Vector512; Vector256 one line at a time).
/// Finally bias, R and ReLU, and the row is stored. Each pixel sums in (ci, ky, kx) order whatever its run or batch, so
/// an image's bytes are the same alone or in a batch. Rows of all images are shared among the cores.</para>
/// </summary>
internal static unsafe class Conv2dFewOutputs
{
    public const int MaxOutChannels = 4;

    /// <summary>Whether a conv of this shape takes this path: stride 1, few outputs, a SIMD path, a plane the GEMM would run per image.</summary>
    public static bool Applies(Conv2dShape s, SimdPath path) =>
        s.OutChannels <= MaxOutChannels && s.Stride == 1 && path is SimdPath.Vector512 or SimdPath.Vector256
        && s.OutHeight * s.OutWidth >= Conv2dCpu.BatchedPlaneLimit;

    /// <param name="w">weight (co, k) at w[co·coStride + k·kStride], k = (ci·kh + ky)·kw + kx: the plain [Co, K]
    /// (coStride K, kStride 1) or a weight packed as one GEMM panel ([K, MR]: coStride 1, kStride MR)</param>
    public static void Forward(float* x, float* w, int coStride, int kStride, float* bias, float* residual, float* y,
        Conv2dShape s, bool relu, SimdPath path)
    {
        // The weight as [K, 4], channels past Co zero: four broadcasts per tap whatever Co is (on the stack when small:
        // the VAE's post_quant_conv, 4 → 4 at 64², is 11 µs of work, and each allocation was a sizeable share of it).
        int tableFloats = s.ReductionLength * MaxOutChannels;
        Span<float> table = tableFloats <= StackFloats ? stackalloc float[tableFloats] : new float[tableFloats];
        table.Clear();
        for (int k = 0; k < s.ReductionLength; k++)
            for (int c = 0; c < s.OutChannels; c++)
                table[k * MaxOutChannels + c] = w[(long)c * coStride + (long)k * kStride];
        int rows = s.Batch * s.OutHeight;
        long work = 2L * s.OutChannels * s.ReductionLength * s.OutWidth;     // flops per output row
        int workers = CpuSimd.Workers(rows, work, 1 << 18);
        fixed (float* pt = table)
        {
            var args = new Args(x, pt, bias, residual, y, s, relu, path);
            if (workers == 1)
            {
                Rows(0, rows, args);
                return;
            }
            int chunks = Math.Min(rows, 4 * workers);
            CpuWorkers.For(chunks, c => Rows((int)((long)rows * c / chunks), (int)((long)rows * (c + 1) / chunks), args));
        }
    }

    private readonly struct Args(float* x, float* table, float* bias, float* residual, float* y, Conv2dShape s, bool relu, SimdPath path)
    {
        public readonly float* X = x, Table = table, Bias = bias, Residual = residual, Y = y;
        public readonly Conv2dShape S = s;
        public readonly bool Relu = relu;
        public readonly SimdPath Path = path;
    }

    /// <summary>Output rows r0 .. r1−1 (r = n·Ho + oy) of every output channel.</summary>
    [SkipLocalsInit]
    private static void Rows(int r0, int r1, Args a)
    {
        var s = a.S;
        int run = a.Path == SimdPath.Vector512 ? 32 : 16;
        int runs = (s.OutWidth + run - 1) / run, padded = runs * run;
        int lineLength = padded + s.KernelW - 1;                       // ≥ p + W + p: the row, its border and the overrun
        int sumsFloats = MaxOutChannels * padded, floats = sumsFloats + Lines * lineLength;
        Span<float> buffer = floats <= StackFloats ? stackalloc float[floats] : GC.AllocateUninitializedArray<float>(floats);
        buffer.Slice(sumsFloats).Clear();                               // the lines' zero borders
        fixed (float* sums = buffer)
            for (int r = r0; r < r1; r++)
                Row(r, a, sums, sums + sumsFloats, lineLength, runs, padded);
    }

    private const int StackFloats = 2048;     // 8 KB: scratch up to this size lives on the stack

    /// <summary>Input lines staged before the taps run over them: the sums stay in registers across this many (ci, ky)
    /// pairs, not one (conv_out 320 → 4 at 64²: two sum loads and stores per 3 FMAs became two per 24).</summary>
    private const int Lines = 8;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Row(int r, Args a, float* sums, float* lines, int lineLength, int runs, int padded)
    {
        var s = a.S;
        int n = r / s.OutHeight, oy = r - n * s.OutHeight;
        long plane = (long)s.Height * s.Width, outPlane = (long)s.OutHeight * s.OutWidth;
        new Span<float>(sums, MaxOutChannels * padded).Clear();
        float* image = a.X + n * s.InChannels * plane;
        int k = 0, staged = 0;
        float** taps = stackalloc float*[Lines];
        for (int ci = 0; ci < s.InChannels; ci++)
            for (int ky = 0; ky < s.KernelH; ky++, k += s.KernelW)
            {
                int iy = oy + ky - s.Padding;
                if ((uint)iy >= (uint)s.Height)
                    continue;
                // line[p + ix] = x[ix]; the zeros around it are never written.
                float* line = lines + (long)staged * lineLength;
                new ReadOnlySpan<float>(image + ci * plane + (long)iy * s.Width, s.Width).CopyTo(new Span<float>(line + s.Padding, s.Width));
                taps[staged++] = a.Table + (long)k * MaxOutChannels;
                if (staged == Lines)
                {
                    Taps(a.Path, lines, lineLength, taps, staged, s.KernelW, sums, runs, padded);
                    staged = 0;
                }
            }
        if (staged > 0)
            Taps(a.Path, lines, lineLength, taps, staged, s.KernelW, sums, runs, padded);
        for (int c = 0; c < s.OutChannels; c++)
        {
            float* dst = a.Y + (n * s.OutChannels + c) * outPlane + (long)oy * s.OutWidth;
            float* rsd = a.Residual == null ? null : a.Residual + (n * s.OutChannels + c) * outPlane + (long)oy * s.OutWidth;
            float b = a.Bias == null ? 0f : a.Bias[c];
            int ox = 0;
            if (a.Path == SimdPath.Vector512)
                for (; ox + 16 <= s.OutWidth; ox += 16)
                {
                    var v = Vector512.Load(sums + c * padded + ox);
                    if (a.Bias != null)
                        v += Vector512.Create(b);
                    if (rsd != null)
                        v += Vector512.Load(rsd + ox);
                    if (a.Relu)
                        v = Vector512.ConditionalSelect(Vector512.GreaterThan(v, Vector512<float>.Zero), v, Vector512<float>.Zero);
                    v.Store(dst + ox);
                }
            for (; ox < s.OutWidth; ox++)
            {
                float v = sums[c * padded + ox];
                if (a.Bias != null)
                    v += b;
                if (rsd != null)
                    v += rsd[ox];
                dst[ox] = a.Relu && !(v > 0f) ? 0f : v;
            }
        }
    }

    private static void Taps(SimdPath path, float* lines, int lineLength, float** taps, int count, int kw, float* sums, int runs, int padded)
    {
        if (path == SimdPath.Vector512)
            Taps512(lines, lineLength, taps, count, kw, sums, runs, padded);
        else
            for (int g = 0; g < count; g++)
                Taps256(lines + (long)g * lineLength, taps[g], kw, sums, runs, padded);
    }

    /// <summary>sums[c, run·32 + j] += Σ_g Σ_kx taps[g][kx·4 + c]·line_g[run·32 + j + kx] for every run, lines in order
    /// (each sum's order is that of one line at a time): 8 accumulators in registers across the staged lines.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Taps512(float* lines, int lineLength, float** taps, int count, int kw, float* sums, int runs, int padded)
    {
        for (int j = 0; j < runs * 32; j += 32)
        {
            float* s0 = sums + j, s1 = s0 + padded, s2 = s1 + padded, s3 = s2 + padded;
            Vector512<float> a0 = Vector512.Load(s0), b0 = Vector512.Load(s0 + 16), a1 = Vector512.Load(s1), b1 = Vector512.Load(s1 + 16);
            Vector512<float> a2 = Vector512.Load(s2), b2 = Vector512.Load(s2 + 16), a3 = Vector512.Load(s3), b3 = Vector512.Load(s3 + 16);
            for (int g = 0; g < count; g++)
            {
                float* line = lines + (long)g * lineLength;
                for (int kx = 0; kx < kw; kx++)
                {
                    var x0 = Vector512.Load(line + j + kx);
                    var x1 = Vector512.Load(line + j + kx + 16);
                    float* t = taps[g] + kx * MaxOutChannels;
                    var w = Vector512.Create(t[0]);
                    a0 = Vector512.FusedMultiplyAdd(w, x0, a0); b0 = Vector512.FusedMultiplyAdd(w, x1, b0);
                    w = Vector512.Create(t[1]);
                    a1 = Vector512.FusedMultiplyAdd(w, x0, a1); b1 = Vector512.FusedMultiplyAdd(w, x1, b1);
                    w = Vector512.Create(t[2]);
                    a2 = Vector512.FusedMultiplyAdd(w, x0, a2); b2 = Vector512.FusedMultiplyAdd(w, x1, b2);
                    w = Vector512.Create(t[3]);
                    a3 = Vector512.FusedMultiplyAdd(w, x0, a3); b3 = Vector512.FusedMultiplyAdd(w, x1, b3);
                }
            }
            a0.Store(s0); b0.Store(s0 + 16); a1.Store(s1); b1.Store(s1 + 16);
            a2.Store(s2); b2.Store(s2 + 16); a3.Store(s3); b3.Store(s3 + 16);
        }
    }

    /// <summary>As <see cref="Taps512"/> with runs of 16 pixels in Vector256 halves.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Taps256(float* line, float* taps, int kw, float* sums, int runs, int padded)
    {
        for (int j = 0; j < runs * 16; j += 16)
        {
            float* s0 = sums + j, s1 = s0 + padded, s2 = s1 + padded, s3 = s2 + padded;
            Vector256<float> a0 = Vector256.Load(s0), b0 = Vector256.Load(s0 + 8), a1 = Vector256.Load(s1), b1 = Vector256.Load(s1 + 8);
            Vector256<float> a2 = Vector256.Load(s2), b2 = Vector256.Load(s2 + 8), a3 = Vector256.Load(s3), b3 = Vector256.Load(s3 + 8);
            for (int kx = 0; kx < kw; kx++)
            {
                var x0 = Vector256.Load(line + j + kx);
                var x1 = Vector256.Load(line + j + kx + 8);
                float* t = taps + kx * MaxOutChannels;
                var w = Vector256.Create(t[0]);
                a0 = Vector256.FusedMultiplyAdd(w, x0, a0); b0 = Vector256.FusedMultiplyAdd(w, x1, b0);
                w = Vector256.Create(t[1]);
                a1 = Vector256.FusedMultiplyAdd(w, x0, a1); b1 = Vector256.FusedMultiplyAdd(w, x1, b1);
                w = Vector256.Create(t[2]);
                a2 = Vector256.FusedMultiplyAdd(w, x0, a2); b2 = Vector256.FusedMultiplyAdd(w, x1, b2);
                w = Vector256.Create(t[3]);
                a3 = Vector256.FusedMultiplyAdd(w, x0, a3); b3 = Vector256.FusedMultiplyAdd(w, x1, b3);
            }
            a0.Store(s0); b0.Store(s0 + 8); a1.Store(s1); b1.Store(s1 + 8);
            a2.Store(s2); b2.Store(s2 + 8); a3.Store(s3); b3.Store(s3 + 8);
        }
    }
}
