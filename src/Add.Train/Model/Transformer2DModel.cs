using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Add.Train.Model;

#pragma warning disable IDE1006 // field names are diffusers state-dict keys

/// <summary>GEGLU (Shazeer 2020): proj to 2·inner, split into (a, gate), out = a · GELU(gate). (N, L, C) → (N, L, inner).</summary>
public sealed class GEGLU : Module<Tensor, Tensor>
{
    readonly Linear proj;

    public GEGLU(int dim, int inner) : base(nameof(GEGLU))
    {
        proj = Linear(dim, inner * 2);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var parts = proj.call(x).chunk(2, -1);
        return (parts[0] * functional.gelu(parts[1])).MoveToOuterDisposeScope();
    }
}

/// <summary>diffusers FeedForward: net.0 = GEGLU(dim → 4·dim), net.1 = Dropout (no weights), net.2 = Linear(4·dim → dim).</summary>
public sealed class FeedForward : Module<Tensor, Tensor>
{
    readonly ModuleList<Module<Tensor, Tensor>> net;

    public FeedForward(int dim) : base(nameof(FeedForward))
    {
        net = new ModuleList<Module<Tensor, Tensor>>(new GEGLU(dim, dim * 4), Identity(), Linear(dim * 4, dim));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var h = net[0].call(x);
        return net[2].call(h);
    }
}

/// <summary>
/// diffusers BasicTransformerBlock: x += attn1(norm1(x)); x += attn2(norm2(x), context); x += ff(norm3(x)).
/// Shapes: x (N, L, C), context (N, Lctx, Cctx).
/// </summary>
public sealed class BasicTransformerBlock : Module<Tensor, Tensor, Tensor>
{
    readonly LayerNorm norm1, norm2, norm3;
    readonly Attention attn1, attn2;
    readonly FeedForward ff;

    public BasicTransformerBlock(int dim, int heads, int contextDim) : base(nameof(BasicTransformerBlock))
    {
        norm1 = LayerNorm(dim); attn1 = new Attention(dim, null, heads);
        norm2 = LayerNorm(dim); attn2 = new Attention(dim, contextDim, heads);
        norm3 = LayerNorm(dim); ff = new FeedForward(dim);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, Tensor context)
    {
        using var scope = NewDisposeScope();
        x = x + attn1.call(norm1.call(x), null);
        x = x + attn2.call(norm2.call(x), context);
        x = x + ff.call(norm3.call(x));
        return x.MoveToOuterDisposeScope();
    }
}

/// <summary>
/// diffusers Transformer2DModel with use_linear_projection: norm (GroupNorm, eps 1e-6) → (N, HW, C) → proj_in →
/// transformer_blocks.0 → proj_out → (N, C, H, W) + residual.
/// </summary>
public sealed class Transformer2DModel : Module<Tensor, Tensor, Tensor>
{
    readonly GroupNorm norm;
    readonly Linear proj_in, proj_out;
    readonly ModuleList<BasicTransformerBlock> transformer_blocks;

    public Transformer2DModel(int channels, int heads, int contextDim, int groups) : base(nameof(Transformer2DModel))
    {
        norm = GroupNorm(groups, channels, 1e-6);
        proj_in = Linear(channels, channels);
        transformer_blocks = new ModuleList<BasicTransformerBlock>(new BasicTransformerBlock(channels, heads, contextDim));
        proj_out = Linear(channels, channels);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, Tensor context)
    {
        using var scope = NewDisposeScope();
        long n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3];
        var s = norm.call(x).view(n, c, h * w).transpose(1, 2);    // (N, HW, C)
        s = proj_in.call(s);
        foreach (var block in transformer_blocks) s = block.call(s, context);
        s = proj_out.call(s).transpose(1, 2).reshape(n, c, h, w);
        return (s + x).MoveToOuterDisposeScope();
    }
}
