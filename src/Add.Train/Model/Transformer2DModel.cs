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
/// diffusers Transformer2DModel (transformer_2d.py, _operate_on_continuous_inputs / _get_output_for_continuous_inputs):
/// norm (GroupNorm, eps 1e-6); with use_linear_projection: → (N, HW, C) → proj_in (Linear); without: proj_in (1×1
/// Conv2d) → (N, HW, C); then transformer_blocks.0..layers-1; proj_out as Linear before (or 1×1 conv after) the
/// reshape back to (N, C, H, W); + residual.
/// </summary>
public sealed class Transformer2DModel : Module<Tensor, Tensor, Tensor>
{
    readonly GroupNorm norm;
    readonly Module<Tensor, Tensor> proj_in, proj_out;
    readonly ModuleList<BasicTransformerBlock> transformer_blocks;
    readonly bool linear;

    public Transformer2DModel(int channels, int heads, int contextDim, int groups, int layers, bool linearProjection) : base(nameof(Transformer2DModel))
    {
        linear = linearProjection;
        norm = GroupNorm(groups, channels, 1e-6);
        proj_in = linear ? Linear(channels, channels) : Conv2d(channels, channels, 1);
        transformer_blocks = new ModuleList<BasicTransformerBlock>(Enumerable.Range(0, layers).Select(_ => new BasicTransformerBlock(channels, heads, contextDim)).ToArray());
        proj_out = linear ? Linear(channels, channels) : Conv2d(channels, channels, 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, Tensor context)
    {
        using var scope = NewDisposeScope();
        long n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3];
        var s = norm.call(x);
        if (!linear) s = proj_in.call(s);
        s = s.view(n, c, h * w).transpose(1, 2);                       // (N, HW, C)
        if (linear) s = proj_in.call(s);
        foreach (var block in transformer_blocks) s = block.call(s, context);
        if (linear) s = proj_out.call(s);
        s = s.transpose(1, 2).reshape(n, c, h, w);                     // (N, C, H, W)
        if (!linear) s = proj_out.call(s);
        return (s + x).MoveToOuterDisposeScope();
    }
}
