using System.Text.Json;
using System.Text.Json.Nodes;
using Add.Engine.Configs;
using Add.Engine.Imaging;
using Add.Engine.Pipeline;
using Add.Engine.SafeTensors;
using Add.Engine.Sampling;
using Add.Engine.Text;
using Add.Train.Model;
using Add.Train.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Add.Train.Pipeline;

/// <summary>
/// The TorchSharp reference text-to-image pipeline over a model folder in the diffusers layout (DESIGN.md §4):
/// tokenizer → text encoder → sampler loop over the UNet (with classifier-free guidance) → VAE decoder.
/// </summary>
public sealed class ReferencePipeline
{
    public required TextTokenizer Tokenizer { get; init; }
    public required CLIPTextModel TextEncoder { get; init; }
    public required UNet2DConditionModel Unet { get; init; }
    public required AutoencoderKL Vae { get; init; }
    public required SchedulerConfig Scheduler { get; init; }
    /// <summary>SDXL's tokenizer_2 and text_encoder_2 (a CLIPTextModelWithProjection), or null for one encoder.</summary>
    public TextTokenizer? Tokenizer2 { get; init; }
    public CLIPTextModel? TextEncoder2 { get; init; }
    /// <summary>model_index.json's force_zeros_for_empty_prompt (SDXL): guided runs condition the uncond rows on zeros.</summary>
    public bool ForceZerosForEmptyPrompt { get; init; }

    private ReferenceSchedule? _schedule;

    /// <summary>The reference's own noise schedule for <see cref="Scheduler"/> (torch ops, never the engine's).</summary>
    public ReferenceSchedule Schedule => _schedule ??= new(Scheduler);

    /// <summary>Token ids (N, L) int64 for prompts.</summary>
    public Tensor Tokenize(IReadOnlyList<string> prompts, Action<string>? warn = null) => Tokenize(Tokenizer, prompts, warn);

    /// <summary>tokenizer_2's ids (N, L) int64 for prompts (SDXL), or null for a one-encoder pipeline.</summary>
    public Tensor? Tokenize2(IReadOnlyList<string> prompts, Action<string>? warn = null) => Tokenizer2 is null ? null : Tokenize(Tokenizer2, prompts, warn);

    static Tensor Tokenize(TextTokenizer tokenizer, IReadOnlyList<string> prompts, Action<string>? warn = null)
        => tensor(prompts.SelectMany(p => tokenizer.Encode(p, warn).Select(i => (long)i)).ToArray(), [prompts.Count, tokenizer.MaxLength]);

    /// <summary>
    /// The UNet's conditioning for token rows (the guidance layout: with <paramref name="guided"/> the first
    /// <paramref name="n"/> rows are the unconditional ones). One encoder: its last hidden state. Two (diffusers
    /// StableDiffusionXLPipeline.encode_prompt): cat(hidden_states[-2] of both, last dim), text_encoder_2's text_embeds and
    /// time_ids (H, W, 0, 0, H, W) per row; guided with force_zeros_for_empty_prompt the uncond rows of context and
    /// text_embeds are zeros.
    /// </summary>
    public (Tensor Context, ReferenceSampler.AddedConditioning? Added) Condition(Tensor ids, Tensor? ids2, int n, bool guided, int width, int height)
    {
        using var noGrad = no_grad();
        if (TextEncoder2 is null) return (TextEncoder.forward(ids), null);
        using var scope = NewDisposeScope();
        var h1 = TextEncoder.Sdxl(ids).Penultimate;
        var (h2, pooled) = TextEncoder2.Sdxl(ids2 ?? throw new ArgumentException("two text encoders need tokenizer_2's ids", nameof(ids2)));
        var context = cat([h1, h2], 2);
        var embeds = pooled!;
        if (guided && ForceZerosForEmptyPrompt)
        {
            context = cat([zeros_like(context.narrow(0, 0, n)), context.narrow(0, n, context.shape[0] - n)], 0);
            embeds = cat([zeros_like(embeds.narrow(0, 0, n)), embeds.narrow(0, n, embeds.shape[0] - n)], 0);
        }
        long rows = ids.shape[0];
        var timeIds = tensor(new float[] { height, width, 0, 0, height, width }).unsqueeze(0).expand(rows, -1).contiguous();
        return (context.MoveToOuterDisposeScope(), new(embeds.MoveToOuterDisposeScope(), timeIds.MoveToOuterDisposeScope()));
    }

