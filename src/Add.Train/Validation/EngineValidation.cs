using Add.Engine.Backends;
using Add.Engine.Configs;
using Add.Engine.Pipeline;
using Add.Train.Model;
using Add.Train.Pipeline;
using static TorchSharp.torch;

namespace Add.Train.Validation;

/// <summary>
/// Runs the engine (our kernels, any backend) and the TorchSharp reference on identical tokens and noise
/// (<see cref="BatchNoise"/>) and compares every stage: text-encoder hidden states (SDXL: the two encoders' concatenated
/// context, and text_encoder_2's pooled text_embeds), the UNet output at each step, the
/// final latent, and the decoded image in 0-255 units. The reference runs its own trajectory (not the engine's), so
/// the per-step errors include what earlier steps accumulated. It computes its own diffusers schedule
/// (<see cref="ReferenceScheduler"/>: timesteps compared exactly, sigmas, the levels each step goes to, and
/// init_noise_sigma compared to float64 rounding) and runs diffusers' sampler in diffusers' own latent space
/// (<see cref="ReferenceSampler"/>): only the request's plan (sampler, step count, guidance), the token ids and the
/// noise come from the engine.
/// </summary>
public static class EngineValidation
{
    // Seen on this machine (CPU SIMD and ILGPU CPU accelerator; shipped student 4 steps, teacher 20 steps with CFG 4,
    // tiny random pipelines): text ≤ 2.3e-7, UNet ≤ 3.6e-6, latent ≤ 1.8e-6 relative; image ≤ 1.1e-3 grey levels, 0-1 of
    // 6,144 PNG bytes differing. The limits leave 30-50× headroom for other summation orders (GPU tiles, FMA contraction).

    /// <summary>Text encoder hidden states: fp32 GEMMs, layer norms and attention in another summation order than
    /// libtorch; a few ulp of O(1) values per op over 3 layers.</summary>
    public const double TextRelTolerance = 1e-5;

    /// <summary>UNet ε̂ at every step: ~60 ops deep, group norms amplify rounding where a group is nearly constant, and
    /// later steps inherit the latent's drift (the reference runs its own trajectory).</summary>
    public const double UnetRelTolerance = 1e-4;

    /// <summary>Final latent: the sampler's coefficients reach 1/√ᾱ ≈ 14 at t = 999, scaling ε̂'s error.</summary>
    public const double LatentRelTolerance = 1e-4;

    /// <summary>Sigmas, the ᾱ each step goes to, and init_noise_sigma: float64 on both sides from the same ᾱ table
    /// (computed by two implementations: a loop and torch's cumprod) through different formulas (the engine derives σ
    /// from ᾱ = 1/(1 + σ²)); ~1e-15 apart, 1e-12 keeps 3 orders of headroom and still catches any wrong level.</summary>
    public const double ScheduleRelTolerance = 1e-12;

    /// <summary>Decoded image in 0-255 units before rounding: a twentieth of a grey level (a byte then differs only where
    /// the value sits within that distance of a rounding boundary).</summary>
    public const double ImageAbsTolerance = 0.05;

    public sealed record Stage(string Name, double MaxAbs, double MaxRel, double Tolerance, bool Relative)
    {
        public bool Passed => (Relative ? MaxRel : MaxAbs) <= Tolerance;
        public override string ToString() =>
            $"{Name,-10} max abs {MaxAbs,10:E2}   max rel {MaxRel,10:E2}   tolerance {(Relative ? "rel" : "abs")} {Tolerance:E1}   {(Passed ? "ok" : "FAIL")}";
    }

    public sealed record Report(string Backend, List<Stage> Stages, int DifferingBytes, int TotalBytes)
    {
        public bool Passed => Stages.All(s => s.Passed);
    }

    /// <summary>max |a − b| and that over max |b| (the reference's range), for schedule values.</summary>
    public static (double Abs, double Rel) Compare(ReadOnlySpan<double> engine, ReadOnlySpan<double> reference)
    {
        double abs = 0, range = 0;
        for (int i = 0; i < engine.Length; i++)
        {
            abs = Math.Max(abs, Math.Abs(engine[i] - reference[i]));
            range = Math.Max(range, Math.Abs(reference[i]));
        }
        return (abs, abs / Math.Max(range, 1e-30));
    }

    /// <summary>max |a − b| and that over max |b| (the reference's range).</summary>
    public static (double Abs, double Rel) Compare(ReadOnlySpan<float> engine, ReadOnlySpan<float> reference)
    {
        if (engine.Length != reference.Length) throw new InvalidOperationException($"stage sizes differ: engine {engine.Length}, reference {reference.Length}");
        double abs = 0, range = 0;
        for (int i = 0; i < engine.Length; i++)
        {
            abs = Math.Max(abs, Math.Abs((double)engine[i] - reference[i]));
            range = Math.Max(range, Math.Abs((double)reference[i]));
        }
        return (abs, abs / Math.Max(range, 1e-30));
    }

