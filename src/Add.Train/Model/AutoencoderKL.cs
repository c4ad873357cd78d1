using Add.Engine.Configs;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Add.Train.Model;

#pragma warning disable IDE1006 // field names are diffusers state-dict keys

/// <summary>diffusers DownEncoderBlock2D / UpDecoderBlock2D: resnets, then an optional resampler.</summary>
public sealed class VaeBlock : Module<Tensor, Tensor>
{
    readonly ModuleList<ResnetBlock2D> resnets;
    readonly ModuleList<Module<Tensor, Tensor>>? downsamplers;
    readonly ModuleList<Module<Tensor, Tensor>>? upsamplers;

    public VaeBlock(int inChannels, int outChannels, int layers, int groups, bool down, bool up) : base(nameof(VaeBlock))
    {
        resnets = new ModuleList<ResnetBlock2D>(Enumerable.Range(0, layers)
            .Select(j => new ResnetBlock2D(j == 0 ? inChannels : outChannels, outChannels, groups, 1e-6, null)).ToArray());
        if (down) downsamplers = new ModuleList<Module<Tensor, Tensor>>(new Downsample2D(outChannels, asymmetricPad: true));
        if (up) upsamplers = new ModuleList<Module<Tensor, Tensor>>(new Upsample2D(outChannels));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        foreach (var r in resnets) x = r.call(x, null);
        if (downsamplers is not null) x = downsamplers[0].call(x);
        if (upsamplers is not null) x = upsamplers[0].call(x);
        return x.MoveToOuterDisposeScope();
    }
}

/// <summary>diffusers UNetMidBlock2D of the VAE: resnets.0, attentions.0 (optional), resnets.1.</summary>
public sealed class VaeMidBlock : Module<Tensor, Tensor>
{
    readonly ModuleList<ResnetBlock2D> resnets;
    readonly ModuleList<SpatialSelfAttention>? attentions;

    public VaeMidBlock(int channels, int groups, bool attention) : base(nameof(VaeMidBlock))
    {
        resnets = new ModuleList<ResnetBlock2D>(new ResnetBlock2D(channels, channels, groups, 1e-6, null), new ResnetBlock2D(channels, channels, groups, 1e-6, null));
        if (attention) attentions = new ModuleList<SpatialSelfAttention>(new SpatialSelfAttention(channels, groups));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        x = resnets[0].call(x, null);
        if (attentions is not null) x = attentions[0].call(x);
        return resnets[1].call(x, null).MoveToOuterDisposeScope();
    }
}

/// <summary>VAE encoder: (N, 3, S, S) → (N, 2·latent, S/f, S/f) holding mean and log-variance.</summary>
public sealed class VaeEncoder : Module<Tensor, Tensor>
{
    readonly Conv2d conv_in, conv_out;
    readonly ModuleList<VaeBlock> down_blocks;
    readonly VaeMidBlock mid_block;
    readonly GroupNorm conv_norm_out;

    public VaeEncoder(AutoencoderKLConfig c) : base(nameof(VaeEncoder))
    {
        var ch = c.BlockOutChannels;
        conv_in = Conv2d(c.InChannels, ch[0], 3, padding: 1);
        down_blocks = new ModuleList<VaeBlock>(Enumerable.Range(0, ch.Length)
            .Select(i => new VaeBlock(i == 0 ? ch[0] : ch[i - 1], ch[i], c.LayersPerBlock, c.NormNumGroups, down: i < ch.Length - 1, up: false)).ToArray());
        mid_block = new VaeMidBlock(ch[^1], c.NormNumGroups, c.MidBlockAddAttention);
        conv_norm_out = GroupNorm(c.NormNumGroups, ch[^1], 1e-6);
        conv_out = Conv2d(ch[^1], 2 * c.LatentChannels, 3, padding: 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        x = conv_in.call(x);
        foreach (var b in down_blocks) x = b.call(x);
        x = mid_block.call(x);
        return conv_out.call(functional.silu(conv_norm_out.call(x))).MoveToOuterDisposeScope();
    }
}

/// <summary>VAE decoder: (N, latent, S/f, S/f) → (N, 3, S, S) in [-1, 1] (not clamped).</summary>
public sealed class VaeDecoder : Module<Tensor, Tensor>
{
    readonly Conv2d conv_in, conv_out;
    readonly VaeMidBlock mid_block;
    readonly ModuleList<VaeBlock> up_blocks;
    readonly GroupNorm conv_norm_out;

    public VaeDecoder(AutoencoderKLConfig c) : base(nameof(VaeDecoder))
    {
        var rev = c.BlockOutChannels.Reverse().ToArray();
        conv_in = Conv2d(c.LatentChannels, rev[0], 3, padding: 1);
        mid_block = new VaeMidBlock(rev[0], c.NormNumGroups, c.MidBlockAddAttention);
        up_blocks = new ModuleList<VaeBlock>(Enumerable.Range(0, rev.Length)
            .Select(i => new VaeBlock(i == 0 ? rev[0] : rev[i - 1], rev[i], c.LayersPerBlock + 1, c.NormNumGroups, down: false, up: i < rev.Length - 1)).ToArray());
        conv_norm_out = GroupNorm(c.NormNumGroups, rev[^1], 1e-6);
        conv_out = Conv2d(rev[^1], c.OutChannels, 3, padding: 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor z)
    {
        using var scope = NewDisposeScope();
        var x = conv_in.call(z);
        x = mid_block.call(x);
        foreach (var b in up_blocks) x = b.call(x);
        return conv_out.call(functional.silu(conv_norm_out.call(x))).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// diffusers AutoencoderKL (Kingma &amp; Welling 2014; Rombach et al. 2022 §3): encoder, quant_conv (1×1) → mean and
/// log-variance of a diagonal Gaussian; post_quant_conv (1×1), decoder. Pixels in [-1, 1].
/// Latents for diffusion are z·scaling_factor.
/// </summary>
public sealed class AutoencoderKL : Module<Tensor, Tensor>
{
    readonly VaeEncoder encoder;
    readonly VaeDecoder decoder;
    readonly Conv2d quant_conv, post_quant_conv;

    public AutoencoderKLConfig Config { get; }

    public AutoencoderKL(AutoencoderKLConfig config) : base(nameof(AutoencoderKL))
    {
        config.Validate();
        Config = config;
        encoder = new VaeEncoder(config);
        decoder = new VaeDecoder(config);
        quant_conv = Conv2d(2 * config.LatentChannels, 2 * config.LatentChannels, 1);
        post_quant_conv = Conv2d(config.LatentChannels, config.LatentChannels, 1);
        RegisterComponents();
        NormInit.Apply(this);
    }

    /// <summary>Mean and log-variance (clamped to [-30, 20] as diffusers does), each (N, latent, s, s).</summary>
    public (Tensor Mean, Tensor LogVar) Encode(Tensor pixels)
    {
        using var scope = NewDisposeScope();
        var moments = quant_conv.call(encoder.call(pixels)).chunk(2, 1);
        var mean = moments[0].MoveToOuterDisposeScope();
        var logvar = moments[1].clamp(-30.0, 20.0).MoveToOuterDisposeScope();
        return (mean, logvar);
    }

    /// <summary>Unscaled latents (N, latent, s, s) → pixels (N, 3, S, S).</summary>
    public Tensor Decode(Tensor z)
    {
        using var q = post_quant_conv.call(z);
        return decoder.call(q);
    }

    /// <summary>Reconstruction through the posterior mean.</summary>
    public override Tensor forward(Tensor pixels)
    {
        var (mean, logvar) = Encode(pixels);
        using (logvar) using (mean) return Decode(mean);
    }
}
