using Add.Engine.Configs;
using Add.Engine.Sampling;
using Add.Tests.Kernels;
using Add.Train.Model;
using Add.Train.Pipeline;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Add.Tests.Sampling;

/// <summary>
/// The reference's sampler updates (<see cref="ReferenceSampler"/>) three ways: against the engine's DDPM-space
/// coefficients, against the forward process (with the true ε every deterministic sampler lands on x_t' exactly), and
/// against diffusers' σ-space Euler-ancestral loop written here in plain double arithmetic.
/// </summary>
public sealed class ReferenceSamplerTests(ITestOutputHelper log)
{
    /// <summary>The reference works in fp32 tensors with intermediates up to x/√ᾱ_999 ≈ 14.6·|x| ≈ 60 (ulp 3.8e-6) and
    /// cancels them back to O(1); a few such roundings. Compared against float64 of the same formula. A wrong
    /// coefficient moves results by ≥ 1e-3.</summary>
    private static readonly Tolerance Fp32 = new(Atol: 2e-5, Rtol: 1e-5);

    private const int Count = 4 * 8 * 8 + 13;

    private static (float[] X, float[] Eps, float[] Noise) Inputs(int seed, int count = Count)
    {
        var random = new Random(seed);
        return (Numerics.Normal(random, count), Numerics.Normal(random, count), Numerics.Normal(random, count));
    }

    private static SchedulerConfig Config(string cls, bool v) => ScheduleValues.Sd with
    {
        ClassName = cls, ClipSample = false, TimestepSpacing = "trailing", PredictionType = v ? "v_prediction" : "epsilon",
    };

    public static TheoryData<SamplerKind, string, bool> Cases()
    {
        var data = new TheoryData<SamplerKind, string, bool>();
        foreach (var kind in Enum.GetValues<SamplerKind>())
            foreach (var cls in new[] { SchedulerConfig.Ddim, SchedulerConfig.EulerDiscrete })
                foreach (var v in new[] { false, true })
                    data.Add(kind, cls, v);
        return data;
    }

    /// <summary>
    /// Every step of a 4-step run: the reference steps diffusers' latent (σ-space for the Euler classes) and the
    /// engine's DDPM-space coefficients must agree once the reference's result is scaled by scale_model_input of the
    /// next level (1/√(σ'² + 1); 1 for DDIM). Fresh noise is drawn exactly when the engine's C ≠ 0.
    /// </summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void StepMatchesTheEngineCoefficients(SamplerKind kind, string cls, bool v)
    {
        var config = Config(cls, v);
        var r = ReferenceScheduler.Create(config, new ReferenceSchedule(config), kind, 4);
        var e = SamplingSchedule.Create(config, new NoiseSchedule(config), kind, 4);
        var (x, m, noise) = Inputs(42);
        for (int i = 0; i < 4; i++)
        {
            using var scope = NewDisposeScope();
            double inScale = r.SigmaSpace ? Math.Sqrt(r.Sigmas[i] * r.Sigmas[i] + 1) : 1;
            double outScale = r.SigmaSpace ? 1 / Math.Sqrt(r.Sigmas[i + 1] * r.Sigmas[i + 1] + 1) : 1;
            int draws = 0;
            var latent = tensor(x) * inScale;
            Numerics.AssertClose(x, ReferenceSampler.ScaleModelInput(r, i, latent).data<float>().ToArray(), Fp32, "scale_model_input", log);
            var next = ReferenceSampler.Step(r, i, latent, tensor(m), () => { draws++; return tensor(noise); }) * outScale;
            var c = e.Step(i);
            var expected = new float[Count];
            for (int j = 0; j < Count; j++) expected[j] = (float)(c.A * x[j] + c.B * m[j] + c.C * noise[j]);
            Numerics.AssertClose(expected, next.data<float>().ToArray(), Fp32, $"{kind} on {cls} (v {v}) step {i}", log);
            Assert.Equal(c.C != 0 ? 1 : 0, draws);
            Assert.Equal(ReferenceSampler.UsesNoise(r, i), draws == 1);
        }
    }

    /// <summary>
    /// With the true ε (x_t = √ᾱ·x0 + √(1−ᾱ)·ε) DDIM and Euler land on the forward process √ᾱ'·x0 + √(1−ᾱ')·ε
    /// (σ-space: x0 + σ'·ε), the re-noising sampler on x0 + σ'·n, and the last step on x0. ᾱ is the test's closed form.
    /// </summary>
    [Theory]
    [InlineData(SamplerKind.Ddim, SchedulerConfig.Ddim)]
    [InlineData(SamplerKind.Euler, SchedulerConfig.EulerDiscrete)]
    [InlineData(SamplerKind.StudentRenoise, SchedulerConfig.EulerDiscrete)]
    [InlineData(SamplerKind.StudentRenoise, SchedulerConfig.Ddim)]
    public void StepWithTheTrueNoiseFollowsTheForwardProcess(SamplerKind kind, string cls)
    {
        var config = Config(cls, v: false);
        var r = ReferenceScheduler.Create(config, new ReferenceSchedule(config), kind, 4);
        var ab = ScheduleValues.AlphasCumprod(ScheduleValues.Sd);
        var (x0, eps, noise) = Inputs(7);
        int[] ts = [999, 749, 499, 249];
        for (int i = 0; i < 4; i++)
        {
            using var scope = NewDisposeScope();
            double a = ab[ts[i]], aN = i + 1 < 4 ? ab[ts[i + 1]] : 1;
            double sN = Math.Sqrt((1 - aN) / aN);
            bool sigmaSpace = cls != SchedulerConfig.Ddim;
            var xt = x0.Select((v, j) => (float)(sigmaSpace ? v + Math.Sqrt((1 - a) / a) * eps[j] : Math.Sqrt(a) * v + Math.Sqrt(1 - a) * eps[j])).ToArray();
            var actual = ReferenceSampler.Step(r, i, tensor(xt), tensor(eps), () => tensor(noise)).data<float>().ToArray();
            var n = kind == SamplerKind.StudentRenoise ? noise : eps;
            var expected = x0.Select((v, j) => (float)(sigmaSpace ? v + sN * n[j] : Math.Sqrt(aN) * v + Math.Sqrt(1 - aN) * n[j])).ToArray();
            Numerics.AssertClose(expected, actual, Fp32, $"{kind} on {cls} step {i} with the true ε", log);
        }
    }

