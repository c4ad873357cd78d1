namespace Add.Kernels;

/// <summary>
/// Layout kernels the model needs between its GEMM-shaped and image-shaped parts:
/// <list type="bullet">
/// <item><b>Transpose</b>: y [B, C, R] = x [B, R, C]ᵀ per batch item (NCHW ↔ tokens [N, HW, C] around the transformer
/// and the VAE's attention: diffusers' <c>view(n, c, h·w).transpose(1, 2)</c>), with an optional residual added on the
/// way out (<c>proj_out(...).transpose(1, 2) + x</c> in one pass).</item>
/// <item><b>Channel bias</b>: y [N, C, S] = x + b[n, c] broadcast over S: the ResnetBlock's per-sample time embedding
/// (<c>h + time_emb_proj(silu(temb))[:, :, None, None]</c>).</item>
/// <item><b>Zero pad</b>: y [N, C, H+pb, W+pr] = x padded with zeros at the bottom and right: the VAE encoder's
/// asymmetric downsample pad <c>F.pad(x, (0, 1, 0, 1))</c> before its stride-2, pad-0 convolution.</item>
/// </list>
/// Versions: the plain loops here, the slow clear ones. Beside them <see cref="Cpu.LayoutCpu"/> and
/// <see cref="Ilgpu.LayoutDevice"/> (v1: one thread per output element), each documenting what it changes.
/// </summary>
public static class LayoutReference
{
    /// <summary>y[b, c, r] = x[b, r, c] (+ residual[b, c, r]).</summary>
    public static void Transpose(ReadOnlySpan<float> x, ReadOnlySpan<float> residual, Span<float> y, int batch, int rows, int cols)
    {
        for (int b = 0; b < batch; b++)
            for (int r = 0; r < rows; r++)
                for (int c = 0; c < cols; c++)
                {
                    long o = ((long)b * cols + c) * rows + r;
                    y[(int)o] = x[(int)(((long)b * rows + r) * cols + c)] + (residual.IsEmpty ? 0f : residual[(int)o]);
                }
    }

    /// <summary>y[n, c, s] = x[n, c, s] + bias[n, c].</summary>
    public static void ChannelBias(ReadOnlySpan<float> x, ReadOnlySpan<float> bias, Span<float> y, int n, int c, int spatial)
    {
        for (int i = 0; i < n * c; i++)
            for (int s = 0; s < spatial; s++)
                y[i * spatial + s] = x[i * spatial + s] + bias[i];
    }

    /// <summary>y [N, C, H+pb, W+pr]: x at the top left, zeros elsewhere.</summary>
    public static void ZeroPad(ReadOnlySpan<float> x, Span<float> y, int planes, int h, int w, int padBottom, int padRight)
    {
        int ho = h + padBottom, wo = w + padRight;
        for (int p = 0; p < planes; p++)
            for (int i = 0; i < ho; i++)
                for (int j = 0; j < wo; j++)
                    y[(p * ho + i) * wo + j] = i < h && j < w ? x[(p * h + i) * w + j] : 0f;
    }
}
