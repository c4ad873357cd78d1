using Add.Engine.Configs;
using Add.Engine.Sampling;
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
        // 1 − x as ones − x, not the double operator: TorchSharp 0.107 turns a double operand into a Scalar temporary that
        // nothing keeps alive during the native call, so a GC on another thread can finalize (free) it while libtorch reads
        // it: CI failed once here with "Expected false to be true" from Scalar::toDouble (upstream: dotnet/TorchSharp#1434).
        var ones = ones_like(betas);
        var alphasCumprod = (ones - betas).cumprod(0, ScalarType.Float64);
        var sigmas = ((ones - alphasCumprod) / alphasCumprod).sqrt();
        Betas = betas.data<double>().ToArray();
        AlphasCumprod = alphasCumprod.data<double>().ToArray();
        Sigmas = sigmas.data<double>().ToArray();
    }
}

/// <summary>
/// One run's timesteps, noise levels and initial noise as diffusers' <c>set_timesteps</c> and <c>init_noise_sigma</c>
/// compute them (EulerDiscreteScheduler, EulerAncestralDiscreteScheduler, DDIMScheduler @58eb52c), written here with
/// torch ops and the reference's own double math from those definitions, never from the engine's.
/// <para>
/// The update rule is <see cref="Kind"/>; the diffusers class whose timesteps, space and initial noise the run uses is
/// <see cref="Class"/>: the sampler's own class for DDIM / Euler / Euler-ancestral (diffusers' from_config on the
/// model's keys), the config's class for the ADD re-noising sampler.
/// </para>
/// </summary>
public sealed record ReferenceScheduler
{
    public required SamplerKind Kind { get; init; }
    /// <summary>Ddim, Euler or EulerAncestral: the diffusers class.</summary>
    public required SamplerKind Class { get; init; }
    /// <summary>num_inference_steps given to set_timesteps.</summary>
    public required int Steps { get; init; }
    public required int NumTrainTimesteps { get; init; }
    /// <summary>The timesteps the UNet receives, highest first.</summary>
    public required double[] Timesteps { get; init; }
    /// <summary>Euler classes: diffusers' sigmas (one per step, then 0). DDIM: σ = √((1−ᾱ)/ᾱ) of each step's ᾱ_t,
    /// then of alpha_prod_t_prev of the last step (for comparison only).</summary>
    public required double[] Sigmas { get; init; }
    /// <summary>The level the step leaves the latent at, as ᾱ: DDIM alphas_cumprod[t − T//N] or final_alpha_cumprod;
    /// Euler 1/(1 + σ_next²); re-noising: the next timestep's.</summary>
    public required double[] PrevAlphaBars { get; init; }
    /// <summary>DDIM only: alphas_cumprod at each step's timestep.</summary>
    public required double[] AlphaBars { get; init; }
    public required double InitNoiseSigma { get; init; }
    public required bool VPrediction { get; init; }

    /// <summary>Whether the class's latent is σ-space x̃ = x_0 + σ·ε (the Euler classes).</summary>
    public bool SigmaSpace => Class != SamplerKind.Ddim;

    public int Count => Timesteps.Length;

    /// <summary>The run from step <paramref name="first"/> on (img2img: diffusers' <c>timesteps[t_start:]</c>).</summary>
    public ReferenceScheduler Skip(int first) => this with
    {
        Timesteps = Timesteps[first..], Sigmas = Sigmas[first..], PrevAlphaBars = PrevAlphaBars[first..], AlphaBars = AlphaBars[first..],
    };

