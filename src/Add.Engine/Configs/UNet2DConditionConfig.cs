using System.Text.Json.Serialization;

namespace Add.Engine.Configs;

/// <summary>
/// unet/config.json of diffusers' UNet2DConditionModel (ε- or v-prediction; the scheduler says which). conv_in;
/// sinusoidal timestep embedding (flip_sin_to_cos, freq_shift) → time_embedding.linear_1/2 (dim 4·block_out_channels[0]);
/// down blocks (CrossAttnDownBlock2D = resnets + Transformer2D, DownBlock2D = resnets), a stride-2 downsampler on all
/// but the last; UNetMidBlock2DCrossAttn; up blocks with layers_per_block+1 resnets taking skip connections, nearest 2×
/// upsamplers on all but the last; GroupNorm, SiLU, conv_out. Absent keys take diffusers' defaults
/// (diffusers src/diffusers/models/unets/unet_2d_condition.py, UNet2DConditionModel.__init__).
/// </summary>
public sealed record UNet2DConditionConfig : ConfigBase
{
    /// <summary>The default latent height and width; diffusers' default is none (the caller must give a size).</summary>
    [JsonPropertyName("sample_size")] public int? SampleSize { get; init; }
    [JsonPropertyName("in_channels")] public int InChannels { get; init; } = 4;
    [JsonPropertyName("out_channels")] public int OutChannels { get; init; } = 4;
    [JsonPropertyName("block_out_channels")] public int[] BlockOutChannels { get; init; } = [320, 640, 1280, 1280];
    [JsonPropertyName("down_block_types")] public string[] DownBlockTypes { get; init; } = ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"];
    [JsonPropertyName("up_block_types")] public string[] UpBlockTypes { get; init; } = ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"];
    [JsonPropertyName("layers_per_block")] public int LayersPerBlock { get; init; } = 2;
    [JsonPropertyName("cross_attention_dim")] public int CrossAttentionDim { get; init; } = 1280;
    /// <summary>Despite its name, the number of attention heads per block in SD-style configs (diffusers reads it so when
    /// num_attention_heads is absent): an int for every block or one entry per down block (up blocks use it reversed).</summary>
    [JsonPropertyName("attention_head_dim")] public PerBlock AttentionHeadDim { get; init; } = 8;
    /// <summary>The number of heads per block when given; takes precedence over attention_head_dim. (diffusers'
    /// UNet2DConditionModel itself refuses this key; it is honoured here because its meaning is unambiguous.)</summary>
    [JsonPropertyName("num_attention_heads")] public PerBlock? NumAttentionHeads { get; init; }
    [JsonPropertyName("norm_num_groups")] public int NormNumGroups { get; init; } = 32;
    [JsonPropertyName("norm_eps")] public double NormEps { get; init; } = 1e-5;
    [JsonPropertyName("flip_sin_to_cos")] public bool FlipSinToCos { get; init; } = true;
    [JsonPropertyName("freq_shift")] public int FreqShift { get; init; } = 0;
    /// <summary>BasicTransformerBlocks per Transformer2DModel: an int or one entry per down block (up blocks reversed, the mid block the last).</summary>
    [JsonPropertyName("transformer_layers_per_block")] public PerBlock TransformerLayersPerBlock { get; init; } = 1;
    [JsonPropertyName("mid_block_type")] public string MidBlockType { get; init; } = "UNetMidBlock2DCrossAttn";
    /// <summary>Transformer2DModel's proj_in/proj_out: Linear [C, C] when true, 1×1 Conv2d [C, C, 1, 1] when false (same arithmetic).</summary>
    [JsonPropertyName("use_linear_projection")] public bool UseLinearProjection { get; init; }

