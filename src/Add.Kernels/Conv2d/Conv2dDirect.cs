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
/// <c>stride</c> floats ([Ci·kh, stride]: 400 KB for 64 channels at 512 wide, in L2; the window one 64-pixel run reads,
/// ~51 KB for 64 channels, mostly in L1). Then per run of output pixels (64 on rows at least that wide, else 32) and for each block of <see cref="Mr"/> output
/// channels a register tile of 6 channels × 64 pixels (24 zmm accumulators; 12 × 32 on narrow rows, also 24) sums over
/// k = (ci·kh + ky)·kw + kx in order: four (two) loads of the staged line at offset kx, six (twelve) broadcasts of the
/// weight (read from the GEMM's packed panels, <see cref="PackedWeight"/>: [kc][6] per K block), 24 FMAs; a lone last
/// panel on narrow rows takes a 6 × 32 tile.
/// Epilogue: + b, + R, ReLU, stored (runs past Wo are not stored). Each pixel sums in k order from zero whatever its
/// run, row or batch, so an image's bytes are the same alone or in a batch. Rows of all images are shared among the cores.</para>
/// </summary>
internal static unsafe class Conv2dDirect
{
    /// <summary>Output pixels of a run: four Vector512, or two (<see cref="NarrowRun"/>) on rows narrower than 64 pixels.</summary>
    public const int Run = 64, NarrowRun = 32;

    /// <summary>Output channels per register tile: the Vector512 GEMM's MR, so the packed panels are read as they are.</summary>
    public const int Mr = 6;

    /// <summary>Above this many input channels the staged rows outgrow L2 at 512 wide, and K is long enough for the GEMM's
    /// packing to pay (128 → 128 measured level with the GEMM).</summary>
    public const int MaxInChannels = 128;

    /// <summary>Whether a conv of this shape takes this path: Vector512, stride 1, more outputs than <see
    /// cref="Conv2dFewOutputs"/> takes, at most <see cref="MaxInChannels"/> inputs, rows of at least a run on a plane the
    /// GEMM would run per image; and panels packed <see cref="Mr"/> wide (the tile reads them as they are).</summary>
    public static bool Applies(Conv2dShape s, SimdPath path) =>
        path == SimdPath.Vector512 && GemmCpu.Tile(path).Mr == Mr && s.Stride == 1 && s.OutChannels > Conv2dFewOutputs.MaxOutChannels
        && s.InChannels <= MaxInChannels && s.KernelW <= NarrowRun && s.OutWidth >= NarrowRun
        && s.OutHeight * s.OutWidth >= Conv2dCpu.BatchedPlaneLimit;

    [ThreadStatic] private static float[]? t_stage;

    /// <param name="panels">w packed as the GEMM's A (<see cref="PackedWeight.ForConv"/> on the Vector512 path, MR = 6)</param>
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
        /// <summary>Output pixels per register tile on this shape's rows.</summary>
        public int Run => S.OutWidth >= Conv2dDirect.Run ? Conv2dDirect.Run : NarrowRun;
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
        int run = a.Run;
        fixed (float* ps = stage)
            for (int r = r0; r < r1; r++)
            {
                Stage(r, a, ps);
                for (int j = 0; j < a.S.OutWidth; j += run)
                    for (int cb = 0; cb < a.S.OutChannels; cb += Mr)
                    {
                        if (run == Run)
                            Tile(cb, a, ps + j, tile);
                        else if (cb + Mr < a.S.OutChannels)
                        {
                            // Two panels' channels at once on narrow rows: 24 accumulators, as the wide tile has.
                            NarrowTile12(cb, a, ps + j, tile);
                            Store(r, j, cb, a, tile, run);
                            cb += Mr;
                            Store(r, j, cb, a, tile + Mr * run, run);
                            continue;
                        }
                        else
                            NarrowTile(cb, a, ps + j, tile);
                        Store(r, j, cb, a, tile, run);
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
                StageLine(line, channel, oy + ky - s.Padding, x0, from, to, width, s);
        }
    }

    /// <summary>line[i] = channel[iy, x0 + i] for i &lt; width, zero outside the image ([from, to) is the part of
    /// [0, width) inside it; a whole line of zeros for a row iy outside). Shared with <see cref="Conv2dWinograd"/>'s staging.</summary>
    internal static void StageLine(float* line, float* channel, int iy, int x0, int from, int to, int width, Conv2dShape s)
    {
        if ((uint)iy >= (uint)s.Height || to <= from)
        {
            new Span<float>(line, width).Clear();
            return;
        }
        if (from > 0)
            new Span<float>(line, from).Clear();
        new ReadOnlySpan<float>(channel + (long)iy * s.Width + x0 + from, to - from).CopyTo(new Span<float>(line + from, to - from));
        if (to < width)
            new Span<float>(line + to, width - to).Clear();
    }

