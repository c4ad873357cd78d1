using Add.Engine.Sampling;
using Add.Train.Model;
using static TorchSharp.torch;

namespace Add.Train.Pipeline;

/// <summary>
/// The reference sampler: each update written with torch ops from its paper or from diffusers' scheduler, on the
/// <see cref="ReferenceSchedule"/>, and the one sampling loop that <see cref="ReferencePipeline"/> and `add-train
/// validate` share. It computes every coefficient itself (style rule 11: the oracle never calls engine math).
/// <para>
/// Space: the loop keeps the latent in DDPM ("VP") space, x_t = √ᾱ_t·x_0 + √(1−ᾱ_t)·ε, which is also the UNet input
/// (N, C, h, w), exactly as the engine does. The σ-space samplers (Euler, Euler-ancestral) convert inside the step:
/// diffusers' Euler sample is x̃ = x_t/√ᾱ_t = x_0 + σ_t·ε, and its <c>scale_model_input</c> x̃/√(σ²+1) = x̃·√ᾱ_t is our
/// x_t; after the update x' = √ᾱ'·x̃'. (One difference from diffusers, in the start only: diffusers' "trailing" Euler
/// starts from x̃ = σ_max·noise, the engine and the reference from x_T = noise, i.e. x̃ = √(σ_max² + 1)·noise.)
/// </para>
/// </summary>
public static class ReferenceSampler
{
    /// <summary>
    /// Whether the step from t to <paramref name="tNext"/> (−1 = the end) draws fresh noise: ancestral and student steps
    /// do, except the last, which returns x̂0.
    /// </summary>
    public static bool UsesNoise(SamplerKind kind, int tNext) =>
        tNext >= 0 && kind is SamplerKind.EulerAncestral or SamplerKind.StudentRenoise;

    /// <summary>
    /// x̂0 from ε̂: x̂0 = (x_t − √(1−ᾱ_t)·ε̂)/√ᾱ_t (Ho et al. 2020, Eq. 15; Song et al. 2021, Eq. 12 "predicted x_0").
    /// </summary>
    public static Tensor PredictX0(ReferenceSchedule s, int t, Tensor x, Tensor eps)
    {
        double ab = s.AlphasCumprod[t];
        return (x - Math.Sqrt(1 - ab) * eps) / Math.Sqrt(ab);
    }

