using Add.Kernels;

namespace Add.Engine.Sampling;

/// <summary>The per-step update rules the samplers share.</summary>
public enum SamplerKind
{
    /// <summary>DDIM with η = 0 (Song et al. 2021, Eq. 12).</summary>
    Ddim,
    /// <summary>Euler on the probability-flow ODE in σ-space (Karras et al. 2022, Alg. 1 without the 2nd-order correction).</summary>
    Euler,
    /// <summary>Euler ancestral: Euler to σ_down, then fresh noise of σ_up (k-diffusion's sample_euler_ancestral).</summary>
    EulerAncestral,
    /// <summary>ADD student (DESIGN.md §5): predict x̂0, re-noise it to the next timestep with fresh noise.</summary>
    StudentRenoise,
}

/// <summary>
/// One sampler step written as coefficients, stateless: with x_t in DDPM space (x_t = √ᾱ_t x_0 + √(1−ᾱ_t) ε),
/// every supported update is linear in (x_t, ε̂, noise):
///   x̂0 = (x_t − √(1−ᾱ_t)·ε̂) / √ᾱ_t
///   x_next = A·x_t + B·ε̂ + C·noise
/// Next timestep −1 means the end of sampling: ᾱ = 1, σ = 0, x_next = x̂0.
/// The fused latent-sampler kernels (through <see cref="ToKernelStep"/>) and the TorchSharp reference both evaluate exactly
/// these coefficients; this is the one place that computes them.
/// Euler works in σ-space x̃ = x_t/√ᾱ_t = x_0 + σ_t ε (σ_t = √((1−ᾱ_t)/ᾱ_t)): x̃' = x̃ + (σ' − σ)·ε̂, so x' = √ᾱ'·x̃'.
/// </summary>
public readonly record struct SamplerStep(double A, double B, double C, double X0FromX, double X0FromEps)
{
    /// <summary>
    /// The img2img start (diffusers' add_noise, Ho et al. 2020 Eq. 4): x_t = √ᾱ_t·z0 + √(1−ᾱ_t)·ε, written as a step whose
    /// "x" is the clean latent z0 (x̂0 = z0).
    /// </summary>
    public static SamplerStep AddNoise(NoiseSchedule schedule, int t)
    {
        double ab = schedule.AlphasCumprod[t];
        return new(Math.Sqrt(ab), 0, Math.Sqrt(1 - ab), 1, 0);
    }

    /// <summary>The coefficients rounded once to the float step the latent-sampler kernels evaluate (unguided; add guidance
    /// with <see cref="LatentSamplerStep.WithGuidance"/>).</summary>
    public LatentSamplerStep ToKernelStep() => new((float)A, (float)B, (float)C, (float)X0FromX, (float)X0FromEps);

    public static SamplerStep Create(SamplerKind kind, NoiseSchedule schedule, int t, int tNext)
    {
        if (t < 0 || t >= schedule.NumTrainTimesteps) throw new ArgumentOutOfRangeException(nameof(t), t, "timestep out of range");
        if (tNext >= t) throw new ArgumentOutOfRangeException(nameof(tNext), tNext, $"next timestep must be below {t}");
        double ab = schedule.AlphasCumprod[t];
        double abNext = tNext < 0 ? 1.0 : schedule.AlphasCumprod[tNext];
        double sa = Math.Sqrt(ab), s1a = Math.Sqrt(1 - ab);
        double saN = Math.Sqrt(abNext), s1aN = Math.Sqrt(1 - abNext);
        double x0x = 1 / sa, x0e = -s1a / sa;                      // x̂0 = x0x·x_t + x0e·ε̂
        switch (kind)
        {
            case SamplerKind.Ddim:
                // x' = √ᾱ'·x̂0 + √(1−ᾱ')·ε̂
                return new(saN * x0x, saN * x0e + s1aN, 0, x0x, x0e);
            case SamplerKind.Euler:
            {
                double sigma = s1a / sa, sigmaNext = s1aN / saN;
                // x̃ = x/√ᾱ; x̃' = x̃ + (σ'−σ)·ε̂; x' = √ᾱ'·x̃'
                return new(saN / sa, saN * (sigmaNext - sigma), 0, x0x, x0e);
            }
            case SamplerKind.EulerAncestral:
            {
                double sigma = s1a / sa, sigmaNext = s1aN / saN;
                double sigmaUp = Math.Min(sigmaNext, Math.Sqrt(sigmaNext * sigmaNext * (sigma * sigma - sigmaNext * sigmaNext) / (sigma * sigma)));
                double sigmaDown = Math.Sqrt(sigmaNext * sigmaNext - sigmaUp * sigmaUp);
                // x̃' = x̃ + (σ_down − σ)·ε̂ + σ_up·noise; x' = √ᾱ'·x̃'
                return new(saN / sa, saN * (sigmaDown - sigma), saN * sigmaUp, x0x, x0e);
            }
            case SamplerKind.StudentRenoise:
                // x' = √ᾱ'·x̂0 + √(1−ᾱ')·noise
                return new(saN * x0x, saN * x0e, s1aN, x0x, x0e);
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown sampler");
        }
    }
}
