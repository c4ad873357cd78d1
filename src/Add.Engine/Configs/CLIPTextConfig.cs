using System.Text.Json.Serialization;

namespace Add.Engine.Configs;

/// <summary>
/// text_encoder/config.json of a CLIPTextModel-shaped encoder: token + position embeddings, num_hidden_layers
/// pre-LayerNorm transformer layers with causal self-attention and an MLP, final_layer_norm. The last hidden state is
/// the UNet's cross-attention context; the state at the first &lt;eos&gt; is the pooled text embedding.
/// </summary>
public sealed record CLIPTextConfig : ConfigBase
{
    [JsonPropertyName("vocab_size")] public int VocabSize { get; init; }
    [JsonPropertyName("hidden_size")] public int HiddenSize { get; init; } = 128;
    [JsonPropertyName("intermediate_size")] public int IntermediateSize { get; init; } = 512;   // 4·hidden_size
    [JsonPropertyName("num_hidden_layers")] public int NumHiddenLayers { get; init; } = 3;
    [JsonPropertyName("num_attention_heads")] public int NumAttentionHeads { get; init; } = 4;
    [JsonPropertyName("max_position_embeddings")] public int MaxPositionEmbeddings { get; init; } = 16;
    [JsonPropertyName("hidden_act")] public string HiddenAct { get; init; } = "gelu";
    [JsonPropertyName("layer_norm_eps")] public double LayerNormEps { get; init; } = 1e-5;
    [JsonPropertyName("pad_token_id")] public int PadTokenId { get; init; } = 0;
    [JsonPropertyName("bos_token_id")] public int BosTokenId { get; init; } = 1;
    [JsonPropertyName("eos_token_id")] public int EosTokenId { get; init; } = 2;

    public override void Validate()
    {
        ConfigJson.Require(VocabSize > 4, $"vocab_size must exceed the 4 special tokens, got {VocabSize}");
        ConfigJson.Require(HiddenSize > 0 && HiddenSize % NumAttentionHeads == 0, $"hidden_size {HiddenSize} is not a multiple of num_attention_heads {NumAttentionHeads}");
        ConfigJson.Require(NumHiddenLayers >= 1 && IntermediateSize > 0 && MaxPositionEmbeddings >= 2, "num_hidden_layers, intermediate_size and max_position_embeddings must be positive");
        ConfigJson.Require(HiddenAct is "gelu" or "quick_gelu", $"hidden_act '{HiddenAct}' is not supported (gelu, quick_gelu)");
    }
}