    public static ReferenceScheduler Create(SchedulerConfig config, ReferenceSchedule schedule, SamplerKind kind, int steps)
    {
        int n = schedule.NumTrainTimesteps;
        if (steps < 1 || steps > n) throw new ArgumentOutOfRangeException(nameof(steps), steps, $"steps must be in 1..{n}");
        var cls = kind != SamplerKind.StudentRenoise ? kind : config.ClassName switch
        {
            SchedulerConfig.Ddim => SamplerKind.Ddim,
            SchedulerConfig.EulerAncestralDiscrete => SamplerKind.EulerAncestral,
            _ => SamplerKind.Euler,
        };
        string spacing = config.TimestepSpacing ?? (config.ClassName == SchedulerConfig.Ddim ? "leading" : "linspace");
        var t = Spacing(spacing, n, steps, config.StepsOffset, cls == SamplerKind.Ddim);
        if (t.Any(v => v < 0 || v > n - 1)) throw new ArgumentOutOfRangeException(nameof(steps), steps, $"timesteps [{string.Join(", ", t)}] leave 0..{n - 1}");
        var ab = schedule.AlphasCumprod;
        double Sigma(double alphaBar) => Math.Sqrt((1 - alphaBar) / alphaBar);
        double[] sigmas, prev, alphaBars;
        double init;
        if (cls != SamplerKind.Ddim)
        {
            sigmas = [.. t.Select(v => Interp(v, schedule.Sigmas)), 0.0];
            alphaBars = sigmas[..^1].Select(s => 1 / (s * s + 1)).ToArray();
            prev = sigmas[1..].Select(s => 1 / (s * s + 1)).ToArray();
            double max = sigmas.Max();
            init = spacing is "linspace" or "trailing" ? max : Math.Sqrt(max * max + 1);
        }
        else
        {
            alphaBars = t.Select(v => ab[(int)v]).ToArray();
            double final = (config.SetAlphaToOne ?? true) ? 1.0 : ab[0];
            prev = t.Select(v => (int)v - n / steps).Select(p => p >= 0 ? ab[p] : final).ToArray();
            if (kind == SamplerKind.StudentRenoise) prev = [.. alphaBars[1..], 1.0];
            sigmas = [.. alphaBars.Select(Sigma), Sigma(prev[^1])];
            init = 1;
        }
        return new ReferenceScheduler
        {
            Kind = kind, Class = cls, Steps = steps, NumTrainTimesteps = n, Timesteps = t, Sigmas = sigmas, PrevAlphaBars = prev,
            AlphaBars = alphaBars, InitNoiseSigma = init, VPrediction = config.PredictionType == "v_prediction",
        };
    }

    /// <summary>
    /// set_timesteps' spacings with torch ops (Lin et al. 2024, Table 2): leading <c>arange(N)·(T//N)</c> reversed +
    /// steps_offset; trailing <c>round(arange(T, 0, −T/N)) − 1</c> (the first N values: numpy's arange can return one
    /// more ≈ 0 for e.g. N = 61);
    /// linspace numpy's <c>linspace(0, T−1, N)</c> reversed, rounded to integers for DDIM, float32 for Euler.
    /// </summary>
    static double[] Spacing(string spacing, int n, int steps, int offset, bool ddim)
    {
        using var scope = NewDisposeScope();
        var t = spacing switch
        {
            "leading" => (arange(steps, ScalarType.Float64) * (n / steps)).flip(0) + offset,
            // numpy's arange fills start + i·((start + step) − start) (arraytypes' DOUBLE_fill), which is what decides
            // the x.5 cases (48 steps: 937.4999… → 936, not 937.5 → 937).
            "trailing" => ((n + arange(steps, ScalarType.Float64) * ((n - n / (double)steps) - n)).round() - 1),
            "linspace" => ddim ? NumpyLinspace(n - 1, steps).round().flip(0)
                : NumpyLinspace(n - 1, steps).to_type(ScalarType.Float32).to_type(ScalarType.Float64).flip(0),
            _ => throw new ArgumentException($"timestep_spacing '{spacing}' has no reference (leading, linspace, trailing)", nameof(spacing)),
        };
        return t.data<double>().ToArray();
    }

    /// <summary>numpy's <c>linspace(0, stop, N)</c>: arange(N)·(stop/(N − 1)), the last value exactly stop ([0] for N = 1).
    /// (torch.linspace computes its second half from the end, which differs in the last bit: 27 DDIM steps would round
    /// 499.49999999999994 and 499.5 differently.)</summary>
    static Tensor NumpyLinspace(double stop, int steps)
    {
        if (steps == 1) return zeros(1, ScalarType.Float64);
        var t = arange(steps, ScalarType.Float64) * (stop / (steps - 1));
        t[steps - 1] = stop;
        return t;
    }

    /// <summary>numpy's interp over xp = 0..T−1: fp[j] + (x − j)·(fp[j+1] − fp[j]) for j ≤ x &lt; j + 1.</summary>
    static double Interp(double x, double[] fp)
    {
        int j = Math.Clamp((int)Math.Floor(x), 0, fp.Length - 1);
        return j == fp.Length - 1 || x == j ? fp[j] : fp[j] + (x - j) * (fp[j + 1] - fp[j]);
    }
}
