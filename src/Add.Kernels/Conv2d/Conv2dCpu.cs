using System.Runtime.CompilerServices;

namespace Add.Kernels.Cpu;

/// <summary>
/// 2-D convolution on the CPU: <c>y[n, co, oy, ox] = b[co] + Σ_{ci, ky, kx} w[co, ci, ky, kx]·x[n, ci, oy·s + ky − p, ox·s + kx − p]
/// (+ R[n, co, oy, ox])</c>, zero outside the image (torch.nn.functional.conv2d, dilation 1, groups 1), then an optional
/// residual add fused into the store (the resnets' <c>input + conv2(h)</c>), then an optional ReLU fused into the last
/// store (AutoencoderTiny's <c>ReLU(conv(x))</c> and <c>ReLU(conv(h) + x)</c>: no separate pass over the activations).
/// <para>Legend: N batch, Ci / Co channels, H W input, Ho Wo output (<see cref="Conv2dShape"/>), K = Ci·kh·kw, P = Ho·Wo.
/// x [N, Ci, H, W], w [Co, Ci, kh, kw], b [Co], R and y [N, Co, Ho, Wo].</para>
/// <para>Versions: reference <see cref="Conv2dReference.Forward"/> (direct loops, double); <see cref="Forward"/>: GEMMs through
/// <see cref="GemmCpu"/>, with w as panels packed once at load (<see cref="PackedWeight.ForConv"/>) or per call. The
/// im2col matrix is never formed: the GEMM's packing gathers it straight from the image into its panel buffer, a vector
/// copy per (k, run of one output row) (<see cref="Im2ColPanels"/>): at stride 1 from x, writing the zero border itself
/// per run (no padded copy of x); at stride ≥ 2 from a padded copy of x whose rows' columns are dealt into s phases
/// (<see cref="PhaseSplitImage"/>, made per call in the workspace), so a strided run is consecutive floats too; and at
/// stride 1 on rows under <see cref="PaddedCopyWidth"/> outputs from a padded copy (one phase), so short runs need no border
/// tests, or, on Vector512 where those rows divide 32 (8², 16² planes), from kx-shifted copies of x that the GEMM reads as
/// B in place (<see cref="ShiftedImage"/>).
/// Three arrangements, by shape:
/// <list type="bullet">
/// <item>per image: y[n] [Co, P] = w [Co, K] · im2col(x[n]) [K, P], bias per row, residual in the epilogue; a 1×1
/// stride-1 unpadded conv reads x[n] as B directly.</item>
/// <item>batched (planes under <see cref="BatchedPlaneLimit"/> pixels, batch > 1): one GEMM with N = batch·P columns into
/// a scratch [Co, batch·P] (R gathered into it first and added in the GEMM's epilogue), then scattered to y.</item>
/// <item>transposed (small planes where it wastes less of the register tile): Cᵀ [batch·P, Co] = im2col(x)ᵀ · wᵀ, pixels
/// as the MR side and channels as the NR side (a 2×2 plane fills 4 of 64 columns the other way round; chosen when it saves a
/// quarter of the padded work), into a scratch
/// (R gathered transposed into it first), then transposed into y.</item>
/// </list>
/// Convs with at most 4 output channels at stride 1 (conv_out) skip the GEMM: <see cref="Conv2dFewOutputs"/>; so do
/// stride-1 convs with at most 128 input channels on planes of rows ≥ 32 pixels on Vector512 (<see cref="Conv2dDirect"/>);
/// 3×3 stride-1 padding-1 convs with at least 64 inputs on planes of at least 32² go by Winograd's F(2×2, 3×3) on
/// Vector512 instead (<see cref="Conv2dWinograd"/>: 16 GEMMs of K = Ci, 2.25× fewer multiplies), before either.
/// Batch invariance: the arrangement changes with the batch, the value of an output does not. Every arrangement runs
/// the same micro-kernel FMA chain per output over the same K blocks and adds bias and R in the first block's
/// epilogue, so an image's bytes are the same alone or in any batch.</para>
/// </summary>
public static unsafe class Conv2dCpu
{
    /// <summary>Output planes below this many pixels are convolved for the whole batch in one GEMM (batched or
    /// transposed): one image's 2×2 or 4×4 plane would fill a fraction of a 64-column register tile and pay a GEMM call per image.</summary>
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
        // Transposed only when it saves a quarter of the padded work: for planes that leave most of an NR-wide tile empty
        // (a 4×4 plane alone: 16 of 64 columns), not for a few rows of MR padding (Co 128 on MR 6: 132 rows), where packing
        // im2colᵀ as A and deriving Wᵀ's panels cost more than they save (the emoji UNet's 4×4 planes at batch 16 went
        // transposed with the 6×64 tile and the batch-16 generation 10-15 % slower).
        if (transposed * 4 < standard * 3)
            return Arrangement.Transposed;
        return batched ? Arrangement.Batched : Arrangement.PerImage;
    }

    private static long RoundUp(long value, int multiple) => (value + multiple - 1) / multiple * multiple;

    /// <summary>Whether <see cref="Forward"/> runs this shape by Winograd's F(2×2, 3×3) on this path (<see cref="Conv2dWinograd"/>):
    /// its outputs then differ from the im2col GEMM's by a few ulp, as any two summation orders do.</summary>
    public static bool IsWinograd(Conv2dShape s, SimdPath path = SimdPath.Auto) => Conv2dWinograd.Applies(s, CpuSimd.Resolve(path));

    /// <summary>Floats of workspace <see cref="Forward"/> needs for this shape (on any path).</summary>
    public static long WorkspaceFloats(Conv2dShape s) => Math.Max(GemmFloats(s), Conv2dWinograd.WorkspaceFloats(s)) + SplitFloats(s);

    /// <summary>Output rows narrower than this (stride 1, padded) are packed from a padded copy of x, like a strided conv's:
    /// a 64-column panel of an 8-wide plane is 8 runs per k, and the border tests per run cost more than the copies (the
    /// emoji UNet's 3×3 convs at 8² spent 40 % of their time packing, perf record 2026-12-04). Wider rows read x itself: the
    /// copy would be a pass over the whole input (67 MB at the VAE's 512²) for runs that are mostly interior.</summary>
    public const int PaddedCopyWidth = 32;

    /// <summary>Whether im2col reads a <see cref="PhaseSplitImage"/> copy of x: every strided conv, and padded stride-1
    /// convs on rows under <see cref="PaddedCopyWidth"/> outputs (one phase: the padded image).</summary>
    private static bool ReadsSplitCopy(Conv2dShape s) => s.Stride >= 2 || (s.Padding > 0 && s.OutWidth < PaddedCopyWidth);

    /// <summary>Whether those convs read x's kx-shifted copies instead, so that the GEMM reads B in place
    /// (<see cref="ShiftedImage"/>: rows dividing 32 outputs, Vector512).</summary>
    private static bool ReadsShiftedCopy(Conv2dShape s, SimdPath path) =>
        path == SimdPath.Vector512 && ReadsSplitCopy(s) && ShiftedImage.Applies(s);

    /// <summary>The phase-split, padded or shifted copy of x, at the workspace's end (room for the larger on any path):
    /// one image at a time, or the whole batch for planes convolved in one GEMM (under <see cref="BatchedPlaneLimit"/>).</summary>
    private static long SplitFloats(Conv2dShape s) => !ReadsSplitCopy(s) ? 0
        : Math.Max(PhaseSplitImage.ImageFloats(s), ShiftedImage.Applies(s) ? ShiftedImage.ImageFloats(s) : 0)
          * (s.OutHeight * s.OutWidth >= BatchedPlaneLimit ? 1 : s.Batch);

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
    /// <param name="relu">y = max(conv + b + R, 0), applied as the GEMM stores its last K block</param>
    public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, ReadOnlySpan<float> residual,
        Span<float> y, Conv2dShape s, Span<float> workspace, SimdPath path = SimdPath.Auto, PackedWeight? packed = null, bool relu = false)
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
        bool winograd = Conv2dWinograd.Applies(s, path), direct = !winograd && Conv2dDirect.Applies(s, path);
        if (direct || winograd)
            packed ??= PackedWeight.ForConv(w, s.OutChannels, s.ReductionLength, path);     // reads the panels' layout
        fixed (float* px = x, pw = w, pb = bias, pr = residual, py = y, pws = workspace)
        {
            if (winograd)
            {
                Conv2dWinograd.Forward(px, packed!.Panels(mr).First, s.HasBias != 0 ? pb : null, residual.IsEmpty ? null : pr, py, s, relu, pws);
                return;
            }
            if (direct)
            {
                Conv2dDirect.Forward(px, packed!.Panels(mr).First, s.HasBias != 0 ? pb : null, residual.IsEmpty ? null : pr, py, s, relu);
                return;
            }
            if (Conv2dFewOutputs.Applies(s, path))
            {
                // Co ≤ 4 ≤ MR: the packed weight is one panel, (co, k) at k·MR + co.
                float* weights = packed is not null ? packed.Panels(mr).First : pw;
                Conv2dFewOutputs.Forward(px, weights, packed is not null ? 1 : s.ReductionLength, packed is not null ? mr : 1,
                    s.HasBias != 0 ? pb : null, residual.IsEmpty ? null : pr, py, s, relu, path);
                return;
            }
            long split = SplitFloats(s);
            var op = new Operands(px, pb, residual.IsEmpty ? null : pr, py, pws, (int)(workspace.Length - split),
                split == 0 ? null : pws + workspace.Length - split, s, path, relu);
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

    /// <summary>One call's pointers and shape; each arrangement is generic over where w's panels come from.</summary>
    private readonly struct Operands(float* x, float* bias, float* residual, float* y, float* workspace, int workspaceFloats, float* split,
        Conv2dShape s, SimdPath path, bool relu)
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
                var epilogue = new GemmEpilogue(bias, true, residual == null ? null : residual + n * OutImage, Plane, relu);
                if (Direct(s))
                    GemmCpu.Run(s.OutChannels, Plane, s.ReductionLength, weights, new StridedPanels(image, Plane, 1),
                        y + n * OutImage, Plane, epilogue, ws, path);
                else
                    GemmCpu.Run(s.OutChannels, Plane, s.ReductionLength, weights, Columns(image, 1, asB: true),
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
            GemmCpu.Run(s.OutChannels, columns, s.ReductionLength, weights, Columns(x, s.Batch, asB: true),
                scratch, columns, new GemmEpilogue(bias, true, residual == null ? null : scratch, columns, relu), ws, path);
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
            GemmCpu.Run(pixels, co, s.ReductionLength, Columns(x, s.Batch, asB: false), weightsT,
                scratch, co, new GemmEpilogue(bias, false, residual == null ? null : scratch, co, relu), ws, path);
            for (int n = 0; n < s.Batch; n++)
                for (int c = 0; c < co; c++)
                {
                    long o = n * OutImage + (long)c * Plane;
                    float* src = scratch + (long)n * Plane * co + c;
                    for (int p = 0; p < Plane; p++)
                        y[o + p] = src[(long)p * co];
                }
        }

        /// <summary>im2col of <paramref name="images"/> consecutive images from <paramref name="first"/>: read from x at
        /// stride 1 on wide rows, else from their phase-split, padded or shifted copy, made here. The shifted copies only
        /// where the GEMM reads them in place: as B over whole 64-column panels (else they would be packed like the
        /// padded copy, from kw times as much memory).</summary>
        private Im2ColPanels Columns(float* first, int images, bool asB)
        {
            if (split == null)
                return new Im2ColPanels(first, s, InImage);
            if (asB && (long)images * Plane % GemmCpu.Tile(path).Nr == 0 && ReadsShiftedCopy(s, path))
            {
                ShiftedImage.Make(first, InImage, images, s, split);
                return Im2ColPanels.Shifted(split, s);
            }
            PhaseSplitImage.Split(first, InImage, images, s, split);
            return Im2ColPanels.Split(split, s);
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
