using Add.Kernels;

namespace Add.Engine.Sampling;

/// <summary>The per-step update rules the samplers share.</summary>
public enum SamplerKind
{
    /// <summary>DDIM with η = 0 (Song et al. 2021, Eq. 12; diffusers DDIMScheduler.step).</summary>
    Ddim,
    /// <summary>Euler on the probability-flow ODE in σ-space (Karras et al. 2022, Alg. 1 without the 2nd-order
    /// correction; diffusers EulerDiscreteScheduler.step).</summary>
    Euler,
    /// <summary>Euler ancestral: Euler to σ_down, then fresh noise of σ_up (diffusers EulerAncestralDiscreteScheduler.step).</summary>
    EulerAncestral,
    /// <summary>ADD student (DESIGN.md §5): predict x̂0, re-noise it to the next timestep with fresh noise.</summary>
    StudentRenoise,
}

/// <summary>The samplers by their names in configs (<c>add_sampler</c>) and on the command line.</summary>
public static class SamplerNames
{
    /// <summary>Every sampler with its name.</summary>
    public static readonly (string Name, SamplerKind Value)[] All =
        [("ddim", SamplerKind.Ddim), ("euler", SamplerKind.Euler), ("euler-ancestral", SamplerKind.EulerAncestral), ("student-renoise", SamplerKind.StudentRenoise)];

    public static string Name(SamplerKind kind) => All.First(s => s.Value == kind).Name;

    public static bool TryParse(string name, out SamplerKind kind)
    {
        foreach (var (n, v) in All)
            if (n == name) { kind = v; return true; }
        kind = default;
        return false;
    }

    public static SamplerKind Parse(string name) => TryParse(name, out var kind)
        ? kind : throw new ArgumentException($"unknown sampler '{name}' ({string.Join(", ", All.Select(s => s.Name))})", nameof(name));
}

