using Add.Engine.SafeTensors;

namespace Add.Engine.Pipeline;

/// <summary>
/// One component folder of a pipeline: its folder name (also its key in model_index.json), its config file and, for
/// a network, its weights file. The paths take the pipeline folder.
/// </summary>
public sealed record PipelineComponent(string Name, string ConfigFile, string? WeightsFile = null)
{
    /// <summary>The variant a folder without full-precision weights falls back to (with a notice).</summary>
    public const string HalfVariant = "fp16";

    /// <summary>&lt;model&gt;/&lt;name&gt;.</summary>
    public string Folder(string model) => Path.Combine(model, Name);

    /// <summary>&lt;model&gt;/&lt;name&gt;/&lt;config file&gt;.</summary>
    public string Config(string model) => Path.Combine(model, Name, ConfigFile);

    /// <summary>&lt;model&gt;/&lt;name&gt;/&lt;weights file&gt;.</summary>
    public string Weights(string model) =>
        Path.Combine(model, Name, WeightsFile ?? throw new InvalidOperationException($"the {Name} component has no weights file"));

    /// <summary>
    /// Opens the network's checkpoint as diffusers resolves it (its <c>_add_variant</c>: the variant goes before the last
    /// extension). With <paramref name="variant"/> ("fp16"): the shard index <c>&lt;weights&gt;.index.fp16.json</c>, else
    /// <c>&lt;name&gt;.fp16.safetensors</c>, else an error. Without: the shard index <c>&lt;weights&gt;.index.json</c>,
    /// else the weights file, else the fp16 variant with a notice through <paramref name="warn"/>, else an error.
    /// </summary>
    /// <exception cref="FileNotFoundException">no such weights; the message names the files looked for.</exception>
    public SafeTensorsSet OpenWeights(string model, string? variant = null, Action<string>? warn = null)
    {
        var weights = WeightsFile ?? throw new InvalidOperationException($"the {Name} component has no weights file");
        var folder = Folder(model);
        if (variant is not null)
        {
            CheckVariant(variant);
            return TryOpen(folder, weights, variant)
                ?? throw new FileNotFoundException($"--variant {variant}: {Name}/ has neither {WithVariant(weights, variant)} nor {WithVariant(weights + IndexSuffix, variant)}",
                    Path.Combine(folder, WithVariant(weights, variant)));
        }
        if (TryOpen(folder, weights, null) is { } full) return full;
        if (TryOpen(folder, weights, HalfVariant) is { } half)
        {
            warn?.Invoke($"{Name}/ has no full-precision {weights}: loading its {HalfVariant} variant {half.Name} (widened to fp32; pass --variant {HalfVariant} to choose it)");
            return half;
        }
        throw new FileNotFoundException($"weights not found: {Path.Combine(folder, weights)} (nor {weights + IndexSuffix}, nor an {HalfVariant} variant)", Path.Combine(folder, weights));
    }

    static SafeTensorsSet? TryOpen(string folder, string weights, string? variant)
    {
        var index = Path.Combine(folder, variant is null ? weights + IndexSuffix : WithVariant(weights + IndexSuffix, variant));
        if (File.Exists(index)) return SafeTensorsSet.OpenIndex(index);
        var single = Path.Combine(folder, variant is null ? weights : WithVariant(weights, variant));
        return File.Exists(single) ? SafeTensorsSet.Open(single) : null;
    }

    /// <summary>The suffix of a sharded checkpoint's index: "model.safetensors" → "model.safetensors.index.json".</summary>
    public const string IndexSuffix = ".index.json";

    /// <summary>diffusers' and transformers' <c>_add_variant</c>: "model.safetensors" → "model.fp16.safetensors",
    /// "model.safetensors.index.json" → "model.safetensors.index.fp16.json".</summary>
    public static string WithVariant(string fileName, string variant)
    {
        int dot = fileName.LastIndexOf('.');
        return dot < 0 ? $"{fileName}.{variant}" : $"{fileName[..dot]}.{variant}{fileName[dot..]}";
    }

    /// <summary>A variant is a plain name (letters, digits, '_', '-'), as in "fp16" or "non_ema".</summary>
    public static void CheckVariant(string variant)
    {
        if (variant.Length == 0 || !variant.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-'))
            throw new ArgumentException($"variant '{variant}' is not a plain name such as {HalfVariant} (letters, digits, '_' or '-')", nameof(variant));
    }
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
/// vae_tiny/config.json, vae_tiny/diffusion_pytorch_model.safetensors   (optional: an AutoencoderTiny, TAESD)
/// tokenizer_2/…, text_encoder_2/config.json, text_encoder_2/model.safetensors   (SDXL: CLIPTextModelWithProjection)
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

    /// <summary>SDXL's second text encoder (transformers CLIPTextModelWithProjection) and its tokenizer.</summary>
    public static readonly PipelineComponent TextEncoder2 = new("text_encoder_2", ConfigFile, TransformersWeightsFile);
    public static readonly PipelineComponent Tokenizer2 = new("tokenizer_2", "tokenizer_config.json");

    /// <summary>The optional tiny decoder (diffusers AutoencoderTiny; declared in model_index.json when present).</summary>
    public static readonly PipelineComponent VaeTiny = new("vae_tiny", ConfigFile, DiffusersWeightsFile);

    /// <summary>Every component folder a pipeline needs.</summary>
    public static readonly IReadOnlyList<PipelineComponent> Components = [Scheduler, Tokenizer, TextEncoder, Unet, Vae];

    /// <summary>Component folders a pipeline may have.</summary>
    public static readonly IReadOnlyList<PipelineComponent> OptionalComponents = [VaeTiny, TextEncoder2, Tokenizer2];

    /// <summary>A standalone model folder (config.json and its weights directly inside, as madebyollin/taesd) as a
    /// component: its parent as the "pipeline", its name as the component's, so messages name the folder.</summary>
    public static (PipelineComponent Component, string Parent) Standalone(string folder)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder));
        return (new PipelineComponent(Path.GetFileName(full), ConfigFile, DiffusersWeightsFile), Path.GetDirectoryName(full) ?? full);
    }

    /// <summary>&lt;model&gt;/model_index.json.</summary>
    public static string ModelIndex(string model) => Path.Combine(model, ModelIndexFile);
}
