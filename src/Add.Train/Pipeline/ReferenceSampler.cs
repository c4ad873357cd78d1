using Add.Engine.Sampling;
using Add.Train.Model;
using static TorchSharp.torch;

namespace Add.Train.Pipeline;

/// <summary>
/// The reference sampler: diffusers' scheduler API (<c>scale_model_input</c>, <c>step</c>, <c>add_noise</c>) for
/// DDIMScheduler, EulerDiscreteScheduler and EulerAncestralDiscreteScheduler (@58eb52c), plus the ADD re-noising step,
/// each written with torch ops from diffusers' source or its paper on a <see cref="ReferenceScheduler"/>, and the one
/// sampling loop that <see cref="ReferencePipeline"/> and `add-train validate` share. It computes every coefficient
/// itself (style rule 11: the oracle never calls engine math).
/// <para>
/// Space: the latent is kept as diffusers keeps it, which is the independent check of the engine's DDPM-space
/// coefficients: for DDIM the DDPM latent x_t = √ᾱ_t·x_0 + √(1−ᾱ_t)·ε, for the Euler classes the σ-space latent
/// x̃ = x_0 + σ·ε, which <c>scale_model_input</c> divides by √(σ² + 1) for the UNet. Both end in the same clean latent.
/// </para>
/// </summary>
public static class ReferenceSampler
{
    /// <summary>SDXL's added UNet conditioning, one row per context row: text_embeds (rows, P), time_ids (rows, 6).</summary>
    public sealed record AddedConditioning(Tensor TextEmbeds, Tensor TimeIds);

    /// <summary>
    /// Whether step i draws fresh noise: Euler-ancestral while σ_up &gt; 0 and the re-noising sampler before its last
    /// step. (diffusers' Euler-ancestral draws noise on its last step too and multiplies it by σ_up = 0; the engine's
    /// noise stream skips that draw, and so does this.)
    /// </summary>
    public static bool UsesNoise(ReferenceScheduler s, int i) => s.Kind switch
    {
        SamplerKind.EulerAncestral => s.Sigmas[i + 1] > 0,
        SamplerKind.StudentRenoise => i + 1 < s.Count,
        _ => false,
    };

    /// <summary>diffusers' <c>scale_model_input</c>: x̃/√(σ_i² + 1) for the Euler classes, x for DDIM.</summary>
    public static Tensor ScaleModelInput(ReferenceScheduler s, int i, Tensor sample) =>
        s.SigmaSpace ? sample / Math.Sqrt(s.Sigmas[i] * s.Sigmas[i] + 1) : sample.alias();

    /// <summary>The initial latent in the class's space: init_noise_sigma·noise.</summary>
    public static Tensor InitialLatent(ReferenceScheduler s, Tensor noise) => noise * s.InitNoiseSigma;

    /// <summary>
    /// x̂0 from the model output m (diffusers' <c>pred_original_sample</c>). DDIM: ε: (x − √(1−ᾱ)·m)/√ᾱ (Ho et al. 2020,
    /// Eq. 15); v: √ᾱ·x − √(1−ᾱ)·m. Euler classes: ε: x̃ − σ·m; v: m·(−σ/√(σ²+1)) + x̃/(σ²+1).
    /// </summary>
    public static Tensor PredictX0(ReferenceScheduler s, int i, Tensor sample, Tensor m)
    {
        if (s.SigmaSpace)
        {
            double sigma = s.Sigmas[i];
            return s.VPrediction ? m * (-sigma / Math.Sqrt(sigma * sigma + 1)) + sample / (sigma * sigma + 1) : sample - sigma * m;
        }
        double ab = s.AlphaBars[i];
        return s.VPrediction ? Math.Sqrt(ab) * sample - Math.Sqrt(1 - ab) * m : (sample - Math.Sqrt(1 - ab) * m) / Math.Sqrt(ab);
    }

