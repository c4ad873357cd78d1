using Add.Train.Model;
using Add.Train.Pipeline;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Add.Train.Training;

/// <summary>What the discriminator heads look at: the frozen ViT F on decoded pixels (ADD) or the frozen teacher UNet's
/// features of re-noised latents (LADD, Sauer et al. 2024).</summary>
public enum DiscFeatures { Vit, Teacher }

/// <summary>Which parts of the ADD objective are on, and their constants (CLI flags of `add-train add`).</summary>
public sealed record AddSettings
{
    public bool Adversarial { get; init; } = true;
    public bool Distill { get; init; } = true;
    public DistillWeighting Weighting { get; init; } = DistillWeighting.Exp;
    /// <summary>λ of L = L_adv^G + λ·L_distill (paper: 2.5).</summary>
    public double Lambda { get; init; } = 2.5;
    /// <summary>Classifier-free guidance of the teacher's target; ≤ 1 = off.</summary>
    public double TeacherGuidance { get; init; }
    /// <summary>Distance of L_distill in pixel space (decode both) instead of latent space.</summary>
    public bool PixelSpace { get; init; }
    /// <summary>R1 weight γ (paper: 1e-5); the penalty added to L_D is γ/2·R1.</summary>
    public double R1Gamma { get; init; } = 1e-5;
    /// <summary>Student timesteps s (paper: 4 steps incl. pure noise).</summary>
    public int[] StudentTimesteps { get; init; } = [999, 749, 499, 249];
    /// <summary>Range of the teacher's re-noising timestep t ~ U[TMin, TMax].</summary>
    public int TMin { get; init; } = 20;
    public int TMax { get; init; } = 980;
    /// <summary>The discriminator's feature network (`--disc-features`).</summary>
    public DiscFeatures DiscFeatures { get; init; } = DiscFeatures.Vit;
    /// <summary>Location m and scale s of the logit-normal noise level of the LADD re-noising (teacher features only).</summary>
    public double LaddLocation { get; init; } = 1.0;
    public double LaddScale { get; init; } = 1.0;

    /// <summary>The options a resumed run must keep, as `add-train add` spells them (recorded in its checkpoint): what the
    /// losses compare, how they are weighted, and which are on (the flags --no-adv and --no-distill, recorded as
    /// <see cref="FlagSet"/> or <see cref="FlagUnset"/>).</summary>
    public const string FlagSet = "set", FlagUnset = "unset";

    public Dictionary<string, string> ResumeKeys()
    {
        static string N(double v) => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        var keys = new Dictionary<string, string>
        {
            ["--disc-features"] = DiscFeatures.ToString().ToLowerInvariant(),
            ["--weighting"] = Weighting.ToString().ToLowerInvariant(),
            ["--lambda"] = N(Lambda),
            ["--teacher-guidance"] = N(TeacherGuidance),
            ["--distill-space"] = PixelSpace ? "pixel" : "latent",
            ["--r1"] = N(R1Gamma),
            ["--no-adv"] = Adversarial ? FlagUnset : FlagSet,
            ["--no-distill"] = Distill ? FlagUnset : FlagSet,
        };
        if (DiscFeatures == DiscFeatures.Teacher) keys["--ladd-noise"] = N(LaddLocation);
        return keys;
    }
}

/// <summary>
/// The networks of one ADD run and one optimisation step (ADD §3, Fig. 2). Frozen: the teacher UNet, the text
/// encoder, the VAE, and the feature network F (absent with <see cref="DiscFeatures.Teacher"/>). Trained: the student
/// UNet (optimiser G) and the discriminator heads (optimiser D).
/// </summary>
public sealed class AddStep
{
    public required UNet2DConditionModel Student { get; init; }
    public required UNet2DConditionModel Teacher { get; init; }
    public required CLIPTextModel TextEncoder { get; init; }
    public required AutoencoderKL Vae { get; init; }
    /// <summary>F; only the <see cref="DiscFeatures.Vit"/> path uses it.</summary>
    public VisionTransformer? Features { get; init; }
    public required Discriminator Heads { get; init; }
    public required OptimizerHelper StudentOptimizer { get; init; }
    public required OptimizerHelper HeadsOptimizer { get; init; }
    public required ReferenceSchedule Schedule { get; init; }
    public required AddSettings Settings { get; init; }

