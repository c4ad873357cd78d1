using Add.Kernels;
using Add.Kernels.Cpu;
using Add.Tests.Kernels.Cpu;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Add.Tests.Kernels.LayerNorm;

/// <summary>CPU layer norm against torch.nn.functional.layer_norm, on every SIMD path.</summary>
[Trait("Category", "Kernels")]
public sealed class LayerNormCpuTests(ITestOutputHelper log)
{
    // fp32 two-pass statistics over ≤ 300 values vs libtorch's (also fp32, other order); y is O(1): tens of ulp of 1.
    private static readonly Tolerance Normal = new(Atol: 5e-6, Rtol: 5e-6);
    private const float Epsilon = 1e-5f;

    public record LayerCase(int M, int D)
    {
        public override string ToString() => $"m{M} d{D}";
    }

    public static TheoryData<SimdPath, LayerCase> LayerCases => CpuPaths.With(
        new LayerCase(7, 37),      // 2·16 + 5
        new LayerCase(32, 128),    // the text encoder: 2 × 16 tokens, hidden 128
        new LayerCase(3, 25),      // 16 + 8 + 1
        new LayerCase(130, 300));  // parallel path (39k values)

    [Theory]
    [MemberData(nameof(LayerCases))]
    public void LayerNormMatchesTorch(SimdPath path, LayerCase c)
    {
        var random = new Random(42);
        var x = Numerics.Normal(random, c.M * c.D, mean: -0.7f, std: 2f);
        var gamma = Numerics.Uniform(random, c.D, 0.5f, 1.5f);
        var beta = Numerics.Uniform(random, c.D, -0.5f, 0.5f);
        float[] expected;
        using (NewDisposeScope())
            expected = nn.functional.layer_norm(tensor(x, [c.M, c.D]), [c.D], tensor(gamma), tensor(beta), Epsilon).data<float>().ToArray();
        var y = new float[x.Length];
        LayerNormCpu.Forward(x, gamma, beta, y, c.M, c.D, Epsilon, path);
        Numerics.AssertClose(expected, y, Normal, $"cpu layernorm {path} {c}", log);
    }
}
