using System.Text.Json.Serialization;

namespace Add.Engine.Configs;

/// <summary>
/// vae/config.json of diffusers' AutoencoderKL. Encoder: conv_in, one down block per entry of block_out_channels
/// (layers_per_block resnets, a stride-2 downsampler on all but the last), mid block (resnet, attention, resnet),
/// GroupNorm+SiLU, conv_out to 2·latent_channels (mean, log-variance). Decoder mirrors it with layers_per_block+1
/// resnets per up block. Spatial factor = 2^(len(block_out_channels) − 1).
/// </summary>
public sealed record AutoencoderKLConfig : ConfigBase
{
    [JsonPropertyName("in_channels")] public int InChannels { get; init; } = 3;
    [JsonPropertyName("out_channels")] public int OutChannels { get; init; } = 3;
    [JsonPropertyName("latent_channels")] public int LatentChannels { get; init; } = 4;
    [JsonPropertyName("block_out_channels")] public int[] BlockOutChannels { get; init; } = [32, 64, 64];
    [JsonPropertyName("layers_per_block")] public int LayersPerBlock { get; init; } = 1;
    [JsonPropertyName("norm_num_groups")] public int NormNumGroups { get; init; } = 16;
    [JsonPropertyName("sample_size")] public int SampleSize { get; init; } = 32;
    /// <summary>Latents are multiplied by this before diffusion so they have about unit variance; measured on the data (SD's 0.18215 is for SD's VAE only).</summary>
    [JsonPropertyName("scaling_factor")] public double ScalingFactor { get; init; } = 1.0;
    [JsonPropertyName("mid_block_add_attention")] public bool MidBlockAddAttention { get; init; } = true;
    [JsonPropertyName("act_fn")] public string ActFn { get; init; } = "silu";

    [JsonIgnore] public int DownsampleFactor => 1 << (BlockOutChannels.Length - 1);
    [JsonIgnore] public int LatentSize => SampleSize / DownsampleFactor;

    public override void Validate()
    {
        ConfigJson.Require(BlockOutChannels.Length >= 1, "block_out_channels must not be empty");
        foreach (var c in BlockOutChannels)
            ConfigJson.Require(c > 0 && c % NormNumGroups == 0, $"block_out_channels entry {c} is not a positive multiple of norm_num_groups {NormNumGroups}");
        ConfigJson.Require(InChannels > 0 && OutChannels > 0 && LatentChannels > 0, "in_channels, out_channels and latent_channels must be positive");
        ConfigJson.Require(LayersPerBlock >= 1, $"layers_per_block must be at least 1, got {LayersPerBlock}");
        ConfigJson.Require(SampleSize % DownsampleFactor == 0, $"sample_size {SampleSize} is not a multiple of the downsample factor {DownsampleFactor}");
        ConfigJson.Require(ScalingFactor > 0 && double.IsFinite(ScalingFactor), $"scaling_factor must be positive, got {ScalingFactor}");
        ConfigJson.Require(ActFn == "silu", $"act_fn '{ActFn}' is not supported (only 'silu')");
    }
}
