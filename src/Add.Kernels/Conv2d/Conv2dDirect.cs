using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Add.Kernels.Cpu;

/// <summary>
/// A stride-1 convolution with few input channels on large planes, computed directly from the image, without the
/// GEMM's im2col packing: AutoencoderTiny's 64 → 64 3×3 convs at 64² … 512² (its whole decode) and the VAE decoder's
/// last 128-channel convs. Through the GEMM such a conv packs K·P floats of im2col per image (K = 576: 151 M floats at
/// 512²) for a reduction too short to amortise it; the packing was a third of the conv's time.
/// <para>Legend as <see cref="Conv2dCpu"/>: y[n, co, oy, ox] = b[co] + Σ_{ci, ky, kx} w[co, ci, ky, kx]·x[n, ci, oy + ky − p,
/// ox + kx − p] (+ R) (then ReLU when asked). Work: per output row (n, oy) the input it reads is staged once: for every
/// (ci, ky) the input row with p zeros before it and zeros after it (a whole row of zeros outside the image), a line of
/// <c>stride</c> floats ([Ci·kh, stride]: 400 KB for 64 channels at 512 wide, in L2; the window one run reads, 26 KB, in
/// L1). Then per run of <see cref="Run"/> output pixels and for each block of <see cref="Mr"/> output channels a register tile of 8 channels × 32 pixels (16 zmm accumulators)
/// sums over k = (ci·kh + ky)·kw + kx in order: two loads of the staged line at offset kx, eight broadcasts of the
/// weight (read from the GEMM's packed panels, <see cref="PackedWeight"/>: [kc][8] per K block), sixteen FMAs.
/// Epilogue: + b, + R, ReLU, stored (runs past Wo are not stored). Each pixel sums in k order from zero whatever its
/// run, row or batch, so an image's bytes are the same alone or in a batch. Rows of all images are shared among the cores.</para>
/// </summary>
internal static unsafe class Conv2dDirect
{
    /// <summary>Output pixels of a run: two Vector512.</summary>
    public const int Run = 32;

    /// <summary>Output channels per register tile: the Vector512 GEMM's MR, so the packed panels are read as they are.</summary>
    public const int Mr = 8;

    /// <summary>Above this many input channels the staged rows outgrow L2 at 512 wide, and K is long enough for the GEMM's
    /// packing to pay (128 → 128 measured level with the GEMM).</summary>
    public const int MaxInChannels = 128;

    /// <summary>Whether a conv of this shape takes this path: Vector512, stride 1, more outputs than <see
    /// cref="Conv2dFewOutputs"/> takes, at most <see cref="MaxInChannels"/> inputs, rows of at least a run on a plane the
    /// GEMM would run per image; and panels packed <see cref="Mr"/> wide (the tile reads them as they are).</summary>
    public static bool Applies(Conv2dShape s, SimdPath path) =>
        path == SimdPath.Vector512 && GemmCpu.Tile(path).Mr == Mr && s.Stride == 1 && s.OutChannels > Conv2dFewOutputs.MaxOutChannels
        && s.InChannels <= MaxInChannels && s.KernelW <= Run && s.OutWidth >= Run
        && s.OutHeight * s.OutWidth >= Conv2dCpu.BatchedPlaneLimit;

    [ThreadStatic] private static float[]? t_stage;

    /// <param name="panels">w packed as the GEMM's A (<see cref="PackedWeight.ForConv"/> on the Vector512 path, MR = 8)</param>
    public static void Forward(float* x, float* panels, float* bias, float* residual, float* y, Conv2dShape s, bool relu)
    {
        int rows = s.Batch * s.OutHeight;
        long work = 2L * s.OutChannels * s.ReductionLength * s.OutWidth;     // flops per output row
        int workers = CpuSimd.Workers(rows, work, 1 << 18);
        var args = new Args(x, panels, bias, residual, y, s, relu);
        if (workers == 1)
        {
            Rows(0, rows, args);
            return;
        }
        int chunks = Math.Min(rows, 4 * workers);
        CpuWorkers.For(chunks, c => Rows((int)((long)rows * c / chunks), (int)((long)rows * (c + 1) / chunks), args));
    }