    /// <summary>
    /// diffusers' EulerAncestralDiscreteScheduler loop written here over doubles (sd-turbo.md §2.1): sample =
    /// init_noise_sigma·noise; each step m = model(sample/√(σ² + 1)), x̂0 = sample − σ·m, d = (sample − x̂0)/σ,
    /// sample += (σ_down − σ)·d + σ_up·n. The reference's ScaleModelInput/Step loop must end on the same latent.
    /// </summary>
    [Fact]
    public void EulerAncestralLoopMatchesDiffusers()
    {
        var config = Config(SchedulerConfig.EulerAncestralDiscrete, v: false);
        var r = ReferenceScheduler.Create(config, new ReferenceSchedule(config), SamplerKind.EulerAncestral, 4);
        var (xT, _, _) = Inputs(3);
        var noises = Enumerable.Range(0, 4).Select(i => Inputs(100 + i).Noise).ToArray();
        static double Model(double input, double t) => 0.6 * input + 0.2 * Math.Sin(0.01 * t + input);
        double[] sg = [.. ScheduleValues.SdTrailing4Sigmas, 0];
        double[] ts = [999, 749, 499, 249];
        var sample = xT.Select(v => v * sg[0]).ToArray();
        for (int i = 0; i < 4; i++)
        {
            double s = sg[i], sN = sg[i + 1];
            double up = Math.Sqrt(sN * sN * (s * s - sN * sN) / (s * s)), down = Math.Sqrt(sN * sN - up * up);
            for (int j = 0; j < sample.Length; j++)
            {
                double e = Model((float)(sample[j] / Math.Sqrt(s * s + 1)), ts[i]);
                double x0 = sample[j] - s * e;
                sample[j] += (down - s) * (sample[j] - x0) / s + up * noises[i][j];
            }
        }
        float[] actual;
        using (NewDisposeScope())
        {
            var x = ReferenceSampler.InitialLatent(r, tensor(xT));
            int drawn = 0;
            for (int i = 0; i < 4; i++)
            {
                var input = ReferenceSampler.ScaleModelInput(r, i, x).data<float>().ToArray();
                var m = tensor(input.Select(v => (float)Model(v, r.Timesteps[i])).ToArray());
                x = ReferenceSampler.Step(r, i, x, m, () => tensor(noises[drawn++]));
            }
            Assert.Equal(3, drawn);
            actual = x.data<float>().ToArray();
        }
        Numerics.AssertClose(sample.Select(v => (float)v).ToArray(), actual, LoopTolerance, "Euler-ancestral 4-step loop vs diffusers", log);
    }

    /// <summary>Four steps on latents up to σ_max·|x| ≈ 60, each feeding the model an input that differs by fp32 rounding
    /// (the model's slope 0.6 keeps it from growing): a few times <see cref="Fp32"/> of that range.</summary>
    private static readonly Tolerance LoopTolerance = new(Atol: 1e-4, Rtol: 1e-4);

    /// <summary>The loop on a tiny random UNet: the hook sees every step's UNet output (2N rows with guidance), fresh
    /// noise is drawn once per non-final re-noising step, and the result is finite and shaped like the input.</summary>
    [Theory]
    [InlineData(SamplerKind.StudentRenoise, 0.0, 3)]
    [InlineData(SamplerKind.Ddim, 4.0, 0)]
    [InlineData(SamplerKind.EulerAncestral, 2.0, 3)]
    public void SampleLoopCallsHooksAndDrawsNoise(SamplerKind kind, double guidance, int expectedDraws)
    {
        manual_seed(3);
        var unet = new UNet2DConditionModel(UNet2DConditionConfig.Emoji32 with
        {
            SampleSize = 4, BlockOutChannels = [8, 16], DownBlockTypes = ["CrossAttnDownBlock2D", "DownBlock2D"], UpBlockTypes = ["UpBlock2D", "CrossAttnUpBlock2D"],
            CrossAttentionDim = 8, AttentionHeadDim = 2, NormNumGroups = 4,
        });
        unet.eval();
        using var scope = NewDisposeScope();
        int n = 2, rows = guidance > 1 ? 2 * n : n;
        var context = randn(rows, 3, 8);
        var x = randn(n, 4, 4, 4);
        var seen = new List<(int Step, long Rows)>();
        int draws = 0;
        var config = Config(kind == SamplerKind.Ddim ? SchedulerConfig.Ddim : SchedulerConfig.EulerAncestralDiscrete, v: false);
        var s = ReferenceScheduler.Create(config, new ReferenceSchedule(config), kind, 4);
        var result = ReferenceSampler.Sample(unet, s, guidance, context, x,
            () => { draws++; return randn(n, 4, 4, 4); }, (i, eps) => seen.Add((i, eps.shape[0])));
        Assert.Equal(Enumerable.Range(0, 4).Select(i => (i, (long)rows)), seen);
        Assert.Equal(expectedDraws, draws);
        Assert.Equal(x.shape, result.shape);
        Assert.True(result.isfinite().all().item<bool>());
        Assert.False(x.IsInvalid, "the caller's initial latent stays alive");
    }
}