    /// <summary>tile [6, 64] = the sums over all of K of output channels cb .. cb+5 × the staged run's 64 pixels: the register tile.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile(int cb, Args a, float* stage, float* tile)
    {
        var s = a.S;
        int kTotal = s.ReductionLength, kw = s.KernelW, skip = a.Stride - kw;
        int padded = (s.OutChannels + Mr - 1) / Mr * Mr;
        Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default;
        Vector512<float> a10 = default, a11 = default, a12 = default, a13 = default;
        Vector512<float> a20 = default, a21 = default, a22 = default, a23 = default;
        Vector512<float> a30 = default, a31 = default, a32 = default, a33 = default;
        Vector512<float> a40 = default, a41 = default, a42 = default, a43 = default;
        Vector512<float> a50 = default, a51 = default, a52 = default, a53 = default;
        float* src = stage;
        int kx = 0;
        for (int pc = 0, kb = GemmCpu.KBlock(kTotal); pc < kTotal; pc += kb)
        {
            int kc = Math.Min(kb, kTotal - pc);
            float* w = a.Panels + (long)pc * padded + (long)cb * kc;     // panel cb/6 of K block pc: [kc][6]
            for (int k = 0; k < kc; k++, w += Mr)
            {
                var x0 = Vector512.Load(src);
                var x1 = Vector512.Load(src + 16);
                var x2 = Vector512.Load(src + 32);
                var x3 = Vector512.Load(src + 48);
                var v = Vector512.Create(w[0]); a00 = Vector512.FusedMultiplyAdd(v, x0, a00); a01 = Vector512.FusedMultiplyAdd(v, x1, a01);
                a02 = Vector512.FusedMultiplyAdd(v, x2, a02); a03 = Vector512.FusedMultiplyAdd(v, x3, a03);
                v = Vector512.Create(w[1]); a10 = Vector512.FusedMultiplyAdd(v, x0, a10); a11 = Vector512.FusedMultiplyAdd(v, x1, a11);
                a12 = Vector512.FusedMultiplyAdd(v, x2, a12); a13 = Vector512.FusedMultiplyAdd(v, x3, a13);
                v = Vector512.Create(w[2]); a20 = Vector512.FusedMultiplyAdd(v, x0, a20); a21 = Vector512.FusedMultiplyAdd(v, x1, a21);
                a22 = Vector512.FusedMultiplyAdd(v, x2, a22); a23 = Vector512.FusedMultiplyAdd(v, x3, a23);
                v = Vector512.Create(w[3]); a30 = Vector512.FusedMultiplyAdd(v, x0, a30); a31 = Vector512.FusedMultiplyAdd(v, x1, a31);
                a32 = Vector512.FusedMultiplyAdd(v, x2, a32); a33 = Vector512.FusedMultiplyAdd(v, x3, a33);
                v = Vector512.Create(w[4]); a40 = Vector512.FusedMultiplyAdd(v, x0, a40); a41 = Vector512.FusedMultiplyAdd(v, x1, a41);
                a42 = Vector512.FusedMultiplyAdd(v, x2, a42); a43 = Vector512.FusedMultiplyAdd(v, x3, a43);
                v = Vector512.Create(w[5]); a50 = Vector512.FusedMultiplyAdd(v, x0, a50); a51 = Vector512.FusedMultiplyAdd(v, x1, a51);
                a52 = Vector512.FusedMultiplyAdd(v, x2, a52); a53 = Vector512.FusedMultiplyAdd(v, x3, a53);
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
        a00.Store(tile + 0); a01.Store(tile + 16); a02.Store(tile + 32); a03.Store(tile + 48);
        a10.Store(tile + 64); a11.Store(tile + 80); a12.Store(tile + 96); a13.Store(tile + 112);
        a20.Store(tile + 128); a21.Store(tile + 144); a22.Store(tile + 160); a23.Store(tile + 176);
        a30.Store(tile + 192); a31.Store(tile + 208); a32.Store(tile + 224); a33.Store(tile + 240);
        a40.Store(tile + 256); a41.Store(tile + 272); a42.Store(tile + 288); a43.Store(tile + 304);
        a50.Store(tile + 320); a51.Store(tile + 336); a52.Store(tile + 352); a53.Store(tile + 368);
    }

    /// <summary><see cref="Tile"/> for a run of 32 pixels: tile [6, 32].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void NarrowTile(int cb, Args a, float* stage, float* tile)
    {
        var s = a.S;
        int kTotal = s.ReductionLength, kw = s.KernelW, skip = a.Stride - kw;
        int padded = (s.OutChannels + Mr - 1) / Mr * Mr;
        Vector512<float> a00 = default, a01 = default;
        Vector512<float> a10 = default, a11 = default;
        Vector512<float> a20 = default, a21 = default;
        Vector512<float> a30 = default, a31 = default;
        Vector512<float> a40 = default, a41 = default;
        Vector512<float> a50 = default, a51 = default;
        float* src = stage;
        int kx = 0;
        for (int pc = 0, kb = GemmCpu.KBlock(kTotal); pc < kTotal; pc += kb)
        {
            int kc = Math.Min(kb, kTotal - pc);
            float* w = a.Panels + (long)pc * padded + (long)cb * kc;     // panel cb/6 of K block pc: [kc][6]
            for (int k = 0; k < kc; k++, w += Mr)
            {
                var x0 = Vector512.Load(src);
                var x1 = Vector512.Load(src + 16);
                var v = Vector512.Create(w[0]); a00 = Vector512.FusedMultiplyAdd(v, x0, a00); a01 = Vector512.FusedMultiplyAdd(v, x1, a01);
                v = Vector512.Create(w[1]); a10 = Vector512.FusedMultiplyAdd(v, x0, a10); a11 = Vector512.FusedMultiplyAdd(v, x1, a11);
                v = Vector512.Create(w[2]); a20 = Vector512.FusedMultiplyAdd(v, x0, a20); a21 = Vector512.FusedMultiplyAdd(v, x1, a21);
                v = Vector512.Create(w[3]); a30 = Vector512.FusedMultiplyAdd(v, x0, a30); a31 = Vector512.FusedMultiplyAdd(v, x1, a31);
                v = Vector512.Create(w[4]); a40 = Vector512.FusedMultiplyAdd(v, x0, a40); a41 = Vector512.FusedMultiplyAdd(v, x1, a41);
                v = Vector512.Create(w[5]); a50 = Vector512.FusedMultiplyAdd(v, x0, a50); a51 = Vector512.FusedMultiplyAdd(v, x1, a51);
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
        a00.Store(tile + 0); a01.Store(tile + 16);
        a10.Store(tile + 32); a11.Store(tile + 48);
        a20.Store(tile + 64); a21.Store(tile + 80);
        a30.Store(tile + 96); a31.Store(tile + 112);
        a40.Store(tile + 128); a41.Store(tile + 144);
        a50.Store(tile + 160); a51.Store(tile + 176);
    }
    /// <summary><see cref="NarrowTile"/> for the channels of two panels, cb .. cb+11: tile [12, 32] (the second panel's
    /// rows past Co are the packing's zeros).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void NarrowTile12(int cb, Args a, float* stage, float* tile)
    {
        var s = a.S;
        int kTotal = s.ReductionLength, kw = s.KernelW, skip = a.Stride - kw;
        int padded = (s.OutChannels + Mr - 1) / Mr * Mr;
        Vector512<float> a00 = default, a01 = default, a10 = default, a11 = default;
        Vector512<float> a20 = default, a21 = default, a30 = default, a31 = default;
        Vector512<float> a40 = default, a41 = default, a50 = default, a51 = default;
        Vector512<float> a60 = default, a61 = default, a70 = default, a71 = default;
        Vector512<float> a80 = default, a81 = default, a90 = default, a91 = default;
        Vector512<float> a100 = default, a101 = default, a110 = default, a111 = default;
        float* src = stage;
        int kx = 0;
        for (int pc = 0, kb = GemmCpu.KBlock(kTotal); pc < kTotal; pc += kb)
        {
            int kc = Math.Min(kb, kTotal - pc);
            float* w = a.Panels + (long)pc * padded + (long)cb * kc;     // panels cb/6 and cb/6 + 1 of K block pc: [kc][6] each
            float* u = w + (long)Mr * kc;
            for (int k = 0; k < kc; k++, w += Mr, u += Mr)
            {
                var x0 = Vector512.Load(src);
                var x1 = Vector512.Load(src + 16);
                var v = Vector512.Create(w[0]); a00 = Vector512.FusedMultiplyAdd(v, x0, a00); a01 = Vector512.FusedMultiplyAdd(v, x1, a01);
                v = Vector512.Create(w[1]); a10 = Vector512.FusedMultiplyAdd(v, x0, a10); a11 = Vector512.FusedMultiplyAdd(v, x1, a11);
                v = Vector512.Create(w[2]); a20 = Vector512.FusedMultiplyAdd(v, x0, a20); a21 = Vector512.FusedMultiplyAdd(v, x1, a21);
                v = Vector512.Create(w[3]); a30 = Vector512.FusedMultiplyAdd(v, x0, a30); a31 = Vector512.FusedMultiplyAdd(v, x1, a31);
                v = Vector512.Create(w[4]); a40 = Vector512.FusedMultiplyAdd(v, x0, a40); a41 = Vector512.FusedMultiplyAdd(v, x1, a41);
                v = Vector512.Create(w[5]); a50 = Vector512.FusedMultiplyAdd(v, x0, a50); a51 = Vector512.FusedMultiplyAdd(v, x1, a51);
                v = Vector512.Create(u[0]); a60 = Vector512.FusedMultiplyAdd(v, x0, a60); a61 = Vector512.FusedMultiplyAdd(v, x1, a61);
                v = Vector512.Create(u[1]); a70 = Vector512.FusedMultiplyAdd(v, x0, a70); a71 = Vector512.FusedMultiplyAdd(v, x1, a71);
                v = Vector512.Create(u[2]); a80 = Vector512.FusedMultiplyAdd(v, x0, a80); a81 = Vector512.FusedMultiplyAdd(v, x1, a81);
                v = Vector512.Create(u[3]); a90 = Vector512.FusedMultiplyAdd(v, x0, a90); a91 = Vector512.FusedMultiplyAdd(v, x1, a91);
                v = Vector512.Create(u[4]); a100 = Vector512.FusedMultiplyAdd(v, x0, a100); a101 = Vector512.FusedMultiplyAdd(v, x1, a101);
                v = Vector512.Create(u[5]); a110 = Vector512.FusedMultiplyAdd(v, x0, a110); a111 = Vector512.FusedMultiplyAdd(v, x1, a111);
                src++;
                if (++kx == kw)
                {
                    kx = 0;
                    src += skip;
                }
            }
        }
        a00.Store(tile + 0); a01.Store(tile + 16); a10.Store(tile + 32); a11.Store(tile + 48);
        a20.Store(tile + 64); a21.Store(tile + 80); a30.Store(tile + 96); a31.Store(tile + 112);
        a40.Store(tile + 128); a41.Store(tile + 144); a50.Store(tile + 160); a51.Store(tile + 176);
        a60.Store(tile + 192); a61.Store(tile + 208); a70.Store(tile + 224); a71.Store(tile + 240);
        a80.Store(tile + 256); a81.Store(tile + 272); a90.Store(tile + 288); a91.Store(tile + 304);
        a100.Store(tile + 320); a101.Store(tile + 336); a110.Store(tile + 352); a111.Store(tile + 368);
    }

    /// <summary>y[n, cb + i, oy, j .. j+count) = ReLU?(tile[i] + b (+ R)) for the tile's channels below Co; tile [Mr, run].</summary>
    private static void Store(int r, int j, int cb, Args a, float* tile, int run)
    {
        var s = a.S;
        int n = r / s.OutHeight, oy = r - n * s.OutHeight, count = Math.Min(run, s.OutWidth - j);
        long outPlane = (long)s.OutHeight * s.OutWidth, at = (long)n * s.OutChannels * outPlane + (long)oy * s.OutWidth + j;
        for (int i = 0; i < Mr && cb + i < s.OutChannels; i++)
        {
            int co = cb + i;
            long o = at + co * outPlane;
            float* row = tile + i * run, dst = a.Y + o;
            if (count == run)
            {
                for (int v = 0; v < run; v += 16)
                {
                    var x = Vector512.Load(row + v);
                    if (a.Bias != null)
                        x += Vector512.Create(a.Bias[co]);
                    if (a.Residual != null)
                        x += Vector512.Load(a.Residual + o + v);
                    if (a.Relu)
                        x = Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<float>.Zero), x, Vector512<float>.Zero);
                    x.Store(dst + v);
                }
                continue;
            }
            for (int x = 0; x < count; x++)
            {
                float v = a.Bias != null ? row[x] + a.Bias[co] : row[x];
                if (a.Residual != null)
                    v += a.Residual[o + x];
                dst[x] = a.Relu && !(v > 0f) ? 0f : v;
            }
        }
    }
}
