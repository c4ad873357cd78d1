using Add.Engine.Configs;
using Add.Engine.Sampling;
using Add.Train.Pipeline;
using Add.Train.Training;
using Xunit.Abstractions;
using static Add.Tests.Sampling.ScheduleValues;

namespace Add.Tests.Sampling;

/// <summary>The reference's torch-op <see cref="ReferenceSchedule"/> against the same values as the engine's schedule.</summary>
public sealed class ReferenceScheduleTests(ITestOutputHelper log)
{
    /// <summary>torch.linspace computes start + i·step (end − (T−1−i)·step in its second half), the closed form
    /// start + (i/(T−1))·(end − start): a few ulp of a β, so 1e-12 relative.</summary>
    private const double BetaRelTolerance = 1e-12;

    private const double SigmaRelTolerance = 1e-12;

    [Theory]
    [InlineData("scaled_linear")]
    [InlineData("linear")]
    public void BetasAndAlphasCumprodMatchTheClosedForm(string schedule)
    {
        var config = schedule == "linear" ? Linear : Sd;
        var s = new ReferenceSchedule(config);
        Assert.Equal(config.NumTrainTimesteps, s.Betas.Length);
        AssertRelClose(config.BetaStart, s.Betas[0], BetaRelTolerance, "β_0");
        AssertRelClose(config.BetaEnd, s.Betas[^1], BetaRelTolerance, "β_{T-1}");
        var expected = AlphasCumprod(config);
        for (int t = 0; t < expected.Length; t++)
        {
            AssertRelClose(Beta(config, t), s.Betas[t], BetaRelTolerance, $"β_{t}");
            AssertRelClose(expected[t], s.AlphasCumprod[t], ProductRelTolerance, $"ᾱ_{t}");
            AssertRelClose(Math.Sqrt((1 - expected[t]) / expected[t]), s.Sigmas[t], ProductRelTolerance, $"σ_{t}");
        }
    }

    [Fact]
    public void SigmasMatchDiffusersValues()
    {
        var s = new ReferenceSchedule(Sd);
        AssertRelClose(SdSigma999, s.Sigmas[999], SigmaRelTolerance, "σ(999)");
        int[] ts = [999, 749, 499, 249];
        for (int i = 0; i < ts.Length; i++) AssertRelClose(SdTrailing4Sigmas[i], s.Sigmas[ts[i]], SigmaRelTolerance, $"σ({ts[i]})");
    }

    [Theory]
    [InlineData(1, new double[] { 999 })]
    [InlineData(2, new double[] { 999, 499 })]
    [InlineData(3, new double[] { 999, 666, 332 })]
    [InlineData(4, new double[] { 999, 749, 499, 249 })]
    [InlineData(16, new double[] { 999, 937, 874, 811, 749, 687, 624, 561, 499, 437, 374, 311, 249, 187, 124, 61 })]
    public void TrailingTimesteps(int steps, double[] expected)
    {
        var s = ReferenceScheduler.Create(Sd with { TimestepSpacing = "trailing" }, new ReferenceSchedule(Sd), SamplerKind.Euler, steps);
        Assert.Equal(expected, s.Timesteps);
        Assert.Equal(steps + 1, s.Sigmas.Length);
        AssertRelClose(SdSigma999, s.InitNoiseSigma, SigmaRelTolerance, "init_noise_sigma");
    }

    [Fact]
    public void DdimLeadingFiftyStepsWithOffsetOne()
    {
        var ab = AlphasCumprod(Sd);
        var c = Sd with { ClassName = SchedulerConfig.Ddim, ClipSample = false, StepsOffset = 1, SetAlphaToOne = false };
        var s = ReferenceScheduler.Create(c, new ReferenceSchedule(c), SamplerKind.Ddim, 50);
        Assert.Equal(Enumerable.Range(0, 50).Select(i => 981.0 - 20 * i), s.Timesteps);
        AssertRelClose(ab[0], s.PrevAlphaBars[^1], ProductRelTolerance, "final_alpha_cumprod");
        AssertRelClose(ab[941], s.PrevAlphaBars[1], ProductRelTolerance, "ᾱ_prev of 961");
        Assert.Equal(1.0, s.InitNoiseSigma);
    }

