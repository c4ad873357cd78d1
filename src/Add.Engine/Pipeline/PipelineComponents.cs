using Add.Engine.Backends;
using Add.Engine.Configs;
using Add.Engine.Models;
using Add.Engine.Sampling;
using Add.Engine.Text;

namespace Add.Engine.Pipeline;

/// <summary>
/// The components of a pipeline folder (<see cref="PipelineLayout"/>): configs read and checked against each other,
/// weights read, widened to fp32 and uploaded once to the backend (owned here until <see cref="Dispose"/>).
/// </summary>
internal sealed class PipelineComponents : IDisposable
{
    private readonly List<DeviceBuffer> _weights = [];

    public TextTokenizer Tokenizer { get; }
    public CLIPTextModel TextEncoder { get; }
    /// <summary>SDXL's second tokenizer and CLIPTextModelWithProjection (model_index.json declares both), else null; with them
    /// the UNet context is both encoders' penultimate hidden states side by side and text_encoder_2 gives the pooled text.</summary>
    public TextTokenizer? Tokenizer2 { get; }
    public CLIPTextModel? TextEncoder2 { get; }
    public UNet2DConditionModel Unet { get; }
    public AutoencoderKL Vae { get; }
    /// <summary>The tiny decoder: the folder's vae_tiny when declared, or one loaded later (<see cref="LoadTiny"/>); else null.</summary>
    public AutoencoderTiny? VaeTiny { get; set; }
    public SchedulerConfig Scheduler { get; }
    public NoiseSchedule Schedule { get; }
    public ModelIndex Index { get; }

