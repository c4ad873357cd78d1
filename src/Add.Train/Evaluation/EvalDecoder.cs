using Add.Engine.Configs;
using Add.Engine.Pipeline;
using Add.Train.Model;
using Add.Train.Pipeline;
using static TorchSharp.torch;

namespace Add.Train.Evaluation;

/// <summary>
/// The latent → pixel decoder an evaluation uses (`add-train eval --decoder`): the pipeline's full VAE ("full"), its
/// vae_tiny component ("tiny"), or any AutoencoderTiny folder (DIR), the last two through the reference's
/// <see cref="DecoderTiny"/> (diffusers: vae.decode(latents / scaling_factor), 1 for TAESD).
/// </summary>
public sealed class EvalDecoder
{
    public const string Full = "full", Tiny = "tiny";

    /// <summary>What the evaluation record says: "full", "tiny" or the folder's name.</summary>
    public required string Name { get; init; }
    readonly Func<Tensor, Tensor> _decode;

    EvalDecoder(Func<Tensor, Tensor> decode) => _decode = decode;

    /// <summary>Scaled latents (N, C, h, w) → pixels (N, 3, H, W) in about [-1, 1].</summary>
    public Tensor Decode(Tensor latents)
    {
        using var _ = no_grad();
        return _decode(latents);
    }

    /// <summary>The config's _class_name, or null when it has none (malformed JSON: <see cref="InvalidDataException"/>).</summary>
    static string? DeclaredClass(string configPath)
    {
        try
        {
            return System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(configPath)) is System.Text.Json.Nodes.JsonObject o
                && o["_class_name"] is { } c && c.GetValueKind() == System.Text.Json.JsonValueKind.String ? (string?)c : null;
        }
        catch (System.Text.Json.JsonException e) { throw new InvalidDataException($"{configPath} is not valid JSON: {e.Message}", e); }
    }

    /// <summary>The decoder <paramref name="choice"/> names for the pipeline in <paramref name="modelDir"/>. A model
    /// without vae_tiny, a folder that is not an AutoencoderTiny, or one whose latent channels or upscaling factor differ
    /// from the pipeline's throws <see cref="InvalidDataException"/> or <see cref="Add.CommandLine.UsageException"/> (exit 2).</summary>
    public static EvalDecoder Load(ReferencePipeline pipeline, string modelDir, string choice, Action<string>? warn = null)
    {
        if (choice == Full) return new EvalDecoder(pipeline.Decode) { Name = Full };
        PipelineComponent component;
        string parent;
        if (choice == Tiny)
        {
            if (!ModelIndex.Load(modelDir).Declares(PipelineLayout.VaeTiny.Name))
                throw new Add.CommandLine.UsageException($"{modelDir} declares no {PipelineLayout.VaeTiny.Name} component: pass --decoder full or an AutoencoderTiny folder");
            (component, parent) = (PipelineLayout.VaeTiny, modelDir);
        }
        else
        {
            if (!Directory.Exists(choice)) throw new Add.CommandLine.UsageException($"--decoder {choice}: not 'full', 'tiny' or an existing AutoencoderTiny folder");
            (component, parent) = PipelineLayout.Standalone(choice);
        }
        var where = component.Folder(parent);
        var configPath = component.Config(parent);
        if (!File.Exists(configPath)) throw new InvalidDataException($"{where} is not an AutoencoderTiny folder: it has no {PipelineLayout.ConfigFile}");
        var declared = DeclaredClass(configPath);
        if (declared is not null && declared != AutoencoderTinyConfig.ClassName)
            throw new InvalidDataException($"{where} is not an {AutoencoderTinyConfig.ClassName} folder: its {PipelineLayout.ConfigFile} declares _class_name '{declared}'");
        AutoencoderTinyConfig config;
        try { config = ConfigJson.Load<AutoencoderTinyConfig>(configPath, warn); }
        catch (InvalidDataException e) { throw new InvalidDataException($"{where} is not a usable {AutoencoderTinyConfig.ClassName}: {e.Message}", e); }
        if (config.LatentChannels != pipeline.Unet.Config.InChannels)
            throw new InvalidDataException($"{where}: the AutoencoderTiny's latent_channels {config.LatentChannels} differs from the unet's in_channels {pipeline.Unet.Config.InChannels}");
        if (config.DecoderFactor != pipeline.Vae.Config.DownsampleFactor)
            throw new InvalidDataException($"{where}: as an AutoencoderTiny it decodes {config.DecoderFactor}x the latent size, the vae {pipeline.Vae.Config.DownsampleFactor}x (not an AutoencoderTiny for this model)");
        var module = new DecoderTiny(config);
        using (var weights = component.OpenWeights(parent, null, warn)) StateDict.LoadInto(module, weights, "decoder.");
        module.eval();
        double scaling = config.ScalingFactor;
        return new EvalDecoder(z => module.call(z / scaling)) { Name = choice == Tiny ? Tiny : Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(choice))) };
    }
}