    /// <summary>null, or "text_time": SDXL's micro-conditioning (Podell et al. 2023, §2.2): add_time_proj (sinusoidal,
    /// <see cref="AdditionTimeEmbedDim"/> per id) of the six add_time_ids, concatenated after the pooled text embeds, through
    /// add_embedding (linear_1, SiLU, linear_2) and added to the time embedding.</summary>
    [JsonPropertyName("addition_embed_type"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? AdditionEmbedType { get; init; }
    /// <summary>Sinusoid width per added time id (SDXL: 256).</summary>
    [JsonPropertyName("addition_time_embed_dim"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public int? AdditionTimeEmbedDim { get; init; }
    /// <summary>add_embedding's input width: pooled text width + 6·addition_time_embed_dim (SDXL: 1280 + 1536 = 2816).</summary>
    [JsonPropertyName("projection_class_embeddings_input_dim"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public int? ProjectionClassEmbeddingsInputDim { get; init; }

    /// <summary>Whether the UNet takes SDXL's text_time conditioning (pooled text embeds and add_time_ids).</summary>
    [JsonIgnore] public bool TextTime => AdditionEmbedType == "text_time";

    /// <summary>The number of add_time_ids (original size, crop top-left, target size: two each).</summary>
    public const int AddTimeIds = 6;

    /// <summary>The pooled text width text_time expects: projection_class_embeddings_input_dim − 6·addition_time_embed_dim.</summary>
    [JsonIgnore] public int AddTextEmbedsDim => TextTime ? ProjectionClassEmbeddingsInputDim!.Value - AddTimeIds * AdditionTimeEmbedDim!.Value : 0;

    [JsonIgnore] public int TimeEmbedDim => BlockOutChannels[0] * 4;   // time_embed_dim = block_out_channels[0]·4 (positional)

    /// <summary><see cref="SampleSize"/>, or an error naming the key when the config has none.</summary>
    [JsonIgnore] public int DefaultSampleSize => SampleSize ?? throw new InvalidDataException("unet/config.json has no sample_size: give the latent size explicitly");

    /// <summary>Attention heads of down block <paramref name="block"/> (num_attention_heads, else attention_head_dim).</summary>
    public int HeadsAt(int block) => (NumAttentionHeads ?? AttentionHeadDim).At(block);

    /// <summary>The architecture of our emoji-32 models (models/): what these records' defaults described before they became diffusers'.</summary>
    public static UNet2DConditionConfig Emoji32 => new()
    {
        SampleSize = 8, BlockOutChannels = [64, 128, 128], DownBlockTypes = ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
        UpBlockTypes = ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"], LayersPerBlock = 1, CrossAttentionDim = 128,
        AttentionHeadDim = 4, UseLinearProjection = true,
    };

    protected override IReadOnlySet<string> InformationalKeys => Informational;
    protected override IReadOnlyDictionary<string, object?[]> FixedKeys => Fixed;
    protected override IReadOnlySet<string> NullMeaningfulKeys => NullMeaningful;

    private static readonly HashSet<string> Informational =
    [
        "upcast_attention",                      // fp16 overflow guard: we compute in fp32
        "dropout",                               // training only
        "addition_embed_type_num_heads",         // used only by addition_embed_type "text_image"…
        "mid_block_only_cross_attention",        // used only by UNetMidBlock2DSimpleCrossAttn
    ];

    private static readonly Dictionary<string, object?[]> Fixed = new()
    {
        ["act_fn"] = ["silu"],
        ["center_input_sample"] = [false],
        ["downsample_padding"] = [1],
        ["mid_block_scale_factor"] = [1],
        ["resnet_out_scale_factor"] = [1],
        ["resnet_time_scale_shift"] = ["default"],
        ["resnet_skip_time_act"] = [false],
        ["time_embedding_type"] = ["positional"],
        ["time_embedding_dim"] = [null],
        ["time_embedding_act_fn"] = [null],
        ["timestep_post_act"] = [null],
        ["time_cond_proj_dim"] = [null],
        ["class_embed_type"] = [null],
        ["num_class_embeds"] = [null],
        ["class_embeddings_concat"] = [false],
        ["encoder_hid_dim"] = [null],
        ["encoder_hid_dim_type"] = [null],
        ["conv_in_kernel"] = [3],
        ["conv_out_kernel"] = [3],
        ["only_cross_attention"] = [false],
        ["dual_cross_attention"] = [false],
        ["cross_attention_norm"] = [null],
        ["attention_type"] = ["default"],
        ["reverse_transformer_layers_per_block"] = [null],
    };

    private static readonly HashSet<string> NullMeaningful = ["norm_num_groups", "mid_block_type", "attention_head_dim"];

    public override void Validate()
    {
        CheckFixedKeys();
        int n = BlockOutChannels.Length;
        ConfigJson.Require(n >= 1 && DownBlockTypes.Length == n && UpBlockTypes.Length == n,
            $"block_out_channels ({n}), down_block_types ({DownBlockTypes.Length}) and up_block_types ({UpBlockTypes.Length}) must have the same length");
        foreach (var c in BlockOutChannels)
            ConfigJson.Require(c > 0 && c % NormNumGroups == 0, $"block_out_channels entry {c} is not a positive multiple of norm_num_groups {NormNumGroups}");
        foreach (var t in DownBlockTypes) ConfigJson.Require(t is "CrossAttnDownBlock2D" or "DownBlock2D", $"down_block_types entry '{t}' is not supported");
        foreach (var t in UpBlockTypes) ConfigJson.Require(t is "CrossAttnUpBlock2D" or "UpBlock2D", $"up_block_types entry '{t}' is not supported");
        ConfigJson.Require(MidBlockType == "UNetMidBlock2DCrossAttn", $"mid_block_type '{MidBlockType}' is not supported");
        AttentionHeadDim.RequireBlocks("attention_head_dim", n);
        NumAttentionHeads?.RequireBlocks("num_attention_heads", n);
        TransformerLayersPerBlock.RequireBlocks("transformer_layers_per_block", n);
        string headsKey = NumAttentionHeads is null ? "attention_head_dim (heads)" : "num_attention_heads";
        for (int i = 0; i < n; i++)
        {
            ConfigJson.Require(HeadsAt(i) > 0, $"{headsKey} entry {i} must be positive, got {HeadsAt(i)}");
            ConfigJson.Require(TransformerLayersPerBlock.At(i) >= 1, $"transformer_layers_per_block entry {i} must be at least 1, got {TransformerLayersPerBlock.At(i)}");
            // down block i uses heads[i]; up block i uses heads[n-1-i] at its own width; the mid block heads[n-1]
            if (DownBlockTypes[i] == "CrossAttnDownBlock2D")
                ConfigJson.Require(BlockOutChannels[i] % HeadsAt(i) == 0, $"block_out_channels entry {BlockOutChannels[i]} is not a multiple of {headsKey} {HeadsAt(i)}");
            if (UpBlockTypes[i] == "CrossAttnUpBlock2D")
                ConfigJson.Require(BlockOutChannels[n - 1 - i] % HeadsAt(n - 1 - i) == 0,
                    $"block_out_channels entry {BlockOutChannels[n - 1 - i]} is not a multiple of {headsKey} {HeadsAt(n - 1 - i)}");
        }
        ConfigJson.Require(BlockOutChannels[^1] % HeadsAt(n - 1) == 0, $"the mid block's {BlockOutChannels[^1]} channels are not a multiple of {headsKey} {HeadsAt(n - 1)}");
        ConfigJson.Require(LayersPerBlock >= 1, $"layers_per_block must be at least 1, got {LayersPerBlock}");
        ConfigJson.Require(InChannels > 0 && OutChannels > 0 && CrossAttentionDim > 0, "in_channels, out_channels and cross_attention_dim must be positive");
        ConfigJson.Require(BlockOutChannels[0] % 2 == 0, $"block_out_channels[0] {BlockOutChannels[0]} must be even (the sinusoidal timestep embedding's width)");
        ConfigJson.Require(AdditionEmbedType is null or "text_time", $"addition_embed_type '{AdditionEmbedType}' is not supported (null, text_time)");
        if (TextTime)
        {
            ConfigJson.Require(AdditionTimeEmbedDim is int a && a > 0 && a % 2 == 0, $"addition_embed_type text_time needs a positive even addition_time_embed_dim, got {AdditionTimeEmbedDim?.ToString() ?? "none"}");
            ConfigJson.Require(ProjectionClassEmbeddingsInputDim is int p && p > AddTimeIds * AdditionTimeEmbedDim!.Value,
                $"addition_embed_type text_time needs projection_class_embeddings_input_dim above 6·addition_time_embed_dim = {AddTimeIds * AdditionTimeEmbedDim!.Value} (the pooled text width is the rest), got {ProjectionClassEmbeddingsInputDim?.ToString() ?? "none"}");
        }
        if (SampleSize is int s)
            ConfigJson.Require(s > 0 && s % (1 << (n - 1)) == 0, $"sample_size {s} is not a positive multiple of 2^{n - 1}");
    }
}
