using Add.Engine.Backends;
using Add.Kernels;

namespace Add.Engine.Models;

/// <summary>
/// diffusers Attention (and CLIP's self-attention, and the VAE's single-head attention): q = to_q(x), k = to_k(ctx),
/// v = to_v(ctx) as [N, L, H·D] tokens; the fused attention kernel reads the heads in place through token-major strides
/// (no split/transpose copies), and to_out adds the residual in its GEMM epilogue.
/// </summary>
public sealed class Attention
{
    private readonly Runtime _rt;
    private readonly Linear _q, _k, _v, _out;
    private readonly int _heads, _dim;
    private readonly bool _causal;

    /// <param name="names">the projections' keys: (q, k, v, out), e.g. ("to_q", "to_k", "to_v", "to_out.0")</param>
    /// <param name="pointwise">accept each projection also as a 1×1 conv [out, in, 1, 1] (the VAE's legacy checkpoints)</param>
    public Attention(Runtime rt, Weights w, string prefix, int dim, int contextDim, int heads, bool bias, bool causal,
        (string Q, string K, string V, string Out) names, bool pointwise = false)
    {
        if (heads <= 0 || dim % heads != 0)
            throw new InvalidDataException($"{w.FileName}: {prefix}: {dim} channels do not split into {heads} heads");
        _rt = rt;
        _heads = heads;
        _dim = dim;
        _causal = causal;
        Linear Load(string name, int inFeatures, bool hasBias) => pointwise
            ? Linear.LoadPointwise(w, $"{prefix}.{name}", inFeatures, dim, hasBias)
            : Linear.Load(w, $"{prefix}.{name}", inFeatures, dim, hasBias);
        _q = Load(names.Q, dim, bias);
        _k = Load(names.K, contextDim, bias);
        _v = Load(names.V, contextDim, bias);
        _out = Load(names.Out, dim, true);
    }

    public static readonly (string, string, string, string) Diffusers = ("to_q", "to_k", "to_v", "to_out.0");
    public static readonly (string, string, string, string) Clip = ("q_proj", "k_proj", "v_proj", "out_proj");
    /// <summary>The VAE attention's names in checkpoints written before diffusers 0.14 (diffusers converts them on load).</summary>
    public static readonly (string, string, string, string) LegacyVae = ("query", "key", "value", "proj_attn");

    /// <summary>y [N, Lq, C] = residual + to_out(attention(x [N, Lq, C], context [N, Lk, Cctx])); residual may be y.</summary>
    public void Forward(TensorView x, TensorView context, TensorView y, TensorView residual, int n, int queryLength, int keyLength)
    {
        var (b, a) = (_rt.Backend, _rt.Arena);
        int mark = a.Mark(), d = _dim / _heads;
        var q = a.Take((long)n * queryLength * _dim);
        var k = a.Take((long)n * keyLength * _dim);
        var v = a.Take((long)n * keyLength * _dim);
        var o = a.Take((long)n * queryLength * _dim);
        _q.Forward(b, x, q, n * queryLength);
        _k.Forward(b, context, k, n * keyLength);
        _v.Forward(b, context, v, n * keyLength);
        var qs = AttentionStrides.TokensMajor(_heads, queryLength, d);
        var kvs = AttentionStrides.TokensMajor(_heads, keyLength, d);
        b.Attention(q, k, v, o, n, _heads, queryLength, keyLength, d, qs, kvs, kvs, qs, _causal);
        _out.Forward(b, o, y, n * queryLength, residual);
        a.Release(mark);
    }
}
