using Add.Engine.Configs;
using Add.Engine.Sampling;
using Add.Tests.Kernels;
using Add.Train.Model;
using Add.Train.Pipeline;
using Xunit.Abstractions;
using static TorchSharp.torch;
using EngineStep = Add.Engine.Sampling.SamplerStep;

namespace Add.Tests.Sampling;

/// <summary>
/// The reference's sampler updates (<see cref="ReferenceSampler"/>) three ways: against the engine's coefficients, against
/// the forward process (with the true ε every deterministic sampler lands on x_t' exactly), and against diffusers'
/// σ-space Euler loop written here in plain double arithmetic.
/// </summary>
public sealed class ReferenceSamplerTests(ITestOutputHelper log)
{
    /// <summary>The reference works in fp32 tensors with intermediates up to x/√ᾱ_999 ≈ 14.6·|x| ≈ 60 (ulp 3.8e-6) and
    /// cancels them back to O(1); a few such roundings. Compared against float64 of the same formula. A wrong
    /// coefficient moves results by ≥ 1e-3.</summary>
    private static readonly Tolerance Fp32 = new(Atol: 2e-5, Rtol: 1e-5);

    private const int Count = 4 * 8 * 8 + 13;

    public static TheoryData<SamplerKind, int, int> Steps()
    {
        var data = new TheoryData<SamplerKind, int, int>();
        foreach (var kind in Enum.GetValues<SamplerKind>())
            foreach (var (t, tNext) in new[] { (999, 749), (749, 499), (249, -1), (999, -1), (500, 480), (999, 979), (19, -1) })
                data.Add(kind, t, tNext);
        return data;
    }

    private static (float[] X, float[] Eps, float[] Noise) Inputs(int seed, int count = Count)
    {
        var random = new Random(seed);
        return (Numerics.Normal(random, count), Numerics.Normal(random, count), Numerics.Normal(random, count));
    }

    private static float[] RunStep(SamplerKind kind, ReferenceSchedule s, int t, int tNext, float[] x, float[] eps, float[] noise, out int draws)
    {
        using var scope = NewDisposeScope();
        int calls = 0;
        var next = ReferenceSampler.Step(kind, s, t, tNext, tensor(x), tensor(eps), () => { calls++; return tensor(noise); });
        draws = calls;
        return next.data<float>().ToArray();
    }

    [Theory]
    [MemberData(nameof(Steps))]
    public void StepMatchesTheEngineCoefficients(SamplerKind kind, int t, int tNext)
    {
        var (x, eps, noise) = Inputs(42);
        var actual = RunStep(kind, new ReferenceSchedule(new SchedulerConfig()), t, tNext, x, eps, noise, out int draws);
        var c = EngineStep.Create(kind, new NoiseSchedule(new SchedulerConfig()), t, tNext);
        var expected = new float[Count];
        for (int i = 0; i < Count; i++) expected[i] = (float)(c.A * x[i] + c.B * eps[i] + c.C * noise[i]);
        Numerics.AssertClose(expected, actual, Fp32, $"{kind} {t}->{tNext}", log);
        Assert.Equal(c.C != 0 ? 1 : 0, draws);
        Assert.Equal(ReferenceSampler.UsesNoise(kind, tNext), draws == 1);
    }

    /// <summary>
    /// x_t = √ᾱ·x0 + √(1−ᾱ)·ε with the true ε: DDIM and Euler give √ᾱ'·x0 + √(1−ᾱ')·ε (both integrate the same
    /// trajectory exactly when ε̂ is constant along it), the student √ᾱ'·x0 + √(1−ᾱ')·n, Euler-ancestral
    /// √ᾱ'·(x0 + σ_down·ε + σ_up·n) with k-diffusion's closed forms σ_down = σ'²/σ, σ_up = σ'·√(1 − σ'²/σ²); the last
    /// step gives x0. ᾱ here is the test's own closed form.
    /// </summary>
    [Theory]
    [MemberData(nameof(Steps))]
    public void StepWithTheTrueNoiseFollowsTheForwardProcess(SamplerKind kind, int t, int tNext)
    {
        var (x0, eps, noise) = Inputs(7);
        var ab = ScheduleValues.AlphasCumprod(ScheduleValues.Sd);
        double a = ab[t], aN = tNext < 0 ? 1 : ab[tNext];
        double sigma = Math.Sqrt((1 - a) / a), sigmaN = Math.Sqrt((1 - aN) / aN);
        var xt = x0.Select((v, i) => (float)(Math.Sqrt(a) * v + Math.Sqrt(1 - a) * eps[i])).ToArray();
        var actual = RunStep(kind, new ReferenceSchedule(ScheduleValues.Sd), t, tNext, xt, eps, noise, out _);
        var expected = new float[Count];
        for (int i = 0; i < Count; i++)
            expected[i] = (float)(tNext < 0 ? x0[i] : kind switch
            {
                SamplerKind.Ddim or SamplerKind.Euler => Math.Sqrt(aN) * x0[i] + Math.Sqrt(1 - aN) * eps[i],
                SamplerKind.StudentRenoise => Math.Sqrt(aN) * x0[i] + Math.Sqrt(1 - aN) * noise[i],
                _ => Math.Sqrt(aN) * (x0[i] + sigmaN * sigmaN / sigma * eps[i] + sigmaN * Math.Sqrt(1 - sigmaN * sigmaN / (sigma * sigma)) * noise[i]),
            });
        Numerics.AssertClose(expected, actual, Fp32, $"{kind} {t}->{tNext} with the true ε", log);
    }

