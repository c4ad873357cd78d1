using Add.Engine.Configs;

namespace Add.Engine.Sampling;

/// <summary>
/// The DDPM forward process q(x_t | x_0) = N(√ᾱ_t x_0, (1 − ᾱ_t) I) (Ho et al. 2020, Eq. 4).
/// scaled_linear (Stable Diffusion): β_t = (√β_start + t/(T−1)·(√β_end − √β_start))²; ᾱ_t = Π_{s≤t} (1 − β_s).
/// Computed in float64 so the engine and the reference use identical coefficients.
/// </summary>
public sealed class NoiseSchedule
{
    /// <summary>ᾱ_t for t = 0..T−1.</summary>
    public double[] AlphasCumprod { get; }
    public int NumTrainTimesteps => AlphasCumprod.Length;

    public NoiseSchedule(SchedulerConfig config)
    {
        config.Validate();
        int n = config.NumTrainTimesteps;
        var betas = new double[n];
        for (int t = 0; t < n; t++)
        {
            double f = t / (double)(n - 1);
            betas[t] = config.BetaSchedule == "scaled_linear"
                ? Math.Pow(Math.Sqrt(config.BetaStart) + f * (Math.Sqrt(config.BetaEnd) - Math.Sqrt(config.BetaStart)), 2)
                : config.BetaStart + f * (config.BetaEnd - config.BetaStart);
        }
        AlphasCumprod = new double[n];
        double prod = 1;
        for (int t = 0; t < n; t++) { prod *= 1 - betas[t]; AlphasCumprod[t] = prod; }
    }

    /// <summary>√ᾱ_t (signal scale).</summary>
    public double SqrtAlphaBar(int t) => Math.Sqrt(AlphasCumprod[t]);
    /// <summary>√(1 − ᾱ_t) (noise scale).</summary>
    public double SqrtOneMinusAlphaBar(int t) => Math.Sqrt(1 - AlphasCumprod[t]);
    /// <summary>Karras/EDM sigma of timestep t: σ_t = √((1 − ᾱ_t)/ᾱ_t), so x_t/√ᾱ_t = x_0 + σ_t ε.</summary>
    public double Sigma(int t) => Math.Sqrt((1 - AlphasCumprod[t]) / AlphasCumprod[t]);

    /// <summary>
    /// Teacher timesteps for an N-step sampler, "trailing" spacing (Lin et al. 2024, Table 2): t_i = round(T − i·T/N) − 1,
    /// so the first step always starts from t = T − 1 (pure noise) — diffusers' timestep_spacing="trailing".
    /// </summary>
    public int[] TrailingTimesteps(int steps)
    {
        if (steps < 1 || steps > NumTrainTimesteps) throw new ArgumentOutOfRangeException(nameof(steps), steps, $"steps must be in 1..{NumTrainTimesteps}");
        double ratio = NumTrainTimesteps / (double)steps;
        return Enumerable.Range(0, steps).Select(i => (int)Math.Round(NumTrainTimesteps - i * ratio) - 1).ToArray();
    }

    /// <summary>
    /// Student timesteps (DESIGN.md §5): a trailing subset of the training set {999, 749, 499, 249}:
    /// 1 step = [999], 2 = [999, 499], 4 = all four.
    /// </summary>
    public static int[] StudentTimesteps(int[] trainingTimesteps, int steps)
    {
        if (steps < 1 || steps > trainingTimesteps.Length)
            throw new ArgumentOutOfRangeException(nameof(steps), steps, $"a student runs 1..{trainingTimesteps.Length} steps");
        double stride = trainingTimesteps.Length / (double)steps;
        return Enumerable.Range(0, steps).Select(i => trainingTimesteps[(int)Math.Floor(i * stride)]).ToArray();
    }
}
