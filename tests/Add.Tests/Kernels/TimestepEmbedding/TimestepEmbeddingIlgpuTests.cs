using Add.Kernels;
using Add.Kernels.Ilgpu;
using Add.Tests.Kernels.Ilgpu;
using ILGPU;
using ILGPU.Runtime;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Add.Tests.Kernels.TimestepEmbedding;

/// <summary>The ILGPU sinusoidal timestep embedding and its reference loop against diffusers' get_timestep_embedding in TorchSharp.</summary>
[Trait("Category", "Kernels")]
public abstract class TimestepEmbeddingIlgpuSuite(IlgpuFixture fixture, ITestOutputHelper log)
{
    // torch forms t·f in fp32 with f from expf: at t ≈ 1000 one ulp of f (or of the angle) moves the phase by ~6e-5.
    private static readonly Tolerance Timestep = new(Atol: 2e-4, Rtol: 0);

    [SkippableTheory]
    [InlineData(32, true, 0f)]   // SD UNet: flip_sin_to_cos, shift 0
    [InlineData(33, false, 1f)]  // odd dim (zero pad), DDPM's shift 1, [sin, cos]
    public void TimestepEmbeddingMatchesTorch(int dim, bool flip, float shift)
    {
        var t = new float[] { 999, 749, 499, 249, 0, 1, 17.5f };
        int half = dim / 2;
        float[] expected;
        using (NewDisposeScope())
        {
            // diffusers get_timestep_embedding, in fp32 as there.
            var exponent = -Math.Log(10000) * arange(half, dtype: ScalarType.Float32) / (half - shift);
            var angle = tensor(t)[.., TensorIndex.None] * exp(exponent)[TensorIndex.None, ..];
            var emb = flip ? cat([cos(angle), sin(angle)], -1) : cat([sin(angle), cos(angle)], -1);
            if (dim % 2 == 1)
                emb = nn.functional.pad(emb, [0, 1]);
            expected = emb.contiguous().data<float>().ToArray();
        }
        var shape = new TimestepEmbeddingShape(dim, flip, shift);
        var accelerator = fixture.Require();
        var kernel = new TimestepEmbeddingIlgpu(accelerator);
        using var dt = accelerator.Allocate1D(t);                   // [B]
        using var dy = accelerator.Allocate1D<float>(t.Length * dim); // [B, D]
        kernel.Launch(dt.View, dy.View, shape);
        accelerator.Synchronize();
        Numerics.AssertClose(expected, dy.GetAsArray1D(), Timestep, $"timestep embedding D={dim} flip={flip} shift={shift}", log);
        var reference = new float[expected.Length];
        TimestepEmbeddingReference.Forward(t, reference, dim, flip, shift);
        Numerics.AssertClose(expected, reference, Timestep, "timestep reference loop (double)", log);
    }
}

[Collection(IlgpuCpuCollection.Name)]
public sealed class TimestepEmbeddingIlgpuTests(IlgpuCpuFixture fixture, ITestOutputHelper log) : TimestepEmbeddingIlgpuSuite(fixture, log);

[Collection(IlgpuCudaCollection.Name)]
public sealed class TimestepEmbeddingCudaTests(IlgpuCudaFixture fixture, ITestOutputHelper log) : TimestepEmbeddingIlgpuSuite(fixture, log);
