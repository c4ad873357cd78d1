using ILGPU;
using ILGPU.Runtime;

namespace Add.Kernels.Ilgpu;

/// <summary>
/// Linear layer as a GEMM: <c>Y = X·Wᵀ + b</c>, i.e. Y[m, n] = Σ_k X[m, k]·W[n, k] + b[n] (torch.nn.functional.linear;
/// W in torch's [out, in] layout, as stored in the checkpoints).
/// <para>
/// Legend: M rows (tokens, e.g. B·L), K input features, N output features. X [M, K], W [N, K], b [N], Y [M, N], all row-major.
/// </para>
/// <para>
/// Versions:
/// <list type="bullet">
/// <item><see cref="LinearReference.Forward"/>: triple loop with a double accumulator.</item>
/// <item><see cref="Kernel{TTile}"/> (v1): classic shared-memory tiling (Kirk &amp; Hwu, "Programming Massively Parallel
/// Processors", ch. 5): a T×T group computes a T×T block of Y, one output per thread; per K-step the group stages
/// X[m0.., k0..] and W[n0.., k0..] (stored transposed, rows padded to T+1 against bank conflicts) and every thread
/// does T FMAs from shared memory. Each input element is read from global memory ⌈N/T⌉ (X) or ⌈M/T⌉ (W) times
/// instead of N or M times. Barriers: 2·⌈K/T⌉ per group. No register blocking yet (one output per thread).</item>
/// </list>
/// </para>
/// </summary>
public static class LinearDevice
{
    /// <summary>v1 kernel. Grid (⌈N/T⌉, ⌈M/T⌉) groups of (T, T) threads; thread (tx, ty) computes Y[m0 + ty, n0 + tx].</summary>
    /// <param name="x">[M, K]</param>
    /// <param name="w">[N, K]</param>
    /// <param name="bias">[N], or empty without bias</param>
    /// <param name="y">[M, N]</param>
    public static void Kernel<TTile>(ArrayView<float> x, ArrayView<float> w, ArrayView<float> bias, ArrayView<float> y, LinearShape shape)
        where TTile : struct, IGemmTile
    {
        int size = default(TTile).Size;
        int stride = size + 1;
        var xTile = SharedMemory.Allocate<float>(default(TTile).Size * (default(TTile).Size + 1));  // [T, T+1]: [m, k]
        var wTile = SharedMemory.Allocate<float>(default(TTile).Size * (default(TTile).Size + 1));  // [T, T+1]: [k, n]
        int tx = Group.IdxX, ty = Group.IdxY;
        int m0 = Grid.IdxY * size, n0 = Grid.IdxX * size;
        int row = m0 + ty, col = n0 + tx;

        float sum = 0f;
        for (int k0 = 0; k0 < shape.K; k0 += size)
        {
            int k = k0 + tx;
            // X[m0 + ty, k0 + tx] and W[n0 + ty, k0 + tx]: consecutive threads read consecutive k (coalesced).
            xTile[ty * stride + tx] = row < shape.M && k < shape.K ? x[(long)row * shape.K + k] : 0f;
            wTile[tx * stride + ty] = n0 + ty < shape.N && k < shape.K ? w[(long)(n0 + ty) * shape.K + k] : 0f;
            Group.Barrier();
            for (int c = 0; c < size; c++)
                sum += xTile[ty * stride + c] * wTile[c * stride + tx];
            Group.Barrier();
        }
        if (row < shape.M && col < shape.N)
        {
            if (shape.HasBias != 0)
                sum += bias[col];
            y[(long)row * shape.N + col] = sum;
        }
    }
}

/// <summary>Loads <see cref="LinearDevice.Kernel{TTile}"/> once for an accelerator and launches it on caller-owned views.</summary>
public sealed class LinearIlgpu<TTile> where TTile : struct, IGemmTile
{
    private readonly Accelerator _accelerator;
    private readonly Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, LinearShape> _kernel;

    public LinearIlgpu(Accelerator accelerator)
    {
        int size = default(TTile).Size;
        if (size * size > accelerator.MaxNumThreadsPerGroup)
            throw new ArgumentException($"tile {size}x{size} exceeds the accelerator's group limit {accelerator.MaxNumThreadsPerGroup}");
        _accelerator = accelerator;
        _kernel = accelerator.LoadKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, LinearShape>(LinearDevice.Kernel<TTile>);
    }

    /// <summary>Enqueues Y = X·Wᵀ (+ b).</summary>
    /// <param name="x">[M, K]</param>
    /// <param name="w">[N, K]</param>
    /// <param name="bias">[N], or <see cref="ArrayView{T}.Empty"/> for none</param>
    /// <param name="y">[M, N]; may not alias x</param>
    public void Launch(ArrayView<float> x, ArrayView<float> w, ArrayView<float> bias, ArrayView<float> y, int m, int n, int k, AcceleratorStream? stream = null)
    {
        KernelArgs.Length(nameof(x), x.Length, (long)m * k);
        KernelArgs.Length(nameof(w), w.Length, (long)n * k);
        KernelArgs.Length(nameof(y), y.Length, (long)m * n);
        if (bias.Length != 0)
            KernelArgs.Length(nameof(bias), bias.Length, n);
        if (m == 0 || n == 0)
            return;
        int size = default(TTile).Size;
        var config = new KernelConfig(new Index2D((n + size - 1) / size, (m + size - 1) / size), new Index2D(size, size));
        _kernel(stream ?? _accelerator.DefaultStream, config, x, w, bias, y, new LinearShape(m, n, k, bias.Length != 0));
    }
}