    private readonly struct Args(float* x, float* panels, float* bias, float* residual, float* y, Conv2dShape s, bool relu)
    {
        public readonly float* X = x, Panels = panels, Bias = bias, Residual = residual, Y = y;
        public readonly Conv2dShape S = s;
        public readonly bool Relu = relu;
        /// <summary>Input values a staged line holds: every run of the row (the last one padded) and its kw − 1 taps past it.</summary>
        public int Width => (S.OutWidth + Run - 1) / Run * Run + S.KernelW - 1;
        public int Stride => (Width + 15) & ~15;     // a staged line, rounded up to whole vectors
    }

    /// <summary>Output rows r0 .. r1−1 (r = n·Ho + oy) of every output channel.</summary>
    private static void Rows(int r0, int r1, Args a)
    {
        int need = a.S.InChannels * a.S.KernelH * a.Stride;
        var stage = t_stage;
        if (stage is null || stage.Length < need)
            t_stage = stage = GC.AllocateUninitializedArray<float>(need, pinned: true);
        float* tile = stackalloc float[Mr * Run];
        fixed (float* ps = stage)
            for (int r = r0; r < r1; r++)
            {
                Stage(r, a, ps);
                for (int j = 0; j < a.S.OutWidth; j += Run)
                    for (int cb = 0; cb < a.S.OutChannels; cb += Mr)
                    {
                        Tile(cb, a, ps + j, tile);
                        Store(r, j, cb, a, tile);
                    }
            }
    }

    /// <summary>stage[(ci·kh + ky)·stride + i] = x[n, ci, oy + ky − p, i − p] for i &lt; <see cref="Args.Width"/>, zero outside the image.</summary>
    private static void Stage(int r, Args a, float* stage)
    {
        var s = a.S;
        int n = r / s.OutHeight, oy = r - n * s.OutHeight, width = a.Width, stride = a.Stride;
        long plane = (long)s.Height * s.Width;
        int x0 = -s.Padding, from = Math.Max(0, -x0), to = Math.Min(width, s.Width - x0);    // inside: i in [from, to)
        float* line = stage;
        for (int ci = 0; ci < s.InChannels; ci++)
        {
            float* channel = a.X + (n * s.InChannels + ci) * plane;
            for (int ky = 0; ky < s.KernelH; ky++, line += stride)
            {
                int iy = oy + ky - s.Padding;
                if ((uint)iy >= (uint)s.Height || to <= from)
                {
                    new Span<float>(line, width).Clear();
                    continue;
                }
                if (from > 0)
                    new Span<float>(line, from).Clear();
                new ReadOnlySpan<float>(channel + (long)iy * s.Width + x0 + from, to - from).CopyTo(new Span<float>(line + from, to - from));
                if (to < width)
                    new Span<float>(line + to, width - to).Clear();
            }
        }
    }