    private sealed record EngineRun(Dictionary<string, float[]> Traces, List<Engine.Imaging.RgbImage> Images, GenerationPlan Plan, int[] Ids, int[]? Ids2,
        float[]? InitPixels, int Width, int Height, int Length, string BackendName);

    /// <summary>The engine's side: load, generate with traces, keep what the comparison needs, dispose. Not inlined, so
    /// nothing of the pipeline stays reachable from the caller's frame when it collects.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static EngineRun RunEngine(string modelDir, BackendKind backend, GenerationRequest request, Action<string>? log, string? variant, string? decoder)
    {
        var traces = new Dictionary<string, float[]>();
        using var engine = DiffusionPipeline.Load(modelDir, BackendFactory.Create(backend), log, variant);
        if (decoder is not null and not TinyDecoder) engine.LoadTinyDecoder(decoder, log);
        log?.Invoke($"engine: loaded in {engine.LoadSeconds:F1} s; working set {Environment.WorkingSet / 1e9:F1} GB");
        engine.Trace = (stage, values) => traces[stage] = values;
        var plan = engine.Plan(request);
        var (width, height) = engine.SizeOf(request);
        var images = engine.Generate(request, onStage: (stage, seconds) => log?.Invoke($"engine: {stage} {seconds:F2} s"));
        log?.Invoke($"engine: working set {Environment.WorkingSet / 1e9:F1} GB");
        var ids = engine.Tokenize(request.Prompts, plan.Guided);
        var ids2 = engine.Tokenize2(request.Prompts, plan.Guided);
        var initPixels = request.InitImage is { } image ? engine.InitPixels(image, request) : null;
        engine.Trace = null;
        return new EngineRun(traces, images, plan, ids, ids2, initPixels, width, height, engine.Tokenizer.MaxLength, engine.Backend.Name);
    }

    /// <summary>--decoder's keyword for the pipeline's own vae_tiny.</summary>
    public const string TinyDecoder = "tiny";

    /// <summary>The reference's DecoderTiny of <paramref name="decoder"/> ("tiny": the pipeline's vae_tiny; else an AutoencoderTiny
    /// folder), loaded from the decoder.* tensors, and the config's scaling_factor.</summary>
    private static (DecoderTiny Decoder, double ScalingFactor) LoadTinyReference(string modelDir, string decoder, string? variant, Action<string>? log)
    {
        var (component, parent) = decoder == TinyDecoder ? (PipelineLayout.VaeTiny, modelDir) : PipelineLayout.Standalone(decoder);
        var config = ConfigJson.Load<AutoencoderTinyConfig>(component.Config(parent), log);
        var module = new DecoderTiny(config);
        using (var weights = component.OpenWeights(parent, decoder == TinyDecoder ? variant : null, log)) StateDict.LoadInto(module, weights, "decoder.");
        module.eval();
        return (module, config.ScalingFactor);
    }

