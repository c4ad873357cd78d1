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
/// Versions: <see cref="Conv2dReference.Forward"/> (direct loops, double accumulator); <see cref="Kernel{TTile}"/> (v1): the
/// tiling of the linear's v1, one output per thread (3.6 TFLOP/s for a 64→64 3×3 at 64² on an H200, 53 % of a 512² SD-Turbo
/// step there: perf/logs/gpu-sd-turbo-2026-12-04/engine.log); <see cref="KernelBlocked{TTile}"/> (v2): the register blocking of
/// <see cref="LinearDevice.KernelBlocked{TTile}"/> (R×R outputs per thread, rows co0 + ty + T·i, columns p0 + tx + T·j) with a
/// gathering loader for B: each thread loads the same column p0 + (its index mod R·T) at every K-step, so it decodes
/// p → (n, oy, ox) once, and per K-step decodes k → (ci, ky, kx) for its R rows of B and reads x with a bounds check (the
/// padding). Each output sums its K products in order, one FMA chain, as v1 does. 2·⌈K/T⌉ barriers. As for the linear,
/// <see cref="Conv2dIlgpu{TTile}"/> launches v2 only when its blocks are at least the multiprocessors (H200, 64 → 64 3×3
/// at 64²: 64 blocks, v2 0.115 ms against v1's 0.083; SD-Turbo's 3×3 convs at 512²: 752 ms a step with v1, 349 with v2 everywhere, 305 with this choice).</para>
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

    /// <summary>v2 kernel. Grid (⌈P/(R·T)⌉, ⌈Co/(R·T)⌉) groups of (T, T); thread (tx, ty) computes output channels
    /// co0 + ty + T·i at columns p0 + tx + T·j, i, j &lt; R.</summary>
    /// <param name="x">[N, Ci, H, W]</param>
    /// <param name="w">[Co, Ci, kh, kw]</param>
    /// <param name="bias">[Co], or empty without bias</param>
    /// <param name="y">[N, Co, Ho, Wo]</param>
    public static void KernelBlocked<TTile>(ArrayView<float> x, ArrayView<float> w, ArrayView<float> bias, ArrayView<float> y, Conv2dShape s)
        where TTile : struct, IGemmTile
    {
        int t = default(TTile).Size;
        int block = GemmRegisters.R * t, stride = block + 1;
        var wTile = SharedMemory.Allocate<float>(default(TTile).Size * (GemmRegisters.R * default(TTile).Size + 1));   // [T][R·T+1]: [k, co]
        var xTile = SharedMemory.Allocate<float>(default(TTile).Size * (GemmRegisters.R * default(TTile).Size + 1));   // [T][R·T+1]: [k, p]
        int tx = Group.IdxX, ty = Group.IdxY;
        int co0 = Grid.IdxY * block, p0 = Grid.IdxX * block;
        int reduction = s.ReductionLength, columns = s.Columns;
        int outPlane = s.OutHeight * s.OutWidth, taps = s.KernelH * s.KernelW;

        // B's loader: thread index tid = ty·T + tx loads column pp = tid mod R·T at rows kb + (T/R)·q of each K-step.
        int tid = ty * t + tx;
        int pp = tid % block, kb = tid / block, kStep = t / GemmRegisters.R;
        int p = p0 + pp;
        int n = p / outPlane, rest = p - n * outPlane;
        int oy = rest / s.OutWidth, ox = rest - oy * s.OutWidth;
        int iy0 = oy * s.Stride - s.Padding, ix0 = ox * s.Stride - s.Padding;
        long image = (long)n * s.InChannels * s.Height * s.Width;

        var acc = new GemmAccumulators();
        for (int k0 = 0; k0 < reduction; k0 += t)
        {
            int ka = k0 + tx;   // A: w[co0 + ty + T·q, k0 + tx], consecutive threads read consecutive weights
            for (int q = 0; q < GemmRegisters.R; q++)
            {
                int r = ty + t * q;
                wTile[tx * stride + r] = co0 + r < s.OutChannels && ka < reduction ? w[(long)(co0 + r) * reduction + ka] : 0f;
                int kr = kb + kStep * q, k = k0 + kr;   // B: x gathered at (k, p)
                float value = 0f;
                if (k < reduction && p < columns)
                {
                    int ci = k / taps, tap = k - ci * taps;
                    int ky = tap / s.KernelW, kx = tap - ky * s.KernelW;
                    int iy = iy0 + ky, ix = ix0 + kx;
                    if (iy >= 0 && iy < s.Height && ix >= 0 && ix < s.Width)
                        value = x[image + ((long)ci * s.Height + iy) * s.Width + ix];
                }
                xTile[kr * stride + pp] = value;
            }
            Group.Barrier();
            acc.Accumulate(wTile, xTile, ty, tx, t, stride);
            Group.Barrier();
        }
        int col = p0 + tx;
        Store(y, bias, s, co0 + ty, col, t, acc.C00, acc.C01, acc.C02, acc.C03);
        Store(y, bias, s, co0 + ty + t, col, t, acc.C10, acc.C11, acc.C12, acc.C13);
        Store(y, bias, s, co0 + ty + 2 * t, col, t, acc.C20, acc.C21, acc.C22, acc.C23);
        Store(y, bias, s, co0 + ty + 3 * t, col, t, acc.C30, acc.C31, acc.C32, acc.C33);
    }

    /// <summary>y at output channel co, columns col + T·j (j &lt; R) inside P: v_j (+ b[co]).</summary>
    private static void Store(ArrayView<float> y, ArrayView<float> bias, Conv2dShape s, int co, int col, int t, float v0, float v1, float v2, float v3)
    {
        if (co >= s.OutChannels)
            return;
        float b = s.HasBias != 0 ? bias[co] : 0f;
        StoreOne(y, s, co, col, v0, b);
        StoreOne(y, s, co, col + t, v1, b);
        StoreOne(y, s, co, col + 2 * t, v2, b);
        StoreOne(y, s, co, col + 3 * t, v3, b);
    }

    private static void StoreOne(ArrayView<float> y, Conv2dShape s, int co, int p, float v, float b)
    {
        if (p >= s.Columns)
            return;
        int outPlane = s.OutHeight * s.OutWidth;
        int n = p / outPlane, rest = p - n * outPlane;
        y[((long)n * s.OutChannels + co) * outPlane + rest] = s.HasBias != 0 ? v + b : v;
    }
}

