using Add.Kernels;
using Add.Kernels.Cpu;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Add.Tests.Kernels.TimestepEmbedding;

/// <summary>CPU sinusoidal timestep embedding against diffusers' get_timestep_embedding written in TorchSharp.</summary>
[Trait("Category", "Kernels")]
public sealed class TimestepEmbeddingCpuTests(ITestOutputHelper log)
{
    // Angle t·f in fp32 as torch, but f = exp(·) from MathF.Exp vs libtorch's SLEEF exp: one ulp of f moves an angle
    // t·f ≤ 999 by up to ~6e-5 rad (seen: 3.7e-6); sin/cos themselves agree to an ulp.
    private static readonly Tolerance Timestep = new(Atol: 1e-4, Rtol: 0);

    [Theory]
    [InlineData(64, true, 0f)]    // the UNet: block_out_channels[0] = 64, flip_sin_to_cos, shift 0
    [InlineData(32, false, 1f)]   // diffusers' defaults
    [InlineData(33, true, 1f)]    // odd D: zero last column
    public void TimestepEmbeddingMatchesTorch(int dim, bool flip, float shift)
    {
        float[] t = [0f, 1f, 249f, 499.5f, 999f];
        int half = dim / 2;
        float[] expected;
        using (NewDisposeScope())
        {
            var exponent = -Math.Log(10000) * arange(half, dtype: ScalarType.Float32) / (half - shift);
            var angle = tensor(t)[.., TensorIndex.None] * exp(exponent)[TensorIndex.None, ..];
            var emb = flip ? cat([cos(angle), sin(angle)], -1) : cat([sin(angle), cos(angle)], -1);
            if (dim % 2 == 1)
                emb = nn.functional.pad(emb, [0, 1]);
            expected = emb.contiguous().data<float>().ToArray();
        }
        var y = new float[t.Length * dim];
        TimestepEmbeddingCpu.Forward(t, y, new TimestepEmbeddingShape(dim, flip, shift));
        Numerics.AssertClose(expected, y, Timestep, $"cpu timestep embedding D={dim} flip={flip} shift={shift}", log);
    }
}
