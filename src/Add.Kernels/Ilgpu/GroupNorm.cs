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
/// <item><see cref="Reference"/>: plain loops, statistics in double, two passes. The clear version.</item>
/// <item><see cref="Kernel{TGroup}"/> (v1): one ILGPU group of T threads per (n, g); fp32 statistics
/// in two passes (mean, then the sum of squared deviations; never E[x²] − E[x]², which cancels
/// catastrophically when |μ| ≫ σ); each thread sums a strided slice in a fixed order, then a
/// shared-memory tree combines the T partial sums (<see cref="GroupReduce.Sum"/>): deterministic,
/// no float atomics. Three reads and one write of the group's values. Barriers per group:
/// 2·(log2 T + 2).</item>
/// </list>
/// </para>
/// </summary>
public static class GroupNorm
{
    /// <summary>Shape and options of one launch, passed by value to the kernel.</summary>
    public readonly struct Shape
    {
        public readonly int Channels;       // C
        public readonly int Groups;         // G, divides C
        public readonly int Spatial;        // H·W
        public readonly float Epsilon;      // ε added to σ²
        public readonly int FuseSilu;       // 1: y ← silu(y); 0: plain group norm

        public Shape(int channels, int groups, int spatial, float epsilon, bool fuseSilu)
        {
            Channels = channels;
            Groups = groups;
            Spatial = spatial;
            Epsilon = epsilon;
            FuseSilu = fuseSilu ? 1 : 0;
        }
    }

    /// <summary>The slow clear version: two passes per group, statistics in double.</summary>
    /// <param name="x">[N, C, H, W]</param>
    /// <param name="gamma">[C]</param>
    /// <param name="beta">[C]</param>
    /// <param name="y">[N, C, H, W]</param>
    public static void Reference(ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, Span<float> y,
        int n, int c, int h, int w, int groups, float epsilon, bool fuseSilu)
    {
        int hw = h * w, cg = c / groups, len = cg * hw;
        for (int b = 0; b < n; b++)
        {
            for (int g = 0; g < groups; g++)
            {
                int start = (b * c + g * cg) * hw;
                double sum = 0;
                for (int i = 0; i < len; i++)
                    sum += x[start + i];
                double mean = sum / len;
                double sq = 0;
                for (int i = 0; i < len; i++)
                {
                    double d = x[start + i] - mean;
                    sq += d * d;
                }
                double rstd = 1.0 / Math.Sqrt(sq / len + epsilon);
                for (int i = 0; i < len; i++)
                {
                    int ch = g * cg + i / hw;
                    double v = (x[start + i] - mean) * rstd * gamma[ch] + beta[ch];
                    if (fuseSilu)
                        v /= 1.0 + Math.Exp(-v);
                    y[start + i] = (float)v;
                }
            }
        }
    }

    /// <summary>
    /// v1 kernel: grid = N·G groups (group index = n·G + g), T = <typeparamref name="TGroup"/> threads each.
    /// </summary>
    /// <param name="x">[N, C, H, W]</param>
    /// <param name="gamma">[C]</param>
    /// <param name="beta">[C]</param>
    /// <param name="y">[N, C, H, W]; may not alias x</param>
    public static void Kernel<TGroup>(ArrayView<float> x, ArrayView<float> gamma, ArrayView<float> beta, ArrayView<float> y, Shape shape)
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
/// Loads <see cref="GroupNorm.Kernel{TGroup}"/> once for an accelerator and launches it on caller-owned views.
/// The accelerator's context must be built with <c>EnableAlgorithms()</c> (XMath on GPUs).
/// </summary>
public sealed class GroupNormIlgpu<TGroup> where TGroup : struct, IGroupSize
{
    private readonly Accelerator _accelerator;
    private readonly Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, GroupNorm.Shape> _kernel;

    public GroupNormIlgpu(Accelerator accelerator)
    {
        int threads = default(TGroup).Threads;
        if (threads > accelerator.MaxNumThreadsPerGroup)
            throw new ArgumentException($"group size {threads} exceeds the accelerator's limit {accelerator.MaxNumThreadsPerGroup}");
        _accelerator = accelerator;
        _kernel = accelerator.LoadKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, GroupNorm.Shape>(GroupNorm.Kernel<TGroup>);
    }

    /// <summary>Enqueues y = groupnorm(x) (then SiLU if asked) on <paramref name="stream"/> (default stream if null).</summary>
    /// <param name="x">[N, C, H, W]</param>
    /// <param name="gamma">[C]</param>
    /// <param name="beta">[C]</param>
    /// <param name="y">[N, C, H, W]</param>
    public void Launch(ArrayView<float> x, ArrayView<float> gamma, ArrayView<float> beta, ArrayView<float> y,
        int n, int c, int h, int w, int groups, float epsilon, bool fuseSilu, AcceleratorStream? stream = null)
    {
        if (groups <= 0 || c % groups != 0)
            throw new ArgumentException($"channels {c} must be a positive multiple of groups {groups}");
        long count = (long)n * c * h * w;
        Check(nameof(x), x.Length, count);
        Check(nameof(y), y.Length, count);
        Check(nameof(gamma), gamma.Length, c);
        Check(nameof(beta), beta.Length, c);
        if (count == 0)
            return;
        var config = new KernelConfig(n * groups, default(TGroup).Threads);
        _kernel(stream ?? _accelerator.DefaultStream, config, x, gamma, beta, y, new GroupNorm.Shape(c, groups, h * w, epsilon, fuseSilu));
    }

    private static void Check(string name, long actual, long expected)
    {
        if (actual != expected)
            throw new ArgumentException($"{name} has {actual} elements, expected {expected}");
    }
}
