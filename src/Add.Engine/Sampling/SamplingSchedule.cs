using Add.Engine.Configs;

namespace Add.Engine.Sampling;

/// <summary>
/// One sampling run's schedule, as diffusers' scheduler computes it in <c>set_timesteps</c> (EulerDiscreteScheduler,
/// EulerAncestralDiscreteScheduler, DDIMScheduler @58eb52c), expressed in the engine's DDPM space: step i runs the
/// UNet at <see cref="Timesteps"/>[i] on x at level <see cref="AlphaBars"/>[i] (x = √ᾱ·x_0 + √(1−ᾱ)·ε, which is
/// diffusers' <c>scale_model_input</c> of its own latent), and leaves x at level <see cref="NextAlphaBars"/>[i]
/// (1 = clean). Stateless: <see cref="Step"/> gives each step's coefficients.
/// <para>
/// The update rule is <see cref="Kind"/>. A DDIM / Euler / Euler-ancestral sampler is that diffusers class applied to
/// the config's keys (diffusers' <c>XScheduler.from_config</c>): its timesteps, levels and initial noise. The ADD
/// re-noising sampler keeps those of the config's own class and re-noises to the next timestep of the list
/// (x̂0 after the last).
/// </para>
/// </summary>
public sealed record SamplingSchedule
{
    public required SamplerKind Kind { get; init; }
    /// <summary>The number of inference steps the schedule was made for (before an init image skips its head).</summary>
    public required int Steps { get; init; }
    /// <summary>The UNet's timestep per step, highest first (float32 values: fractional for the Euler classes' linspace).</summary>
    public required double[] Timesteps { get; init; }
    /// <summary>ᾱ of the UNet input at each step.</summary>
    public required double[] AlphaBars { get; init; }
    /// <summary>ᾱ after each step (1: clean).</summary>
    public required double[] NextAlphaBars { get; init; }
    /// <summary>diffusers' <c>init_noise_sigma</c>: its initial latent is this times N(0, I) (in its own space).</summary>
    public required double InitNoiseSigma { get; init; }
    /// <summary>Whether diffusers' latent for this scheduler is σ-space x̃ = x/√ᾱ (the Euler classes) or x itself (DDIM).</summary>
    public required bool SigmaSpace { get; init; }
    public required bool VPrediction { get; init; }

    public int Count => Timesteps.Length;

    /// <summary>diffusers' <c>sigmas</c>: σ = √((1−ᾱ)/ᾱ) of each step, then the one after the last step (0 when clean).</summary>
    public double[] Sigmas => [.. AlphaBars.Select(SigmaOf), SigmaOf(NextAlphaBars[^1])];

    /// <summary>diffusers' <c>scale_model_input</c> factor at step i (its latent → the UNet input x): 1/√(σ²+1) = √ᾱ in
    /// σ-space, 1 for DDIM.</summary>
    public double ModelInputScale(int i) => SigmaSpace ? Math.Sqrt(AlphaBars[i]) : 1;

    /// <summary>x at the first step = this × N(0, I): init_noise_sigma times <see cref="ModelInputScale"/>(0). For trailing
    /// or linspace Euler σ_max/√(σ_max²+1) = √(1−ᾱ_max); for leading Euler and for DDIM 1.</summary>
    public double InitialNoiseScale => InitNoiseSigma * ModelInputScale(0);

    /// <summary>Step i's coefficients.</summary>
    public SamplerStep Step(int i) => SamplerStep.Create(Kind, AlphaBars[i], NextAlphaBars[i], VPrediction);

    /// <summary>The schedule from step <paramref name="first"/> on (an init image runs the tail; diffusers' img2img
    /// <c>timesteps[t_start:]</c>).</summary>
    public SamplingSchedule Skip(int first) => this with
    {
        Timesteps = Timesteps[first..], AlphaBars = AlphaBars[first..], NextAlphaBars = NextAlphaBars[first..],
    };

    private static double SigmaOf(double alphaBar) => Math.Sqrt((1 - alphaBar) / alphaBar);

