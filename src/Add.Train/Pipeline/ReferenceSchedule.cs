using Add.Engine.Configs;
using static TorchSharp.torch;

namespace Add.Train.Pipeline;

/// <summary>
/// The reference's DDPM noise schedule, computed with torch ops from diffusers' definitions (DDPMScheduler /
/// EulerDiscreteScheduler <c>__init__</c> and <c>set_timesteps</c>), never from the engine's schedule it checks.
/// Forward process q(x_t | x_0) = N(√ᾱ_t·x_0, (1 − ᾱ_t)·I) (Ho et al. 2020, Eq. 4), t = 0..T−1.
/// <para>
/// Computed in float64 (diffusers computes betas and ᾱ in float32; float64 is the exact value of the same formula, and
/// the engine's coefficients are float64 too, so the two agree to float rounding instead of to float32's cumprod drift,
/// ~1e-5 relative at t = 999).
/// </para>
/// </summary>
public sealed class ReferenceSchedule
{
    /// <summary>β_t, t = 0..T−1.</summary>
    public double[] Betas { get; }

    /// <summary>ᾱ_t = Π_{s≤t} (1 − β_s) (Ho et al. 2020, §2: α_t = 1 − β_t, ᾱ_t = Π α_s).</summary>
    public double[] AlphasCumprod { get; }

    /// <summary>σ_t = √((1 − ᾱ_t)/ᾱ_t): the noise level of x_t/√ᾱ_t = x_0 + σ_t·ε (Karras et al. 2022, Table 1 "VP";
    /// diffusers EulerDiscreteScheduler's <c>sigmas</c> before interpolation).</summary>
    public double[] Sigmas { get; }

    public int NumTrainTimesteps => AlphasCumprod.Length;

    public ReferenceSchedule(SchedulerConfig config)
    {
        int n = config.NumTrainTimesteps;
        if (n < 2) throw new ArgumentOutOfRangeException(nameof(config), n, "num_train_timesteps must be at least 2");
        using var scope = NewDisposeScope();
        var betas = config.BetaSchedule switch
        {
            // diffusers: betas = torch.linspace(beta_start**0.5, beta_end**0.5, T) ** 2 ("scaled_linear", Stable Diffusion).
            "scaled_linear" => linspace(Math.Sqrt(config.BetaStart), Math.Sqrt(config.BetaEnd), n, ScalarType.Float64).square(),
            // diffusers: betas = torch.linspace(beta_start, beta_end, T) ("linear", Ho et al. 2020 §4).
            "linear" => linspace(config.BetaStart, config.BetaEnd, n, ScalarType.Float64),
            _ => throw new ArgumentException($"beta_schedule '{config.BetaSchedule}' has no reference (scaled_linear, linear)", nameof(config)),
        };
        var alphasCumprod = (1.0 - betas).cumprod(0, ScalarType.Float64);
        var sigmas = ((1.0 - alphasCumprod) / alphasCumprod).sqrt();
        Betas = betas.data<double>().ToArray();
        AlphasCumprod = alphasCumprod.data<double>().ToArray();
        Sigmas = sigmas.data<double>().ToArray();
    }

    /// <summary>
    /// Timesteps of an N-step sampler, diffusers' timestep_spacing="trailing" (Lin et al. 2024, "Common Diffusion Noise
    /// Schedules and Sample Steps are Flawed", Table 2): <c>round(arange(T, 0, −T/N)) − 1</c>, highest first, so the
    /// first step starts from t = T − 1. arange's i-th value is T − i·(T/N); round is half to even, as numpy's.
    /// </summary>
    public int[] TrailingTimesteps(int steps)
    {
        int n = NumTrainTimesteps;
        if (steps < 1 || steps > n) throw new ArgumentOutOfRangeException(nameof(steps), steps, $"steps must be in 1..{n}");
        using var scope = NewDisposeScope();
        var t = (n - arange(steps, ScalarType.Float64) * (n / (double)steps)).round() - 1;
        return t.to_type(ScalarType.Int32).data<int>().ToArray();
    }

    /// <summary>
    /// Student timesteps (DESIGN.md §5): N steps take a trailing subset of the K training timesteps (highest first),
    /// entry ⌊i·K/N⌋ for i = 0..N−1: of {999, 749, 499, 249}, 1 step = [999], 2 = [999, 499], 4 = all four.
    /// </summary>
    public static int[] StudentTimesteps(int[] trainingTimesteps, int steps)
    {
        int k = trainingTimesteps.Length;
        if (steps < 1 || steps > k) throw new ArgumentOutOfRangeException(nameof(steps), steps, $"a student runs 1..{k} steps");
        return Enumerable.Range(0, steps).Select(i => trainingTimesteps[i * k / steps]).ToArray();
    }
}
