using ILGPU;
using ILGPU.Runtime;

namespace Add.Kernels.Ilgpu;

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
/// Versions: <see cref="LayoutReference"/> (plain loops) and v1 kernels here, one thread per output element.
/// </summary>
public static class LayoutDevice
{
    /// <summary>v1: one thread per output element o = (b, c, r) of y [B, C, R]. <paramref name="residual"/> is read when hasResidual is 1.</summary>
    public static void TransposeKernel(Index1D o, ArrayView<float> x, ArrayView<float> residual, ArrayView<float> y, int rows, int cols, int hasResidual)
    {
        int r = o % rows;
        int bc = o / rows;
        int c = bc % cols, b = bc / cols;
        float v = x[((long)b * rows + r) * cols + c];
        if (hasResidual != 0) v += residual[o];
        y[o] = v;
    }

    /// <summary>v1: one thread per element of y [N, C, S].</summary>
    public static void ChannelBiasKernel(Index1D i, ArrayView<float> x, ArrayView<float> bias, ArrayView<float> y, int spatial) =>
        y[i] = x[i] + bias[i / spatial];

    /// <summary>v1: one thread per element of y [planes, H+pb, W+pr].</summary>
    public static void ZeroPadKernel(Index1D o, ArrayView<float> x, ArrayView<float> y, int h, int w, int ho, int wo)
    {
        int j = o % wo, rest = o / wo;
        int i = rest % ho, p = rest / ho;
        y[o] = i < h && j < w ? x[((long)p * h + i) * w + j] : 0f;
    }
}

/// <summary>Loads the <see cref="LayoutDevice"/> kernels once for an accelerator and launches them on caller-owned views.</summary>
public sealed class LayoutIlgpu
{
    private readonly Accelerator _accelerator;
    private readonly Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int> _transpose;
    private readonly Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int> _channelBias;
    private readonly Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, int, int, int, int> _pad;

    public LayoutIlgpu(Accelerator accelerator)
    {
        _accelerator = accelerator;
        _transpose = accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int>(LayoutDevice.TransposeKernel);
        _channelBias = accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(LayoutDevice.ChannelBiasKernel);
        _pad = accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int, int, int>(LayoutDevice.ZeroPadKernel);
    }

    /// <summary>y [B, C, R] = x [B, R, C]ᵀ (+ residual [B, C, R], or Empty). y may not alias x; it may alias residual.</summary>
    public void Transpose(ArrayView<float> x, ArrayView<float> residual, ArrayView<float> y, int batch, int rows, int cols, AcceleratorStream? stream = null)
    {
        long count = (long)batch * rows * cols;
        KernelArgs.Length(nameof(x), x.Length, count);
        KernelArgs.Length(nameof(y), y.Length, count);
        if (residual.Length != 0) KernelArgs.Length(nameof(residual), residual.Length, count);
        if (count > 0)
            _transpose(stream ?? _accelerator.DefaultStream, KernelArgs.Index(count), x, residual, y, rows, cols, residual.Length != 0 ? 1 : 0);
    }

    /// <summary>y [N, C, S] = x + bias [N, C] broadcast over S; y may alias x.</summary>
    public void ChannelBias(ArrayView<float> x, ArrayView<float> bias, ArrayView<float> y, int n, int c, int spatial, AcceleratorStream? stream = null)
    {
        long count = (long)n * c * spatial;
        KernelArgs.Length(nameof(x), x.Length, count);
        KernelArgs.Length(nameof(y), y.Length, count);
        KernelArgs.Length(nameof(bias), bias.Length, (long)n * c);
        if (count > 0)
            _channelBias(stream ?? _accelerator.DefaultStream, KernelArgs.Index(count), x, bias, y, spatial);
    }

    /// <summary>y [planes, H+pb, W+pr] = x [planes, H, W] zero-padded at the bottom and right.</summary>
    public void ZeroPad(ArrayView<float> x, ArrayView<float> y, int planes, int h, int w, int padBottom, int padRight, AcceleratorStream? stream = null)
    {
        if (padBottom < 0 || padRight < 0) throw new ArgumentException($"padding ({padBottom}, {padRight}) must not be negative");
        int ho = h + padBottom, wo = w + padRight;
        KernelArgs.Length(nameof(x), x.Length, (long)planes * h * w);
        KernelArgs.Length(nameof(y), y.Length, (long)planes * ho * wo);
        if (y.Length > 0)
            _pad(stream ?? _accelerator.DefaultStream, KernelArgs.Index(y.Length), x, y, h, w, ho, wo);
    }
}
