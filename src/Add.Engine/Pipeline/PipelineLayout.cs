namespace Add.Engine.Pipeline;

/// <summary>
/// One component folder of a pipeline: its folder name (also its key in model_index.json), its config file and, for
/// a network, its weights file. The paths take the pipeline folder.
/// </summary>
public sealed record PipelineComponent(string Name, string ConfigFile, string? WeightsFile = null)
{
    /// <summary>&lt;model&gt;/&lt;name&gt;.</summary>
    public string Folder(string model) => Path.Combine(model, Name);

    /// <summary>&lt;model&gt;/&lt;name&gt;/&lt;config file&gt;.</summary>
    public string Config(string model) => Path.Combine(model, Name, ConfigFile);

    /// <summary>&lt;model&gt;/&lt;name&gt;/&lt;weights file&gt;.</summary>
    public string Weights(string model) =>
        Path.Combine(model, Name, WeightsFile ?? throw new InvalidOperationException($"the {Name} component has no weights file"));
}

/// <summary>
/// The model-folder layout (DESIGN.md §4), spelled once: diffusers' pipeline folder with model_index.json and one
/// folder per component. Networks keep their config.json beside a safetensors file named as their library names it
/// (diffusers: diffusion_pytorch_model.safetensors; transformers: model.safetensors).
/// <code>
/// model_index.json
/// scheduler/scheduler_config.json
/// tokenizer/vocab.json, tokenizer/tokenizer_config.json
/// text_encoder/config.json, text_encoder/model.safetensors
/// unet/config.json, unet/diffusion_pytorch_model.safetensors
/// vae/config.json, vae/diffusion_pytorch_model.safetensors
/// </code>
/// </summary>
public static class PipelineLayout
{
    public const string ModelIndexFile = "model_index.json";

    /// <summary>A network's config (diffusers and transformers alike).</summary>
    public const string ConfigFile = "config.json";

    /// <summary>Weights of a diffusers model (UNet, VAE).</summary>
    public const string DiffusersWeightsFile = "diffusion_pytorch_model.safetensors";

    /// <summary>Weights of a transformers model (the CLIP text encoder; also the feature networks' export).</summary>
    public const string TransformersWeightsFile = "model.safetensors";

    /// <summary>The tokenizer's word → id map, beside its <see cref="Tokenizer"/> config file.</summary>
    public const string VocabFile = "vocab.json";

    public static readonly PipelineComponent Scheduler = new("scheduler", "scheduler_config.json");
    public static readonly PipelineComponent Tokenizer = new("tokenizer", "tokenizer_config.json");
    public static readonly PipelineComponent TextEncoder = new("text_encoder", ConfigFile, TransformersWeightsFile);
    public static readonly PipelineComponent Unet = new("unet", ConfigFile, DiffusersWeightsFile);
    public static readonly PipelineComponent Vae = new("vae", ConfigFile, DiffusersWeightsFile);

    /// <summary>Every component folder.</summary>
    public static readonly IReadOnlyList<PipelineComponent> Components = [Scheduler, Tokenizer, TextEncoder, Unet, Vae];

    /// <summary>&lt;model&gt;/model_index.json.</summary>
    public static string ModelIndex(string model) => Path.Combine(model, ModelIndexFile);
}