    /// <summary>Freezes the teacher, text encoder, VAE and F (eval mode, no gradients into their weights).</summary>
    public void Freeze()
    {
        foreach (var m in new nn.Module?[] { Teacher, TextEncoder, Vae, Features }.OfType<nn.Module>())
        {
            m.eval();
            foreach (var p in m.parameters()) p.requires_grad = false;
        }
        Student.train();
        Heads.train();
    }

    /// <summary>One batch: real pixels (B, 3, 32, 32) in [-1, 1], their scaled latents z0 (B, 4, 8, 8), caption ids (B, L).</summary>
    public sealed record Batch(Tensor Pixels, Tensor Latents, Tensor Ids);

    /// <summary>Width of the noise-level embedding appended to the heads' condition on the teacher-features path.</summary>
    public const int NoiseEmbeddingDim = 64;

    /// <summary>
    /// Generator step then discriminator step. x_s = √ᾱ_s z0 + √(1−ᾱ_s) ε (s from the student timesteps), x̂θ from the
    /// student's ε̂; L_G = L_adv^G + λ·L_distill; L_D = hinge + γ/2·R1. Returns the logged metrics.
    /// </summary>
    public Dictionary<string, double> Run(Batch batch, Random rng, Generator gen)
    {
        using var scope = NewDisposeScope();
        var st = Settings;
        long b = batch.Latents.shape[0];
        double scaling = Vae.Config.ScalingFactor;

        // Conditioning (frozen): context for the UNets, c = [c_text, c_img] for the heads.
        Tensor context, cond;
        List<Tensor>? realFeatures = null;
        using (no_grad())
        {
            context = TextEncoder.forward(batch.Ids);
            var cText = TextEncoder.Pooled(context, batch.Ids);
            if (st.DiscFeatures == DiscFeatures.Vit)
            {
                var (tokens, cls) = Features!.Features(batch.Pixels);
                realFeatures = tokens;
                cond = cat([cText, cls], 1);
            }
            else cond = cText;
        }

        // Student prediction x̂θ at s (ADD Eq. 1).
        var s = tensor(Enumerable.Range(0, (int)b).Select(_ => (long)st.StudentTimesteps[rng.Next(st.StudentTimesteps.Length)]).ToArray());
        var eps = randn(batch.Latents.shape, generator: gen);
        var xs = Coef(s, sqrtAb: true) * batch.Latents + Coef(s, sqrtAb: false) * eps;
        var x0Student = PredictX0(Student, xs, s, context);

        var metrics = new Dictionary<string, double>();
        Tensor lossG = zeros(1).squeeze();
        List<Tensor>? fakeTokens = null;
        if (st.Adversarial)
        {
            if (st.DiscFeatures == DiscFeatures.Vit) (fakeTokens, _) = Features!.Features(Vae.Decode(x0Student / scaling));
            else
            {
                var renoised = Renoise(batch.Latents, context, rng, gen);
                realFeatures = renoised.RealFeatures;
                cond = cat([cond, renoised.NoiseEmbedding], 1);
                fakeTokens = Teacher.Features(renoised.Noised(x0Student), renoised.T, context);   // gradient flows through the frozen teacher
            }
            var logits = Heads.forward(fakeTokens, cond);
            var advG = AddLosses.AdversarialGenerator(logits);
            lossG = lossG + advG;
            metrics["adv_g"] = advG.item<float>();
        }
        if (st.Distill)
        {
            var distill = DistillLoss(x0Student, context, rng, gen);
            lossG = lossG + st.Lambda * distill;
            metrics["distill"] = distill.item<float>();
        }
        if (st.Adversarial || st.Distill)
        {
            StudentOptimizer.zero_grad();
            lossG.backward();
            nn.utils.clip_grad_norm_(Student.parameters(), 1.0);
            StudentOptimizer.step();
        }

        if (st.Adversarial)
        {
            // The fake features of the generator step, detached: the frozen F / VAE / teacher saw the same x̂θ (the student's
            // update does not change it), so recomputing them without gradient gave the same values at the cost of a
            // second decode and F forward (ViT) or teacher forward (LADD) per step.
            var fakeFeatures = fakeTokens!.Select(f => f.detach()).ToList();
            var realInputs = realFeatures!.Select(f => f.detach().requires_grad_(true)).ToList();
            var realLogits = Heads.forward(realInputs, cond);
            var fakeLogits = Heads.forward(fakeFeatures, cond);
            var hinge = AddLosses.HingeDiscriminator(realLogits, fakeLogits);
            var r1 = AddLosses.R1(realLogits, realInputs);
            var lossD = hinge + st.R1Gamma / 2 * r1;
            HeadsOptimizer.zero_grad();
            lossD.backward();
            HeadsOptimizer.step();
            metrics["adv_d"] = hinge.item<float>();
            metrics["r1"] = r1.item<float>();
            metrics["d_real"] = realLogits.Select(l => (double)l.mean().item<float>()).Average();
            metrics["d_fake"] = fakeLogits.Select(l => (double)l.mean().item<float>()).Average();
        }
        return metrics;
    }

