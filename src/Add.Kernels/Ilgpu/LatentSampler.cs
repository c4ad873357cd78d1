using ILGPU;
using ILGPU.Runtime;

namespace Add.Kernels.Ilgpu;

/// <summary>
/// Per-step scalar coefficients of <see cref="LatentSampler"/>: one linear recipe that every supported sampler
/// reduces to, so the kernel has a single branch-free path.
/// <code>
/// ε̂  = ε̂u + w·(ε̂c − ε̂u)          if guided (classifier-free guidance, Ho &amp; Salimans 2022 Eq. 6), else ε̂c
/// x̂0 = X0FromX·x − X0FromEps·ε̂
/// x' = NextFromX·x + NextFromX0·x̂0 + NextFromEps·ε̂ + NextFromNoise·noise
/// </code>
/// Two latent conventions, chosen by the factory used:
/// <list type="bullet">
/// <item>VP ("DDPM") space, for <see cref="StudentRenoise"/> and <see cref="Ddim"/>: x_t = √ᾱ_t·x0 + √(1−ᾱ_t)·ε
/// (Ho et al. 2020 Eq. 4). The UNet takes x_t as is.</item>
/// <item>Sigma space, for <see cref="Euler"/> and <see cref="EulerAncestral"/>: x = x0 + σ·ε with σ_t = √((1−ᾱ_t)/ᾱ_t),
/// i.e. x = x_t/√ᾱ_t (Karras et al. 2022, "Elucidating...", Sec. 2 and Table 1). The UNet takes x/√(σ²+1) = x_t
/// (the caller scales); the sampler starts from x = σ_max·noise.</item>
/// </list>
/// </summary>
public readonly struct SamplerStep
{
    public readonly float X0FromX, X0FromEps;
    public readonly float NextFromX, NextFromX0, NextFromEps, NextFromNoise;
    public readonly float GuidanceScale;  // w
    public readonly int Guided;           // 1: combine ε̂u and ε̂c; 0: ε̂ = ε̂c, ε̂u is not read
    public readonly int UsesNoise;        // 1: noise is read; 0: it is not (the view may be empty)

    private SamplerStep(float x0FromX, float x0FromEps, float nextFromX, float nextFromX0, float nextFromEps, float nextFromNoise,
        float guidanceScale = 0f, int guided = 0)
    {
        X0FromX = x0FromX;
        X0FromEps = x0FromEps;
        NextFromX = nextFromX;
        NextFromX0 = nextFromX0;
        NextFromEps = nextFromEps;
        NextFromNoise = nextFromNoise;
        GuidanceScale = guidanceScale;
        Guided = guided;
        UsesNoise = nextFromNoise != 0f ? 1 : 0;
    }

    /// <summary>The same step with classifier-free guidance of scale w: ε̂ = ε̂u + w·(ε̂c − ε̂u).</summary>
    public SamplerStep WithGuidance(float scale) =>
        new(X0FromX, X0FromEps, NextFromX, NextFromX0, NextFromEps, NextFromNoise, scale, 1);

    /// <summary>
    /// The engine's form (Add.Engine.Sampling.SamplerStep): x̂0 = x0FromX·x + x0FromEps·ε̂ (x0FromEps = −√(1−ᾱ)/√ᾱ, note the
    /// sign), x' = a·x + b·ε̂ + c·noise. Lets the engine's coefficients drive both backends' kernels and the one reference loop.
    /// </summary>
    public static SamplerStep Linear(double a, double b, double c, double x0FromX, double x0FromEps) =>
        new((float)x0FromX, (float)-x0FromEps, (float)a, 0f, (float)b, (float)c);

    /// <summary>
    /// ADD student step (Sauer et al. 2023, Sec. 3; DESIGN §5), VP space: x̂0 = (x_t − √(1−ᾱ_t)·ε̂)/√ᾱ_t, then re-noise
    /// with fresh noise to the next student timestep: x' = √ᾱ'·x̂0 + √(1−ᾱ')·noise. Pass ᾱ' = 1 on the last step (x' = x̂0).
    /// </summary>
    public static SamplerStep StudentRenoise(double alphaBar, double alphaBarNext) =>
        new((float)(1 / Math.Sqrt(alphaBar)), (float)Math.Sqrt((1 - alphaBar) / alphaBar),
            0f, (float)Math.Sqrt(alphaBarNext), 0f, (float)Math.Sqrt(1 - alphaBarNext));

    /// <summary>
    /// Deterministic DDIM (η = 0), VP space (Song et al. 2021, "Denoising Diffusion Implicit Models", Eq. 12 with σ_t = 0):
    /// x' = √ᾱ'·x̂0 + √(1−ᾱ')·ε̂. Pass ᾱ' = 1 on the last step (x' = x̂0).
    /// </summary>
    public static SamplerStep Ddim(double alphaBar, double alphaBarNext) =>
        new((float)(1 / Math.Sqrt(alphaBar)), (float)Math.Sqrt((1 - alphaBar) / alphaBar),
            0f, (float)Math.Sqrt(alphaBarNext), (float)Math.Sqrt(1 - alphaBarNext), 0f);

    /// <summary>
    /// Euler step of the probability-flow ODE dx/dσ = (x − x̂0)/σ (Karras et al. 2022, Eq. 3 and Alg. 1 without the
    /// 2nd-order correction), sigma space: x̂0 = x − σ·ε̂, x' = x + (σ' − σ)·(x − x̂0)/σ = (σ'/σ)·x + (1 − σ'/σ)·x̂0.
    /// σ' = 0 on the last step gives x' = x̂0 exactly.
    /// </summary>
    public static SamplerStep Euler(double sigma, double sigmaNext) =>
        new(1f, (float)sigma, (float)(sigmaNext / sigma), (float)(1 - sigmaNext / sigma), 0f, 0f);

    /// <summary>
    /// Euler-ancestral step, sigma space: an Euler step down to σ_down, then fresh noise of scale σ_up
    /// (x' = x + (σ_down − σ)·(x − x̂0)/σ + σ_up·noise); σ_down, σ_up from <see cref="AncestralSigmas"/>.
    /// </summary>
    public static SamplerStep EulerAncestral(double sigma, double sigmaDown, double sigmaUp) =>
        new(1f, (float)sigma, (float)(sigmaDown / sigma), (float)(1 - sigmaDown / sigma), 0f, (float)sigmaUp);

    /// <summary>
    /// Splits the step σ → σ' into a deterministic part to σ_down and fresh noise σ_up with σ_down² + σ_up² = σ'²,
    /// the DDPM ancestral posterior variance (Ho et al. 2020 Eq. 7) written in sigma form:
    /// σ_up = min(σ', η·√(σ'²·(σ² − σ'²)/σ²)), σ_down = √(σ'² − σ_up²). η = 1 is ancestral sampling, η = 0 plain Euler.
    /// </summary>
    public static (double SigmaDown, double SigmaUp) AncestralSigmas(double sigma, double sigmaNext, double eta = 1.0)
    {
        double up = Math.Min(sigmaNext, eta * Math.Sqrt(sigmaNext * sigmaNext * (sigma * sigma - sigmaNext * sigmaNext) / (sigma * sigma)));
        return (Math.Sqrt(sigmaNext * sigmaNext - up * up), up);
    }
}

