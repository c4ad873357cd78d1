using System.Runtime.CompilerServices;

namespace Add.Kernels.Cpu;

/// <summary>
/// 2-D convolution on the CPU: <c>y[n, co, oy, ox] = b[co] + Σ_{ci, ky, kx} w[co, ci, ky, kx]·x[n, ci, oy·s + ky − p, ox·s + kx − p]
/// (+ R[n, co, oy, ox])</c>, zero outside the image (torch.nn.functional.conv2d, dilation 1, groups 1), then an optional
/// residual add fused into the store (the resnets' <c>input + conv2(h)</c>).
/// <para>Legend: N batch, Ci / Co channels, H W input, Ho Wo output (<see cref="Conv2dShape"/>), K = Ci·kh·kw, P = Ho·Wo.
/// x [N, Ci, H, W], w [Co, Ci, kh, kw], b [Co], R and y [N, Co, Ho, Wo].</para>
/// <para>Versions: reference <see cref="Conv2dReference.Forward"/> (direct loops, double); <see cref="Forward"/>: GEMMs through
/// <see cref="GemmCpu"/>, with w as panels packed once at load (<see cref="PackedWeight.ForConv"/>) or per call. The
/// im2col matrix is never formed: the GEMM's packing gathers it straight from the image into its panel buffer (for
/// stride 1 a vector copy per (k, run of one output row); stride 2 a strided gather), from a zero-padded copy of x in
/// the workspace, so no copy tests bounds. Three arrangements, by shape:
/// <list type="bullet">
/// <item>per image: y[n] [Co, P] = w [Co, K] · im2col(x[n]) [K, P], bias per row, residual in the epilogue; a 1×1
/// stride-1 unpadded conv reads x[n] as B directly.</item>
/// <item>batched (planes under <see cref="BatchedPlaneLimit"/> pixels, batch > 1): one GEMM with N = batch·P columns into
/// a scratch [Co, batch·P] (R gathered into it first and added in the GEMM's epilogue), then scattered to y.</item>
/// <item>transposed (small planes where it wastes less of the register tile): Cᵀ [batch·P, Co] = im2col(x)ᵀ · wᵀ, pixels
/// as the MR side and channels as the NR side (a 2×2 plane fills 4 of 32 columns the other way round), into a scratch
/// (R gathered transposed into it first), then transposed into y.</item>
/// </list>
/// Batch invariance: the arrangement changes with the batch, the value of an output does not. Every arrangement runs
/// the same micro-kernel FMA chain per output over the same K blocks and adds bias and R in the first block's
/// epilogue, so an image's bytes are the same alone or in any batch.</para>
/// </summary>
public static unsafe class Conv2dCpu
{
    /// <summary>Output planes below this many pixels are convolved for the whole batch in one GEMM (batched or
    /// transposed): one image's 2×2 or 4×4 plane would fill a fraction of a 32-column register tile and pay a GEMM call per image.</summary>
    public const int BatchedPlaneLimit = 256;

    private enum Arrangement { PerImage, Batched, Transposed }

    private static bool Direct(Conv2dShape s) => s.KernelH == 1 && s.KernelW == 1 && s.Stride == 1 && s.Padding == 0;

    private static Arrangement Choose(Conv2dShape s, SimdPath path)
    {
        int plane = s.OutHeight * s.OutWidth;
        if (plane >= BatchedPlaneLimit)
            return Arrangement.PerImage;
        var (mr, nr) = GemmCpu.Tile(CpuSimd.Resolve(path));
        bool batched = s.Batch > 1 && !Direct(s);
        long columns = batched ? (long)s.Batch * plane : plane;
        long standard = RoundUp(s.OutChannels, mr) * RoundUp(columns, nr) * (batched ? 1 : s.Batch);
        long transposed = RoundUp((long)s.Batch * plane, mr) * RoundUp(s.OutChannels, nr);
        if (transposed < standard)
            return Arrangement.Transposed;
        return batched ? Arrangement.Batched : Arrangement.PerImage;
    }

    private static long RoundUp(long value, int multiple) => (value + multiple - 1) / multiple * multiple;

    /// <summary>Floats of workspace <see cref="Forward"/> needs for this shape (on any path).</summary>
    public static long WorkspaceFloats(Conv2dShape s) => PaddedFloats(s) + GemmFloats(s);

    /// <summary>The zero-padded copy of x, [N, Ci, H + 2p, W + 2p], when p > 0.</summary>
    private static long PaddedFloats(Conv2dShape s) =>
        s.Padding == 0 ? 0 : (long)s.Batch * s.InChannels * (s.Height + 2 * s.Padding) * (s.Width + 2 * s.Padding);

    /// <summary>The same conv on the padded copy: p = 0, same output size.</summary>
    private static Conv2dShape Unpadded(Conv2dShape s) => s.Padding == 0 ? s :
        new(s.Batch, s.InChannels, s.Height + 2 * s.Padding, s.Width + 2 * s.Padding, s.OutChannels, s.KernelH, s.KernelW, s.Stride, 0, s.HasBias != 0);

