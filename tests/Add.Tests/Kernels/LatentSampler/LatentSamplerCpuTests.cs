using Add.Engine.Configs;
using Add.Engine.Sampling;
using Add.Kernels;
using Add.Kernels.Cpu;
using Add.Tests.Kernels.Cpu;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Add.Tests.Kernels.LatentSampler;

/// <summary>
/// CPU fused latent sampler with the engine's coefficients (Add.Engine.Sampling.SamplerStep.ToKernelStep)
/// against the same update written in torch ops, and against the shared reference loop, on every SIMD path.
/// </summary>
[Trait("Category", "Kernels")]
public sealed class LatentSamplerCpuTests(ITestOutputHelper log)
{
    // A few fp32 multiply-adds with coefficients up to 1/√ᾱ_999 ≈ 14 in another order (FMA vs torch's separate ops).
    private static readonly Tolerance Fp32 = new(Atol: 1e-5, Rtol: 1e-5);

    public record Case(SamplerKind Kind, int T, int TNext, float Guidance, int Count)
    {
        public override string ToString() => $"{Kind} {T}->{TNext} w={Guidance} L={Count}";
    }

    public static TheoryData<SimdPath, Case> Cases => CpuPaths.With(
        new Case(SamplerKind.StudentRenoise, 999, 499, 0f, 2 * 4 * 8 * 8),   // the student, batch 2 latents 4×8×8
        new Case(SamplerKind.StudentRenoise, 249, -1, 0f, 29),                // last step: x' = x̂0; 16 + 8 + 5
        new Case(SamplerKind.Ddim, 999, 949, 7.5f, 4 * 8 * 8),                 // teacher DDIM with CFG
        new Case(SamplerKind.Euler, 500, 480, 3f, 37),
        new Case(SamplerKind.EulerAncestral, 800, 760, 5f, 4 * 8 * 8 + 13));

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesTorchAndReference(SimdPath path, Case c)
    {
        var schedule = new NoiseSchedule(new SchedulerConfig());
        var e = SamplerStep.Create(c.Kind, schedule, c.T, c.TNext);
        var step = e.ToKernelStep();
        bool guided = c.Guidance != 0f;
        if (guided)
            step = step.WithGuidance(c.Guidance);
        var random = new Random(42);
        var x = Numerics.Normal(random, c.Count);
        var epsC = Numerics.Normal(random, c.Count);
        var epsU = Numerics.Normal(random, c.Count);
        var noise = Numerics.Normal(random, c.Count);
        float[] expectedNext, expectedX0;
        using (NewDisposeScope())
        {
            var tx = tensor(x);
            var eps = guided ? tensor(epsU) + c.Guidance * (tensor(epsC) - tensor(epsU)) : tensor(epsC);
            expectedX0 = (e.X0FromX * tx + e.X0FromEps * eps).data<float>().ToArray();
            expectedNext = (e.A * tx + e.B * eps + e.C * tensor(noise)).data<float>().ToArray();
        }
        var next = new float[c.Count];
        var x0 = new float[c.Count];
        LatentSamplerCpu.Step(x, guided ? epsU : [], epsC, step.UsesNoise != 0 ? noise : [], next, x0, step, path);
        Numerics.AssertClose(expectedX0, x0, Fp32, $"cpu sampler x0 {path} {c}", log);
        Numerics.AssertClose(expectedNext, next, Fp32, $"cpu sampler next {path} {c}", log);

        var refNext = new float[c.Count];
        var refX0 = new float[c.Count];
        LatentSamplerReference.Step(x, epsU, epsC, noise, refNext, refX0, step);
        Numerics.AssertClose(expectedNext, refNext, Fp32, "reference loop next", log);

        // In place: x' overwrites x.
        var inPlace = (float[])x.Clone();
        LatentSamplerCpu.Step(inPlace, guided ? epsU : [], epsC, step.UsesNoise != 0 ? noise : [], inPlace, x0, step, path);
        Assert.Equal(next, inPlace);
    }
}
