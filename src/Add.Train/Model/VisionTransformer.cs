using System.Text.Json.Serialization;
using Add.Engine.Configs;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Add.Train.Model;

#pragma warning disable IDE1006 // field names are state-dict keys

/// <summary>config.json of the discriminator's feature network F (keys follow transformers' ViTConfig).</summary>
public sealed record ViTConfig : ConfigBase
{
    [JsonPropertyName("image_size")] public int ImageSize { get; init; } = 32;
    [JsonPropertyName("patch_size")] public int PatchSize { get; init; } = 4;
    [JsonPropertyName("num_channels")] public int NumChannels { get; init; } = 3;
    [JsonPropertyName("hidden_size")] public int HiddenSize { get; init; } = 128;
    [JsonPropertyName("num_hidden_layers")] public int NumHiddenLayers { get; init; } = 4;
    [JsonPropertyName("num_attention_heads")] public int NumAttentionHeads { get; init; } = 4;
    [JsonPropertyName("intermediate_size")] public int IntermediateSize { get; init; } = 512;
    [JsonPropertyName("num_labels")] public int NumLabels { get; init; } = 99;
    [JsonPropertyName("layer_norm_eps")] public double LayerNormEps { get; init; } = 1e-6;

    [System.Text.Json.Serialization.JsonIgnore] public int NumPatches => (ImageSize / PatchSize) * (ImageSize / PatchSize);

    public override void Validate()
    {
        ConfigJson.Require(ImageSize % PatchSize == 0, $"image_size {ImageSize} is not a multiple of patch_size {PatchSize}");
        ConfigJson.Require(HiddenSize % NumAttentionHeads == 0, $"hidden_size {HiddenSize} is not a multiple of num_attention_heads {NumAttentionHeads}");
        ConfigJson.Require(NumHiddenLayers >= 1 && NumLabels >= 1, "num_hidden_layers and num_labels must be positive");
    }
}

/// <summary>Pre-norm ViT block: x += attn(ln1(x)); x += mlp(ln2(x)) (Dosovitskiy et al. 2021, Eq. 2-3).</summary>
public sealed class ViTBlock : Module<Tensor, Tensor>
{
    readonly LayerNorm norm1, norm2;
    readonly Attention attn;
    readonly Linear fc1, fc2;

    public ViTBlock(ViTConfig c) : base(nameof(ViTBlock))
    {
        norm1 = LayerNorm(c.HiddenSize, c.LayerNormEps);
        attn = new Attention(c.HiddenSize, null, c.NumAttentionHeads, bias: true);
        norm2 = LayerNorm(c.HiddenSize, c.LayerNormEps);
        fc1 = Linear(c.HiddenSize, c.IntermediateSize);
        fc2 = Linear(c.IntermediateSize, c.HiddenSize);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        x = x + attn.call(norm1.call(x), null);
        x = x + fc2.call(functional.gelu(fc1.call(norm2.call(x))));
        return x.MoveToOuterDisposeScope();
    }
}

/// <summary>
/// The discriminator's frozen feature network F: a small ViT on 32×32 images (patch 4 → 64 tokens + CLS), trained
/// once by `add-train features` to classify the 99 subcategories. <see cref="Features"/> returns the patch tokens after
/// the patch embedding and after every block (the inputs of the discriminator heads, paper §3.2) and the final CLS
/// embedding (c_img).
/// </summary>
public sealed class VisionTransformer : Module<Tensor, Tensor>
{
    readonly Conv2d patch_embed;
    readonly Parameter cls_token, pos_embed;
    readonly ModuleList<ViTBlock> blocks;
    readonly LayerNorm norm;
    readonly Linear head;

    public ViTConfig Config { get; }

    public VisionTransformer(ViTConfig c) : base(nameof(VisionTransformer))
    {
        c.Validate();
        Config = c;
        patch_embed = Conv2d(c.NumChannels, c.HiddenSize, c.PatchSize, stride: c.PatchSize);
        cls_token = Parameter(zeros(1, 1, c.HiddenSize));
        pos_embed = Parameter(randn(1, c.NumPatches + 1, c.HiddenSize) * 0.02f);
        blocks = new ModuleList<ViTBlock>(Enumerable.Range(0, c.NumHiddenLayers).Select(_ => new ViTBlock(c)).ToArray());
        norm = LayerNorm(c.HiddenSize, c.LayerNormEps);
        head = Linear(c.HiddenSize, c.NumLabels);
        RegisterComponents();
        NormInit.Apply(this);
    }

    /// <summary>
    /// Pixels (N, 3, 32, 32) in [-1, 1] → (patch-token features: K = 1 + layers tensors of (N, C, L) with L = 64,
    /// CLS embedding (N, C) after the final norm).
    /// </summary>
    public (List<Tensor> Tokens, Tensor Cls) Features(Tensor pixels)
    {
        var x = patch_embed.call(pixels).flatten(2).transpose(1, 2);                 // (N, L, C)
        var tokens = new List<Tensor> { x.transpose(1, 2) };                          // (N, C, L)
        x = cat([cls_token.expand(x.shape[0], -1, -1), x], 1) + pos_embed;
        foreach (var block in blocks)
        {
            x = block.call(x);
            tokens.Add(x[.., 1..].transpose(1, 2));
        }
        return (tokens, norm.call(x[.., 0]));
    }

    /// <summary>Class logits (N, num_labels), used only to train F.</summary>
    public override Tensor forward(Tensor pixels)
    {
        using var scope = NewDisposeScope();
        var (_, cls) = Features(pixels);
        return head.call(cls).MoveToOuterDisposeScope();
    }
}
