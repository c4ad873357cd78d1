namespace Add.Kernels;

/// <summary>Sizes of one conv2d launch (passed by value to the ILGPU kernel). Ho = ⌊(H + 2p − kh)/s⌋ + 1, Wo likewise.</summary>
public readonly struct Conv2dShape
{
    public readonly int Batch, InChannels, Height, Width;     // N, Ci, H, W
    public readonly int OutChannels, KernelH, KernelW;        // Co, kh, kw
    public readonly int Stride, Padding;                      // s, p
    public readonly int OutHeight, OutWidth;                  // Ho, Wo
    public readonly int HasBias;

    public Conv2dShape(int batch, int inChannels, int height, int width, int outChannels, int kernelH, int kernelW, int stride, int padding, bool hasBias)
    {
        Batch = batch;
        InChannels = inChannels;
        Height = height;
        Width = width;
        OutChannels = outChannels;
        KernelH = kernelH;
        KernelW = kernelW;
        Stride = stride;
        Padding = padding;
        OutHeight = (height + 2 * padding - kernelH) / stride + 1;
        OutWidth = (width + 2 * padding - kernelW) / stride + 1;
        HasBias = hasBias ? 1 : 0;
    }

    public int ReductionLength => InChannels * KernelH * KernelW;           // K
    public int Columns => Batch * OutHeight * OutWidth;                     // P
}

/// <summary>
/// 2-D convolution as an implicit GEMM (Chetlur et al. 2014, "cuDNN", Sec. 3: the im2col matrix is never formed):
/// <c>y[n, co, oy, ox] = b[co] + Σ_{ci, ky, kx} w[co, ci, ky, kx] · x[n, ci, oy·s + ky − p, ox·s + kx − p]</c>, zero outside
/// the image (torch.nn.functional.conv2d with dilation 1, groups 1). Covers the UNet/VAE's 3×3 pad 1, 1×1 pad 0 and
/// 3×3 stride 2 pad 1 (downsample).
/// <para>
/// Legend: N batch, Ci / Co in / out channels, H W input size, Ho = ⌊(H + 2p − kh)/s⌋ + 1, Wo likewise.
/// x [N, Ci, H, W], w [Co, Ci, kh, kw], b [Co], y [N, Co, Ho, Wo].
/// As a GEMM: rows Co, columns P = N·Ho·Wo, reduction K = Ci·kh·kw; A = w viewed as [Co, K], B[k, p] gathered from x.
/// </para>
/// <para>
/// Versions: <see cref="Forward"/> here (direct loops, double accumulator), the slow clear one. Beside it
/// <see cref="Cpu.Conv2dCpu"/> (SIMD) and <see cref="Ilgpu.Conv2dDevice"/> (ILGPU), each documenting what it changes.</para>
/// </summary>
public static class Conv2dReference
{
    /// <summary>The slow clear version: the convolution sum as written.</summary>
    /// <param name="x">[N, Ci, H, W]</param>
    /// <param name="w">[Co, Ci, kh, kw]</param>
    /// <param name="bias">[Co] or empty</param>
    /// <param name="y">[N, Co, Ho, Wo]</param>
    public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y, Conv2dShape s)
    {
        for (int n = 0; n < s.Batch; n++)
        for (int co = 0; co < s.OutChannels; co++)
        for (int oy = 0; oy < s.OutHeight; oy++)
        for (int ox = 0; ox < s.OutWidth; ox++)
        {
            double sum = bias.IsEmpty ? 0 : bias[co];
            for (int ci = 0; ci < s.InChannels; ci++)
            for (int ky = 0; ky < s.KernelH; ky++)
            for (int kx = 0; kx < s.KernelW; kx++)
            {
                int iy = oy * s.Stride + ky - s.Padding, ix = ox * s.Stride + kx - s.Padding;
                if (iy < 0 || iy >= s.Height || ix < 0 || ix >= s.Width)
                    continue;
                sum += (double)w[((co * s.InChannels + ci) * s.KernelH + ky) * s.KernelW + kx] * x[((n * s.InChannels + ci) * s.Height + iy) * s.Width + ix];
            }
            y[((n * s.OutChannels + co) * s.OutHeight + oy) * s.OutWidth + ox] = (float)sum;
        }
    }
}
