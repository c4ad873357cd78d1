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
    [InlineData(1, new[] { 999 })]
    [InlineData(2, new[] { 999, 499 })]
    [InlineData(3, new[] { 999, 666, 332 })]
    [InlineData(4, new[] { 999, 749, 499, 249 })]
    [InlineData(16, new[] { 999, 937, 874, 811, 749, 687, 624, 561, 499, 437, 374, 311, 249, 187, 124, 61 })]
    public void TrailingTimesteps(int steps, int[] expected) => Assert.Equal(expected, new ReferenceSchedule(Sd).TrailingTimesteps(steps));

    [Theory]
    [InlineData(1, new[] { 999 })]
    [InlineData(2, new[] { 999, 499 })]
    [InlineData(3, new[] { 999, 749, 499 })]
    [InlineData(4, new[] { 999, 749, 499, 249 })]
    public void StudentTimesteps(int steps, int[] expected) => Assert.Equal(expected, ReferenceSchedule.StudentTimesteps([999, 749, 499, 249], steps));

    /// <summary>Every step count the engine accepts gives the same timesteps in both (the engine's Plan for a teacher).</summary>
    [Fact]
    public void TimestepsAgreeWithTheEngineForEveryStepCount()
    {
        var reference = new ReferenceSchedule(Sd);
        var engine = new NoiseSchedule(Sd);
        for (int steps = 1; steps <= 1000; steps++)
            Assert.Equal(engine.TrailingTimesteps(steps), reference.TrailingTimesteps(steps));
        for (int steps = 1; steps <= 4; steps++)
            Assert.Equal(NoiseSchedule.StudentTimesteps([999, 749, 499, 249], steps), ReferenceSchedule.StudentTimesteps([999, 749, 499, 249], steps));
        Assert.Throws<ArgumentOutOfRangeException>(() => reference.TrailingTimesteps(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => ReferenceSchedule.StudentTimesteps([999, 749, 499, 249], 5));
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
