using Add.Engine.Configs;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Add.Train.Model;

#pragma warning disable IDE1006 // field names are diffusers state-dict keys

/// <summary>diffusers AutoencoderTinyBlock (unet_2d_blocks.py; taesd.py's Block): conv = Sequential(conv3×3, ReLU,
/// conv3×3, ReLU, conv3×3); skip = 1×1 conv without bias when the channels change, else the identity;
/// y = ReLU(conv(x) + skip(x)). Keys conv.0, conv.2, conv.4 (and skip).</summary>
public sealed class AutoencoderTinyBlock : Module<Tensor, Tensor>
{
    readonly Sequential conv;
    readonly Conv2d? skip;

    public AutoencoderTinyBlock(int inChannels, int outChannels) : base(nameof(AutoencoderTinyBlock))
    {
        conv = Sequential(Conv2d(inChannels, outChannels, 3, padding: 1), ReLU(), Conv2d(outChannels, outChannels, 3, padding: 1), ReLU(),
            Conv2d(outChannels, outChannels, 3, padding: 1));
        if (inChannels != outChannels) skip = Conv2d(inChannels, outChannels, 1, bias: false);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var s = skip is null ? x : skip.call(x);
        return functional.relu(conv.call(x) + s).MoveToOuterDisposeScope();
    }
}

/// <summary>diffusers EncoderTiny (vae.py): layers = [conv in→C (bias), blocks…, per later level a stride-2 conv without
/// bias then blocks…, conv C→latent (bias)]; forward maps [-1, 1] to [0, 1] first (x.add(1).div(2)).</summary>
public sealed class EncoderTiny : Module<Tensor, Tensor>
{
    readonly ModuleList<Module<Tensor, Tensor>> layers;

    public EncoderTiny(AutoencoderTinyConfig c) : base(nameof(EncoderTiny))
    {
        var list = new List<Module<Tensor, Tensor>>();
        for (int i = 0; i < c.NumEncoderBlocks.Length; i++)
        {
            int ch = c.EncoderBlockOutChannels[i];
            list.Add(i == 0 ? Conv2d(c.InChannels, ch, 3, padding: 1) : Conv2d(ch, ch, 3, stride: 2, padding: 1, bias: false));
            for (int j = 0; j < c.NumEncoderBlocks[i]; j++) list.Add(new AutoencoderTinyBlock(ch, ch));
        }
        list.Add(Conv2d(c.EncoderBlockOutChannels[^1], c.LatentChannels, 3, padding: 1));
        layers = new ModuleList<Module<Tensor, Tensor>>([.. list]);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        x = x.add(1).div(2);
        foreach (var layer in layers) x = layer.call(x);
        return x.MoveToOuterDisposeScope();
    }
}

/// <summary>diffusers DecoderTiny (vae.py): layers = [conv latent→C (bias), ReLU, per level: blocks…, then (not on the last)
/// nearest Upsample and a conv C→C without bias, the last level's conv C→out with bias]; forward: tanh(x/3)·3 first,
/// x·2 − 1 last ([0, 1] → [-1, 1]).</summary>
public sealed class DecoderTiny : Module<Tensor, Tensor>
{
    readonly ModuleList<Module<Tensor, Tensor>> layers;

    public DecoderTiny(AutoencoderTinyConfig c) : base(nameof(DecoderTiny))
    {
        var ch = c.DecoderBlockOutChannels;
        var list = new List<Module<Tensor, Tensor>> { Conv2d(c.LatentChannels, ch[0], 3, padding: 1), ReLU() };
        for (int i = 0; i < c.NumDecoderBlocks.Length; i++)
        {
            bool last = i == c.NumDecoderBlocks.Length - 1;
            for (int j = 0; j < c.NumDecoderBlocks[i]; j++) list.Add(new AutoencoderTinyBlock(ch[i], ch[i]));
            if (!last) list.Add(Upsample(scale_factor: [c.UpsamplingScalingFactor, c.UpsamplingScalingFactor], mode: UpsampleMode.Nearest));
            list.Add(Conv2d(ch[i], last ? c.OutChannels : ch[i], 3, padding: 1, bias: last));
        }
        layers = new ModuleList<Module<Tensor, Tensor>>([.. list]);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        x = tanh(x / 3) * 3;
        foreach (var layer in layers) x = layer.call(x);
        return x.mul(2).sub(1).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// diffusers AutoencoderTiny (TAESD, Bohan 2023; autoencoder_tiny.py): encoder and decoder, keys <c>encoder.layers.N…</c>
/// and <c>decoder.layers.N…</c>. Pixels in [-1, 1]. Latents are UNet-space latents: diffusers' pipelines decode
/// <c>latents / scaling_factor</c> and encode to <c>latents · scaling_factor</c> (TAESD: 1).
/// </summary>
public sealed class AutoencoderTiny : Module<Tensor, Tensor>
{
    readonly EncoderTiny encoder;
    readonly DecoderTiny decoder;

    public AutoencoderTinyConfig Config { get; }

    public AutoencoderTiny(AutoencoderTinyConfig config) : base(nameof(AutoencoderTiny))
    {
        config.Validate();
        Config = config;
        encoder = new EncoderTiny(config);
        decoder = new DecoderTiny(config);
        RegisterComponents();
    }

    /// <summary>Pixels (N, 3, H, W) in [-1, 1] → UNet-space latents (N, latent, H/f, W/f).</summary>
    public Tensor Encode(Tensor pixels)
    {
        using var scope = NewDisposeScope();
        return (encoder.call(pixels) * Config.ScalingFactor).MoveToOuterDisposeScope();
    }

    /// <summary>UNet-space latents (N, latent, h, w) → pixels (N, 3, h·f, w·f) in about [-1, 1].</summary>
    public Tensor Decode(Tensor latents)
    {
        using var scope = NewDisposeScope();
        return decoder.call(latents / Config.ScalingFactor).MoveToOuterDisposeScope();
    }

    /// <summary>Reconstruction: decode(encode(pixels)).</summary>
    public override Tensor forward(Tensor pixels)
    {
        using var z = Encode(pixels);
        return Decode(z);
    }
}