    /// <summary>
    /// diffusers' EulerDiscreteScheduler / EulerAncestralDiscreteScheduler loop in σ-space, written here over doubles:
    /// sample = x_T·√(σ_0² + 1); each step ε̂ = model(sample/√(σ² + 1)) (scale_model_input), x̂0 = sample − σ·ε̂,
    /// d = (sample − x̂0)/σ, sample += (σ_down − σ)·d + σ_up·n (Euler: σ_down = σ', σ_up = 0); σ = 0 after the last step.
    /// The reference's VP-space loop must end on the same latent.
    /// </summary>
    [Theory]
    [InlineData(SamplerKind.Euler)]
    [InlineData(SamplerKind.EulerAncestral)]
    public void EulerLoopMatchesDiffusersSigmaSpace(SamplerKind kind)
    {
        var schedule = new ReferenceSchedule(ScheduleValues.Sd);
        int[] ts = [999, 749, 499, 249];
        var (xT, _, _) = Inputs(3);
        var noises = Enumerable.Range(0, ts.Length).Select(i => Inputs(100 + i).Noise).ToArray();
        // A stand-in model: any fixed function of its input and t.
        static double Model(double input, int t) => 0.6 * input + 0.2 * Math.Sin(0.01 * t + input);

        var ab = ScheduleValues.AlphasCumprod(ScheduleValues.Sd);
        double Sigma(int t) => t < 0 ? 0 : Math.Sqrt((1 - ab[t]) / ab[t]);
        var sample = xT.Select(v => v * Math.Sqrt(Sigma(ts[0]) * Sigma(ts[0]) + 1)).ToArray();
        for (int i = 0; i < ts.Length; i++)
        {
            double s = Sigma(ts[i]), sN = Sigma(i + 1 < ts.Length ? ts[i + 1] : -1);
            double up = kind == SamplerKind.EulerAncestral ? Math.Sqrt(sN * sN * (s * s - sN * sN) / (s * s)) : 0;
            double down = Math.Sqrt(sN * sN - up * up);
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
            var x = tensor(xT);
            int drawn = 0;
            for (int i = 0; i < ts.Length; i++)
            {
                var eps = tensor(x.data<float>().ToArray().Select(v => (float)Model(v, ts[i])).ToArray());
                x = ReferenceSampler.Step(kind, schedule, ts[i], i + 1 < ts.Length ? ts[i + 1] : -1, x, eps, () => tensor(noises[drawn++]));
            }
            actual = x.data<float>().ToArray();
        }
        Numerics.AssertClose(sample.Select(v => (float)v).ToArray(), actual, LoopTolerance, $"{kind} 4-step loop vs diffusers σ-space", log);
    }

    /// <summary>Four steps, each feeding the model an input that differs by fp32 rounding (the model's slope 0.6 keeps it
    /// from growing): a few times <see cref="Fp32"/>.</summary>
    private static readonly Tolerance LoopTolerance = new(Atol: 1e-4, Rtol: 1e-4);

    [Fact]
    public void StepRefusesTimestepsOutOfOrder()
    {
        var s = new ReferenceSchedule(ScheduleValues.Sd);
        using var scope = NewDisposeScope();
        var x = zeros(4);
        Assert.Throws<ArgumentOutOfRangeException>(() => ReferenceSampler.Step(SamplerKind.Ddim, s, 499, 499, x, x, () => x));
        Assert.Throws<ArgumentOutOfRangeException>(() => ReferenceSampler.Step(SamplerKind.Ddim, s, 1000, 499, x, x, () => x));
    }

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
        var result = ReferenceSampler.Sample(unet, new ReferenceSchedule(ScheduleValues.Sd), kind, [999, 749, 499, 249], guidance, context, x,
            () => { draws++; return randn(n, 4, 4, 4); }, (i, eps) => seen.Add((i, eps.shape[0])));
        Assert.Equal(Enumerable.Range(0, 4).Select(i => (i, (long)rows)), seen);
        Assert.Equal(expectedDraws, draws);
        Assert.Equal(x.shape, result.shape);
        Assert.True(result.isfinite().all().item<bool>());
        Assert.False(x.IsInvalid, "the caller's initial latent stays alive");
    }
}
