using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Add.Train.Model;

#pragma warning disable IDE1006 // field names are state-dict keys

/// <summary>
/// One discriminator head on a feature map of F (ADD §3.2, after StyleGAN-T): 1×1 SN-conv → residual block
/// (SN-conv k=9 circular, GroupNorm, LeakyReLU 0.2) → SN-conv 1×1 to <see cref="CmapDim"/> channels, then a
/// projection with the condition: logit per token = ⟨h_l, Linear(c)⟩ / √CmapDim (Miyato &amp; Koyama 2018).
/// Features (N, C, L), condition (N, Dc) → logits (N, L).
/// </summary>
public sealed class DiscriminatorHead : Module<Tensor, Tensor, Tensor>
{
    public const int CmapDim = 64;
    readonly SNConv1d conv_in, res_conv, conv_out;
    readonly GroupNorm res_norm;
    readonly Linear cmapper;

    public DiscriminatorHead(int channels, int conditionDim, int hidden = 64) : base(nameof(DiscriminatorHead))
    {
        conv_in = new SNConv1d(channels, hidden, 1, circular: false);
        res_conv = new SNConv1d(hidden, hidden, 9, circular: true);
        res_norm = GroupNorm(8, hidden);
        conv_out = new SNConv1d(hidden, CmapDim, 1, circular: false);
        cmapper = Linear(conditionDim, CmapDim);
        RegisterComponents();
        NormInit.Apply(this);
    }

    public override Tensor forward(Tensor features, Tensor condition)
    {
        using var scope = NewDisposeScope();
        var h = conv_in.call(features);
        h = h + functional.leaky_relu(res_norm.call(res_conv.call(h)), 0.2);
        h = conv_out.call(h);                                                          // (N, 64, L)
        var cmap = cmapper.call(condition).unsqueeze(-1);                              // (N, 64, 1)
        return ((h * cmap).sum(1) / Math.Sqrt(CmapDim)).MoveToOuterDisposeScope();
    }
}

/// <summary>The trainable heads, one per feature map: of F (patch embedding + every block, all one width; ADD) or of
/// the teacher UNet (each down block and the mid block, each its own width; LADD).</summary>
public sealed class Discriminator : Module<List<Tensor>, Tensor, List<Tensor>>
{
    readonly ModuleList<DiscriminatorHead> heads;

    public int Count => heads.Count;

    /// <summary><paramref name="featureMaps"/> heads on maps of <paramref name="channels"/> channels each.</summary>
    public Discriminator(int featureMaps, int channels, int conditionDim) : this(Enumerable.Repeat(channels, featureMaps).ToArray(), conditionDim) { }

    /// <summary>One head per feature map, head k on <paramref name="channels"/>[k] channels.</summary>
    public Discriminator(IReadOnlyList<int> channels, int conditionDim) : base(nameof(Discriminator))
    {
        heads = new ModuleList<DiscriminatorHead>(channels.Select(c => new DiscriminatorHead(c, conditionDim)).ToArray());
        RegisterComponents();
    }

    /// <summary>Per-head logits (N, L) for features F_k (N, C, L) under condition c (N, Dc).</summary>
    public override List<Tensor> forward(List<Tensor> features, Tensor condition)
    {
        if (features.Count != heads.Count) throw new ArgumentException($"discriminator has {heads.Count} heads, got {features.Count} feature maps");
        return features.Select((f, k) => heads[k].call(f, condition)).ToList();
    }
}