    private static long GemmFloats(Conv2dShape s)
    {
        int plane = s.OutHeight * s.OutWidth;
        long gemm = GemmCpu.WorkspaceFloats(s.OutChannels, plane, s.ReductionLength);
        if (plane >= BatchedPlaneLimit)
            return gemm;
        int pixels = s.Batch * plane;
        gemm = Math.Max(Math.Max(gemm, GemmCpu.WorkspaceFloats(s.OutChannels, pixels, s.ReductionLength)),
            GemmCpu.WorkspaceFloats(pixels, s.OutChannels, s.ReductionLength));
        return gemm + (long)s.OutChannels * pixels;     // + the batched / transposed scratch
    }

    /// <summary>y = conv2d(x, w) (+ b) (+ R).</summary>
    /// <param name="x">[N, Ci, H, W]</param>
    /// <param name="w">[Co, Ci, kh, kw], or empty when <paramref name="packed"/> is given (the panels hold every value)</param>
    /// <param name="bias">[Co], or empty (must match <see cref="Conv2dShape.HasBias"/>)</param>
    /// <param name="residual">[N, Co, Ho, Wo], or empty; may be <paramref name="y"/> itself</param>
    /// <param name="y">[N, Co, Ho, Wo]; may not overlap x</param>
    /// <param name="workspace">at least <see cref="WorkspaceFloats"/> floats</param>
    /// <param name="packed">w packed ahead of time (<see cref="PackedWeight.ForConv"/>, same path), or null to pack it per call</param>
    public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, ReadOnlySpan<float> residual,
        Span<float> y, Conv2dShape s, Span<float> workspace, SimdPath path = SimdPath.Auto, PackedWeight? packed = null)
    {
        if (s.Stride < 1 || s.Padding < 0 || s.OutHeight < 1 || s.OutWidth < 1
            || s.Height + 2 * s.Padding < s.KernelH || s.Width + 2 * s.Padding < s.KernelW)
            throw new ArgumentException($"conv {s.KernelH}x{s.KernelW} stride {s.Stride} pad {s.Padding} on {s.Height}x{s.Width} gives no output");
        long inImage = (long)s.InChannels * s.Height * s.Width;
        long outImage = (long)s.OutChannels * s.OutHeight * s.OutWidth;
        KernelArgs.Length(nameof(x), x.Length, s.Batch * inImage);
        if (packed is null || !w.IsEmpty)
            KernelArgs.Length(nameof(w), w.Length, (long)s.OutChannels * s.ReductionLength);
        KernelArgs.Length(nameof(y), y.Length, s.Batch * outImage);
        KernelArgs.Length(nameof(bias), bias.Length, s.HasBias != 0 ? s.OutChannels : 0);
        if (!residual.IsEmpty)
            KernelArgs.Length(nameof(residual), residual.Length, s.Batch * outImage);
        if (workspace.Length < WorkspaceFloats(s))
            throw new ArgumentException($"workspace has {workspace.Length} floats, the conv needs {WorkspaceFloats(s)} (Conv2dCpu.WorkspaceFloats)");
        path = CpuSimd.Resolve(path);
        packed?.Check(s.OutChannels, s.ReductionLength, path);
        var (mr, nr) = GemmCpu.Tile(path);
        var arrangement = Choose(s, path);
        fixed (float* px = x, pw = w, pb = bias, pr = residual, py = y, pws = workspace)
        {
            // im2col reads a zero-padded copy of x, so its packing never tests bounds.
            long padded = PaddedFloats(s);
            float* image = px;
            if (padded > 0)
            {
                Pad(px, pws, s);
                image = pws;
            }
            var op = new Operands(image, pb, residual.IsEmpty ? null : pr, py, pws + padded, (int)(workspace.Length - padded), Unpadded(s), path);
            var rowsOfW = new StridedPanels(pw, 1, s.ReductionLength);
            switch (arrangement)
            {
                case Arrangement.Transposed when packed is not null: op.Transposed(packed.Panels(nr)); break;
                case Arrangement.Transposed: op.Transposed(rowsOfW); break;
                case Arrangement.Batched when packed is not null: op.Batched(packed.Panels(mr)); break;
                case Arrangement.Batched: op.Batched(rowsOfW); break;
                case Arrangement.PerImage when packed is not null: op.PerImage(packed.Panels(mr)); break;
                default: op.PerImage(rowsOfW); break;
            }
        }
    }

    /// <summary>xp [N, Ci, H + 2p, W + 2p] = x with a border of p zeros.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Pad(float* x, float* xp, Conv2dShape s)
    {
        int p = s.Padding, h = s.Height, w = s.Width, hp = h + 2 * p, wp = w + 2 * p;
        long planes = (long)s.Batch * s.InChannels;
        for (long c = 0; c < planes; c++)
        {
            float* src = x + c * h * w, dst = xp + c * hp * wp;
            new Span<float>(dst, p * wp).Clear();
            for (int iy = 0; iy < h; iy++)
            {
                float* row = dst + (long)(iy + p) * wp;
                for (int t = 0; t < p; t++)
                {
                    row[t] = 0f;
                    row[wp - 1 - t] = 0f;
                }
                Unsafe.CopyBlockUnaligned(row + p, src + (long)iy * w, (uint)(w * sizeof(float)));
            }
            new Span<float>(dst + (long)(h + p) * wp, p * wp).Clear();
        }
    }

    /// <summary>One call's pointers and shape; each arrangement is generic over where w's panels come from.</summary>
    private readonly struct Operands(float* x, float* bias, float* residual, float* y, float* workspace, int workspaceFloats, Conv2dShape s, SimdPath path)
    {
        private long InImage => (long)s.InChannels * s.Height * s.Width;
        private int Plane => s.OutHeight * s.OutWidth;
        private long OutImage => (long)s.OutChannels * Plane;

        public void PerImage<TW>(TW weights) where TW : struct, IPanelSource
        {
            var ws = new Span<float>(workspace, workspaceFloats);
            for (int n = 0; n < s.Batch; n++)
            {
                float* image = x + n * InImage;
                var epilogue = new GemmEpilogue(bias, true, residual == null ? null : residual + n * OutImage, Plane);
                if (Direct(s))
                    GemmCpu.Run(s.OutChannels, Plane, s.ReductionLength, weights, new StridedPanels(image, Plane, 1),
                        y + n * OutImage, Plane, epilogue, ws, path);
                else
                    GemmCpu.Run(s.OutChannels, Plane, s.ReductionLength, weights, new Im2ColPanels(image, s),
                        y + n * OutImage, Plane, epilogue, ws, path);
            }
        }

        /// <summary>C [Co, N·P] for all images at once, then scattered to [N, Co, P]. R is first gathered into C's layout
        /// and added in the GEMM's epilogue (R may be C there), so each value sums as a per-image GEMM sums it
        /// ((acc₀ + b + R) + acc₁ + … over K blocks): an image's bytes do not depend on the batch it came in.</summary>
        public void Batched<TW>(TW weights) where TW : struct, IPanelSource
        {
            int columns = s.Batch * Plane;
            float* scratch = Split(columns, out var ws);
            if (residual != null)
                for (int n = 0; n < s.Batch; n++)
                    for (int co = 0; co < s.OutChannels; co++)
                        new ReadOnlySpan<float>(residual + n * OutImage + (long)co * Plane, Plane)
                            .CopyTo(new Span<float>(scratch + (long)co * columns + n * Plane, Plane));
            GemmCpu.Run(s.OutChannels, columns, s.ReductionLength, weights, new Im2ColPanels(x, s, InImage),
                scratch, columns, new GemmEpilogue(bias, true, residual == null ? null : scratch, columns), ws, path);
            for (int n = 0; n < s.Batch; n++)
                for (int co = 0; co < s.OutChannels; co++)
                    new ReadOnlySpan<float>(scratch + (long)co * columns + n * Plane, Plane)
                        .CopyTo(new Span<float>(y + n * OutImage + (long)co * Plane, Plane));
        }

        /// <summary>Cᵀ [N·P, Co] = im2col(x)ᵀ · wᵀ (bias per column), then transposed into [N, Co, P]; R is gathered
        /// transposed into Cᵀ first and added in the epilogue, for the summation order of <see cref="Batched{TW}"/>.</summary>
        public void Transposed<TW>(TW weightsT) where TW : struct, IPanelSource
        {
            int pixels = s.Batch * Plane, co = s.OutChannels;
            float* scratch = Split(pixels, out var ws);
            if (residual != null)
                for (int n = 0; n < s.Batch; n++)
                    for (int c = 0; c < co; c++)
                    {
                        long o = n * OutImage + (long)c * Plane;
                        float* dst = scratch + (long)n * Plane * co + c;
                        for (int p = 0; p < Plane; p++)
                            dst[(long)p * co] = residual[o + p];
                    }
            GemmCpu.Run(pixels, co, s.ReductionLength, new Im2ColPanels(x, s, InImage), weightsT,
                scratch, co, new GemmEpilogue(bias, false, residual == null ? null : scratch, co), ws, path);
            for (int n = 0; n < s.Batch; n++)
                for (int c = 0; c < co; c++)
                {
                    long o = n * OutImage + (long)c * Plane;
                    float* src = scratch + (long)n * Plane * co + c;
                    for (int p = 0; p < Plane; p++)
                        y[o + p] = src[(long)p * co];
                }
        }

        /// <summary>The workspace as the GEMM's packing buffers followed by a [Co, pixels] scratch.</summary>
        private float* Split(int pixels, out Span<float> gemm)
        {
            int gemmFloats = (int)(workspaceFloats - (long)s.OutChannels * pixels);
            gemm = new Span<float>(workspace, gemmFloats);
            return workspace + gemmFloats;
        }
    }
}
