using System.Text.Json.Serialization;

namespace Add.Engine.Configs;

/// <summary>
/// text_encoder/config.json of transformers' CLIPTextModel: token + position embeddings, num_hidden_layers pre-LayerNorm
/// transformer layers with causal self-attention and an MLP (fc1, hidden_act, fc2), final_layer_norm. The last hidden
/// state (after final_layer_norm) is the UNet's cross-attention context; the state at the first &lt;eos&gt; is the
/// pooled text embedding. Absent keys take transformers' defaults (CLIPTextConfig: openai/clip-vit-base-patch32's
/// text tower). SD 2.x ships OpenCLIP-H already cut to 23 of its 24 layers, so its last_hidden_state is the
/// penultimate layer's output after final_layer_norm.
/// </summary>
public sealed record CLIPTextConfig : ConfigBase
{
    [JsonPropertyName("vocab_size")] public int VocabSize { get; init; } = 49408;
    [JsonPropertyName("hidden_size")] public int HiddenSize { get; init; } = 512;
    [JsonPropertyName("intermediate_size")] public int IntermediateSize { get; init; } = 2048;
    [JsonPropertyName("num_hidden_layers")] public int NumHiddenLayers { get; init; } = 12;
    [JsonPropertyName("num_attention_heads")] public int NumAttentionHeads { get; init; } = 8;
    [JsonPropertyName("max_position_embeddings")] public int MaxPositionEmbeddings { get; init; } = 77;
    /// <summary>"gelu" (exact, erf form) or "quick_gelu" (x·σ(1.702·x), OpenAI CLIP's).</summary>
    [JsonPropertyName("hidden_act")] public string HiddenAct { get; init; } = "quick_gelu";
    [JsonPropertyName("layer_norm_eps")] public double LayerNormEps { get; init; } = 1e-5;
    [JsonPropertyName("pad_token_id")] public int PadTokenId { get; init; } = 1;
    [JsonPropertyName("bos_token_id")] public int BosTokenId { get; init; } = 49406;
    [JsonPropertyName("eos_token_id")] public int EosTokenId { get; init; } = 49407;
    /// <summary>CLIPTextModelWithProjection's text_projection width (Linear hidden_size → projection_dim, no bias); unused by
    /// a plain CLIPTextModel.</summary>
    [JsonPropertyName("projection_dim")] public int ProjectionDim { get; init; } = 512;

    /// <summary>
    /// The position pooled for each row of <paramref name="ids"/> (length <paramref name="length"/>), as transformers'
    /// CLIPTextTransformer: with the legacy eos_token_id 2 (configs older than transformers 4.31, SDXL's) the argmax of the
    /// ids, i.e. the first &lt;|endoftext|&gt; (49407, the largest id); otherwise the first eos_token_id, or position 0
    /// when there is none (the argmax of an all-false mask). Used for CLIPTextModelWithProjection's text_embeds.
    /// </summary>
    public int PooledPosition(ReadOnlySpan<int> ids, int row, int length)
    {
        var r = ids.Slice(row * length, length);
        if (EosTokenId == 2)
        {
            int best = 0;
            for (int i = 1; i < r.Length; i++) if (r[i] > r[best]) best = i;
            return best;
        }
        int at = r.IndexOf(EosTokenId);
        return at < 0 ? 0 : at;
    }

    /// <summary>The architecture of our emoji-32 text encoders (models/), with the word tokenizer's vocabulary size.</summary>
    public static CLIPTextConfig Emoji32(int vocabSize) => new()
    {
        VocabSize = vocabSize, HiddenSize = 128, IntermediateSize = 512, NumHiddenLayers = 3, NumAttentionHeads = 4, MaxPositionEmbeddings = 16,
        HiddenAct = "gelu", PadTokenId = 0, BosTokenId = 1, EosTokenId = 2,
    };

    protected override IReadOnlySet<string> InformationalKeys => Informational;

    private static readonly HashSet<string> Informational =
    [
        "architectures", "model_type", "torch_dtype", "transformers_version", "attention_dropout", "dropout",
        "initializer_factor", "initializer_range",
    ];

    public override void Validate()
    {
        CheckFixedKeys();
        ConfigJson.Require(VocabSize > 4, $"vocab_size must exceed the 4 special tokens, got {VocabSize}");
        ConfigJson.Require(NumAttentionHeads > 0 && HiddenSize > 0 && HiddenSize % NumAttentionHeads == 0, $"hidden_size {HiddenSize} is not a multiple of num_attention_heads {NumAttentionHeads}");
        ConfigJson.Require(NumHiddenLayers >= 1 && IntermediateSize > 0 && MaxPositionEmbeddings >= 2, "num_hidden_layers, intermediate_size and max_position_embeddings must be positive");
        ConfigJson.Require(HiddenAct is "gelu" or "quick_gelu", $"hidden_act '{HiddenAct}' is not supported (gelu, quick_gelu)");
        ConfigJson.Require(ProjectionDim > 0, $"projection_dim must be positive, got {ProjectionDim}");
        ConfigJson.Require(LayerNormEps > 0, $"layer_norm_eps must be positive, got {LayerNormEps}");
    }
}
