using ILGPU;
using ILGPU.Runtime;

namespace Add.Kernels.Ilgpu;

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
/// Versions: <see cref="Conv2dReference.Forward"/> (direct loops, double accumulator); <see cref="Kernel{TTile}"/> (v1): the tiling of
/// <see cref="LinearDevice.Kernel{TTile}"/> with a gathering loader for B: each K-step decodes k → (ci, ky, kx) and
/// p → (n, oy, ox) per thread and reads x with a bounds check (the padding). One output per thread; 2·⌈K/T⌉ barriers.</para>
/// </summary>
public static class Conv2dDevice
{
    /// <summary>v1 kernel. Grid (⌈P/T⌉, ⌈Co/T⌉) groups of (T, T); thread (tx, ty) computes output channel co0 + ty at column p0 + tx.</summary>
    /// <param name="x">[N, Ci, H, W]</param>
    /// <param name="w">[Co, Ci, kh, kw]</param>
    /// <param name="bias">[Co], or empty without bias</param>
    /// <param name="y">[N, Co, Ho, Wo]</param>
    public static void Kernel<TTile>(ArrayView<float> x, ArrayView<float> w, ArrayView<float> bias, ArrayView<float> y, Conv2dShape s)
        where TTile : struct, IGemmTile
    {
        int size = default(TTile).Size;
        int stride = size + 1;
        var wTile = SharedMemory.Allocate<float>(default(TTile).Size * (default(TTile).Size + 1));  // [T, T+1]: [co, k]
        var xTile = SharedMemory.Allocate<float>(default(TTile).Size * (default(TTile).Size + 1));  // [T, T+1]: [k, p]
        int tx = Group.IdxX, ty = Group.IdxY;
        int co0 = Grid.IdxY * size, p0 = Grid.IdxX * size;
        int reduction = s.ReductionLength, columns = s.Columns;
        int outPlane = s.OutHeight * s.OutWidth, taps = s.KernelH * s.KernelW;

        // This thread's load column p0 + tx and output column are the same: decode it once.
        int p = p0 + tx;
        int n = p / outPlane, rest = p - n * outPlane;
        int oy = rest / s.OutWidth, ox = rest - oy * s.OutWidth;

        float sum = 0f;
        for (int k0 = 0; k0 < reduction; k0 += size)
        {
            int kw = k0 + tx;  // A: w[co0 + ty, k0 + tx], consecutive threads read consecutive weights
            wTile[ty * stride + tx] = co0 + ty < s.OutChannels && kw < reduction ? w[(long)(co0 + ty) * reduction + kw] : 0f;

            int kx0 = k0 + ty;  // B: x gathered at (k0 + ty, p0 + tx)
            float value = 0f;
            if (kx0 < reduction && p < columns)
            {
                int ci = kx0 / taps, tap = kx0 - ci * taps;
                int ky = tap / s.KernelW, kxx = tap - ky * s.KernelW;
                int iy = oy * s.Stride + ky - s.Padding, ix = ox * s.Stride + kxx - s.Padding;
                if (iy >= 0 && iy < s.Height && ix >= 0 && ix < s.Width)
                    value = x[(((long)n * s.InChannels + ci) * s.Height + iy) * s.Width + ix];
            }
            xTile[ty * stride + tx] = value;
            Group.Barrier();
            for (int c = 0; c < size; c++)
                sum += wTile[ty * stride + c] * xTile[c * stride + tx];
            Group.Barrier();
        }

        int co = co0 + ty;
        if (co < s.OutChannels && p < columns)
        {
            if (s.HasBias != 0)
                sum += bias[co];
            y[(((long)n * s.OutChannels + co) * s.OutHeight + oy) * s.OutWidth + ox] = sum;
        }
    }
}

/// <summary>Loads <see cref="Conv2dDevice.Kernel{TTile}"/> once for an accelerator and launches it on caller-owned views.</summary>
public sealed class Conv2dIlgpu<TTile> where TTile : struct, IGemmTile
{
    private readonly Accelerator _accelerator;
    private readonly Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, Conv2dShape> _kernel;

    public Conv2dIlgpu(Accelerator accelerator)
    {
        int size = default(TTile).Size;
        if (size * size > accelerator.MaxNumThreadsPerGroup)
            throw new ArgumentException($"tile {size}x{size} exceeds the accelerator's group limit {accelerator.MaxNumThreadsPerGroup}");
        _accelerator = accelerator;
        _kernel = accelerator.LoadKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, Conv2dShape>(Conv2dDevice.Kernel<TTile>);
    }

    /// <summary>Enqueues y = conv2d(x, w) (+ b).</summary>
    /// <param name="x">[N, Ci, H, W]</param>
    /// <param name="w">[Co, Ci, kh, kw]</param>
    /// <param name="bias">[Co], or <see cref="ArrayView{T}.Empty"/> for none</param>
    /// <param name="y">[N, Co, Ho, Wo]; may not alias x</param>
    public void Launch(ArrayView<float> x, ArrayView<float> w, ArrayView<float> bias, ArrayView<float> y, Conv2dShape shape, AcceleratorStream? stream = null)
    {
        if (shape.Stride < 1 || shape.Padding < 0 || shape.OutHeight < 1 || shape.OutWidth < 1)
            throw new ArgumentException($"conv {shape.KernelH}x{shape.KernelW} stride {shape.Stride} pad {shape.Padding} on {shape.Height}x{shape.Width} gives no output");
        KernelArgs.Length(nameof(x), x.Length, (long)shape.Batch * shape.InChannels * shape.Height * shape.Width);
        KernelArgs.Length(nameof(w), w.Length, (long)shape.OutChannels * shape.ReductionLength);
        KernelArgs.Length(nameof(y), y.Length, (long)shape.Batch * shape.OutChannels * shape.OutHeight * shape.OutWidth);
        if ((bias.Length != 0) != (shape.HasBias != 0) || (bias.Length != 0 && bias.Length != shape.OutChannels))
            throw new ArgumentException($"bias has {bias.Length} elements, expected {(shape.HasBias != 0 ? shape.OutChannels : 0)}");
        if (shape.Columns == 0 || shape.OutChannels == 0)
            return;
        int size = default(TTile).Size;
        var config = new KernelConfig(new Index2D((shape.Columns + size - 1) / size, (shape.OutChannels + size - 1) / size), new Index2D(size, size));
        _kernel(stream ?? _accelerator.DefaultStream, config, x, w, bias, y, shape);
    }
}
