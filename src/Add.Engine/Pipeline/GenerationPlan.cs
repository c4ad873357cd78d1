using Add.Engine.Configs;
using Add.Engine.Sampling;

namespace Add.Engine.Pipeline;

/// <summary>
/// What a <see cref="GenerationRequest"/> resolves to on a model: the sampler, the timesteps that run (after an init
/// image's strength cut the schedule) and the guidance scale w. `add-train validate` takes only the sampler kind and
/// the guidance from it: the reference computes its timesteps itself and compares them with these.
/// <para>
/// Classifier-free guidance batch layout (Ho &amp; Salimans 2022, Eq. 6): with w &gt; 1 the text encoder and the UNet
/// see 2N rows, the N unconditional ("") rows first, then the N prompts; ε̂ = ε̂u + w·(ε̂c − ε̂u) combines the two halves.
/// </para>
/// </summary>
public sealed record GenerationPlan(SamplerKind Kind, int[] Timesteps, double Guidance)
{
    /// <summary>Whether guidance runs (w &gt; 1; w ≤ 1 turns it off).</summary>
    public bool Guided => Guidance > 1;

    /// <summary>Rows of the text context and the UNet batch for <paramref name="images"/> images: 2N guided, else N.</summary>
    public int Rows(int images) => Guided ? 2 * images : images;

    /// <summary>The text rows in the guidance layout: with <paramref name="guided"/> "" per prompt first, then the prompts.</summary>
    public static IEnumerable<string> TextRows(IReadOnlyList<string> prompts, bool guided) =>
        guided ? Enumerable.Repeat("", prompts.Count).Concat(prompts) : prompts;
}

/// <summary>
/// Resolves a request against a model's scheduler (validating it; every message says what to change). A student
/// (model_kind "student") defaults to 1 step of <see cref="SamplerKind.StudentRenoise"/> without guidance, a teacher to
/// 50 DDIM steps with guidance 4. With an init image only the last ⌊steps·strength⌋ timesteps run (diffusers' img2img);
/// without explicit steps the default is raised to the fewest steps that run one.
/// </summary>
public static class GenerationPlanner
{
    /// <summary>Added before flooring steps·strength, so that e.g. 3 × (1/3) counts as 1 step despite rounding.</summary>
    private const double StrengthRoundingSlack = 1e-9;

    public static GenerationPlan Plan(GenerationRequest r, SchedulerConfig scheduler, NoiseSchedule schedule)
    {
        if (r.Prompts is null || r.Prompts.Count == 0) throw new InvalidRequestException("batch must be at least 1 (no prompts given)");
        bool student = scheduler.ModelKind == "student";
        string model = student ? "student" : "teacher";
        int maxSteps = student ? scheduler.StudentTimesteps!.Length : schedule.NumTrainTimesteps;
        int steps = r.Steps ?? DefaultSteps(r, student ? 1 : 50, maxSteps, model);
        if (steps < 1 || steps > maxSteps)
            throw new InvalidRequestException($"steps {steps} out of range: this {model} runs 1..{maxSteps} steps");
        var kind = r.Sampler ?? (student ? SamplerKind.StudentRenoise : SamplerKind.Ddim);
        double guidance = r.Guidance ?? (student ? 0 : 4);
        if (guidance < 0 || double.IsNaN(guidance)) throw new InvalidRequestException($"guidance {guidance} must be ≥ 0");
        var timesteps = student ? NoiseSchedule.StudentTimesteps(scheduler.StudentTimesteps!, steps) : schedule.TrailingTimesteps(steps);
        if (r.InitImage is not null)
        {
            if (!ValidStrength(r.Strength)) throw new InvalidRequestException($"strength {r.Strength} must be in (0, 1]");
            int run = StepsRun(steps, r.Strength);
            if (run < 1)
                throw new InvalidRequestException($"steps × strength = {steps} × {r.Strength} < 1: no step would run; " + Needs(r.Strength, maxSteps, model));
            timesteps = timesteps[(steps - run)..];
        }
        else if (r.Strength != 1.0) throw new InvalidRequestException("strength needs an init image");
        return new GenerationPlan(kind, timesteps, guidance);
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
    private static int DefaultSteps(GenerationRequest r, int modelDefault, int maxSteps, string model)
    {
        if (r.InitImage is null || !ValidStrength(r.Strength) || StepsRun(modelDefault, r.Strength) >= 1) return modelDefault;
        int needed = StepsNeeded(r.Strength);
        if (needed > maxSteps)
            throw new InvalidRequestException($"strength {r.Strength} runs no step: " + Needs(r.Strength, maxSteps, model));
        return needed;
    }

    private static string Needs(double strength, int maxSteps, string model)
    {
        int needed = StepsNeeded(strength);
        return needed <= maxSteps
            ? $"strength {strength} needs at least {needed} steps"
            : $"strength {strength} needs at least {needed} steps but this {model} runs 1..{maxSteps}; at {maxSteps} steps the strength must be at least 1/{maxSteps}";
    }
}
