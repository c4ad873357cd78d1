using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace Add.Kernels.Ilgpu;

/// <summary>
/// Layer normalization over the last dim (Ba et al. 2016, "Layer Normalization", Eq. 4; torch.nn.functional.layer_norm
/// with normalized_shape [D]): per row, <c>μ = mean(x)</c>, <c>σ² = mean((x − μ)²)</c>, <c>y = (x − μ)/√(σ² + ε)·γ + β</c>.
/// <para>Legend: M rows (tokens, B·L), D features. x [M, D], γ [D], β [D], y [M, D].</para>
/// <para>Versions: <see cref="LayerNormReference.Forward"/> (double statistics); <see cref="Kernel{TGroup}"/> (v1): one group of T threads per
/// row, two-pass fp32 statistics combined with the deterministic tree of <see cref="GroupReduce.Sum"/>, as
/// <see cref="GroupNormDevice.Kernel{TGroup}"/>; 2·(log2 T + 2) barriers per row.</para>
/// </summary>
public static class LayerNormDevice
{
    /// <summary>v1 kernel: grid = M groups (one per row), T = <typeparamref name="TGroup"/> threads.</summary>
    /// <param name="x">[M, D]</param><param name="gamma">[D]</param><param name="beta">[D]</param><param name="y">[M, D]; may alias x</param>
    public static void Kernel<TGroup>(ArrayView<float> x, ArrayView<float> gamma, ArrayView<float> beta, ArrayView<float> y, int d, float epsilon)
        where TGroup : struct, IGroupSize
    {
        int threads = default(TGroup).Threads;
        var scratch = SharedMemory.Allocate<float>(default(TGroup).Threads);  // [T]
        int t = Group.IdxX;
        long start = (long)Grid.IdxX * d;

        float partial = 0f;
        for (int c = t; c < d; c += threads)
            partial += x[start + c];
        float mean = GroupReduce.Sum(scratch, partial, threads) / d;

        partial = 0f;
        for (int c = t; c < d; c += threads)
        {
            float diff = x[start + c] - mean;
            partial += diff * diff;
        }
        float rstd = XMath.Rsqrt(GroupReduce.Sum(scratch, partial, threads) / d + epsilon);

        for (int c = t; c < d; c += threads)
            y[start + c] = (x[start + c] - mean) * rstd * gamma[c] + beta[c];
    }
}

/// <summary>Loads <see cref="LayerNormDevice.Kernel{TGroup}"/> once for an accelerator and launches it on caller-owned views.</summary>
public sealed class LayerNormIlgpu<TGroup> where TGroup : struct, IGroupSize
{
    private readonly Accelerator _accelerator;
    private readonly Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float> _kernel;

    public LayerNormIlgpu(Accelerator accelerator)
    {
        if (default(TGroup).Threads > accelerator.MaxNumThreadsPerGroup)
            throw new ArgumentException($"group size {default(TGroup).Threads} exceeds the accelerator's limit {accelerator.MaxNumThreadsPerGroup}");
        _accelerator = accelerator;
        _kernel = accelerator.LoadKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float>(LayerNormDevice.Kernel<TGroup>);
    }

    /// <summary>Enqueues y = layernorm(x) over rows of D.</summary>
    /// <param name="x">[M, D]</param><param name="gamma">[D]</param><param name="beta">[D]</param><param name="y">[M, D]</param>
    public void Launch(ArrayView<float> x, ArrayView<float> gamma, ArrayView<float> beta, ArrayView<float> y, int m, int d, float epsilon, AcceleratorStream? stream = null)
    {
        if (x.Length != (long)m * d || y.Length != (long)m * d || gamma.Length != d || beta.Length != d)
            throw new ArgumentException($"layer norm [M={m}, D={d}]: x {x.Length}, y {y.Length}, gamma {gamma.Length}, beta {beta.Length} elements");
        if (m == 0)
            return;
        _kernel(stream ?? _accelerator.DefaultStream, new KernelConfig(m, default(TGroup).Threads), x, gamma, beta, y, d, epsilon);
    }
}