    /// <summary>Validates <paramref name="request"/>; with <paramref name="decoder"/> ("tiny" or an AutoencoderTiny folder,
    /// and the request's <see cref="GenerationRequest.Decoder"/> <see cref="DecoderKind.Tiny"/>) the image stage compares the
    /// tiny decoders (engine vs the reference's DecoderTiny) instead of the VAEs.</summary>
    public static Report Run(string modelDir, BackendKind backend, GenerationRequest request, Action<string>? log = null, string? variant = null, string? decoder = null)
    {
        if ((decoder is not null) != (request.Decoder == DecoderKind.Tiny))
            throw new ArgumentException($"decoder '{decoder}' and the request's {request.Decoder} decoder disagree", nameof(decoder));
        // The engine runs first, in its own method, and is collected before the reference loads: at SD-Turbo size each
        // holds ~5 GB of weights (the engine twice that with its packed GEMM panels); only traces, ids and images stay.
        var (traces, images, plan, ids, ids2, initPixels, width, height, length, backendName) = RunEngine(modelDir, backend, request, log, variant, decoder);
        System.Runtime.GCSettings.LargeObjectHeapCompactionMode = System.Runtime.GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        log?.Invoke($"engine: released; working set {Environment.WorkingSet / 1e9:F1} GB");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var (kind, timesteps, guidance) = (plan.Kind, plan.Timesteps, plan.Guidance);
        log?.Invoke($"engine: {backendName}; {width}x{height}; {timesteps.Length} of {plan.Schedule.Steps} step(s) [{string.Join(", ", timesteps)}], {kind}, guidance {guidance}");

        var reference = ReferencePipeline.Load(modelDir, variant: variant);
        log?.Invoke($"reference: loaded in {clock.Elapsed.TotalSeconds:F1} s; working set {Environment.WorkingSet / 1e9:F1} GB");
        void Lap(string stage) { log?.Invoke($"reference: {stage} {clock.Elapsed.TotalSeconds:F2} s"); clock.Restart(); }
        clock.Restart();
        var stages = new List<Stage>();
        void Add(string name, float[] engineValues, Tensor referenceValues, double tolerance, bool relative = true)
        {
            var values = referenceValues.contiguous().data<float>().ToArray();
            var (abs, rel) = engineValues.Length == values.Length ? Compare(engineValues, values) : (double.NaN, double.NaN);
            stages.Add(new Stage(name, abs, rel, tolerance, relative));
        }

        using var _ = no_grad();
        using var scope = NewDisposeScope();
        int n = request.Prompts.Count;
        bool guided = guidance > 1;
        int rows = guided ? 2 * n : n;
        Tensor Ids(int[] values) => tensor(values.Select(i => (long)i).ToArray(), [rows, length]);
        var (context, added) = reference.Condition(Ids(ids), ids2 is null ? null : Ids(ids2), n, guided, width, height);
        Add("text", traces["text"], context, TextRelTolerance);
        if (added is not null) Add("text_embeds", traces.GetValueOrDefault("text_embeds", []), added.TextEmbeds, TextRelTolerance);
        Lap("text encoder");

        // The reference's own schedule for the request (an init image runs the tail of the list), against the engine's.
        var full = reference.Timesteps(kind, plan.Schedule.Steps);
        var s = full.Skip(Math.Max(0, full.Count - timesteps.Length));
        void AddValues(string name, double[] engineValues, double[] referenceValues, double tolerance, bool relative)
        {
            var (abs, rel) = engineValues.Length == referenceValues.Length ? Compare(engineValues, referenceValues) : (double.PositiveInfinity, double.PositiveInfinity);
            stages.Add(new Stage(name, abs, rel, tolerance, relative));
        }
        AddValues("timesteps", timesteps, s.Timesteps, 0, relative: false);
        AddValues("sigmas", plan.Schedule.Sigmas, s.Sigmas, ScheduleRelTolerance, relative: true);
        AddValues("next_alpha", plan.Schedule.NextAlphaBars, s.PrevAlphaBars, ScheduleRelTolerance, relative: true);
        AddValues("init_sigma", [plan.Schedule.InitNoiseSigma], [s.InitNoiseSigma], ScheduleRelTolerance, relative: true);

        var u = reference.Unet.Config;
        int factor = reference.Vae.Config.DownsampleFactor;
        long[] shape = [n, u.InChannels, height / factor, width / factor];
        var noise = new BatchNoise(request.Seed, n, u.InChannels * (height / factor) * (width / factor));
        var x = tensor(noise.Draw(), shape);
        if (initPixels is not null)
        {
            var pixels = tensor(initPixels, [1, 3, height, width]).expand(n, -1, -1, -1);
            var z0 = reference.Vae.Encode(pixels).Mean * reference.Vae.Config.ScalingFactor;
            x = ReferenceSampler.AddNoise(s, 0, z0, x);
        }
        else x = ReferenceSampler.InitialLatent(s, x);
        x = ReferenceSampler.Sample(reference.Unet, s, guidance, context, x, () => tensor(noise.Draw(), shape),
            (i, eps) => { Add($"unet.{i}", traces.GetValueOrDefault($"unet.{i}", []), eps, UnetRelTolerance); Lap($"unet {i + 1}"); }, added);
        Add("latent", traces["latent"], x, LatentRelTolerance);
        Tensor decoded;
        if (decoder is null)
        {
            decoded = reference.Decode(x);
            Lap("vae decode");
        }
        else
        {
            var (tiny, scaling) = LoadTinyReference(modelDir, decoder, variant, log);
            using (tiny) decoded = tiny.call(x / scaling);   // diffusers: vae.decode(latents / vae.config.scaling_factor), 1 for TAESD
            Lap("tiny decode");
        }
        var toGrey = (Tensor p) => (p.clamp(-1, 1) + 1) * 127.5;
        var engineImage = tensor(traces["image"], decoded.shape);
        Add("image", toGrey(engineImage).data<float>().ToArray(), toGrey(decoded), ImageAbsTolerance, relative: false);

        var referenceImages = Training.ImageTensors.ToImages(decoded);
        int differing = 0, total = 0;
        for (int i = 0; i < n; i++)
            for (int p = 0; p < images[i].Pixels.Length; p++, total++)
                if (images[i].Pixels[p] != referenceImages[i].Pixels[p]) differing++;
        return new Report(backendName, stages, differing, total);
    }
}
