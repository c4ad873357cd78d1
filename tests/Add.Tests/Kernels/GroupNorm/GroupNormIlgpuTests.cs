using Add.Kernels;
using Add.Kernels.Ilgpu;
using Add.Tests.Kernels.Ilgpu;
using ILGPU.Runtime;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Add.Tests.Kernels.GroupNorm;

/// <summary>Group norm (+ fused SiLU) against torch.nn.functional.group_norm (+ silu), for one backend and group size.</summary>
[Trait("Category", "Kernels")]
public abstract class GroupNormIlgpuSuite<TGroup>(IlgpuFixture fixture, ITestOutputHelper log) where TGroup : struct, IGroupSize
{
    // fp32 statistics over at most ~1k values, tree-summed; y is O(1): a few tens of ulp of 1 (seen: 4.8e-7).
    private static readonly Tolerance Normal = new(Atol: 3e-6, Rtol: 3e-6);
    // |μ| = 300, σ = 0.5: the fp32 mean is off by ~ulp(300) ≈ 3e-5 at worst, amplified by 1/σ = 2 (seen: 2.4e-5).
    private static readonly Tolerance LargeMean = new(Atol: 1e-4, Rtol: 1e-4);
    // libtorch's own fp32 statistics on the same input, checked only to show the oracle agrees (seen: 2.1e-4).
    private static readonly Tolerance LargeMeanTorch = new(Atol: 5e-4, Rtol: 5e-4);
    private const float Epsilon = 1e-5f;

    [SkippableTheory]
    [InlineData(2, 6, 5, 3, 3, false)]   // batch 2, Cg = 2, odd H·W = 15 (< T: most threads idle in the sums)
    [InlineData(2, 6, 5, 3, 3, true)]
    [InlineData(1, 5, 7, 7, 5, true)]    // Cg = 1, H·W = 49
    [InlineData(3, 12, 4, 9, 4, false)]  // batch 3, Cg = 3, H·W = 36
    [InlineData(1, 8, 11, 13, 2, true)]  // long groups: 572 values per group, not a multiple of T
    public void MatchesTorch(int n, int c, int h, int w, int groups, bool silu)
    {
        var random = new Random(42);
        var x = Numerics.Normal(random, n * c * h * w, mean: 0.3f, std: 1.7f);
        var gamma = Numerics.Uniform(random, c, 0.5f, 1.5f);
        var beta = Numerics.Uniform(random, c, -0.5f, 0.5f);
        var expected = TorchGroupNorm(x, gamma, beta, n, c, h, w, groups, silu);

        var actual = Run(x, gamma, beta, n, c, h, w, groups, silu);
        Numerics.AssertClose(expected, actual, Normal, $"ilgpu groupnorm n{n} c{c} {h}x{w} g{groups} silu={silu}", log);

        var reference = new float[x.Length];
        GroupNormReference.Forward(x, gamma, beta, reference, n, c, h, w, groups, Epsilon, silu);
        Numerics.AssertClose(expected, reference, Normal, "reference loop", log);
    }

    [SkippableFact]
    public void TwoPassStatisticsSurviveLargeMean()
    {
        // One-pass E[x²] − E[x]² in fp32 would lose the variance here: E[x²] ≈ 9e4 where ulp ≈ 8e-3, σ² = 0.25.
        const int n = 2, c = 4, h = 6, w = 7, groups = 2;
        var random = new Random(42);
        var x = Numerics.Normal(random, n * c * h * w, mean: 300f, std: 0.5f);
        var gamma = Numerics.Uniform(random, c, 0.5f, 1.5f);
        var beta = Numerics.Uniform(random, c, -0.5f, 0.5f);
        var expected = new float[x.Length];
        GroupNormReference.Forward(x, gamma, beta, expected, n, c, h, w, groups, Epsilon, false); // double statistics
        var actual = Run(x, gamma, beta, n, c, h, w, groups, false);
        Numerics.AssertClose(expected, actual, LargeMean, "ilgpu vs double reference, mean 300 std 0.5", log);
        Numerics.AssertClose(expected, TorchGroupNorm(x, gamma, beta, n, c, h, w, groups, false), LargeMeanTorch, "torch vs double reference", log);
    }

    [SkippableFact]
    public void IsDeterministic()
    {
        const int n = 1, c = 6, h = 9, w = 9, groups = 3;
        var random = new Random(42);
        var x = Numerics.Normal(random, n * c * h * w);
        var gamma = Numerics.Uniform(random, c);
        var beta = Numerics.Uniform(random, c);
        var first = Run(x, gamma, beta, n, c, h, w, groups, true);
        var second = Run(x, gamma, beta, n, c, h, w, groups, true);
        Assert.Equal(first, second);
    }

    private float[] Run(float[] x, float[] gamma, float[] beta, int n, int c, int h, int w, int groups, bool silu)
    {
        var accelerator = fixture.Require();
        var kernel = new GroupNormIlgpu<TGroup>(accelerator);
        using var dx = accelerator.Allocate1D(x);            // [N, C, H, W]
        using var dGamma = accelerator.Allocate1D(gamma);    // [C]
        using var dBeta = accelerator.Allocate1D(beta);      // [C]
        using var dy = accelerator.Allocate1D<float>(x.Length); // [N, C, H, W]
        kernel.Launch(dx.View, dGamma.View, dBeta.View, dy.View, n, c, h, w, groups, Epsilon, silu);
        accelerator.Synchronize();
        return dy.GetAsArray1D();
    }

    private static float[] TorchGroupNorm(float[] x, float[] gamma, float[] beta, int n, int c, int h, int w, int groups, bool silu)
    {
        using var scope = NewDisposeScope();
        var y = nn.functional.group_norm(tensor(x, [n, c, h, w]), groups, tensor(gamma), tensor(beta), Epsilon);
        if (silu)
            y = nn.functional.silu(y);
        return y.data<float>().ToArray();
    }
}

[Collection(IlgpuCpuCollection.Name)]
public sealed class GroupNormIlgpuTests(IlgpuCpuFixture fixture, ITestOutputHelper log) : GroupNormIlgpuSuite<Threads32>(fixture, log);

[Collection(IlgpuCudaCollection.Name)]
public sealed class GroupNormCudaTests(IlgpuCudaFixture fixture, ITestOutputHelper log) : GroupNormIlgpuSuite<Threads256>(fixture, log);
