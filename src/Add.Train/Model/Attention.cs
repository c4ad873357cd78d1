using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Add.Train.Model;

#pragma warning disable IDE1006 // field names are diffusers state-dict keys

/// <summary>
/// diffusers Attention (to_q, to_k, to_v, to_out.0): softmax(Q·Kᵀ/√d)·V per head (Vaswani et al. 2017, Eq. 1).
/// Shapes: x (N, Lq, C), context (N, Lk, Cctx) or null for self-attention → (N, Lq, C); heads·d = C.
/// </summary>
public sealed class Attention : Module<Tensor, Tensor?, Tensor>
{
    readonly Linear to_q, to_k, to_v;
    readonly ModuleList<Module<Tensor, Tensor>> to_out;   // to_out.0 = Linear; diffusers' to_out.1 is Dropout (no weights)
    readonly int heads;

    public Attention(int queryDim, int? contextDim, int heads, bool bias = false) : base(nameof(Attention))
    {
        this.heads = heads;
        int kv = contextDim ?? queryDim;
        to_q = Linear(queryDim, queryDim, hasBias: bias);
        to_k = Linear(kv, queryDim, hasBias: bias);
        to_v = Linear(kv, queryDim, hasBias: bias);
        to_out = new ModuleList<Module<Tensor, Tensor>>(Linear(queryDim, queryDim));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, Tensor? context)
    {
        using var scope = NewDisposeScope();
        var ctx = context ?? x;
        long n = x.shape[0], lq = x.shape[1], c = x.shape[2], lk = ctx.shape[1];
        long d = c / heads;
        var q = to_q.call(x).view(n, lq, heads, d).transpose(1, 2);     // (N, H, Lq, d)
        var k = to_k.call(ctx).view(n, lk, heads, d).transpose(1, 2);   // (N, H, Lk, d)
        var v = to_v.call(ctx).view(n, lk, heads, d).transpose(1, 2);   // (N, H, Lk, d)
        var o = functional.scaled_dot_product_attention(q, k, v);           // (N, H, Lq, d)
        o = o.transpose(1, 2).reshape(n, lq, c);
        return to_out[0].call(o).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// The VAE mid-block attention: group_norm, then single-head self-attention over the H·W positions, with a
/// residual connection (diffusers Attention with residual_connection=True). Shapes: (N, C, H, W) → same.
/// </summary>
public sealed class SpatialSelfAttention : Module<Tensor, Tensor>
{
    readonly GroupNorm group_norm;
    readonly Linear to_q, to_k, to_v;
    readonly ModuleList<Module<Tensor, Tensor>> to_out;

    public SpatialSelfAttention(int channels, int groups) : base(nameof(SpatialSelfAttention))
    {
        group_norm = GroupNorm(groups, channels, 1e-6);
        to_q = Linear(channels, channels);
        to_k = Linear(channels, channels);
        to_v = Linear(channels, channels);
        to_out = new ModuleList<Module<Tensor, Tensor>>(Linear(channels, channels));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        long n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3];
        var s = group_norm.call(x).view(n, c, h * w).transpose(1, 2).unsqueeze(1);   // (N, 1, HW, C)
        var o = functional.scaled_dot_product_attention(to_q.call(s), to_k.call(s), to_v.call(s));
        o = to_out[0].call(o.squeeze(1)).transpose(1, 2).reshape(n, c, h, w);
        return (o + x).MoveToOuterDisposeScope();
    }
}
