using Add.Kernels;
using Add.Kernels.Cpu;
using Add.Tests.Kernels.Cpu;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Add.Tests.Kernels.GroupNorm;

/// <summary>CPU group norm (+ SiLU) against torch.nn.functional.group_norm, on every SIMD path.</summary>
[Trait("Category", "Kernels")]
public sealed class GroupNormCpuTests(ITestOutputHelper log)
{
    // fp32 two-pass statistics over ≤ 4096 values vs libtorch's (also fp32, other order); y is O(1): tens of ulp of 1.
    private static readonly Tolerance Normal = new(Atol: 5e-6, Rtol: 5e-6);
    // |μ| = 300, σ = 0.5: the fp32 mean is off by ~ulp(300) ≈ 3e-5, amplified by 1/σ = 2 (as the ILGPU test).
    private static readonly Tolerance LargeMean = new(Atol: 1e-4, Rtol: 1e-4);
    private const float Epsilon = 1e-5f;

    public record GroupCase(int N, int C, int H, int W, int Groups, bool Silu)
    {
        public override string ToString() => $"n{N} c{C} {H}x{W} g{Groups} silu={Silu}";
    }

    public static TheoryData<SimdPath, GroupCase> GroupCases => CpuPaths.With(
        new GroupCase(2, 6, 5, 3, 3, false),     // batch 2, Cg = 2, H·W = 15 < every width
        new GroupCase(2, 6, 5, 3, 3, true),
        new GroupCase(1, 5, 7, 7, 5, true),      // Cg = 1, H·W = 49 = 3·16 + 1
        new GroupCase(3, 12, 4, 9, 4, false),    // H·W = 36 = 2·16 + 4: 512 body, no 256 step, scalar tail
        new GroupCase(1, 8, 5, 5, 2, true),      // H·W = 25 = 16 + 8 + 1: every step of the 512 path
        new GroupCase(2, 64, 32, 32, 16, true)); // the VAE decoder's 32×32×64 with 16 groups: the parallel path

    [Theory]
    [MemberData(nameof(GroupCases))]
    public void GroupNormMatchesTorch(SimdPath path, GroupCase c)
    {
        var random = new Random(42);
        var x = Numerics.Normal(random, c.N * c.C * c.H * c.W, mean: 0.3f, std: 1.7f);
        var gamma = Numerics.Uniform(random, c.C, 0.5f, 1.5f);
        var beta = Numerics.Uniform(random, c.C, -0.5f, 0.5f);
        float[] expected;
        using (NewDisposeScope())
        {
            var t = nn.functional.group_norm(tensor(x, [c.N, c.C, c.H, c.W]), c.Groups, tensor(gamma), tensor(beta), Epsilon);
            if (c.Silu)
                t = nn.functional.silu(t);
            expected = t.data<float>().ToArray();
        }
        var y = new float[x.Length];
        GroupNormCpu.Forward(x, gamma, beta, y, c.N, c.C, c.H, c.W, c.Groups, Epsilon, c.Silu, path);
        Numerics.AssertClose(expected, y, Normal, $"cpu groupnorm {path} {c}", log);

        var inPlace = (float[])x.Clone();
        GroupNormCpu.Forward(inPlace, gamma, beta, inPlace, c.N, c.C, c.H, c.W, c.Groups, Epsilon, c.Silu, path);
        Assert.Equal(y, inPlace);
    }

    [Theory]
    [InlineData(SimdPath.Vector512)]
    [InlineData(SimdPath.Vector256)]
    [InlineData(SimdPath.Scalar)]
    public void GroupNormSurvivesLargeMeanAndIsDeterministic(SimdPath path)
    {
        const int n = 2, c = 4, h = 6, w = 7, groups = 2;
        var random = new Random(42);
        var x = Numerics.Normal(random, n * c * h * w, mean: 300f, std: 0.5f);
        var gamma = Numerics.Uniform(random, c, 0.5f, 1.5f);
        var beta = Numerics.Uniform(random, c, -0.5f, 0.5f);
        var expected = new float[x.Length];
        GroupNormReference.Forward(x, gamma, beta, expected, n, c, h, w, groups, Epsilon, false); // double statistics
        var first = new float[x.Length];
        var second = new float[x.Length];
        GroupNormCpu.Forward(x, gamma, beta, first, n, c, h, w, groups, Epsilon, false, path);
        GroupNormCpu.Forward(x, gamma, beta, second, n, c, h, w, groups, Epsilon, false, path);
        Numerics.AssertClose(expected, first, LargeMean, $"cpu groupnorm {path} vs double reference, mean 300 std 0.5", log);
        Assert.Equal(first, second);
    }
}
