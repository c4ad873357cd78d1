using Add.Engine.Configs;
using Add.Engine.Sampling;

namespace Add.Engine.Pipeline;

/// <summary>
/// What a <see cref="GenerationRequest"/> resolves to on a model: the schedule that runs (sampler, timesteps, noise
/// levels, initial noise; after an init image's strength cut its head) and the guidance scale w. `add-train validate`
/// takes only the sampler kind, the step count and the guidance from it: the reference computes its timesteps and
/// sigmas itself and compares them with these.
/// <para>
/// Classifier-free guidance batch layout (Ho &amp; Salimans 2022, Eq. 6): with w &gt; 1 the text encoder and the UNet
/// see 2N rows, the N unconditional ("") rows first, then the N prompts; ε̂ = ε̂u + w·(ε̂c − ε̂u) combines the two halves.
/// </para>
/// </summary>
public sealed record GenerationPlan(SamplingSchedule Schedule, double Guidance)
{
    public SamplerKind Kind => Schedule.Kind;

    /// <summary>The UNet timesteps that run, highest first.</summary>
    public double[] Timesteps => Schedule.Timesteps;

    /// <summary>Whether guidance runs (w &gt; 1; w ≤ 1 turns it off).</summary>
    public bool Guided => Guidance > 1;

    /// <summary>Rows of the text context and the UNet batch for <paramref name="images"/> images: 2N guided, else N.</summary>
    public int Rows(int images) => Guided ? 2 * images : images;

    /// <summary>The text rows in the guidance layout: with <paramref name="guided"/> "" per prompt first, then the prompts.</summary>
    public static IEnumerable<string> TextRows(IReadOnlyList<string> prompts, bool guided) =>
        guided ? Enumerable.Repeat("", prompts.Count).Concat(prompts) : prompts;
}

/// <summary>
/// Resolves a request against a model's scheduler config (validating it; every message says what to change).
/// Defaults: the config's <c>add_sampler</c>, <c>add_default_steps</c>, <c>add_default_guidance</c> (our keys, see
/// <see cref="SchedulerConfig"/>); without them the class's own sampler, and for a "trailing" config 1 step without
/// guidance (the SD-Turbo convention, said in a notice), otherwise diffusers' pipeline defaults, 50 steps at guidance
/// 7.5. With an init image only the last ⌊steps·strength⌋ timesteps run (diffusers' img2img); without explicit steps the
/// default is raised to the fewest steps that run one.
/// </summary>
public static class GenerationPlanner
{
    /// <summary>Added before flooring steps·strength, so that e.g. 3 × (1/3) counts as 1 step despite rounding.</summary>
    private const double StrengthRoundingSlack = 1e-9;

    /// <summary>diffusers' StableDiffusionPipeline defaults (num_inference_steps 50, guidance_scale 7.5).</summary>
    private const int DiffusersDefaultSteps = 50;
    private const double DiffusersDefaultGuidance = 7.5;

    public static GenerationPlan Plan(GenerationRequest r, SchedulerConfig scheduler, NoiseSchedule schedule, Action<string>? warn = null)
    {
        if (r.Prompts is null || r.Prompts.Count == 0) throw new InvalidRequestException("batch must be at least 1 (no prompts given)");
        bool turbo = scheduler.Spacing == "trailing";
        int maxSteps = scheduler.MaxSteps;
        int modelSteps = scheduler.AddDefaultSteps ?? (turbo ? 1 : DiffusersDefaultSteps);
        double modelGuidance = scheduler.AddDefaultGuidance ?? (turbo ? 0 : DiffusersDefaultGuidance);
        if (turbo && ((r.Steps is null && scheduler.AddDefaultSteps is null) || (r.Guidance is null && scheduler.AddDefaultGuidance is null)))
            warn?.Invoke("the scheduler config has timestep_spacing \"trailing\" and no add_default_steps / add_default_guidance: " +
                "defaulting to 1 step without guidance (the SD-Turbo convention)");
        int steps = r.Steps ?? DefaultSteps(r, modelSteps, maxSteps);
        if (steps < 1 || steps > maxSteps)
            throw new InvalidRequestException($"steps {steps} out of range: this model runs 1..{maxSteps} steps");
        var kind = r.Sampler ?? scheduler.DefaultSampler;
        double guidance = r.Guidance ?? modelGuidance;
        if (guidance < 0 || double.IsNaN(guidance)) throw new InvalidRequestException($"guidance {guidance} must be ≥ 0");
        SamplingSchedule plan;
        try { plan = SamplingSchedule.Create(scheduler, schedule, kind, steps); }
        catch (ArgumentException e) { throw new InvalidRequestException(e.Message); }
        if (r.InitImage is not null)
        {
            if (!ValidStrength(r.Strength)) throw new InvalidRequestException($"strength {r.Strength} must be in (0, 1]");
            int run = StepsRun(steps, r.Strength);
            if (run < 1)
                throw new InvalidRequestException($"steps × strength = {steps} × {r.Strength} < 1: no step would run; " + Needs(r.Strength, maxSteps));
            plan = plan.Skip(steps - run);
        }
        else if (r.Strength != 1.0) throw new InvalidRequestException("strength needs an init image");
        return new GenerationPlan(plan, guidance);
    }

    /// <summary>The timesteps of a <paramref name="steps"/>-step schedule that an init image at
    /// <paramref name="strength"/> runs: ⌊steps·strength⌋ (the last ones).</summary>
    public static int StepsRun(int steps, double strength) => (int)Math.Floor(steps * strength + StrengthRoundingSlack);

    /// <summary>The fewest steps whose <see cref="StepsRun"/> at <paramref name="strength"/> (in (0, 1]) is at least 1.</summary>
    public static int StepsNeeded(double strength)
    {
        double estimate = Math.Ceiling((1 - StrengthRoundingSlack) / strength);
        if (estimate >= int.MaxValue) return int.MaxValue;
        int steps = Math.Max(1, (int)estimate);
        while (steps > 1 && StepsRun(steps - 1, strength) >= 1) steps--;
        while (StepsRun(steps, strength) < 1) steps++;
        return steps;
    }

    private static bool ValidStrength(double strength) => strength > 0 && strength <= 1;

    /// <summary>The model's default, or with an init image whose strength runs no step at that default, the fewest steps
    /// that run one (when the model supports that many).</summary>
    private static int DefaultSteps(GenerationRequest r, int modelDefault, int maxSteps)
    {
        if (r.InitImage is null || !ValidStrength(r.Strength) || StepsRun(modelDefault, r.Strength) >= 1) return modelDefault;
        int needed = StepsNeeded(r.Strength);
        if (needed > maxSteps)
            throw new InvalidRequestException($"strength {r.Strength} runs no step: " + Needs(r.Strength, maxSteps));
        return needed;
    }

    private static string Needs(double strength, int maxSteps)
    {
        int needed = StepsNeeded(strength);
        return needed <= maxSteps
            ? $"strength {strength} needs at least {needed} steps"
            : $"strength {strength} needs at least {needed} steps but this model runs 1..{maxSteps}; at {maxSteps} steps the strength must be at least 1/{maxSteps}";
    }
}