/// <summary>
/// One sampler step written as coefficients, stateless: with x in DDPM space (x = √ᾱ·x_0 + √(1−ᾱ)·ε, which is
/// diffusers' <c>scale_model_input</c> of its latent for every scheduler here) and the model output m (ε̂, or v̂ for
/// v-prediction), every supported update is linear in (x, m, noise):
///   x̂0 = X0FromX·x + X0FromEps·m
///   x_next = A·x + B·m + C·noise
/// The fused latent-sampler kernels (through <see cref="ToKernelStep"/>) evaluate exactly these; this is the one place
/// in the engine that computes them. A step goes from the level ᾱ to the level ᾱ' (ᾱ' = 1: the clean end, x' = x̂0
/// for every sampler). Euler works in σ-space x̃ = x/√ᾱ = x_0 + σ·ε (σ = √((1−ᾱ)/ᾱ)): x̃' = x̃ + (σ' − σ)·d with
/// d = (x̃ − x̂0)/σ, then x' = √ᾱ'·x̃'.
/// </summary>
public readonly record struct SamplerStep(double A, double B, double C, double X0FromX, double X0FromEps)
{
    /// <summary>
    /// The img2img start (diffusers' add_noise, Ho et al. 2020 Eq. 4; for the Euler classes x̃ = z0 + σ·ε, the same in
    /// DDPM space): x = √ᾱ·z0 + √(1−ᾱ)·ε, written as a step whose "x" is the clean latent z0 (x̂0 = z0).
    /// </summary>
    public static SamplerStep AddNoise(double alphaBar) => new(Math.Sqrt(alphaBar), 0, Math.Sqrt(1 - alphaBar), 1, 0);

    /// <summary><see cref="AddNoise(double)"/> at integer timestep <paramref name="t"/>.</summary>
    public static SamplerStep AddNoise(NoiseSchedule schedule, int t) => AddNoise(schedule.AlphasCumprod[t]);

    /// <summary>The coefficients rounded once to the float step the latent-sampler kernels evaluate (unguided; add guidance
    /// with <see cref="LatentSamplerStep.WithGuidance"/>).</summary>
    public LatentSamplerStep ToKernelStep() => new((float)A, (float)B, (float)C, (float)X0FromX, (float)X0FromEps);

    /// <summary>The step between integer timesteps t and <paramref name="tNext"/> (−1: the clean end), ε-prediction.</summary>
    public static SamplerStep Create(SamplerKind kind, NoiseSchedule schedule, int t, int tNext)
    {
        if (t < 0 || t >= schedule.NumTrainTimesteps) throw new ArgumentOutOfRangeException(nameof(t), t, "timestep out of range");
        if (tNext >= t) throw new ArgumentOutOfRangeException(nameof(tNext), tNext, $"next timestep must be below {t}");
        return Create(kind, schedule.AlphasCumprod[t], tNext < 0 ? 1.0 : schedule.AlphasCumprod[tNext]);
    }

    /// <summary>
    /// The step from level <paramref name="alphaBar"/> (ᾱ of the UNet input) to <paramref name="alphaBarNext"/>
    /// (1: the clean end). With <paramref name="vPrediction"/> the model output is v̂ and ε̂ = √(1−ᾱ)·x + √ᾱ·v̂,
    /// x̂0 = √ᾱ·x − √(1−ᾱ)·v̂ (Salimans &amp; Ho 2022, §4; diffusers' "v_prediction"), folded into the coefficients.
    /// </summary>
    public static SamplerStep Create(SamplerKind kind, double alphaBar, double alphaBarNext, bool vPrediction = false)
    {
        if (!(alphaBar > 0 && alphaBar < 1)) throw new ArgumentOutOfRangeException(nameof(alphaBar), alphaBar, "ᾱ must be in (0, 1)");
        if (!(alphaBarNext > 0 && alphaBarNext <= 1)) throw new ArgumentOutOfRangeException(nameof(alphaBarNext), alphaBarNext, "next ᾱ must be in (0, 1]");
        double sa = Math.Sqrt(alphaBar), s1a = Math.Sqrt(1 - alphaBar);
        double saN = Math.Sqrt(alphaBarNext), s1aN = Math.Sqrt(1 - alphaBarNext);
        // ε̂ = ex·x + em·m
        double ex = vPrediction ? s1a : 0, em = vPrediction ? sa : 1;
        // x̂0 = (x − √(1−ᾱ)·ε̂)/√ᾱ = x0x·x + x0m·m (Ho et al. 2020, Eq. 15)
        double x0x = (1 - s1a * ex) / sa, x0m = -s1a * em / sa;
        switch (kind)
        {
            case SamplerKind.Ddim:
                // x' = √ᾱ'·x̂0 + √(1−ᾱ')·ε̂ (Song et al. 2021, Eq. 12, σ_t = 0)
                return new(saN * x0x + s1aN * ex, saN * x0m + s1aN * em, 0, x0x, x0m);
            case SamplerKind.Euler:
            case SamplerKind.EulerAncestral:
            {
                double sigma = s1a / sa, sigmaNext = s1aN / saN, sigmaTo = sigmaNext, sigmaUp = 0;
                if (kind == SamplerKind.EulerAncestral)
                {
                    // diffusers EulerAncestralDiscreteScheduler.step: σ_up = √(σ'²(σ² − σ'²)/σ²), σ_down = √(σ'² − σ_up²).
                    // (The min only guards rounding: the root never exceeds σ'.)
                    sigmaUp = Math.Min(sigmaNext, Math.Sqrt(sigmaNext * sigmaNext * (sigma * sigma - sigmaNext * sigmaNext) / (sigma * sigma)));
                    sigmaTo = Math.Sqrt(sigmaNext * sigmaNext - sigmaUp * sigmaUp);
                }
                // d = (x̃ − x̂0)/σ with x̃ = x/√ᾱ is ε̂ = ex·x + em·m (for v: (x̃ − √ᾱ·x + √(1−ᾱ)·v̂)/σ = √(1−ᾱ)·x + √ᾱ·v̂).
                // x̃' = x̃ + (σ_to − σ)·d + σ_up·noise; x' = √ᾱ'·x̃'
                return new(saN * (1 / sa + (sigmaTo - sigma) * ex), saN * (sigmaTo - sigma) * em, saN * sigmaUp, x0x, x0m);
            }
            case SamplerKind.StudentRenoise:
                // x' = √ᾱ'·x̂0 + √(1−ᾱ')·noise
                return new(saN * x0x, saN * x0m, s1aN, x0x, x0m);
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown sampler");
        }
    }
}
