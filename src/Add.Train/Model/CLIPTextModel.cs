using Add.Engine.Configs;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Add.Train.Model;

#pragma warning disable IDE1006 // field names are state-dict keys of transformers' CLIPTextModel

/// <summary>CLIP attention (q_proj, k_proj, v_proj, out_proj) with a causal mask. (N, L, C) → (N, L, C).</summary>
public sealed class CLIPAttention : Module<Tensor, Tensor>
{
    readonly Linear q_proj, k_proj, v_proj, out_proj;
    readonly int heads;

    public CLIPAttention(int dim, int heads) : base(nameof(CLIPAttention))
    {
        this.heads = heads;
        q_proj = Linear(dim, dim); k_proj = Linear(dim, dim); v_proj = Linear(dim, dim); out_proj = Linear(dim, dim);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        long n = x.shape[0], l = x.shape[1], c = x.shape[2], d = c / heads;
        Tensor Split(Linear p) => p.call(x).view(n, l, heads, d).transpose(1, 2);   // (N, H, L, d)
        var o = functional.scaled_dot_product_attention(Split(q_proj), Split(k_proj), Split(v_proj), is_casual: true);
        return out_proj.call(o.transpose(1, 2).reshape(n, l, c)).MoveToOuterDisposeScope();
    }
}

/// <summary>CLIPMLP: fc1 → GELU → fc2.</summary>
public sealed class CLIPMLP : Module<Tensor, Tensor>
{
    readonly Linear fc1, fc2;
    readonly bool quick;

    public CLIPMLP(int dim, int inner, bool quickGelu) : base(nameof(CLIPMLP))
    {
        fc1 = Linear(dim, inner); fc2 = Linear(inner, dim); quick = quickGelu;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = fc1.call(x);
        h = quick ? h * functional.sigmoid(1.702 * h) : functional.gelu(h);
        return fc2.call(h).MoveToOuterDisposeScope();
    }
}

/// <summary>CLIPEncoderLayer (pre-norm): x += self_attn(layer_norm1(x)); x += mlp(layer_norm2(x)).</summary>
public sealed class CLIPEncoderLayer : Module<Tensor, Tensor>
{
    readonly LayerNorm layer_norm1, layer_norm2;
    readonly CLIPAttention self_attn;
    readonly CLIPMLP mlp;

    public CLIPEncoderLayer(CLIPTextConfig c) : base(nameof(CLIPEncoderLayer))
    {
        layer_norm1 = LayerNorm(c.HiddenSize, c.LayerNormEps);
        self_attn = new CLIPAttention(c.HiddenSize, c.NumAttentionHeads);
        layer_norm2 = LayerNorm(c.HiddenSize, c.LayerNormEps);
        mlp = new CLIPMLP(c.HiddenSize, c.IntermediateSize, c.HiddenAct == "quick_gelu");
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        x = x + self_attn.call(layer_norm1.call(x));
        x = x + mlp.call(layer_norm2.call(x));
        return x.MoveToOuterDisposeScope();
    }
}

public sealed class CLIPTextEmbeddings : Module<Tensor, Tensor>
{
    readonly Embedding token_embedding, position_embedding;

    public CLIPTextEmbeddings(CLIPTextConfig c) : base(nameof(CLIPTextEmbeddings))
    {
        token_embedding = Embedding(c.VocabSize, c.HiddenSize);
        position_embedding = Embedding(c.MaxPositionEmbeddings, c.HiddenSize);
        RegisterComponents();
    }

    public override Tensor forward(Tensor ids)
    {
        using var positions = arange(ids.shape[1], dtype: ScalarType.Int64).unsqueeze(0);
        using var tok = token_embedding.call(ids);
        using var pos = position_embedding.call(positions);
        return tok + pos;
    }
}

public sealed class CLIPEncoder : Module<Tensor, Tensor>
{
    readonly ModuleList<CLIPEncoderLayer> layers;

    public CLIPEncoder(CLIPTextConfig c) : base(nameof(CLIPEncoder))
    {
        layers = new ModuleList<CLIPEncoderLayer>(Enumerable.Range(0, c.NumHiddenLayers).Select(_ => new CLIPEncoderLayer(c)).ToArray());
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        foreach (var layer in layers) x = layer.call(x);
        return x.MoveToOuterDisposeScope();
    }

    /// <summary>transformers' hidden_states[-2] and [-1]: the input and the output of the last layer.</summary>
    public (Tensor Penultimate, Tensor Last) HiddenStates(Tensor x)
    {
        using var scope = NewDisposeScope();
        for (int i = 0; i < layers.Count - 1; i++) x = layers[i].call(x);
        var last = layers[^1].call(x);
        return (x.MoveToOuterDisposeScope(), last.MoveToOuterDisposeScope());
    }
}