    /// <summary>Reads <paramref name="folder"/> in this order: model_index.json, scheduler, tokenizer, the three network
    /// configs (then their consistency), then the weights of text_encoder, unet and vae (<paramref name="variant"/>:
    /// <see cref="PipelineComponent.OpenWeights"/>); the first problem throws.</summary>
    public PipelineComponents(string folder, Runtime rt, Action<string>? warn, string? variant = null)
    {
        try
        {
            Index = ModelIndex.Load(folder);
            Scheduler = ConfigJson.Load<SchedulerConfig>(PipelineLayout.Scheduler.Config(folder), warn);
            Schedule = new NoiseSchedule(Scheduler);
            Tokenizer = TextTokenizer.Load(PipelineLayout.Tokenizer.Folder(folder));
            var textConfig = ConfigJson.Load<CLIPTextConfig>(PipelineLayout.TextEncoder.Config(folder), warn);
            CLIPTextConfig? text2Config = null;
            if (Index.DualEncoder)
            {
                Tokenizer2 = TextTokenizer.Load(PipelineLayout.Tokenizer2.Folder(folder));
                text2Config = ConfigJson.Load<CLIPTextConfig>(PipelineLayout.TextEncoder2.Config(folder), warn);
            }
            var unetConfig = ConfigJson.Load<UNet2DConditionConfig>(PipelineLayout.Unet.Config(folder), warn);
            var vaeConfig = ConfigJson.Load<AutoencoderKLConfig>(PipelineLayout.Vae.Config(folder), warn);
            CheckConsistent(folder, textConfig, text2Config, unetConfig, vaeConfig);
            using (var w = Bind(PipelineLayout.TextEncoder, folder, rt, variant, warn)) { TextEncoder = new CLIPTextModel(rt, w, textConfig); w.ThrowIfUnused(); }
            if (text2Config is not null)
                using (var w = Bind(PipelineLayout.TextEncoder2, folder, rt, variant, warn)) { TextEncoder2 = new CLIPTextModel(rt, w, text2Config, withProjection: true); w.ThrowIfUnused(); }
            using (var w = Bind(PipelineLayout.Unet, folder, rt, variant, warn)) { Unet = new UNet2DConditionModel(rt, w, unetConfig); w.ThrowIfUnused(); }
            // The VAE's encoder is checked now and read on the first init image (AutoencoderKL.Encode), from the folder
            // as it is then.
            using (var w = Bind(PipelineLayout.Vae, folder, rt, variant, warn))
            {
                Vae = new AutoencoderKL(rt, w, vaeConfig, () => Bind(PipelineLayout.Vae, folder, rt, variant, warn));
                w.ThrowIfUnused();
            }
            if (Index.Declares(PipelineLayout.VaeTiny.Name))
                VaeTiny = LoadTiny(PipelineLayout.VaeTiny, folder, rt, variant, warn);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Loads an AutoencoderTiny component (config.json with <c>_class_name</c> AutoencoderTiny when named, and its
    /// weights: the decoder's, and the encoder's when the checkpoint has them) and checks it fits this pipeline: latent
    /// channels equal to the UNet's and the same latent → image factor as the VAE's. Throws
    /// <see cref="InvalidDataException"/> naming the folder and both values.</summary>
    public AutoencoderTiny LoadTiny(PipelineComponent component, string folder, Runtime rt, string? variant, Action<string>? warn)
    {
        var configPath = component.Config(folder);
        if (!File.Exists(configPath))
            throw new FileNotFoundException($"{component.Folder(folder)} is not an AutoencoderTiny folder: it has no {PipelineLayout.ConfigFile}", configPath);
        string where = component.Folder(folder);
        AutoencoderTinyConfig config;
        try { config = ConfigJson.Load<AutoencoderTinyConfig>(configPath, warn); }
        catch (InvalidDataException e) { throw new InvalidDataException($"{where} is not a usable {AutoencoderTinyConfig.ClassName}: {e.Message}", e); }
        if (config.LatentChannels != Unet.Config.InChannels)
            throw new InvalidDataException($"{where}: latent_channels {config.LatentChannels} differs from the unet's in_channels {Unet.Config.InChannels}");
        if (config.DecoderFactor != Vae.Config.DownsampleFactor)
            throw new InvalidDataException($"{where}: decodes {config.DecoderFactor}× the latent size, the vae {Vae.Config.DownsampleFactor}× (num_decoder_blocks [{string.Join(", ", config.NumDecoderBlocks)}])");
        using var w = Bind(component, folder, rt, variant, warn);
        bool encoder = w.ShapeOf("encoder.layers.0.weight") is not null;
        var tiny = new AutoencoderTiny(rt, w, config, encoder);
        w.ThrowIfUnused();
        return tiny;
    }

    private Weights Bind(PipelineComponent component, string folder, Runtime rt, string? variant, Action<string>? warn) =>
        new(component.OpenWeights(folder, variant, warn), rt.Backend, _weights);

    private void CheckConsistent(string folder, CLIPTextConfig text, CLIPTextConfig? text2, UNet2DConditionConfig unet, AutoencoderKLConfig vae)
    {
        void Require(bool ok, string message) { if (!ok) throw new InvalidDataException($"{folder}: {message}"); }
        Require(Tokenizer.VocabSize == text.VocabSize, $"tokenizer has {Tokenizer.VocabSize} words but text_encoder vocab_size is {text.VocabSize}");
        Require(Tokenizer.MaxLength <= text.MaxPositionEmbeddings, $"tokenizer max length {Tokenizer.MaxLength} exceeds text_encoder max_position_embeddings {text.MaxPositionEmbeddings}");
        string te2 = PipelineLayout.TextEncoder2.Name;
        if (text2 is null)
        {
            Require(!unet.TextTime, $"unet has addition_embed_type text_time (SDXL) but {PipelineLayout.ModelIndexFile} declares no '{te2}' (the pooled text comes from it)");
            Require(unet.CrossAttentionDim == text.HiddenSize, $"unet cross_attention_dim {unet.CrossAttentionDim} differs from text_encoder hidden_size {text.HiddenSize}");
        }
        else
        {
            var tokenizer2 = Tokenizer2!;
            Require(tokenizer2.VocabSize == text2.VocabSize, $"tokenizer_2 has {tokenizer2.VocabSize} words but {te2} vocab_size is {text2.VocabSize}");
            Require(tokenizer2.MaxLength == Tokenizer.MaxLength, $"tokenizer_2 max length {tokenizer2.MaxLength} differs from tokenizer's {Tokenizer.MaxLength}");
            Require(tokenizer2.MaxLength <= text2.MaxPositionEmbeddings, $"tokenizer_2 max length {tokenizer2.MaxLength} exceeds {te2} max_position_embeddings {text2.MaxPositionEmbeddings}");
            Require(unet.CrossAttentionDim == text.HiddenSize + text2.HiddenSize,
                $"unet cross_attention_dim {unet.CrossAttentionDim} differs from text_encoder hidden_size {text.HiddenSize} + {te2} hidden_size {text2.HiddenSize}");
            Require(unet.TextTime, $"{PipelineLayout.ModelIndexFile} declares '{te2}' but the unet has no addition_embed_type text_time to take its pooled output");
            Require(unet.AddTextEmbedsDim == text2.ProjectionDim,
                $"unet projection_class_embeddings_input_dim {unet.ProjectionClassEmbeddingsInputDim} is not {te2} projection_dim {text2.ProjectionDim} + 6·addition_time_embed_dim {6 * unet.AdditionTimeEmbedDim}");
        }
        Require(unet.InChannels == vae.LatentChannels && unet.OutChannels == vae.LatentChannels, $"unet in/out channels {unet.InChannels}/{unet.OutChannels} differ from vae latent_channels {vae.LatentChannels}");
    }

    public void Dispose()
    {
        foreach (var w in _weights) w.Dispose();
        _weights.Clear();
    }
}
