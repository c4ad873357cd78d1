using System.Text.Json.Serialization;

namespace Add.Engine.Configs;

/// <summary>
/// unet/config.json of diffusers' UNet2DConditionModel (ε-prediction). conv_in; sinusoidal timestep embedding
/// (flip_sin_to_cos, freq_shift) → time_embedding.linear_1/2 (dim 4·block_out_channels[0]); down blocks
/// (CrossAttnDownBlock2D = resnets + Transformer2D, DownBlock2D = resnets), a stride-2 downsampler on all but the last;
/// UNetMidBlock2DCrossAttn; up blocks with layers_per_block+1 resnets taking skip connections, nearest 2× upsamplers on
/// all but the last; GroupNorm, SiLU, conv_out.
/// </summary>
public sealed record UNet2DConditionConfig : ConfigBase
{
    [JsonPropertyName("sample_size")] public int SampleSize { get; init; } = 8;
    [JsonPropertyName("in_channels")] public int InChannels { get; init; } = 4;
    [JsonPropertyName("out_channels")] public int OutChannels { get; init; } = 4;
    [JsonPropertyName("block_out_channels")] public int[] BlockOutChannels { get; init; } = [64, 128, 128];
    [JsonPropertyName("down_block_types")] public string[] DownBlockTypes { get; init; } = ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"];
    [JsonPropertyName("up_block_types")] public string[] UpBlockTypes { get; init; } = ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"];
    [JsonPropertyName("layers_per_block")] public int LayersPerBlock { get; init; } = 1;
    [JsonPropertyName("cross_attention_dim")] public int CrossAttentionDim { get; init; } = 128;
    /// <summary>Despite its name, diffusers uses this as the number of attention heads in SD-style configs; so do we.</summary>
    [JsonPropertyName("attention_head_dim")] public int AttentionHeadDim { get; init; } = 4;
    [JsonPropertyName("norm_num_groups")] public int NormNumGroups { get; init; } = 32;
    [JsonPropertyName("norm_eps")] public double NormEps { get; init; } = 1e-5;
    [JsonPropertyName("flip_sin_to_cos")] public bool FlipSinToCos { get; init; } = true;
    [JsonPropertyName("freq_shift")] public int FreqShift { get; init; } = 0;
    [JsonPropertyName("transformer_layers_per_block")] public int TransformerLayersPerBlock { get; init; } = 1;
    [JsonPropertyName("mid_block_type")] public string MidBlockType { get; init; } = "UNetMidBlock2DCrossAttn";

    [JsonIgnore] public int TimeEmbedDim => BlockOutChannels[0] * 4;   // time_embed_dim = block_out_channels[0]·4

    public override void Validate()
    {
        int n = BlockOutChannels.Length;
        ConfigJson.Require(n >= 1 && DownBlockTypes.Length == n && UpBlockTypes.Length == n,
            $"block_out_channels ({n}), down_block_types ({DownBlockTypes.Length}) and up_block_types ({UpBlockTypes.Length}) must have the same length");
        foreach (var c in BlockOutChannels)
        {
            ConfigJson.Require(c > 0 && c % NormNumGroups == 0, $"block_out_channels entry {c} is not a positive multiple of norm_num_groups {NormNumGroups}");
            ConfigJson.Require(c % AttentionHeadDim == 0, $"block_out_channels entry {c} is not a multiple of attention_head_dim (heads) {AttentionHeadDim}");
        }
        foreach (var t in DownBlockTypes) ConfigJson.Require(t is "CrossAttnDownBlock2D" or "DownBlock2D", $"down_block_types entry '{t}' is not supported");
        foreach (var t in UpBlockTypes) ConfigJson.Require(t is "CrossAttnUpBlock2D" or "UpBlock2D", $"up_block_types entry '{t}' is not supported");
        ConfigJson.Require(MidBlockType == "UNetMidBlock2DCrossAttn", $"mid_block_type '{MidBlockType}' is not supported");
        ConfigJson.Require(TransformerLayersPerBlock == 1, "transformer_layers_per_block must be 1");
        ConfigJson.Require(LayersPerBlock >= 1, $"layers_per_block must be at least 1, got {LayersPerBlock}");
        ConfigJson.Require(SampleSize % (1 << (n - 1)) == 0, $"sample_size {SampleSize} is not divisible by 2^{n - 1}");
    }
}