    /// <summary>The LADD re-noising of one step: per-sample t̂, the noise of the fake and real latents, the real
    /// latents' teacher features (computed without gradient) and the heads' noise-level embedding (N, 64).</summary>
    sealed record Renoised(Tensor T, Tensor A, Tensor Sigma, Tensor FakeNoise, List<Tensor> RealFeatures, Tensor NoiseEmbedding)
    {
        /// <summary>x_t̂ = √ᾱ_t̂·x0 + √(1−ᾱ_t̂)·ε_fake.</summary>
        public Tensor Noised(Tensor x0) => A * x0 + Sigma * FakeNoise;
    }

    /// <summary>
    /// LADD (Sauer et al. 2024, §3, "generative features"): the fake x̂θ and the real z0 are re-noised to the same t̂ per
    /// sample (independent noise) and the frozen teacher's features of both are the discriminator's input. LADD
    /// draws t̂ from a logit-normal π(t; m, s) biased towards high noise (its noise-level study found m = 1, s = 1
    /// best: at high noise the teacher's features carry global structure, at low noise only detail). Its teacher is a
    /// rectified flow with t ∈ [0, 1]; on this DDPM schedule we take the same fraction of the way through the
    /// schedule, t̂ = round(999·σ(m + s·n)), n ~ N(0, 1) (median index 731): a
    /// choice by schedule position, not by matched signal-to-noise ratio. The heads are conditioned on the pooled text
    /// and a sinusoidal embedding of t̂ (LADD conditions its heads on text and noise level).
    /// </summary>
    Renoised Renoise(Tensor z0, Tensor context, Random rng, Generator gen)
    {
        var st = Settings;
        long b = z0.shape[0];
        var tValues = new long[b];
        for (int i = 0; i < b; i++)
        {
            double n = Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());   // Box-Muller
            double u = 1 / (1 + Math.Exp(-(st.LaddLocation + st.LaddScale * n)));
            tValues[i] = Math.Clamp((long)Math.Round(999 * u), 0, 999);
        }
        var t = tensor(tValues);
        Tensor a = Coef(t, sqrtAb: true), sigma = Coef(t, sqrtAb: false);
        var fakeNoise = randn(z0.shape, generator: gen);
        List<Tensor> real;
        using (no_grad()) real = Teacher.Features(a * z0 + sigma * randn(z0.shape, generator: gen), t, context);
        var embedding = TimestepEmbedding.Sinusoidal(t, NoiseEmbeddingDim, flipSinToCos: true, freqShift: 0);
        return new Renoised(t, a, sigma, fakeNoise, real, embedding);
    }

    /// <summary>
    /// L_distill = E[c(t)·d(x̂θ, x̂ψ)] (ADD Eq. 4): re-noise sg(x̂θ) to t ~ U[TMin, TMax], one teacher prediction without
    /// gradient (optionally guided), squared L2 per sample (latent or pixel space), weighted by c(t).
    /// </summary>
    public Tensor DistillLoss(Tensor x0Student, Tensor context, Random rng, Generator gen)
    {
        using var scope = NewDisposeScope();
        var st = Settings;
        long b = x0Student.shape[0];
        var tValues = Enumerable.Range(0, (int)b).Select(_ => rng.Next(st.TMin, st.TMax + 1)).ToArray();
        var t = tensor(tValues.Select(v => (long)v).ToArray());
        Tensor x0Teacher;
        using (no_grad())
        {
            var noise = randn(x0Student.shape, generator: gen);
            var xt = Coef(t, sqrtAb: true) * x0Student.detach() + Coef(t, sqrtAb: false) * noise;
            Tensor epsT;
            if (st.TeacherGuidance > 1)
            {
                using var emptyCtx = TextEncoder.forward(EmptyIds(context.shape[0], context.shape[1]));
                var both = Teacher.forward(cat([xt, xt], 0), cat([t, t], 0), cat([emptyCtx, context], 0)).chunk(2, 0);
                epsT = both[0] + st.TeacherGuidance * (both[1] - both[0]);
            }
            else epsT = Teacher.forward(xt, t, context);
            x0Teacher = (xt - Coef(t, sqrtAb: false) * epsT) / Coef(t, sqrtAb: true);
        }
        Tensor diff;
        if (st.PixelSpace)
        {
            double scaling = Vae.Config.ScalingFactor;
            Tensor target;
            using (no_grad()) target = Vae.Decode(x0Teacher / scaling);
            diff = Vae.Decode(x0Student / scaling) - target;
        }
        else diff = x0Student - x0Teacher;
        var perSample = diff.pow(2).flatten(1).mean([1L]);                                // (B,)
        var c = tensor(tValues.Select(v => (float)AddLosses.Weight(st.Weighting, Schedule.AlphasCumprod[v])).ToArray());
        return (c * perSample).mean().MoveToOuterDisposeScope();
    }

    Tensor EmptyIds(long n, long length)
    {
        var ids = new long[n * length];
        for (long i = 0; i < n; i++) { ids[i * length] = TextEncoder.Config.BosTokenId; ids[i * length + 1] = TextEncoder.Config.EosTokenId; }
        return tensor(ids, [n, length]);
    }

    /// <summary>x̂0 = (x_t − √(1−ᾱ_t)·ε̂(x_t, t)) / √ᾱ_t.</summary>
    public Tensor PredictX0(UNet2DConditionModel unet, Tensor xt, Tensor t, Tensor context)
    {
        using var scope = NewDisposeScope();
        var epsHat = unet.forward(xt, t, context);
        return ((xt - Coef(t, sqrtAb: false) * epsHat) / Coef(t, sqrtAb: true)).MoveToOuterDisposeScope();
    }

    /// <summary>√ᾱ_t or √(1−ᾱ_t) per sample, shaped (B, 1, 1, 1).</summary>
    Tensor Coef(Tensor t, bool sqrtAb)
    {
        var values = t.data<long>().ToArray().Select(v => (float)(sqrtAb ? Math.Sqrt(Schedule.AlphasCumprod[v]) : Math.Sqrt(1 - Schedule.AlphasCumprod[v]))).ToArray();
        return tensor(values).view(-1, 1, 1, 1);
    }
}