/// <summary>The "text_model" of CLIPTextModel: embeddings, encoder, final_layer_norm.</summary>
public sealed class CLIPTextTransformer : Module<Tensor, Tensor>
{
    readonly CLIPTextEmbeddings embeddings;
    readonly CLIPEncoder encoder;
    readonly LayerNorm final_layer_norm;

    public CLIPTextTransformer(CLIPTextConfig c) : base(nameof(CLIPTextTransformer))
    {
        embeddings = new CLIPTextEmbeddings(c);
        encoder = new CLIPEncoder(c);
        final_layer_norm = LayerNorm(c.HiddenSize, c.LayerNormEps);
        RegisterComponents();
    }

    public override Tensor forward(Tensor ids)
    {
        using var scope = NewDisposeScope();
        return final_layer_norm.call(encoder.call(embeddings.call(ids))).MoveToOuterDisposeScope();
    }

    /// <summary>hidden_states[-2] (no final layer norm) and the last hidden state (after final_layer_norm).</summary>
    public (Tensor Penultimate, Tensor LastHidden) HiddenStates(Tensor ids)
    {
        using var scope = NewDisposeScope();
        var (penultimate, last) = encoder.HiddenStates(embeddings.call(ids));
        return (penultimate.MoveToOuterDisposeScope(), final_layer_norm.call(last).MoveToOuterDisposeScope());
    }
}

/// <summary>
/// CLIP-shaped text encoder (Radford et al. 2021): ids (N, L) int64 → last hidden state (N, L, hidden), the UNet's
/// cross-attention context; the state at the first &lt;eos&gt; is the pooled text embedding (N, hidden). With
/// <c>withProjection</c> it is transformers' CLIPTextModelWithProjection (SDXL's text_encoder_2): text_projection
/// (hidden → projection_dim, no bias) of the pooled state gives text_embeds.
/// </summary>
public sealed class CLIPTextModel : Module<Tensor, Tensor>
{
    readonly CLIPTextTransformer text_model;
    readonly Linear? text_projection;

    public CLIPTextConfig Config { get; }

    public CLIPTextModel(CLIPTextConfig config, bool withProjection = false) : base(nameof(CLIPTextModel))
    {
        config.Validate();
        Config = config;
        text_model = new CLIPTextTransformer(config);
        if (withProjection) text_projection = Linear(config.HiddenSize, config.ProjectionDim, hasBias: false);
        RegisterComponents();
        NormInit.Apply(this);
    }

    public override Tensor forward(Tensor ids) => text_model.call(ids);

    /// <summary>Hidden state at each row's first &lt;eos&gt; token: (N, L, C) → (N, C). (Our emoji encoders' eos is id 2.)</summary>
    public Tensor Pooled(Tensor hidden, Tensor ids)
    {
        using var scope = NewDisposeScope();
        var eos = (ids == Config.EosTokenId).to_type(ScalarType.Int64).argmax(1);     // first max = first <eos>
        return hidden[arange(hidden.shape[0]), eos].MoveToOuterDisposeScope();
    }

    /// <summary>
    /// transformers' CLIPTextTransformer pooling: with the legacy eos_token_id 2 (configs before transformers 4.31, SDXL's)
    /// the position of the largest id (argmax: the first &lt;|endoftext|&gt; of a CLIP BPE row), else the first eos_token_id.
    /// (N, L, C) → (N, C).
    /// </summary>
    public Tensor PooledAsTransformers(Tensor hidden, Tensor ids)
    {
        using var scope = NewDisposeScope();
        var at = Config.EosTokenId == 2 ? ids.argmax(1) : (ids == Config.EosTokenId).to_type(ScalarType.Int64).argmax(1);
        return hidden[arange(hidden.shape[0]), at].MoveToOuterDisposeScope();
    }

    /// <summary>SDXL's use of an encoder (diffusers encode_prompt): hidden_states[-2] (N, L, C) and, for a
    /// CLIPTextModelWithProjection, text_embeds = text_projection(pooled last hidden state) (N, P); else null.</summary>
    public (Tensor Penultimate, Tensor? TextEmbeds) Sdxl(Tensor ids)
    {
        using var scope = NewDisposeScope();
        var (penultimate, last) = text_model.HiddenStates(ids);
        var embeds = text_projection?.call(PooledAsTransformers(last, ids));
        return (penultimate.MoveToOuterDisposeScope(), embeds?.MoveToOuterDisposeScope());
    }
}
