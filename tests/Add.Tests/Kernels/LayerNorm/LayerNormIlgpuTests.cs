using Add.Kernels;
using Add.Kernels.Ilgpu;
using Add.Tests.Kernels.Ilgpu;
using ILGPU;
using ILGPU.Runtime;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Add.Tests.Kernels.LayerNorm;

/// <summary>Layer norm against torch.nn.functional.layer_norm, for one backend and group size.</summary>
[Trait("Category", "Kernels")]
public abstract class LayerNormIlgpuSuite<TGroup>(IlgpuFixture fixture, ITestOutputHelper log) where TGroup : struct, IGroupSize
{
    // fp32 two-pass statistics over ≤ 130 values, tree-summed; y is O(1).
    private static readonly Tolerance Fp32Stats = new(Atol: 3e-6, Rtol: 3e-6);

    [SkippableTheory]
    [InlineData(5, 37)]    // D not a multiple of T
    [InlineData(3, 130)]   // D > T: several values per thread
    [InlineData(4, 1)]     // D = 1: y = β
    public void MatchesTorch(int m, int d)
    {
        var random = new Random(42);
        var x = Numerics.Normal(random, m * d, mean: 2f, std: 3f);
        var gamma = Numerics.Uniform(random, d, 0.5f, 1.5f);
        var beta = Numerics.Uniform(random, d);
        float[] expected;
        using (NewDisposeScope())
            expected = nn.functional.layer_norm(tensor(x, [m, d]), [d], tensor(gamma), tensor(beta), 1e-5).data<float>().ToArray();

        var accelerator = fixture.Require();
        var kernel = new LayerNormIlgpu<TGroup>(accelerator);
        using var dx = accelerator.Allocate1D(x);          // [M, D]
        using var dg = accelerator.Allocate1D(gamma);      // [D]
        using var db = accelerator.Allocate1D(beta);       // [D]
        using var dy = accelerator.Allocate1D<float>(x.Length); // [M, D]
        kernel.Launch(dx.View, dg.View, db.View, dy.View, m, d, 1e-5f);
        accelerator.Synchronize();
        Numerics.AssertClose(expected, dy.GetAsArray1D(), Fp32Stats, $"layer norm m{m} d{d}", log);

        var reference = new float[x.Length];
        LayerNormReference.Forward(x, gamma, beta, reference, m, d, 1e-5f);
        Numerics.AssertClose(expected, reference, Fp32Stats, "reference loop", log);
    }
}

[Collection(IlgpuCpuCollection.Name)]
public sealed class LayerNormIlgpuTests(IlgpuCpuFixture fixture, ITestOutputHelper log) : LayerNormIlgpuSuite<Threads32>(fixture, log);

[Collection(IlgpuCudaCollection.Name)]
public sealed class LayerNormCudaTests(IlgpuCudaFixture fixture, ITestOutputHelper log) : LayerNormIlgpuSuite<Threads256>(fixture, log);