    /// <summary>
    /// One update from timestep <paramref name="t"/> to <paramref name="tNext"/> (−1: the end of sampling, where every
    /// sampler returns x̂0, as diffusers does with ᾱ' = 1 / σ' = 0). <paramref name="x"/> and the result are VP-space
    /// latents (N, C, h, w); <paramref name="eps"/> is the (guided) ε̂ (N, C, h, w); <paramref name="noise"/> is called
    /// once, for (N, C, h, w) fresh noise, exactly when <see cref="UsesNoise"/>.
    /// </summary>
    public static Tensor Step(SamplerKind kind, ReferenceSchedule s, int t, int tNext, Tensor x, Tensor eps, Func<Tensor> noise)
    {
        if (t < 0 || t >= s.NumTrainTimesteps) throw new ArgumentOutOfRangeException(nameof(t), t, "timestep out of range");
        if (tNext >= t) throw new ArgumentOutOfRangeException(nameof(tNext), tNext, $"next timestep must be below {t}");
        if (tNext < 0) return PredictX0(s, t, x, eps);
        double ab = s.AlphasCumprod[t], abNext = s.AlphasCumprod[tNext];
        double sigma = s.Sigmas[t], sigmaNext = s.Sigmas[tNext];
        switch (kind)
        {
            case SamplerKind.Ddim:
                // DDIM η = 0 (Song et al. 2021, Eq. 12 with σ_t = 0): x' = √ᾱ'·x̂0 + √(1−ᾱ')·ε̂.
                return Math.Sqrt(abNext) * PredictX0(s, t, x, eps) + Math.Sqrt(1 - abNext) * eps;
            case SamplerKind.StudentRenoise:
                // ADD student (Sauer et al. 2023, §3 and DESIGN.md §5): x̂0, then re-noised to the next student
                // timestep with fresh noise by the forward process (Ho et al. 2020, Eq. 4): x' = √ᾱ'·x̂0 + √(1−ᾱ')·n.
                return Math.Sqrt(abNext) * PredictX0(s, t, x, eps) + Math.Sqrt(1 - abNext) * noise();
            case SamplerKind.Euler:
            {
                // diffusers EulerDiscreteScheduler.step (Karras et al. 2022, Alg. 1 without the 2nd-order correction):
                // x̂0 = x̃ − σ·ε̂, d = (x̃ − x̂0)/σ, x̃' = x̃ + (σ' − σ)·d.
                var xs = x / Math.Sqrt(ab);
                var d = (xs - (xs - sigma * eps)) / sigma;
                return Math.Sqrt(abNext) * (xs + (sigmaNext - sigma) * d);
            }
            case SamplerKind.EulerAncestral:
            {
                // diffusers EulerAncestralDiscreteScheduler.step / k-diffusion get_ancestral_step (η = 1):
                // σ_up = min(σ', √(σ'²(σ² − σ'²)/σ²)), σ_down = √(σ'² − σ_up²); x̃' = x̃ + (σ_down − σ)·d + σ_up·n.
                double sigmaUp = Math.Min(sigmaNext, Math.Sqrt(sigmaNext * sigmaNext * (sigma * sigma - sigmaNext * sigmaNext) / (sigma * sigma)));
                double sigmaDown = Math.Sqrt(sigmaNext * sigmaNext - sigmaUp * sigmaUp);
                var xs = x / Math.Sqrt(ab);
                var d = (xs - (xs - sigma * eps)) / sigma;
                return Math.Sqrt(abNext) * (xs + (sigmaDown - sigma) * d + sigmaUp * noise());
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown sampler");
        }
    }

    /// <summary>
    /// The img2img start (diffusers <c>add_noise</c>, Ho et al. 2020, Eq. 4): x_t = √ᾱ_t·z0 + √(1−ᾱ_t)·noise.
    /// </summary>
    public static Tensor AddNoise(ReferenceSchedule s, int t, Tensor z0, Tensor noise)
    {
        double ab = s.AlphasCumprod[t];
        return Math.Sqrt(ab) * z0 + Math.Sqrt(1 - ab) * noise;
    }

    /// <summary>
    /// The sampling loop. <paramref name="x"/> is x at <paramref name="timesteps"/>[0] (N, C, h, w); context is
    /// (N, L, D), or with guidance &gt; 1 (2N, L, D) with the unconditional rows first; then the UNet sees (2N, C, h, w)
    /// and ε̂ = ε̂u + w·(ε̂c − ε̂u) (Ho &amp; Salimans 2022, Eq. 6). <paramref name="onUnetOutput"/> (step index, the
    /// UNet's output before guidance, (N or 2N, C, h, w)) sees each step's ε̂; the tensor lives until the step ends.
    /// Returns the final latent x̂0 (N, C, h, w).
    /// </summary>
    public static Tensor Sample(UNet2DConditionModel unet, ReferenceSchedule schedule, SamplerKind kind, int[] timesteps, double guidance,
        Tensor context, Tensor x, Func<Tensor> stepNoise, Action<int, Tensor>? onUnetOutput = null)
    {
        using var _ = no_grad();
        bool cfg = guidance > 1;
        x = x.alias();
        for (int i = 0; i < timesteps.Length; i++)
        {
            using var scope = NewDisposeScope();
            int t = timesteps[i], tNext = i + 1 < timesteps.Length ? timesteps[i + 1] : -1;
            var input = cfg ? cat([x, x], 0) : x;
            var eps = unet.forward(input, full(input.shape[0], t, ScalarType.Int64), context);
            onUnetOutput?.Invoke(i, eps);
            if (cfg)
            {
                var parts = eps.chunk(2, 0);
                eps = parts[0] + guidance * (parts[1] - parts[0]);
            }
            var next = Step(kind, schedule, t, tNext, x, eps, stepNoise).MoveToOuterDisposeScope();
            x.Dispose();
            x = next;
        }
        return x;
    }
}
