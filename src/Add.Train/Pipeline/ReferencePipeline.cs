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

    private ReferenceSchedule? _schedule;

    /// <summary>The reference's own noise schedule for <see cref="Scheduler"/> (torch ops, never the engine's).</summary>
    public ReferenceSchedule Schedule => _schedule ??= new(Scheduler);

    /// <summary>Token ids (N, L) int64 for prompts.</summary>
    public Tensor Tokenize(IReadOnlyList<string> prompts, Action<string>? warn = null)
        => tensor(prompts.SelectMany(p => Tokenizer.Encode(p, warn).Select(i => (long)i)).ToArray(), [prompts.Count, Tokenizer.MaxLength]);

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
        var cond = TextEncoder.forward(Tokenize(prompts));
        var context = guidance > 1 ? cat([TextEncoder.forward(Tokenize(Enumerable.Repeat("", n).ToList())), cond], 0) : cond;
        var s = Timesteps(kind, steps);
        return ReferenceSampler.Sample(Unet, s, guidance, context, ReferenceSampler.InitialLatent(s, noise), stepNoise).MoveToOuterDisposeScope();
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

    public void Eval() { TextEncoder.eval(); Unet.eval(); Vae.eval(); }

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
        var te = new CLIPTextModel(ConfigJson.Load<CLIPTextConfig>(PipelineLayout.TextEncoder.Config(dir), warn));
        using (var f = PipelineLayout.TextEncoder.OpenWeights(dir, variant, warn)) StateDict.LoadInto(te, f);
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
        };
        pipeline.Eval();
        return pipeline;
    }
}
