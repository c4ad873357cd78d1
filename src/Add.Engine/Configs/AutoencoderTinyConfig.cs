using System.Text.Json;
using System.Text.Json.Serialization;

namespace Add.Engine.Configs;

/// <summary>
/// config.json of diffusers' AutoencoderTiny (TAESD, madebyollin/taesd; src/diffusers/models/autoencoders/
/// autoencoder_tiny.py, AutoencoderTiny.__init__, whose defaults absent keys take). Decoder (DecoderTiny in vae.py):
/// tanh(x/3)·3, conv latent_channels→C₀ (bias), ReLU, then per level i: num_decoder_blocks[i] blocks, and on all but the
/// last a nearest ×upsampling_scaling_factor upsample and a conv C→C without bias; the last level ends in a conv C→out
/// with bias. Encoder (EncoderTiny): conv in→C₀ (bias), then per level i: a stride-2 conv without bias (not on level 0)
/// and num_encoder_blocks[i] blocks; conv C→latent_channels (bias). Block (AutoencoderTinyBlock, unet_2d_blocks.py):
/// ReLU(conv3(ReLU(conv2(ReLU(conv1(x))))) + x). Latents are the UNet's (scaling_factor 1: nothing is divided out).
/// <para>diffusers builds every block as AutoencoderTinyBlock(channels[i], channels[i]) and the level's last conv
/// channels[i]→channels[i], so level i+1 receives channels[i]: the entries of each channel list must be equal (a
/// different list fails in diffusers too).</para>
/// </summary>
public sealed record AutoencoderTinyConfig : ConfigBase
{
    /// <summary>The class diffusers writes as <c>_class_name</c>.</summary>
    public const string ClassName = "AutoencoderTiny";

    [JsonPropertyName("in_channels")] public int InChannels { get; init; } = 3;
    [JsonPropertyName("out_channels")] public int OutChannels { get; init; } = 3;
    [JsonPropertyName("latent_channels")] public int LatentChannels { get; init; } = 4;
    [JsonPropertyName("encoder_block_out_channels")] public int[] EncoderBlockOutChannels { get; init; } = [64, 64, 64, 64];
    [JsonPropertyName("decoder_block_out_channels")] public int[] DecoderBlockOutChannels { get; init; } = [64, 64, 64, 64];
    [JsonPropertyName("num_encoder_blocks")] public int[] NumEncoderBlocks { get; init; } = [1, 3, 3, 3];
    [JsonPropertyName("num_decoder_blocks")] public int[] NumDecoderBlocks { get; init; } = [3, 3, 3, 1];
    [JsonPropertyName("act_fn")] public string ActFn { get; init; } = "relu";
    [JsonPropertyName("upsample_fn")] public string UpsampleFn { get; init; } = "nearest";
    [JsonPropertyName("upsampling_scaling_factor")] public int UpsamplingScalingFactor { get; init; } = 2;
    /// <summary>1 for TAESD: the decoder takes the UNet-space latents as they are (diffusers' pipelines divide by it: a no-op).</summary>
    [JsonPropertyName("scaling_factor")] public double ScalingFactor { get; init; } = 1.0;
    /// <summary>Only for storing latents as 8-bit images (<c>scale_latents</c>: x/(2·magnitude) + shift); not used here.</summary>
    [JsonPropertyName("latent_magnitude")] public double LatentMagnitude { get; init; } = 3;
    /// <summary>As <see cref="LatentMagnitude"/>.</summary>
    [JsonPropertyName("latent_shift")] public double LatentShift { get; init; } = 0.5;

    /// <summary>Latent → image factor of the decoder: upsampling_scaling_factor^(levels − 1) (TAESD: 8).</summary>
    [JsonIgnore] public int DecoderFactor => Pow(UpsamplingScalingFactor, NumDecoderBlocks.Length - 1);

    /// <summary>Image → latent factor of the encoder: 2^(levels − 1) (its stride-2 convs).</summary>
    [JsonIgnore] public int EncoderFactor => 1 << (NumEncoderBlocks.Length - 1);

    private static int Pow(int b, int e)
    {
        int r = 1;
        for (int i = 0; i < e; i++) r *= b;
        return r;
    }

    /// <summary>TAESD's config with <paramref name="channels"/> channels and the given blocks per level (e.g. the emoji
    /// models' factor 4 needs 3 levels).</summary>
    public static AutoencoderTinyConfig Shaped(int channels, int[] encoderBlocks, int[] decoderBlocks, int latentChannels = 4) => new()
    {
        LatentChannels = latentChannels,
        EncoderBlockOutChannels = [.. Enumerable.Repeat(channels, encoderBlocks.Length)], NumEncoderBlocks = encoderBlocks,
        DecoderBlockOutChannels = [.. Enumerable.Repeat(channels, decoderBlocks.Length)], NumDecoderBlocks = decoderBlocks,
    };

    protected override IReadOnlySet<string> InformationalKeys => Informational;
    protected override IReadOnlyDictionary<string, object?[]> FixedKeys => Fixed;

    private static readonly HashSet<string> Informational = ["force_upcast"];   // fp16 checkpoints: we compute in fp32
    private static readonly Dictionary<string, object?[]> Fixed = new()
    {
        ["shift_factor"] = [null, 0],   // SD3/Flux latents: (z − shift)·scaling
    };

    /// <summary>The <c>_class_name</c> the file declares, if any.</summary>
    [JsonIgnore]
    public string? DeclaredClass => Extra is not null && Extra.TryGetValue("_class_name", out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    public override void Validate()
    {
        CheckFixedKeys();
        ConfigJson.Require(DeclaredClass is null or ClassName, $"_class_name '{DeclaredClass}' is not {ClassName}");
        ConfigJson.Require(InChannels > 0 && OutChannels > 0 && LatentChannels > 0, "in_channels, out_channels and latent_channels must be positive");
        ConfigJson.Require(ActFn == "relu", $"act_fn '{ActFn}' is not supported (only 'relu')");
        ConfigJson.Require(UpsampleFn == "nearest", $"upsample_fn '{UpsampleFn}' is not supported (only 'nearest')");
        ConfigJson.Require(UpsamplingScalingFactor == 2, $"upsampling_scaling_factor {UpsamplingScalingFactor} is not supported (only 2)");
        ConfigJson.Require(ScalingFactor > 0 && double.IsFinite(ScalingFactor), $"scaling_factor must be positive, got {ScalingFactor}");
        Levels("encoder", EncoderBlockOutChannels, NumEncoderBlocks);
        Levels("decoder", DecoderBlockOutChannels, NumDecoderBlocks);
    }

    private static void Levels(string part, int[] channels, int[] blocks)
    {
        ConfigJson.Require(channels.Length >= 1 && channels.Length == blocks.Length,
            $"{part}_block_out_channels ({channels.Length}) and num_{part}_blocks ({blocks.Length}) must be non-empty and the same length");
        ConfigJson.Require(channels.All(c => c > 0), $"{part}_block_out_channels [{string.Join(", ", channels)}] must be positive");
        ConfigJson.Require(channels.All(c => c == channels[0]),
            $"{part}_block_out_channels [{string.Join(", ", channels)}] must be equal (diffusers' {(part == "encoder" ? "EncoderTiny" : "DecoderTiny")} keeps one width)");
        ConfigJson.Require(blocks.All(b => b >= 0), $"num_{part}_blocks [{string.Join(", ", blocks)}] must not be negative");
    }
}
