using Add.Engine.Configs;
using Add.Engine.Sampling;
using static Add.Tests.Sampling.ScheduleValues;

namespace Add.Tests.Sampling;

/// <summary>The engine's <see cref="NoiseSchedule"/> against values computed here and diffusers' published ones.</summary>
public sealed class NoiseScheduleTests
{
    /// <summary>β_0 = 1 − ᾱ_0 and β_{T−1} = 1 − ᾱ_{T−1}/ᾱ_{T−2} recovered from ᾱ: one subtraction or division of values
    /// near 1 loses ~1e-16 absolute, so 1e-9 relative of a β ≥ 1e-4 is ample and still catches any other β.</summary>
    private const double BetaRelTolerance = 1e-9;

    /// <summary>The sigmas quoted from diffusers are Python float64 of the closed form: only ordering differences remain.</summary>
    private const double SigmaRelTolerance = 1e-12;

    [Theory]
    [InlineData("scaled_linear")]
    [InlineData("linear")]
    public void FirstAndLastBetasAreTheConfiguredEnds(string schedule)
    {
        var config = schedule == "linear" ? Linear : Sd;
        var ab = new NoiseSchedule(config).AlphasCumprod;
        AssertRelClose(config.BetaStart, 1 - ab[0], BetaRelTolerance, "β_0");
        AssertRelClose(config.BetaEnd, 1 - ab[^1] / ab[^2], BetaRelTolerance, "β_{T-1}");
    }

    [Theory]
    [InlineData("scaled_linear")]
    [InlineData("linear")]
    public void AlphasCumprodMatchesTheClosedForm(string schedule)
    {
        var config = schedule == "linear" ? Linear : Sd;
        var expected = AlphasCumprod(config);
        var actual = new NoiseSchedule(config).AlphasCumprod;
        Assert.Equal(config.NumTrainTimesteps, actual.Length);
        for (int t = 0; t < expected.Length; t++) AssertRelClose(expected[t], actual[t], ProductRelTolerance, $"ᾱ_{t} ({schedule})");
    }

    [Fact]
    public void ScaledLinearMidpointBetaIsTheSquareOfTheMeanRoot()
    {
        // A 3-step schedule: β_1 = ((√β_s + √β_e)/2)², so ᾱ_1/ᾱ_0 = 1 − β_1 (distinguishes scaled_linear from linear).
        var config = Sd with { NumTrainTimesteps = 3 };
        var ab = new NoiseSchedule(config).AlphasCumprod;
        double mid = Math.Pow((Math.Sqrt(0.00085) + Math.Sqrt(0.012)) / 2, 2);
        AssertRelClose(mid, 1 - ab[1] / ab[0], BetaRelTolerance, "β_1");
    }

    [Fact]
    public void SigmaMatchesDiffusersValues()
    {
        var schedule = new NoiseSchedule(Sd);
        AssertRelClose(SdSigma999, schedule.Sigma(999), SigmaRelTolerance, "σ(999)");
        int[] ts = [999, 749, 499, 249];
        for (int i = 0; i < ts.Length; i++) AssertRelClose(SdTrailing4Sigmas[i], schedule.Sigma(ts[i]), SigmaRelTolerance, $"σ({ts[i]})");
        AssertRelClose(Math.Sqrt(schedule.AlphasCumprod[999]), schedule.SqrtAlphaBar(999), SigmaRelTolerance, "√ᾱ");
        AssertRelClose(Math.Sqrt(1 - schedule.AlphasCumprod[999]), schedule.SqrtOneMinusAlphaBar(999), SigmaRelTolerance, "√(1−ᾱ)");
    }

    /// <summary>np.interp over the training σ's: the value at integers, the straight line between them, the ends held.</summary>
    [Fact]
    public void InterpolatedSigmaIsLinearBetweenTrainingTimesteps()
    {
        var schedule = new NoiseSchedule(Sd);
        var sigmas = Sigmas(Sd);
        AssertRelClose(sigmas[499], schedule.InterpolatedSigma(499), SigmaRelTolerance, "σ(499)");
        AssertRelClose((sigmas[499] + sigmas[500]) / 2, schedule.InterpolatedSigma(499.5), SigmaRelTolerance, "σ(499.5)");
        AssertRelClose(0.75 * sigmas[166] + 0.25 * sigmas[167], schedule.InterpolatedSigma(166.25), SigmaRelTolerance, "σ(166.25)");
        AssertRelClose(sigmas[999], schedule.InterpolatedSigma(1200), SigmaRelTolerance, "σ above T − 1");
        AssertRelClose(sigmas[0], schedule.InterpolatedSigma(-3), SigmaRelTolerance, "σ below 0");
    }

    [Fact]
    public void InvalidConfigIsRefused() =>
        Assert.Throws<InvalidDataException>(() => new NoiseSchedule(new SchedulerConfig { BetaSchedule = "squaredcos_cap_v2" }));
}
