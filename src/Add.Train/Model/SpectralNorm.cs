using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Add.Train.Model;

#pragma warning disable IDE1006 // field names are state-dict keys

/// <summary>
/// Conv1d with a spectrally normalised weight (Miyato et al. 2018): W_SN = W / σ(W), σ estimated by one power
/// iteration per training forward on W viewed as (out, in·k), with the left singular vector u kept as a buffer.
/// Optional circular padding (StyleGAN-T's discriminator blocks). (N, Cin, L) → (N, Cout, L).
/// </summary>
public sealed class SNConv1d : Module<Tensor, Tensor>
{
    readonly Parameter weight, bias;
    readonly Tensor u;
    readonly int padding;

    public SNConv1d(int inChannels, int outChannels, int kernel, bool circular) : base(nameof(SNConv1d))
    {
        padding = circular ? kernel / 2 : 0;
        double bound = 1 / Math.Sqrt(inChannels * kernel);
        weight = Parameter(empty(outChannels, inChannels, kernel).uniform_(-bound, bound));
        bias = Parameter(zeros(outChannels));
        u = functional.normalize(randn(outChannels), dim: 0);
        RegisterComponents();
    }

    /// <summary>W / σ(W) with the current estimate; updates u when training.</summary>
    public Tensor NormalisedWeight()
    {
        var w = weight.view(weight.shape[0], -1);                                    // (out, in·k)
        if (training)
        {
            using var _ = no_grad();
            using var v = functional.normalize(w.t().matmul(u), dim: 0);
            using var uNew = functional.normalize(w.matmul(v), dim: 0);
            u.copy_(uNew);
        }
        using var scope = NewDisposeScope();
        var uc = u.detach().clone();        // this forward's own copy: later power iterations update u in place
        var vv = functional.normalize(w.t().matmul(uc), dim: 0).detach();
        var sigma = uc.dot(w.matmul(vv));
        return (weight / sigma).MoveToOuterDisposeScope();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var input = padding > 0 ? functional.pad(x, [padding, padding], PaddingModes.Circular) : x;
        return functional.conv1d(input, NormalisedWeight(), bias).MoveToOuterDisposeScope();
    }
}
