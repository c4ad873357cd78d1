using Add.Kernels.Ilgpu;

namespace Add.Kernels.Cpu;

/// <summary>
/// 2-D convolution on the CPU: <c>y[n, co, oy, ox] = b[co] + Σ_{ci, ky, kx} w[co, ci, ky, kx]·x[n, ci, oy·s + ky − p, ox·s + kx − p]
/// (+ R[n, co, oy, ox])</c>, zero outside the image (torch.nn.functional.conv2d, dilation 1, groups 1), then an optional
/// residual add fused into the store (the resnets' <c>input + conv2(h)</c>).
/// <para>Legend: N batch, Ci / Co channels, H W input, Ho Wo output (<see cref="Conv2d.Shape"/>), K = Ci·kh·kw, P = Ho·Wo.
/// x [N, Ci, H, W], w [Co, Ci, kh, kw], b [Co], R and y [N, Co, Ho, Wo].</para>
/// <para>Versions: reference <see cref="Conv2d.Reference"/> (direct loops, double); <see cref="Forward"/>: per image one
/// <see cref="GemmCpu"/> GEMM y[n] [Co, P] = w [Co, K] · im2col(x[n]) [K, P] with a per-row bias. The im2col matrix is
/// never formed: the GEMM's B packing gathers it straight from the image into its panel buffer (for stride 1 a clipped
/// row copy per (k, output row); stride 2 a strided gather), and a 1×1 stride-1 unpadded conv reads x[n] as B directly.
/// The workspace is only the GEMM's packing buffers.</para>
/// </summary>
public static unsafe class Conv2dCpu
{
    /// <summary>Floats of workspace <see cref="Forward"/> needs for this shape.</summary>
    public static long WorkspaceFloats(Conv2d.Shape s) => Batched(s)
        ? GemmCpu.WorkspaceFloats(s.OutChannels, s.Batch * s.OutHeight * s.OutWidth, s.ReductionLength) + (long)s.OutChannels * s.Batch * s.OutHeight * s.OutWidth
        : GemmCpu.WorkspaceFloats(s.OutChannels, s.OutHeight * s.OutWidth, s.ReductionLength);

    /// <summary>Output planes below this many pixels are convolved for the whole batch in one GEMM (N = batch·Ho·Wo):
    /// one image's 2×2 or 4×4 plane would fill a fraction of a 32-column register tile and pay a GEMM call per image.</summary>
    public const int BatchedPlaneLimit = 256;

    private static bool Batched(Conv2d.Shape s) =>
        s.Batch > 1 && s.OutHeight * s.OutWidth < BatchedPlaneLimit && !(s.KernelH == 1 && s.KernelW == 1 && s.Stride == 1 && s.Padding == 0);

    /// <summary>y = conv2d(x, w) (+ b) (+ R).</summary>
    /// <param name="x">[N, Ci, H, W]</param>
    /// <param name="w">[Co, Ci, kh, kw]</param>
    /// <param name="bias">[Co], or empty (must match <see cref="Conv2d.Shape.HasBias"/>)</param>
    /// <param name="residual">[N, Co, Ho, Wo], or empty; may be <paramref name="y"/> itself</param>
    /// <param name="y">[N, Co, Ho, Wo]; may not overlap x</param>
    /// <param name="workspace">at least <see cref="WorkspaceFloats"/> floats</param>
    public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, ReadOnlySpan<float> residual,
        Span<float> y, Conv2d.Shape s, Span<float> workspace, SimdPath path = SimdPath.Auto)
    {
        if (s.Stride < 1 || s.Padding < 0 || s.OutHeight < 1 || s.OutWidth < 1)
            throw new ArgumentException($"conv {s.KernelH}x{s.KernelW} stride {s.Stride} pad {s.Padding} on {s.Height}x{s.Width} gives no output");
        long inImage = (long)s.InChannels * s.Height * s.Width;
        int plane = s.OutHeight * s.OutWidth;
        long outImage = (long)s.OutChannels * plane;
        LinearCpu.Check(nameof(x), x.Length, s.Batch * inImage);
        LinearCpu.Check(nameof(w), w.Length, (long)s.OutChannels * s.ReductionLength);
        LinearCpu.Check(nameof(y), y.Length, s.Batch * outImage);
        LinearCpu.Check(nameof(bias), bias.Length, s.HasBias != 0 ? s.OutChannels : 0);
        if (!residual.IsEmpty)
            LinearCpu.Check(nameof(residual), residual.Length, s.Batch * outImage);
        bool direct = s.KernelH == 1 && s.KernelW == 1 && s.Stride == 1 && s.Padding == 0;
        fixed (float* px = x, pw = w, pb = bias, pr = residual, py = y)
        {
            if (Batched(s))
            {
                if (workspace.Length < WorkspaceFloats(s))
                    throw new ArgumentException($"workspace has {workspace.Length} floats, the batched conv needs {WorkspaceFloats(s)} (Conv2dCpu.WorkspaceFloats)");
                // C [Co, N·P] for all images at once (bias in the epilogue), then scattered to [N, Co, P] (+ residual).
                int columns = s.Batch * plane;
                long gemmFloats = GemmCpu.WorkspaceFloats(s.OutChannels, columns, s.ReductionLength);
                var scratch = workspace.Slice((int)gemmFloats, s.OutChannels * columns);
                fixed (float* pc = scratch)
                {
                    GemmCpu.Run(s.OutChannels, columns, s.ReductionLength, pw, s.ReductionLength, 1, new Im2ColB(px, s, inImage),
                        pc, columns, new GemmEpilogue(bias.IsEmpty ? null : pb, true, null, 0), workspace[..(int)gemmFloats], path);
                }
                for (int n = 0; n < s.Batch; n++)
                    for (int co = 0; co < s.OutChannels; co++)
                    {
                        var c = scratch.Slice(co * columns + n * plane, plane);
                        var target = y.Slice((int)(n * outImage + (long)co * plane), plane);
                        if (residual.IsEmpty) c.CopyTo(target);
                        else System.Numerics.Tensors.TensorPrimitives.Add(c, residual.Slice((int)(n * outImage + (long)co * plane), plane), target);
                    }
                return;
            }
            for (int n = 0; n < s.Batch; n++)
            {
                float* image = px + n * inImage;
                var epilogue = new GemmEpilogue(bias.IsEmpty ? null : pb, true, residual.IsEmpty ? null : pr + n * outImage, plane);
                if (direct)
                    GemmCpu.Run(s.OutChannels, plane, s.ReductionLength, pw, s.ReductionLength, 1, new StridedB(image, plane, 1),
                        py + n * outImage, plane, epilogue, workspace, path);
                else
                    GemmCpu.Run(s.OutChannels, plane, s.ReductionLength, pw, s.ReductionLength, 1, new Im2ColB(image, s),
                        py + n * outImage, plane, epilogue, workspace, path);
            }
        }
    }
}
