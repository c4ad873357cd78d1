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
/// Versions: <c>...Reference</c> (plain loops) and v1 kernels, one thread per output element.
/// </summary>
public static class Layout
{
    /// <summary>y[b, c, r] = x[b, r, c] (+ residual[b, c, r]).</summary>
    public static void TransposeReference(ReadOnlySpan<float> x, ReadOnlySpan<float> residual, Span<float> y, int batch, int rows, int cols)
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
    public static void ChannelBiasReference(ReadOnlySpan<float> x, ReadOnlySpan<float> bias, Span<float> y, int n, int c, int spatial)
    {
        for (int i = 0; i < n * c; i++)
            for (int s = 0; s < spatial; s++)
                y[i * spatial + s] = x[i * spatial + s] + bias[i];
    }

    /// <summary>y [N, C, H+pb, W+pr]: x at the top left, zeros elsewhere.</summary>
    public static void ZeroPadReference(ReadOnlySpan<float> x, Span<float> y, int planes, int h, int w, int padBottom, int padRight)
    {
        int ho = h + padBottom, wo = w + padRight;
        for (int p = 0; p < planes; p++)
            for (int i = 0; i < ho; i++)
                for (int j = 0; j < wo; j++)
                    y[(p * ho + i) * wo + j] = i < h && j < w ? x[(p * h + i) * w + j] : 0f;
    }

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

/// <summary>Loads the <see cref="Layout"/> kernels once for an accelerator and launches them on caller-owned views.</summary>
public sealed class LayoutIlgpu
{
    private readonly Accelerator _accelerator;
    private readonly Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int> _transpose;
    private readonly Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int> _channelBias;
    private readonly Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, int, int, int, int> _pad;

    public LayoutIlgpu(Accelerator accelerator)
    {
        _accelerator = accelerator;
        _transpose = accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int>(Layout.TransposeKernel);
        _channelBias = accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(Layout.ChannelBiasKernel);
        _pad = accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int, int, int>(Layout.ZeroPadKernel);
    }

    /// <summary>y [B, C, R] = x [B, R, C]ᵀ (+ residual [B, C, R], or Empty). y may not alias x; it may alias residual.</summary>
    public void Transpose(ArrayView<float> x, ArrayView<float> residual, ArrayView<float> y, int batch, int rows, int cols, AcceleratorStream? stream = null)
    {
        long count = (long)batch * rows * cols;
        Check(nameof(x), x.Length, count);
        Check(nameof(y), y.Length, count);
        if (residual.Length != 0) Check(nameof(residual), residual.Length, count);
        if (count > 0)
            _transpose(stream ?? _accelerator.DefaultStream, Length(count), x, residual, y, rows, cols, residual.Length != 0 ? 1 : 0);
    }

    /// <summary>y [N, C, S] = x + bias [N, C] broadcast over S; y may alias x.</summary>
    public void ChannelBias(ArrayView<float> x, ArrayView<float> bias, ArrayView<float> y, int n, int c, int spatial, AcceleratorStream? stream = null)
    {
        long count = (long)n * c * spatial;
        Check(nameof(x), x.Length, count);
        Check(nameof(y), y.Length, count);
        Check(nameof(bias), bias.Length, (long)n * c);
        if (count > 0)
            _channelBias(stream ?? _accelerator.DefaultStream, Length(count), x, bias, y, spatial);
    }

    /// <summary>y [planes, H+pb, W+pr] = x [planes, H, W] zero-padded at the bottom and right.</summary>
    public void ZeroPad(ArrayView<float> x, ArrayView<float> y, int planes, int h, int w, int padBottom, int padRight, AcceleratorStream? stream = null)
    {
        if (padBottom < 0 || padRight < 0) throw new ArgumentException($"padding ({padBottom}, {padRight}) must not be negative");
        int ho = h + padBottom, wo = w + padRight;
        Check(nameof(x), x.Length, (long)planes * h * w);
        Check(nameof(y), y.Length, (long)planes * ho * wo);
        if (y.Length > 0)
            _pad(stream ?? _accelerator.DefaultStream, Length(y.Length), x, y, h, w, ho, wo);
    }

    private static Index1D Length(long length) =>
        length <= int.MaxValue ? (int)length : throw new ArgumentException($"{length} elements exceed the kernels' int index");

    private static void Check(string name, long actual, long expected)
    {
        if (actual != expected)
            throw new ArgumentException($"{name} has {actual} elements, expected {expected}");
    }
}