/// <summary>Loads <see cref="Conv2dDevice.Kernel{TTile}"/> and <see cref="Conv2dDevice.KernelBlocked{TTile}"/> once for an
/// accelerator and launches one of them on caller-owned views (the blocked one when its blocks are at least the
/// accelerator's multiprocessors).</summary>
public sealed class Conv2dIlgpu<TTile> where TTile : struct, IGemmTile
{
    private readonly Accelerator _accelerator;
    private readonly Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, Conv2dShape> _kernel, _blocked;

    public Conv2dIlgpu(Accelerator accelerator)
    {
        int size = default(TTile).Size;
        if (size * size > accelerator.MaxNumThreadsPerGroup)
            throw new ArgumentException($"tile {size}x{size} exceeds the accelerator's group limit {accelerator.MaxNumThreadsPerGroup}");
        _accelerator = accelerator;
        _kernel = accelerator.LoadKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, Conv2dShape>(Conv2dDevice.Kernel<TTile>);
        _blocked = accelerator.LoadKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, Conv2dShape>(Conv2dDevice.KernelBlocked<TTile>);
    }

    /// <summary>Enqueues y = conv2d(x, w) (+ b).</summary>
    /// <param name="x">[N, Ci, H, W]</param>
    /// <param name="w">[Co, Ci, kh, kw]</param>
    /// <param name="bias">[Co], or <see cref="ArrayView{T}.Empty"/> for none</param>
    /// <param name="y">[N, Co, Ho, Wo]; may not alias x</param>
    /// <param name="blocked">v2 (true) or v1 (false); null: v2 when its blocks are at least the multiprocessors</param>
    public void Launch(ArrayView<float> x, ArrayView<float> w, ArrayView<float> bias, ArrayView<float> y, Conv2dShape shape, AcceleratorStream? stream = null,
        bool? blocked = null)
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
        int size = default(TTile).Size, block = GemmRegisters.R * size;
        var blocks = new Index2D((shape.Columns + block - 1) / block, (shape.OutChannels + block - 1) / block);
        if (blocked ?? (long)blocks.X * blocks.Y >= _accelerator.NumMultiprocessors)
            _blocked(stream ?? _accelerator.DefaultStream, new KernelConfig(blocks, new Index2D(size, size)), x, w, bias, y, shape);
        else
            _kernel(stream ?? _accelerator.DefaultStream,
                new KernelConfig(new Index2D((shape.Columns + size - 1) / size, (shape.OutChannels + size - 1) / size), new Index2D(size, size)), x, w, bias, y, shape);
    }
}
