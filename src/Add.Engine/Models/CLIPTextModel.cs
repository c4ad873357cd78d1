using Add.Engine.Backends;
using Add.Engine.Configs;

namespace Add.Engine.Models;

/// <summary>
/// transformers CLIPTextModel: hidden = token_embedding[ids] + position_embedding[0..L); per layer (pre-norm)
/// s += self_attn(layer_norm1(s)) (causal), s += fc2(act(fc1(layer_norm2(s)))) with act = hidden_act (gelu, erf form, or
/// quick_gelu x·σ(1.702x)); out = final_layer_norm(s), the last_hidden_state (any number of layers: SD 2.x ships 23).
/// SDXL reads hidden_states[-2] instead (the last layer's input, no final_layer_norm), and from CLIPTextModelWithProjection
/// (text_encoder_2) the pooled text_embeds = text_projection(final_layer_norm(last)[pooled position]) (no bias).
/// The embedding gather runs on the host (a table lookup of L·D floats per prompt) and is uploaded; everything after
/// it is our kernels.
/// </summary>
public sealed class CLIPTextModel
{
    private sealed record Layer(LayerNorm Norm1, Attention SelfAttn, LayerNorm Norm2, Linear Fc1, Linear Fc2);

    private readonly Runtime _rt;
    private readonly float[] _tokenEmbedding, _positionEmbedding;   // [V, D], [P, D] on the host
    private readonly Layer[] _layers;
    private readonly LayerNorm _finalNorm;
    private readonly bool _quickGelu;
    private readonly Linear? _projection;

    public CLIPTextConfig Config { get; }

    /// <summary>Whether this is a CLIPTextModelWithProjection (text_projection loaded; <see cref="Forward(ReadOnlySpan{int}, TensorView, int, int, bool, TensorView)"/> can pool).</summary>
    public bool WithProjection => _projection is not null;

    public CLIPTextModel(Runtime rt, Weights w, CLIPTextConfig c, bool withProjection = false)
    {
        c.Validate();
        _rt = rt;
        _quickGelu = c.HiddenAct == "quick_gelu";
        Config = c;
        int d = c.HiddenSize;
        _tokenEmbedding = w.Host("text_model.embeddings.token_embedding.weight", c.VocabSize, d);
        _positionEmbedding = w.Host("text_model.embeddings.position_embedding.weight", c.MaxPositionEmbeddings, d);
        _layers = Enumerable.Range(0, c.NumHiddenLayers).Select(i =>
        {
            string p = $"text_model.encoder.layers.{i}";
            return new Layer(
                LayerNorm.Load(w, p + ".layer_norm1", d, c.LayerNormEps),
                new Attention(rt, w, p + ".self_attn", d, d, c.NumAttentionHeads, bias: true, causal: true, Attention.Clip),
                LayerNorm.Load(w, p + ".layer_norm2", d, c.LayerNormEps),
                Linear.Load(w, p + ".mlp.fc1", d, c.IntermediateSize),
                Linear.Load(w, p + ".mlp.fc2", c.IntermediateSize, d));
        }).ToArray();
        _finalNorm = LayerNorm.Load(w, "text_model.final_layer_norm", d, c.LayerNormEps);
        _projection = withProjection ? Linear.Load(w, "text_projection", d, c.ProjectionDim, bias: false) : null;
    }

    /// <summary>ids [N, L] (L ≤ max_position_embeddings) → last hidden state [N, L, D].</summary>
    public void Forward(ReadOnlySpan<int> ids, TensorView output, int n, int length) => Forward(ids, output, n, length, penultimate: false);

    /// <summary>
    /// ids [N, L] → <paramref name="output"/> [N, L, D]: the last hidden state, or with <paramref name="penultimate"/>
    /// hidden_states[-2] (before the last layer, no final_layer_norm). <paramref name="pooled"/> [N, projection_dim], when
    /// not Empty (a CLIPTextModelWithProjection only): text_projection(final_layer_norm(last)) at each row's
    /// <see cref="CLIPTextConfig.PooledPosition"/>.
    /// </summary>
    public void Forward(ReadOnlySpan<int> ids, TensorView output, int n, int length, bool penultimate, TensorView pooled = default)
    {
        if (!pooled.IsEmpty && _projection is null) throw new InvalidOperationException("pooled text embeds need a CLIPTextModelWithProjection (text_projection)");
        var (b, a) = (_rt.Backend, _rt.Arena);
        int d = Config.HiddenSize, m = n * length;
        if (length > Config.MaxPositionEmbeddings)
            throw new ArgumentException($"{length} tokens exceed max_position_embeddings {Config.MaxPositionEmbeddings}");
        var rented = System.Buffers.ArrayPool<float>.Shared.Rent(m * d);     // per call: generations may run concurrently
        var host = rented.AsSpan(0, m * d);
        for (int i = 0; i < m; i++)
        {
            int id = ids[i], pos = i % length;
            if ((uint)id >= (uint)Config.VocabSize) throw new ArgumentOutOfRangeException(nameof(ids), id, $"token id outside the vocabulary of {Config.VocabSize}");
            var row = host.Slice(i * d, d);
            System.Numerics.Tensors.TensorPrimitives.Add(_tokenEmbedding.AsSpan(id * d, d), _positionEmbedding.AsSpan(pos * d, d), row);
        }
        int mark = a.Mark();
        // penultimate: the residual stream runs in output up to the last layer, which (when pooling) writes a copy
        var s = penultimate ? output : a.Take((long)m * d);
        var normed = a.Take((long)m * d);
        var hidden = a.Take((long)m * Config.IntermediateSize);
        b.Upload(host, s);
        System.Buffers.ArrayPool<float>.Shared.Return(rented);
        for (int i = 0; i < _layers.Length; i++)
        {
            if (penultimate && i == _layers.Length - 1)
            {
                if (pooled.IsEmpty) break;
                var last = a.Take((long)m * d);
                Layer(_layers[i], s, last);
                s = last;
            }
            else Layer(_layers[i], s, s);
        }
        if (!penultimate) _finalNorm.Forward(b, s, output, m);
        if (!pooled.IsEmpty)
        {
            // final_layer_norm of each row's pooled token only: [N, D], then text_projection → [N, P]
            var rows = a.Take((long)n * d);
            for (int r = 0; r < n; r++)
            {
                int pos = Config.PooledPosition(ids, r, length);
                _finalNorm.Forward(b, s.Slice(((long)r * length + pos) * d, d), rows.Slice((long)r * d, d), 1);
            }
            _projection!.Forward(b, rows, pooled, n);
        }
        a.Release(mark);

        // one pre-norm layer: y = x + self_attn(layer_norm1(x)); y += fc2(act(fc1(layer_norm2(y)))) (y may be x)
        void Layer(Layer layer, TensorView x, TensorView y)
        {
            layer.Norm1.Forward(b, x, normed, m);
            layer.SelfAttn.Forward(normed, normed, y, x, n, length, length);
            layer.Norm2.Forward(b, y, normed, m);
            layer.Fc1.Forward(b, normed, hidden, m);
            if (_quickGelu) b.QuickGelu(hidden, hidden);
            else b.Gelu(hidden, hidden);
            layer.Fc2.Forward(b, hidden, y, m, residual: y);
        }
    }
}