    /// <summary>The engine's plan and the reference agree for every spacing, class and step count: timesteps exactly,
    /// sigmas, the level each step goes to and init_noise_sigma to float64 rounding.</summary>
    [Fact]
    public void SchedulesAgreeWithTheEngineForEveryStepCount()
    {
        var reference = new ReferenceSchedule(Sd);
        var engine = new NoiseSchedule(Sd);
        int compared = 0;
        foreach (var spacing in new[] { "leading", "linspace", "trailing" })
            foreach (var cls in new[] { SchedulerConfig.EulerDiscrete, SchedulerConfig.EulerAncestralDiscrete, SchedulerConfig.Ddim })
                foreach (var kind in Enum.GetValues<SamplerKind>())
                {
                    var c = Sd with { ClassName = cls, ClipSample = false, TimestepSpacing = spacing, StepsOffset = spacing == "leading" ? 1 : 0 };
                    for (int steps = 1; steps <= 1000; steps += steps < 64 ? 1 : 37)
                    {
                        if (spacing == "leading" && (steps - 1) * (1000 / steps) + 1 > 999) continue;
                        var e = SamplingSchedule.Create(c, engine, kind, steps);
                        var r = ReferenceScheduler.Create(c, reference, kind, steps);
                        Assert.Equal(r.Timesteps, e.Timesteps);
                        AssertAll(r.Sigmas, e.Sigmas, $"{cls} {spacing} {kind} {steps} σ");
                        AssertAll(r.PrevAlphaBars, e.NextAlphaBars, $"{cls} {spacing} {kind} {steps} next ᾱ");
                        AssertRelClose(r.InitNoiseSigma, e.InitNoiseSigma, ScheduleRelTolerance, $"{cls} {spacing} {kind} {steps} init_noise_sigma");
                        compared++;
                    }
                }
        log.WriteLine($"{compared} schedules compared");
    }

    /// <summary>Two float64 implementations of the same ᾱ table and σ (the engine via ᾱ = 1/(1 + σ²) and back): ~1e-15.</summary>
    private const double ScheduleRelTolerance = 1e-12;

    private static void AssertAll(double[] expected, double[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= ScheduleRelTolerance * Math.Max(1e-3, Math.Abs(expected[i])), $"{what}[{i}]: {expected[i]:R} vs {actual[i]:R}");
    }

    /// <summary>
    /// The engine's float64 loop and the reference's torch ops agree to a few ulp. Training (TeacherTrainer, AddStep)
    /// reads the reference schedule through float32 values: √ᾱ, √(1−ᾱ) and both distillation weights c(ᾱ); those are
    /// bit-identical to what the engine's schedule gave before training switched to the reference's.
    /// </summary>
    [Theory]
    [InlineData("scaled_linear")]
    [InlineData("linear")]
    public void AlphasCumprodAgreeWithTheEngine(string schedule)
    {
        var config = schedule == "linear" ? Linear : Sd;
        var engine = new NoiseSchedule(config).AlphasCumprod;
        var reference = new ReferenceSchedule(config).AlphasCumprod;
        int bitEqual = 0;
        for (int t = 0; t < engine.Length; t++)
        {
            AssertRelClose(engine[t], reference[t], ProductRelTolerance, $"ᾱ_{t}");
            if (engine[t] == reference[t]) bitEqual++;
            Assert.Equal((float)Math.Sqrt(engine[t]), (float)Math.Sqrt(reference[t]));
            Assert.Equal((float)Math.Sqrt(1 - engine[t]), (float)Math.Sqrt(1 - reference[t]));
            foreach (var w in Enum.GetValues<DistillWeighting>())
                Assert.Equal((float)AddLosses.Weight(w, engine[t]), (float)AddLosses.Weight(w, reference[t]));
        }
        log.WriteLine($"{schedule}: {bitEqual} of {engine.Length} ᾱ bit-identical in float64; every float32 training value identical");
    }
}
