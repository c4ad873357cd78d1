using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace Add.Kernels.Ilgpu;

/// <summary>
/// Group normalization (Wu &amp; He 2018, "Group Normalization", Eq. 1-3), optionally followed by SiLU
/// (Elfwing et al. 2018; Hendrycks &amp; Gimpel 2016), as the UNet and VAE resnets use it.
/// <para>
/// Legend: N batch, C channels, H height, W width, G groups, Cg = C/G channels per group.
/// For each (n, g), over the Cg·H·W values x of that group:
/// <c>μ = mean(x)</c>, <c>σ² = mean((x − μ)²)</c> (biased, as torch), then for channel c
/// <c>y = (x − μ) / √(σ² + ε) · γ[c] + β[c]</c>, and with fused SiLU <c>y ← y · sigmoid(y)</c>.
/// </para>
/// <para>
/// Versions:
/// <list type="bullet">
/// <item><see cref="GroupNormReference.Forward"/>: plain loops, statistics in double, two passes. The clear version.</item>
/// <item><see cref="Kernel{TGroup}"/> (v1): one ILGPU group of T threads per (n, g); fp32 statistics
/// in two passes (mean, then the sum of squared deviations; never E[x²] − E[x]², which cancels
/// catastrophically when |μ| ≫ σ); each thread sums a strided slice in a fixed order, then a
/// shared-memory tree combines the T partial sums (<see cref="GroupReduce.Sum"/>): deterministic,
/// no float atomics. Three reads and one write of the group's values. Barriers per group:
/// 2·(log2 T + 2).</item>
/// </list>
/// </para>
/// </summary>
public static class GroupNormDevice
{
    /// <summary>
    /// v1 kernel: grid = N·G groups (group index = n·G + g), T = <typeparamref name="TGroup"/> threads each.
    /// </summary>
    /// <param name="x">[N, C, H, W]</param>
    /// <param name="gamma">[C]</param>
    /// <param name="beta">[C]</param>
    /// <param name="y">[N, C, H, W]; may not alias x</param>
    public static void Kernel<TGroup>(ArrayView<float> x, ArrayView<float> gamma, ArrayView<float> beta, ArrayView<float> y, GroupNormShape shape)
        where TGroup : struct, IGroupSize
    {
        int threads = default(TGroup).Threads;
        var scratch = SharedMemory.Allocate<float>(default(TGroup).Threads); // [T] partial sums
        int t = Group.IdxX;
        int ng = Grid.IdxX;                       // n·G + g
        int g = ng % shape.Groups;
        int cg = shape.Channels / shape.Groups;
        int len = cg * shape.Spatial;
        long start = (long)ng * len;              // (n·C + g·Cg)·H·W, as the groups of one sample are contiguous

        // Pass 1: mean.
        float partial = 0f;
        for (int i = t; i < len; i += threads)
            partial += x[start + i];
        float mean = GroupReduce.Sum(scratch, partial, threads) / len;

        // Pass 2: variance as the mean of squared deviations from the exact-pass mean.
        partial = 0f;
        for (int i = t; i < len; i += threads)
        {
            float d = x[start + i] - mean;
            partial += d * d;
        }
        float variance = GroupReduce.Sum(scratch, partial, threads) / len;
        float rstd = XMath.Rsqrt(variance + shape.Epsilon);

        // Pass 3: normalize, affine, optional SiLU.
        int channel0 = g * cg;
        for (int i = t; i < len; i += threads)
        {
            int ch = channel0 + i / shape.Spatial;
            float v = (x[start + i] - mean) * rstd * gamma[ch] + beta[ch];
            if (shape.FuseSilu != 0)
                v /= 1f + XMath.Exp(-v);
            y[start + i] = v;
        }
    }
}

/// <summary>
/// Loads <see cref="GroupNormDevice.Kernel{TGroup}"/> once for an accelerator and launches it on caller-owned views.
/// The accelerator's context must be built with <c>EnableAlgorithms()</c> (XMath on GPUs).
/// </summary>
public sealed class GroupNormIlgpu<TGroup> where TGroup : struct, IGroupSize
{
    private readonly Accelerator _accelerator;
    private readonly Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, GroupNormShape> _kernel;

    public GroupNormIlgpu(Accelerator accelerator)
    {
        int threads = default(TGroup).Threads;
        if (threads > accelerator.MaxNumThreadsPerGroup)
            throw new ArgumentException($"group size {threads} exceeds the accelerator's limit {accelerator.MaxNumThreadsPerGroup}");
        _accelerator = accelerator;
        _kernel = accelerator.LoadKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, GroupNormShape>(GroupNormDevice.Kernel<TGroup>);
    }

    /// <summary>Enqueues y = groupnorm(x) (then SiLU if asked) on <paramref name="stream"/> (default stream if null).</summary>
    /// <param name="x">[N, C, H, W]</param>
    /// <param name="gamma">[C]</param>
    /// <param name="beta">[C]</param>
    /// <param name="y">[N, C, H, W]</param>
    public void Launch(ArrayView<float> x, ArrayView<float> gamma, ArrayView<float> beta, ArrayView<float> y,
        int n, int c, int h, int w, int groups, float epsilon, bool fuseSilu, AcceleratorStream? stream = null)
    {
        long count = GroupNormReference.Check(x.Length, gamma.Length, beta.Length, y.Length, n, c, h, w, groups);
        if (count == 0)
            return;
        var config = new KernelConfig(n * groups, default(TGroup).Threads);
        _kernel(stream ?? _accelerator.DefaultStream, config, x, gamma, beta, y, new GroupNormShape(c, groups, h * w, epsilon, fuseSilu));
    }
}
