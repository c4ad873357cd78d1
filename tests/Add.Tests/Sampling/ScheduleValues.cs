using Add.Engine.Configs;

namespace Add.Tests.Sampling;

/// <summary>
/// Expected schedule values shared by the engine's and the reference's schedule tests, each computed here in a way
/// neither implementation uses: ᾱ as exp(Σ log(1 − β_s)) instead of a running product.
/// </summary>
public static class ScheduleValues
{
    /// <summary>Stable Diffusion's schedule (scaled_linear 0.00085 → 0.012, T = 1000) on an EulerDiscreteScheduler.</summary>
    public static readonly SchedulerConfig Sd = new() { BetaSchedule = "scaled_linear", BetaStart = 0.00085, BetaEnd = 0.012 };

    /// <summary>Ho et al. 2020's linear schedule 1e-4 → 0.02.</summary>
    public static readonly SchedulerConfig Linear = new() { BetaSchedule = "linear", BetaStart = 1e-4, BetaEnd = 0.02 };

    /// <summary>σ_t = √((1 − ᾱ_t)/ᾱ_t) from <see cref="AlphasCumprod"/>.</summary>
    public static double[] Sigmas(SchedulerConfig c) => AlphasCumprod(c).Select(a => Math.Sqrt((1 - a) / a)).ToArray();

    /// <summary>σ(999) of SD's schedule in float64 (/work/shared/reference/sd-turbo.md §2.1: 14.614641…, diffusers'
    /// EulerDiscreteScheduler's largest sigma); these digits are Python's float64 of the closed form.</summary>
    public const double SdSigma999 = 14.614641229333643;

    /// <summary>σ at diffusers' trailing 4-step timesteps [999, 749, 499, 249] (sd-turbo.md: 14.61464, 4.08173, 1.61289, 0.6932).</summary>
    public static readonly double[] SdTrailing4Sigmas = [14.614641229333643, 4.081729363724309, 1.612886194303876, 0.6932048996386885];

    /// <summary>
    /// Float64 results of two different evaluation orders of the same 1,000-term product differ by ~T·ulp: 1e-12
    /// relative is ~4,000 ulp of headroom over that and still 7 orders below any wrong β (one β off by 1e-6 moves ᾱ by 1e-6).
    /// </summary>
    public const double ProductRelTolerance = 1e-12;

    /// <summary>β_t written out: scaled_linear (√β_start + t/(T−1)·(√β_end − √β_start))², linear β_start + t/(T−1)·(β_end − β_start).</summary>
    public static double Beta(SchedulerConfig c, int t)
    {
        double f = t / (double)(c.NumTrainTimesteps - 1);
        return c.BetaSchedule == "scaled_linear"
            ? Math.Pow(Math.Sqrt(c.BetaStart) + f * (Math.Sqrt(c.BetaEnd) - Math.Sqrt(c.BetaStart)), 2)
            : c.BetaStart + f * (c.BetaEnd - c.BetaStart);
    }

    /// <summary>ᾱ_t = exp(Σ_{s≤t} log(1 − β_s)): the closed form through logarithms, summed with Kahan compensation so
    /// the sum adds no error beyond each term's rounding.</summary>
    public static double[] AlphasCumprod(SchedulerConfig c)
    {
        var result = new double[c.NumTrainTimesteps];
        double logSum = 0, compensation = 0;
        for (int t = 0; t < result.Length; t++)
        {
            double y = Math.Log(1 - Beta(c, t)) - compensation;
            double sum = logSum + y;
            compensation = (sum - logSum) - y;
            logSum = sum;
            result[t] = Math.Exp(logSum);
        }
        return result;
    }

    public static void AssertRelClose(double expected, double actual, double rtol, string what) =>
        Assert.True(Math.Abs(actual - expected) <= rtol * Math.Abs(expected), $"{what}: expected {expected:R}, actual {actual:R} (rel err {Math.Abs(actual - expected) / Math.Abs(expected):E2} > {rtol:E1})");
}
