using Add.Engine.Configs;

namespace Add.Engine.Sampling;

/// <summary>
/// The DDPM forward process q(x_t | x_0) = N(√ᾱ_t x_0, (1 − ᾱ_t) I) (Ho et al. 2020, Eq. 4) at the training timesteps
/// t = 0..T−1. scaled_linear (Stable Diffusion): β_t = (√β_start + t/(T−1)·(√β_end − √β_start))²; linear:
/// β_t = β_start + t/(T−1)·(β_end − β_start); ᾱ_t = Π_{s≤t} (1 − β_s). Computed in float64 (diffusers uses float32;
/// float64 is the exact value of the same formula, ~1e-5 relative apart at t = 999).
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
    /// σ at a fractional timestep, linear between the neighbouring training σ's (diffusers' Euler schedulers:
    /// <c>np.interp(timesteps, arange(T), sigmas)</c>, which holds the end values outside [0, T−1]).
    /// </summary>
    public double InterpolatedSigma(double t)
    {
        if (double.IsNaN(t)) throw new ArgumentOutOfRangeException(nameof(t), t, "timestep is NaN");
        if (t <= 0) return Sigma(0);
        if (t >= NumTrainTimesteps - 1) return Sigma(NumTrainTimesteps - 1);
        int lo = (int)Math.Floor(t);
        double w = t - lo;
        return w == 0 ? Sigma(lo) : Sigma(lo) + w * (Sigma(lo + 1) - Sigma(lo));
    }
}