    /// <summary>tile [8, 32] = the sums over all of K of output channels cb .. cb+7 × the staged run's 32 pixels: the register tile.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile(int cb, Args a, float* stage, float* tile)
    {
        var s = a.S;
        int kTotal = s.ReductionLength, kw = s.KernelW, skip = a.Stride - kw;
        int padded = (s.OutChannels + Mr - 1) / Mr * Mr;
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        Vector512<float> b0 = default, b1 = default, b2 = default, b3 = default, b4 = default, b5 = default, b6 = default, b7 = default;
        float* src = stage;
        int kx = 0;
        for (int pc = 0; pc < kTotal; pc += GemmCpu.KC)
        {
            int kc = Math.Min(GemmCpu.KC, kTotal - pc);
            float* w = a.Panels + (long)pc * padded + (long)cb * kc;     // panel cb/8 of K block pc: [kc][8]
            for (int k = 0; k < kc; k++, w += Mr)
            {
                var x0 = Vector512.Load(src);
                var x1 = Vector512.Load(src + 16);
                var v = Vector512.Create(w[0]); a0 = Vector512.FusedMultiplyAdd(v, x0, a0); b0 = Vector512.FusedMultiplyAdd(v, x1, b0);
                v = Vector512.Create(w[1]); a1 = Vector512.FusedMultiplyAdd(v, x0, a1); b1 = Vector512.FusedMultiplyAdd(v, x1, b1);
                v = Vector512.Create(w[2]); a2 = Vector512.FusedMultiplyAdd(v, x0, a2); b2 = Vector512.FusedMultiplyAdd(v, x1, b2);
                v = Vector512.Create(w[3]); a3 = Vector512.FusedMultiplyAdd(v, x0, a3); b3 = Vector512.FusedMultiplyAdd(v, x1, b3);
                v = Vector512.Create(w[4]); a4 = Vector512.FusedMultiplyAdd(v, x0, a4); b4 = Vector512.FusedMultiplyAdd(v, x1, b4);
                v = Vector512.Create(w[5]); a5 = Vector512.FusedMultiplyAdd(v, x0, a5); b5 = Vector512.FusedMultiplyAdd(v, x1, b5);
                v = Vector512.Create(w[6]); a6 = Vector512.FusedMultiplyAdd(v, x0, a6); b6 = Vector512.FusedMultiplyAdd(v, x1, b6);
                v = Vector512.Create(w[7]); a7 = Vector512.FusedMultiplyAdd(v, x0, a7); b7 = Vector512.FusedMultiplyAdd(v, x1, b7);
                // next k: the next tap of this line, or the next (ci, ky) line
                src++;
                if (++kx == kw)
                {
                    kx = 0;
                    src += skip;
                }
            }
        }
        // Out of registers before anything is called: live across a call, the accumulators were spilled in the K loop.
        a0.Store(tile); b0.Store(tile + 16); a1.Store(tile + 32); b1.Store(tile + 48);
        a2.Store(tile + 64); b2.Store(tile + 80); a3.Store(tile + 96); b3.Store(tile + 112);
        a4.Store(tile + 128); b4.Store(tile + 144); a5.Store(tile + 160); b5.Store(tile + 176);
        a6.Store(tile + 192); b6.Store(tile + 208); a7.Store(tile + 224); b7.Store(tile + 240);
    }

    /// <summary>y[n, cb + i, oy, j .. j+count) = ReLU?(tile[i] + b (+ R)) for the tile's channels below Co.</summary>
    private static void Store(int r, int j, int cb, Args a, float* tile)
    {
        var s = a.S;
        int n = r / s.OutHeight, oy = r - n * s.OutHeight, count = Math.Min(Run, s.OutWidth - j);
        long outPlane = (long)s.OutHeight * s.OutWidth, at = (long)n * s.OutChannels * outPlane + (long)oy * s.OutWidth + j;
        for (int i = 0; i < Mr && cb + i < s.OutChannels; i++)
        {
            int co = cb + i;
            long o = at + co * outPlane;
            var lo = Vector512.Load(tile + i * Run);
            var hi = Vector512.Load(tile + i * Run + 16);
            if (a.Bias != null)
            {
                var b = Vector512.Create(a.Bias[co]);
                lo += b;
                hi += b;
            }
            float* dst = a.Y + o;
            if (count == Run)
            {
                if (a.Residual != null)
                {
                    lo += Vector512.Load(a.Residual + o);
                    hi += Vector512.Load(a.Residual + o + 16);
                }
                if (a.Relu)
                {
                    lo = Vector512.ConditionalSelect(Vector512.GreaterThan(lo, Vector512<float>.Zero), lo, Vector512<float>.Zero);
                    hi = Vector512.ConditionalSelect(Vector512.GreaterThan(hi, Vector512<float>.Zero), hi, Vector512<float>.Zero);
                }
                lo.Store(dst);
                hi.Store(dst + 16);
                continue;
            }
            lo.Store(tile + i * Run);
            hi.Store(tile + i * Run + 16);
            for (int x = 0; x < count; x++)
            {
                float v = tile[i * Run + x];
                if (a.Residual != null)
                    v += a.Residual[o + x];
                dst[x] = a.Relu && !(v > 0f) ? 0f : v;
            }
        }
    }
}
