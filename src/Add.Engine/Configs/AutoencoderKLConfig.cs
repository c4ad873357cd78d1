using System.Text.Json.Serialization;

namespace Add.Engine.Configs;

/// <summary>
/// vae/config.json of diffusers' AutoencoderKL. Encoder: conv_in, one DownEncoderBlock2D per entry of
/// block_out_channels (layers_per_block resnets, a stride-2 downsampler on all but the last), mid block (resnet,
/// attention, resnet), GroupNorm+SiLU, conv_out to 2·latent_channels (mean, log-variance); quant_conv (1×1).
/// Decoder: post_quant_conv (1×1), then the mirror with layers_per_block+1 resnets per UpDecoderBlock2D.
/// Spatial factor = 2^(len(block_out_channels) − 1). Absent keys take diffusers' defaults
/// (src/diffusers/models/autoencoders/autoencoder_kl.py, AutoencoderKL.__init__).
/// </summary>
public sealed record AutoencoderKLConfig : ConfigBase
{
    [JsonPropertyName("in_channels")] public int InChannels { get; init; } = 3;
    [JsonPropertyName("out_channels")] public int OutChannels { get; init; } = 3;
    [JsonPropertyName("latent_channels")] public int LatentChannels { get; init; } = 4;
    [JsonPropertyName("block_out_channels")] public int[] BlockOutChannels { get; init; } = [64];
    [JsonPropertyName("down_block_types")] public string[] DownBlockTypes { get; init; } = ["DownEncoderBlock2D"];
    [JsonPropertyName("up_block_types")] public string[] UpBlockTypes { get; init; } = ["UpDecoderBlock2D"];
    [JsonPropertyName("layers_per_block")] public int LayersPerBlock { get; init; } = 1;
    [JsonPropertyName("norm_num_groups")] public int NormNumGroups { get; init; } = 32;
    /// <summary>The image size the VAE was trained at (informational: encode and decode take the size per call).</summary>
    [JsonPropertyName("sample_size")] public int SampleSize { get; init; } = 32;
    /// <summary>Latents are multiplied by this before diffusion so they have about unit variance (SD 1.x/2.x: 0.18215).</summary>
    [JsonPropertyName("scaling_factor")] public double ScalingFactor { get; init; } = 0.18215;
    [JsonPropertyName("mid_block_add_attention")] public bool MidBlockAddAttention { get; init; } = true;
    [JsonPropertyName("act_fn")] public string ActFn { get; init; } = "silu";

    [JsonIgnore] public int DownsampleFactor => 1 << (BlockOutChannels.Length - 1);

    /// <summary>The latent size of a <see cref="SampleSize"/> image.</summary>
    [JsonIgnore] public int LatentSize => SampleSize / DownsampleFactor;

    /// <summary>The architecture of our emoji-32 VAE (models/); its scaling factor is measured per trained VAE.</summary>
    public static AutoencoderKLConfig Emoji32 => new()
    {
        BlockOutChannels = [32, 64, 64], DownBlockTypes = [.. Enumerable.Repeat("DownEncoderBlock2D", 3)], UpBlockTypes = [.. Enumerable.Repeat("UpDecoderBlock2D", 3)],
        LayersPerBlock = 1, NormNumGroups = 16, SampleSize = 32, ScalingFactor = 1.0,
    };

    /// <summary>This VAE with one level per entry of <paramref name="blockOutChannels"/> and the block types diffusers writes for them.</summary>
    public AutoencoderKLConfig WithLevels(params int[] blockOutChannels) => this with
    {
        BlockOutChannels = blockOutChannels,
        DownBlockTypes = [.. Enumerable.Repeat("DownEncoderBlock2D", blockOutChannels.Length)],
        UpBlockTypes = [.. Enumerable.Repeat("UpDecoderBlock2D", blockOutChannels.Length)],
    };

    protected override IReadOnlySet<string> InformationalKeys => Informational;
    protected override IReadOnlyDictionary<string, object?[]> FixedKeys => Fixed;
    protected override IReadOnlySet<string> NullMeaningfulKeys => NullMeaningful;

    private static readonly HashSet<string> Informational = ["force_upcast"];   // fp16 VAEs: we compute in fp32
    private static readonly Dictionary<string, object?[]> Fixed = new()
    {
        ["use_quant_conv"] = [true],
        ["use_post_quant_conv"] = [true],
        ["shift_factor"] = [null, 0],          // SD3/Flux latents: z·scaling − shift
        ["latents_mean"] = [null],             // SDXL-style per-channel latent statistics
        ["latents_std"] = [null],
    };
    private static readonly HashSet<string> NullMeaningful = ["scaling_factor"];

    public override void Validate()
    {
        CheckFixedKeys();
        int n = BlockOutChannels.Length;
        ConfigJson.Require(n >= 1, "block_out_channels must not be empty");
        ConfigJson.Require(DownBlockTypes.Length == n && UpBlockTypes.Length == n,
            $"block_out_channels ({n}), down_block_types ({DownBlockTypes.Length}) and up_block_types ({UpBlockTypes.Length}) must have the same length");
        foreach (var t in DownBlockTypes) ConfigJson.Require(t == "DownEncoderBlock2D", $"down_block_types entry '{t}' is not supported (DownEncoderBlock2D)");
        foreach (var t in UpBlockTypes) ConfigJson.Require(t == "UpDecoderBlock2D", $"up_block_types entry '{t}' is not supported (UpDecoderBlock2D)");
        foreach (var c in BlockOutChannels)
            ConfigJson.Require(c > 0 && c % NormNumGroups == 0, $"block_out_channels entry {c} is not a positive multiple of norm_num_groups {NormNumGroups}");
        ConfigJson.Require(InChannels > 0 && OutChannels > 0 && LatentChannels > 0, "in_channels, out_channels and latent_channels must be positive");
        ConfigJson.Require(LayersPerBlock >= 1, $"layers_per_block must be at least 1, got {LayersPerBlock}");
        ConfigJson.Require(SampleSize > 0, $"sample_size must be positive, got {SampleSize}");
        ConfigJson.Require(ScalingFactor > 0 && double.IsFinite(ScalingFactor), $"scaling_factor must be positive, got {ScalingFactor}");
        ConfigJson.Require(ActFn == "silu", $"act_fn '{ActFn}' is not supported (only 'silu')");
    }
}
