using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Add.Train.Model;

#pragma warning disable IDE1006 // field names are diffusers state-dict keys

/// <summary>
/// diffusers ResnetBlock2D: h = conv1(SiLU(norm1(x))); h += time_emb_proj(SiLU(temb)) per channel (UNet only);
/// h = conv2(SiLU(norm2(h))); out = conv_shortcut(x) + h (1×1 shortcut only when channels change).
/// Shapes: x (N, Cin, H, W), temb (N, Temb) → (N, Cout, H, W).
/// </summary>
public sealed class ResnetBlock2D : Module<Tensor, Tensor?, Tensor>
{
    readonly GroupNorm norm1;
    readonly Conv2d conv1;
    readonly Linear? time_emb_proj;
    readonly GroupNorm norm2;
    readonly Conv2d conv2;
    readonly Conv2d? conv_shortcut;

    public ResnetBlock2D(int inChannels, int outChannels, int groups, double eps, int? tembChannels) : base(nameof(ResnetBlock2D))
    {
        norm1 = GroupNorm(groups, inChannels, eps);
        conv1 = Conv2d(inChannels, outChannels, 3, padding: 1);
        if (tembChannels is int t) time_emb_proj = Linear(t, outChannels);
        norm2 = GroupNorm(groups, outChannels, eps);
        conv2 = Conv2d(outChannels, outChannels, 3, padding: 1);
        if (inChannels != outChannels) conv_shortcut = Conv2d(inChannels, outChannels, 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, Tensor? temb)
    {
        using var scope = NewDisposeScope();
        var h = conv1.call(functional.silu(norm1.call(x)));
        if (time_emb_proj is not null && temb is not null)
            h = h + time_emb_proj.call(functional.silu(temb)).unsqueeze(-1).unsqueeze(-1);
        h = conv2.call(functional.silu(norm2.call(h)));
        var shortcut = conv_shortcut is null ? x : conv_shortcut.call(x);
        return (shortcut + h).MoveToOuterDisposeScope();
    }
}

/// <summary>Stride-2 3×3 conv. UNet: padding 1. VAE: pad right/bottom by 1 then padding 0 (diffusers' Downsample2D padding=0).</summary>
public sealed class Downsample2D : Module<Tensor, Tensor>
{
    readonly Conv2d conv;
    readonly bool asymmetricPad;

    public Downsample2D(int channels, bool asymmetricPad) : base(nameof(Downsample2D))
    {
        this.asymmetricPad = asymmetricPad;
        conv = Conv2d(channels, channels, 3, stride: 2, padding: asymmetricPad ? 0 : 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        if (!asymmetricPad) return conv.call(x);
        using var padded = functional.pad(x, [0, 1, 0, 1]);
        return conv.call(padded);
    }
}

/// <summary>Nearest 2× upsampling followed by a 3×3 conv (diffusers Upsample2D).</summary>
public sealed class Upsample2D : Module<Tensor, Tensor>
{
    readonly Conv2d conv;

    public Upsample2D(int channels) : base(nameof(Upsample2D))
    {
        conv = Conv2d(channels, channels, 3, padding: 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var up = functional.interpolate(x, scale_factor: [2.0, 2.0], mode: InterpolationMode.Nearest);
        return conv.call(up);
    }
}