    /// <summary>
    /// The schedule of <paramref name="steps"/> steps of <paramref name="kind"/> on <paramref name="config"/>.
    /// Throws <see cref="ArgumentException"/> (the message names the keys) when the steps do not fit the training timesteps.
    /// </summary>
    public static SamplingSchedule Create(SchedulerConfig config, NoiseSchedule schedule, SamplerKind kind, int steps)
    {
        int n = schedule.NumTrainTimesteps;
        if (steps < 1 || steps > n) throw new ArgumentException($"steps {steps} out of range: num_train_timesteps {n} allows 1..{n} steps");
        var schedulerClass = kind == SamplerKind.StudentRenoise ? config.ClassKind : kind;
        bool sigmaSpace = schedulerClass != SamplerKind.Ddim;
        string spacing = config.Spacing;
        var timesteps = DiffusersTimesteps(spacing, n, steps, config.StepsOffset, roundLinspace: !sigmaSpace);
        if (timesteps[0] > n - 1)
            throw new ArgumentException(
                $"{steps} steps with timestep_spacing leading and steps_offset {config.StepsOffset} start at timestep {timesteps[0]}, beyond {n - 1}");
        var ab = schedule.AlphasCumprod;
        double[] levels, next;
        double initNoiseSigma;
        if (sigmaSpace)
        {
            // Euler classes: σ interpolated at each (float) timestep, then a final 0 (final_sigmas_type "zero").
            var sigmas = timesteps.Select(schedule.InterpolatedSigma).ToArray();
            levels = sigmas.Select(s => 1 / (1 + s * s)).ToArray();
            next = [.. levels[1..], 1.0];
            // init_noise_sigma: max σ for linspace/trailing, √(max σ² + 1) otherwise (the max over the run's sigmas).
            double max = sigmas.Max();
            initNoiseSigma = spacing is "linspace" or "trailing" ? max : Math.Sqrt(max * max + 1);
        }
        else
        {
            // DDIM: ᾱ at the integer timestep; the step goes to prev_timestep = t − T//N, or final_alpha_cumprod below 0.
            levels = timesteps.Select(t => ab[(int)t]).ToArray();
            int ratio = n / steps;
            double final = config.FinalAlphaIsOne ? 1.0 : ab[0];
            next = timesteps.Select(t => (int)t - ratio is var prev && prev >= 0 ? ab[prev] : final).ToArray();
            initNoiseSigma = 1;
        }
        if (kind == SamplerKind.StudentRenoise) next = [.. levels[1..], 1.0];
        return new SamplingSchedule
        {
            Kind = kind, Steps = steps, Timesteps = timesteps, AlphaBars = levels, NextAlphaBars = next,
            InitNoiseSigma = initNoiseSigma, SigmaSpace = sigmaSpace, VPrediction = config.VPrediction,
        };
    }

    /// <summary>
    /// diffusers' <c>set_timesteps</c> spacings (Lin et al. 2024, Table 2), highest first, as float32 values:
    /// leading <c>arange(N)·(T//N)</c> reversed, + steps_offset; trailing <c>round(arange(T, 0, −T/N)) − 1</c>;
    /// linspace <c>linspace(0, T−1, N)</c> reversed (DDIM rounds it to integers, the Euler classes keep the fractions).
    /// Rounding is half to even, as numpy's. (numpy's arange can return an (N+1)-th value ≈ 0 for some N, e.g. 61,
    /// because T/(T/N) rounds above N; diffusers would then run a timestep −1. We take the first N.)
    /// </summary>
    public static double[] DiffusersTimesteps(string spacing, int numTrainTimesteps, int steps, int stepsOffset, bool roundLinspace)
    {
        int n = numTrainTimesteps;
        var t = new double[steps];
        switch (spacing)
        {
            case "leading":
                int ratio = n / steps;
                for (int i = 0; i < steps; i++) t[i] = (steps - 1 - i) * ratio + stepsOffset;
                break;
            case "trailing":
                // numpy's arange fills start + i·((start + step) − start) (arraytypes' DOUBLE_fill): that rounding decides
                // the x.5 cases (48 steps: 937.4999… → 936, where the exact 937.5 would give 937).
                double delta = (n - n / (double)steps) - n;
                for (int i = 0; i < steps; i++) t[i] = Math.Round(n + i * delta, MidpointRounding.ToEven) - 1;
                break;
            case "linspace":
                // numpy linspace: start + i·(stop − start)/(N − 1), the last value exactly stop; N = 1 gives [start] = [0].
                double step = steps > 1 ? (n - 1) / (double)(steps - 1) : 0;
                for (int i = 0; i < steps; i++)
                {
                    int k = steps - 1 - i;
                    double v = k == steps - 1 && steps > 1 ? n - 1 : k * step;
                    t[i] = roundLinspace ? Math.Round(v, MidpointRounding.ToEven) : (float)v;
                }
                break;
            default:
                throw new ArgumentException($"timestep_spacing '{spacing}' is not supported (leading, linspace, trailing)", nameof(spacing));
        }
        return t;
    }
}