/// <summary>
/// The fused latent sampler: classifier-free guidance, x̂0 from the ε-prediction and the sampler update in one
/// elementwise pass over the latent (DESIGN §5). Coefficients and conventions: <see cref="SamplerStep"/>.
/// <para>
/// Legend: N batch, C latent channels, H, W latent size; every buffer is [N, C, H, W], processed as N·C·H·W
/// independent elements. For CFG the UNet usually runs on a batch [uncond; cond]: pass the two halves as views.
/// </para>
/// <para>
/// Versions: <see cref="Reference"/> (plain loop); <see cref="Kernel"/> (v1: one thread per element, reads
/// x, ε̂c, [ε̂u], [noise], writes x' and x̂0; memory bound, 4-6 floats of traffic per element).
/// </para>
/// </summary>
public static class LatentSampler
{
    /// <summary>The slow clear version of the step.</summary>
    /// <param name="x">[N, C, H, W] current latent x_t (VP space) or x (sigma space)</param>
    /// <param name="epsUncond">[N, C, H, W] unconditional ε̂u; read only when guided</param>
    /// <param name="epsCond">[N, C, H, W] conditional (or only) ε̂c</param>
    /// <param name="noise">[N, C, H, W] fresh N(0, 1) noise; read only when the step uses noise</param>
    /// <param name="next">[N, C, H, W] x'</param>
    /// <param name="x0">[N, C, H, W] x̂0</param>
    public static void Reference(ReadOnlySpan<float> x, ReadOnlySpan<float> epsUncond, ReadOnlySpan<float> epsCond, ReadOnlySpan<float> noise,
        Span<float> next, Span<float> x0, SamplerStep step)
    {
        for (int i = 0; i < x.Length; i++)
        {
            float eps = step.Guided != 0 ? epsUncond[i] + step.GuidanceScale * (epsCond[i] - epsUncond[i]) : epsCond[i];
            float predicted = step.X0FromX * x[i] - step.X0FromEps * eps;
            float z = step.UsesNoise != 0 ? noise[i] : 0f;
            x0[i] = predicted;
            next[i] = step.NextFromX * x[i] + step.NextFromX0 * predicted + step.NextFromEps * eps + step.NextFromNoise * z;
        }
    }