    /// <summary>
    /// Step i (diffusers' <c>step</c>): <paramref name="sample"/> and the result in the class's space (N, C, h, w);
    /// <paramref name="m"/> the (guided) model output; <paramref name="noise"/> is called once, for fresh noise, exactly
    /// when <see cref="UsesNoise"/>.
    /// </summary>
    public static Tensor Step(ReferenceScheduler s, int i, Tensor sample, Tensor m, Func<Tensor> noise)
    {
        var x0 = PredictX0(s, i, sample, m);
        switch (s.Kind)
        {
            case SamplerKind.Ddim:
            {
                // DDIMScheduler.step, η = 0 (Song et al. 2021, Eq. 12): pred_epsilon (ε: m; v: √ᾱ·m + √(1−ᾱ)·x), then
                // x' = √ᾱ_prev·x̂0 + √(1 − ᾱ_prev)·pred_epsilon. Only DDIM's own space reaches here (from_config).
                double ab = s.AlphaBars[i], prev = s.PrevAlphaBars[i];
                var eps = s.VPrediction ? Math.Sqrt(ab) * m + Math.Sqrt(1 - ab) * sample : m;
                return Math.Sqrt(prev) * x0 + Math.Sqrt(1 - prev) * eps;
            }
            case SamplerKind.Euler:
            {
                // EulerDiscreteScheduler.step (Karras et al. 2022, Alg. 1 without churn or 2nd-order correction):
                // d = (x̃ − x̂0)/σ, x̃' = x̃ + (σ' − σ)·d.
                double sigma = s.Sigmas[i], next = s.Sigmas[i + 1];
                return sample + (next - sigma) * ((sample - x0) / sigma);
            }
            case SamplerKind.EulerAncestral:
            {
                // EulerAncestralDiscreteScheduler.step: σ_up = √(σ'²(σ² − σ'²)/σ²), σ_down = √(σ'² − σ_up²);
                // x̃' = x̃ + (σ_down − σ)·d + σ_up·n.
                double from = s.Sigmas[i], to = s.Sigmas[i + 1];
                double up = Math.Sqrt(to * to * (from * from - to * to) / (from * from)), down = Math.Sqrt(to * to - up * up);
                var next = sample + (down - from) * ((sample - x0) / from);
                return UsesNoise(s, i) ? next + up * noise() : next;
            }
            case SamplerKind.StudentRenoise:
            {
                // ADD student (Sauer et al. 2023, §3; DESIGN.md §5): x̂0, re-noised to the next timestep of the list by the
                // forward process, in the class's space: DDPM √ᾱ'·x̂0 + √(1−ᾱ')·n (Ho et al. 2020, Eq. 4), σ-space x̂0 + σ'·n.
                if (!UsesNoise(s, i)) return x0;
                return s.SigmaSpace
                    ? x0 + s.Sigmas[i + 1] * noise()
                    : Math.Sqrt(s.PrevAlphaBars[i]) * x0 + Math.Sqrt(1 - s.PrevAlphaBars[i]) * noise();
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(s), s.Kind, "unknown sampler");
        }
    }

    /// <summary>
    /// The img2img start at step i (diffusers' <c>add_noise</c>): DDIM x = √ᾱ_t·z0 + √(1−ᾱ_t)·noise (Ho et al. 2020,
    /// Eq. 4); Euler classes x̃ = z0 + σ·noise.
    /// </summary>
    public static Tensor AddNoise(ReferenceScheduler s, int i, Tensor z0, Tensor noise)
    {
        if (s.SigmaSpace) return z0 + s.Sigmas[i] * noise;
        double ab = s.AlphaBars[i];
        return Math.Sqrt(ab) * z0 + Math.Sqrt(1 - ab) * noise;
    }

    /// <summary>
    /// The sampling loop over every step of <paramref name="s"/>. <paramref name="latents"/> is the class's latent at the
    /// first step (N, C, h, w); context is (N, L, D), or with guidance &gt; 1 (2N, L, D) with the unconditional rows
    /// first; then the UNet sees (2N, C, h, w) and m = m_u + w·(m_c − m_u) (Ho &amp; Salimans 2022, Eq. 6).
    /// <paramref name="onUnetOutput"/> (step index, the UNet's output before guidance, (N or 2N, C, h, w)) sees each
    /// step's output; the tensor lives until the step ends. Returns the final latent (N, C, h, w).
    /// </summary>
    public static Tensor Sample(UNet2DConditionModel unet, ReferenceScheduler s, double guidance,
        Tensor context, Tensor latents, Func<Tensor> stepNoise, Action<int, Tensor>? onUnetOutput = null, AddedConditioning? added = null)
    {
        using var _ = no_grad();
        bool cfg = guidance > 1;
        var x = latents.alias();
        for (int i = 0; i < s.Count; i++)
        {
            using var scope = NewDisposeScope();
            var scaled = ScaleModelInput(s, i, x);
            var input = cfg ? cat([scaled, scaled], 0) : scaled;
            var m = unet.forward(input, full(input.shape[0], s.Timesteps[i], ScalarType.Float32), context, added?.TextEmbeds, added?.TimeIds);
            onUnetOutput?.Invoke(i, m);
            if (cfg)
            {
                var parts = m.chunk(2, 0);
                m = parts[0] + guidance * (parts[1] - parts[0]);
            }
            var next = Step(s, i, x, m, stepNoise).MoveToOuterDisposeScope();
            x.Dispose();
            x = next;
        }
        return x;
    }
}