    /// <summary>The reference's own diffusers schedule for <paramref name="steps"/> steps of <paramref name="kind"/> on
    /// <see cref="Scheduler"/>.</summary>
    public ReferenceScheduler Timesteps(SamplerKind kind, int steps) => ReferenceScheduler.Create(Scheduler, Schedule, kind, steps);

    /// <summary>
    /// Samples latents for <paramref name="prompts"/> with <see cref="ReferenceSampler.Sample"/> from the initial latent
    /// init_noise_sigma·<paramref name="noise"/> (N, 4, s, s). guidance ≤ 1 disables CFG; otherwise
    /// m = m_u + w·(m_c − m_u) (Ho &amp; Salimans 2022, Eq. 6). <paramref name="stepNoise"/> supplies fresh noise for
    /// ancestral / student steps.
    /// </summary>
    public Tensor SampleLatents(IReadOnlyList<string> prompts, SamplerKind kind, int steps, double guidance, Tensor noise, Func<Tensor> stepNoise)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        int n = prompts.Count;
        var rows = guidance > 1 ? Enumerable.Repeat("", n).Concat(prompts).ToList() : prompts;
        int factor = Vae.Config.DownsampleFactor;
        var (context, added) = Condition(Tokenize(rows), Tokenize2(rows), n, guidance > 1,
            (int)noise.shape[3] * factor, (int)noise.shape[2] * factor);
        var s = Timesteps(kind, steps);
        return ReferenceSampler.Sample(Unet, s, guidance, context, ReferenceSampler.InitialLatent(s, noise), stepNoise, added: added).MoveToOuterDisposeScope();
    }

    /// <summary>Scaled latents → pixels (N, 3, S, S) in [-1, 1].</summary>
    public Tensor Decode(Tensor latents)
    {
        using var _ = no_grad();
        using var z = latents / Vae.Config.ScalingFactor;
        return Vae.Decode(z);
    }

    /// <summary>Generates images for prompts with a seeded generator (noise (N, 4, s, s) drawn first, then per-step noise).</summary>
    public List<RgbImage> Generate(IReadOnlyList<string> prompts, SamplerKind kind, int steps, double guidance, long seed)
    {
        using var scope = NewDisposeScope();
        var gen = new Generator((ulong)seed);
        int s = Unet.Config.DefaultSampleSize;
        var noise = randn([prompts.Count, Unet.Config.InChannels, s, s], generator: gen);
        var latents = SampleLatents(prompts, kind, steps, guidance, noise, () => randn(noise.shape, generator: gen));
        return ImageTensors.ToImages(Decode(latents));
    }

    public void Eval() { TextEncoder.eval(); TextEncoder2?.eval(); Unet.eval(); Vae.eval(); }

    /// <summary>Writes the folder: model_index.json, scheduler/, tokenizer/, text_encoder/, unet/, vae/ (weights F32).</summary>
    public void Save(string dir, string pipelineClass)
    {
        Directory.CreateDirectory(dir);
        var index = new JsonObject
        {
            ["_class_name"] = pipelineClass,
            ["_diffusers_version"] = "0.30.0",
            [PipelineLayout.Scheduler.Name] = new JsonArray("diffusers", Scheduler.ClassName),
            [PipelineLayout.TextEncoder.Name] = new JsonArray("transformers", "CLIPTextModel"),
            [PipelineLayout.Tokenizer.Name] = new JsonArray(Tokenizer.ModelIndexEntry.Library, Tokenizer.ModelIndexEntry.ClassName),
            [PipelineLayout.Unet.Name] = new JsonArray("diffusers", "UNet2DConditionModel"),
            [PipelineLayout.Vae.Name] = new JsonArray("diffusers", "AutoencoderKL"),
        };
        File.WriteAllText(PipelineLayout.ModelIndex(dir), index.ToJsonString(Training.ResultJson.Indented));
        ConfigJson.Save(Scheduler, PipelineLayout.Scheduler.Config(dir));
        Tokenizer.Save(PipelineLayout.Tokenizer.Folder(dir));
        SaveModule(TextEncoder, TextEncoder.Config, PipelineLayout.TextEncoder, dir);
        SaveModule(Unet, Unet.Config, PipelineLayout.Unet, dir);
        VaeTrainer.Export(Vae, Vae.Config, PipelineLayout.Vae.Folder(dir));
    }

    /// <summary>A network's component folder: its config and its weights (F32, metadata format "pt").</summary>
    static void SaveModule<TConfig>(nn.Module module, TConfig config, PipelineComponent component, string dir) where TConfig : ConfigBase
    {
        Directory.CreateDirectory(component.Folder(dir));
        ConfigJson.Save(config, component.Config(dir));
        var writer = new SafeTensorsWriter();
        writer.Metadata["format"] = "pt";
        StateDict.AddTo(writer, module);
        writer.Save(component.Weights(dir));
    }

    /// <summary>Loads a pipeline folder (weights as the engine resolves them: <paramref name="variant"/>, shards,
    /// <see cref="PipelineComponent.OpenWeights"/>); every mismatch names the file, key and shapes.</summary>
    public static ReferencePipeline Load(string dir, Action<string>? warn = null, string? variant = null)
    {
        if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"model folder not found: {dir}");
        var index = File.Exists(PipelineLayout.ModelIndex(dir)) ? ModelIndex.Load(dir) : null;
        var te = new CLIPTextModel(ConfigJson.Load<CLIPTextConfig>(PipelineLayout.TextEncoder.Config(dir), warn));
        using (var f = PipelineLayout.TextEncoder.OpenWeights(dir, variant, warn)) StateDict.LoadInto(te, f);
        CLIPTextModel? te2 = null;
        if (index?.DualEncoder == true)
        {
            te2 = new CLIPTextModel(ConfigJson.Load<CLIPTextConfig>(PipelineLayout.TextEncoder2.Config(dir), warn), withProjection: true);
            using var f = PipelineLayout.TextEncoder2.OpenWeights(dir, variant, warn);
            StateDict.LoadInto(te2, f);
        }
        var unet = new UNet2DConditionModel(ConfigJson.Load<UNet2DConditionConfig>(PipelineLayout.Unet.Config(dir), warn));
        using (var f = PipelineLayout.Unet.OpenWeights(dir, variant, warn)) StateDict.LoadInto(unet, f);
        var vae = new AutoencoderKL(ConfigJson.Load<AutoencoderKLConfig>(PipelineLayout.Vae.Config(dir), warn));
        using (var f = PipelineLayout.Vae.OpenWeights(dir, variant, warn)) StateDict.LoadInto(vae, f);
        var pipeline = new ReferencePipeline
        {
            Tokenizer = TextTokenizer.Load(PipelineLayout.Tokenizer.Folder(dir)),
            TextEncoder = te,
            Unet = unet,
            Vae = vae,
            Scheduler = ConfigJson.Load<SchedulerConfig>(PipelineLayout.Scheduler.Config(dir), warn),
            Tokenizer2 = te2 is null ? null : TextTokenizer.Load(PipelineLayout.Tokenizer2.Folder(dir)),
            TextEncoder2 = te2,
            ForceZerosForEmptyPrompt = index?.ForceZerosForEmptyPrompt ?? false,
        };
        pipeline.Eval();
        return pipeline;
    }
}