    /// <summary>v1 kernel: one thread per element i of the N·C·H·W latent. <paramref name="next"/> may alias <paramref name="x"/>.</summary>
    /// <param name="x">[N, C, H, W]</param>
    /// <param name="epsUncond">[N, C, H, W] or empty when not guided</param>
    /// <param name="epsCond">[N, C, H, W]</param>
    /// <param name="noise">[N, C, H, W] or empty when the step uses no noise</param>
    /// <param name="next">[N, C, H, W]</param>
    /// <param name="x0">[N, C, H, W]</param>
    public static void Kernel(Index1D i, ArrayView<float> x, ArrayView<float> epsUncond, ArrayView<float> epsCond, ArrayView<float> noise,
        ArrayView<float> next, ArrayView<float> x0, SamplerStep step)
    {
        float eps = epsCond[i];
        if (step.Guided != 0)
        {
            float uncond = epsUncond[i];
            eps = uncond + step.GuidanceScale * (eps - uncond);
        }
        float xi = x[i];
        float predicted = step.X0FromX * xi - step.X0FromEps * eps;
        float value = step.NextFromX * xi + step.NextFromX0 * predicted + step.NextFromEps * eps;
        if (step.UsesNoise != 0)
            value += step.NextFromNoise * noise[i];
        x0[i] = predicted;
        next[i] = value;
    }
}

/// <summary>Loads <see cref="LatentSampler.Kernel"/> once for an accelerator and launches it on caller-owned views.</summary>
public sealed class LatentSamplerIlgpu
{
    private readonly Accelerator _accelerator;
    private readonly Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, SamplerStep> _kernel;

    public LatentSamplerIlgpu(Accelerator accelerator)
    {
        _accelerator = accelerator;
        _kernel = accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, SamplerStep>(LatentSampler.Kernel);
    }

    /// <summary>Enqueues one sampler step over the whole latent.</summary>
    /// <param name="x">[N, C, H, W]</param>
    /// <param name="epsUncond">[N, C, H, W]; ignored (may be empty) unless <paramref name="step"/> is guided</param>
    /// <param name="epsCond">[N, C, H, W]</param>
    /// <param name="noise">[N, C, H, W]; ignored (may be empty) unless the step uses noise</param>
    /// <param name="next">[N, C, H, W]; may be <paramref name="x"/> itself</param>
    /// <param name="x0">[N, C, H, W]</param>
    public void Launch(ArrayView<float> x, ArrayView<float> epsUncond, ArrayView<float> epsCond, ArrayView<float> noise,
        ArrayView<float> next, ArrayView<float> x0, SamplerStep step, AcceleratorStream? stream = null)
    {
        long count = x.Length;
        Check(nameof(epsCond), epsCond.Length, count);
        Check(nameof(next), next.Length, count);
        Check(nameof(x0), x0.Length, count);
        if (step.Guided != 0)
            Check(nameof(epsUncond), epsUncond.Length, count);
        if (step.UsesNoise != 0)
            Check(nameof(noise), noise.Length, count);
        if (count > int.MaxValue)
            throw new ArgumentException($"latent of {count} elements exceeds the kernel's int index");
        if (count == 0)
            return;
        _kernel(stream ?? _accelerator.DefaultStream, (int)count, x, epsUncond, epsCond, noise, next, x0, step);
    }

    private static void Check(string name, long actual, long expected)
    {
        if (actual != expected)
            throw new ArgumentException($"{name} has {actual} elements, expected {expected} (as x)");
    }
}
