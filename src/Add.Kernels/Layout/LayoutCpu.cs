using System.Runtime.CompilerServices;
using System.Numerics.Tensors;

namespace Add.Kernels.Cpu;

/// <summary>
/// CPU versions of the <see cref="LayoutReference"/> kernels (transpose with residual, per-sample channel bias, zero pad).
/// Transpose goes in 8×8 blocks so both the reads and the writes stay within a few cache lines; the bias and the pad
/// are row copies and <see cref="TensorPrimitives"/> adds.
/// </summary>
public static class LayoutCpu
{
    private const int Block = 8;

    /// <summary>y [B, C, R] = x [B, R, C]ᵀ (+ residual [B, C, R], or empty). y may not alias x; it may be residual.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Transpose(ReadOnlySpan<float> x, ReadOnlySpan<float> residual, Span<float> y, int batch, int rows, int cols)
    {
        long count = (long)batch * rows * cols;
        KernelArgs.Length(nameof(x), x.Length, count);
        KernelArgs.Length(nameof(y), y.Length, count);
        bool add = !residual.IsEmpty;
        if (add) KernelArgs.Length(nameof(residual), residual.Length, count);
        int plane = rows * cols;
        for (int b = 0; b < batch; b++)
        {
            var xs = x.Slice(b * plane, plane);
            var ys = y.Slice(b * plane, plane);
            var rs = add ? residual.Slice(b * plane, plane) : default;
            for (int r0 = 0; r0 < rows; r0 += Block)
                for (int c0 = 0; c0 < cols; c0 += Block)
                {
                    int r1 = Math.Min(rows, r0 + Block), c1 = Math.Min(cols, c0 + Block);
                    for (int c = c0; c < c1; c++)
                        for (int r = r0; r < r1; r++)
                        {
                            int o = c * rows + r;
                            ys[o] = xs[r * cols + c] + (add ? rs[o] : 0f);
                        }
                }
        }
    }

    /// <summary>y [N, C, S] = x + bias [N, C] broadcast over S; y may be x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ChannelBias(ReadOnlySpan<float> x, ReadOnlySpan<float> bias, Span<float> y, int n, int c, int spatial)
    {
        long count = (long)n * c * spatial;
        KernelArgs.Length(nameof(x), x.Length, count);
        KernelArgs.Length(nameof(y), y.Length, count);
        KernelArgs.Length(nameof(bias), bias.Length, (long)n * c);
        for (int i = 0; i < n * c; i++)
            TensorPrimitives.Add(x.Slice(i * spatial, spatial), bias[i], y.Slice(i * spatial, spatial));
    }

    /// <summary>y [planes, H+pb, W+pr] = x [planes, H, W] zero-padded at the bottom and right.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ZeroPad(ReadOnlySpan<float> x, Span<float> y, int planes, int h, int w, int padBottom, int padRight)
    {
        if (padBottom < 0 || padRight < 0) throw new ArgumentException($"padding ({padBottom}, {padRight}) must not be negative");
        int ho = h + padBottom, wo = w + padRight;
        KernelArgs.Length(nameof(x), x.Length, (long)planes * h * w);
        KernelArgs.Length(nameof(y), y.Length, (long)planes * ho * wo);
        y.Clear();
        for (int p = 0; p < planes; p++)
            for (int i = 0; i < h; i++)
                x.Slice((p * h + i) * w, w).CopyTo(y.Slice((p * ho + i) * wo, w));
    }
}
