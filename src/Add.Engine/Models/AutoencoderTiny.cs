using Add.Engine.Backends;
using Add.Engine.Configs;

namespace Add.Engine.Models;

/// <summary>
/// diffusers' AutoencoderTinyBlock (unet_2d_blocks.py; taesd.py's Block): y = ReLU(conv.4(ReLU(conv.2(ReLU(conv.0(x))))) + x),
/// 3×3 convs with bias. Keys PREFIX.conv.0/.conv.2/.conv.4 (.1 and .3 are the ReLUs); the 1×1 <c>skip</c> exists only when
/// the channels change, which AutoencoderTiny never does (every block is C→C).
/// </summary>
public sealed class AutoencoderTinyBlock
{
    private readonly Runtime _rt;
    private readonly Conv2d _conv0, _conv2, _conv4;

    public AutoencoderTinyBlock(Runtime rt, Weights w, string prefix, int channels)
    {
        _rt = rt;
        _conv0 = Conv2d.Load(w, prefix + ".conv.0", channels, channels, 3);
        _conv2 = Conv2d.Load(w, prefix + ".conv.2", channels, channels, 3);
        _conv4 = Conv2d.Load(w, prefix + ".conv.4", channels, channels, 3);
    }

    /// <summary>x [N, C, H, W] → y [N, C, H, W] (y must not be x).</summary>
    public void Forward(TensorView x, TensorView y, int n, int h, int w)
    {
        var (b, a) = (_rt.Backend, _rt.Arena);
        int mark = a.Mark();
        var t0 = a.Take(x.Length);
        var t1 = a.Take(x.Length);
        _conv0.Forward(b, x, t0, n, h, w, relu: true);                 // each ReLU fused into its conv's store
        _conv2.Forward(b, t0, t1, n, h, w, relu: true);
        _conv4.Forward(b, t1, y, n, h, w, residual: x, relu: true);   // ReLU(conv(x) + skip(x)), the skip added in the same store
        a.Release(mark);
    }
}

/// <summary>
/// diffusers' AutoencoderTiny (TAESD; autoencoder_tiny.py, vae.py EncoderTiny/DecoderTiny) as the engine uses it, keys
/// <c>decoder.layers.N…</c> and <c>encoder.layers.N…</c> (the Sequential's indices: ReLU and Upsample entries hold no
/// weights). Decode: UNet-space latents z [N, C, h, w] / scaling_factor (1 for TAESD: diffusers' pipelines call
/// <c>vae.decode(latents / vae.config.scaling_factor)</c>) → tanh(z/3)·3 → layers → x·2 − 1 (folded into the last
/// conv: 2w, 2b − 1) → pixels in about [-1, 1], as AutoencoderKL's. Encode: pixels in [-1, 1] → (x + 1)/2 (an affine
/// pass: folding it into the first conv would be wrong at the zero-padded border) → layers → latents × scaling_factor
/// (folded into the last conv).
/// </summary>
public sealed class AutoencoderTiny
{
    private abstract record Layer;
    private sealed record ConvLayer(Conv2d Conv, bool Relu) : Layer;
    private sealed record BlockLayer(AutoencoderTinyBlock Block) : Layer;
    private sealed record UpsampleLayer : Layer;

    private readonly Runtime _rt;
    private readonly Layer[] _decoder, _encoder;
    private readonly bool _hasEncoder;

    public AutoencoderTinyConfig Config { get; }

    /// <summary>Binds the decoder and, when <paramref name="encoder"/> (the checkpoint must then hold <c>encoder.layers…</c>),
    /// the encoder. A decoder-only load leaves the encoder's tensors unread (<see cref="Weights.ThrowIfUnused"/> would list them).</summary>
    public AutoencoderTiny(Runtime rt, Weights w, AutoencoderTinyConfig c, bool encoder = true)
    {
        _rt = rt;
        Config = c;
        _hasEncoder = encoder;
        _decoder = LoadDecoder(rt, w, c);
        _encoder = encoder ? LoadEncoder(rt, w, c) : [];
    }

    private static Layer[] LoadDecoder(Runtime rt, Weights w, AutoencoderTinyConfig c)
    {
        int ch = c.DecoderBlockOutChannels[0], k = 0;
        var layers = new List<Layer> { new ConvLayer(Conv2d.Load(w, "decoder.layers.0", c.LatentChannels, ch, 3), Relu: true) };
        k = 2;                                                                      // layers.1: ReLU
        for (int i = 0; i < c.NumDecoderBlocks.Length; i++)
        {
            for (int j = 0; j < c.NumDecoderBlocks[i]; j++) layers.Add(new BlockLayer(new AutoencoderTinyBlock(rt, w, $"decoder.layers.{k++}", ch)));
            if (i < c.NumDecoderBlocks.Length - 1)
            {
                layers.Add(new UpsampleLayer());                                    // nn.Upsample(scale_factor=2, mode="nearest")
                k++;
                layers.Add(new ConvLayer(Conv2d.Load(w, $"decoder.layers.{k++}", ch, ch, 3, bias: false), Relu: false));
            }
            else
            {
                // x·2 − 1 of DecoderTiny.forward folded into the final conv: 2·(w∗x + b) − 1 = (2w)∗x + (2b − 1).
                string p = $"decoder.layers.{k++}";
                var weight = Conv2d.LoadWeight(w, p + ".weight", ch, c.OutChannels, 3, v => System.Numerics.Tensors.TensorPrimitives.Multiply(v, 2f, v));
                var bias = w.Device(p + ".bias", [c.OutChannels], v => { for (int i = 0; i < v.Length; i++) v[i] = 2f * v[i] - 1f; });
                layers.Add(new ConvLayer(new Conv2d(weight, bias, ch, c.OutChannels, 3, 1, 1), Relu: false));
            }
        }
        return [.. layers];
    }

    private static Layer[] LoadEncoder(Runtime rt, Weights w, AutoencoderTinyConfig c)
    {
        int ch = c.EncoderBlockOutChannels[0], k = 0;
        var layers = new List<Layer>();
        for (int i = 0; i < c.NumEncoderBlocks.Length; i++)
        {
            layers.Add(new ConvLayer(i == 0
                ? Conv2d.Load(w, $"encoder.layers.{k++}", c.InChannels, ch, 3)
                : Conv2d.Load(w, $"encoder.layers.{k++}", ch, ch, 3, stride: 2, bias: false), Relu: false));
            for (int j = 0; j < c.NumEncoderBlocks[i]; j++) layers.Add(new BlockLayer(new AutoencoderTinyBlock(rt, w, $"encoder.layers.{k++}", ch)));
        }
        // latents × scaling_factor (what diffusers' img2img multiplies the encoder output by) folded into the last conv.
        float sf = (float)c.ScalingFactor;
        string p = $"encoder.layers.{k}";
        var weight = Conv2d.LoadWeight(w, p + ".weight", ch, c.LatentChannels, 3, v => System.Numerics.Tensors.TensorPrimitives.Multiply(v, sf, v));
        var bias = w.Device(p + ".bias", [c.LatentChannels], v => System.Numerics.Tensors.TensorPrimitives.Multiply(v, sf, v));
        layers.Add(new ConvLayer(new Conv2d(weight, bias, ch, c.LatentChannels, 3, 1, 1), Relu: false));
        return [.. layers];
    }

    /// <summary>Image pixels per latent pixel of <see cref="Decode"/> (TAESD: 8).</summary>
    public int DecoderFactor => Config.DecoderFactor;

    /// <summary>latents [N, latent_channels, h, w] (UNet space; h = <paramref name="height"/>, w = <paramref name="width"/>)
    /// → pixels [N, out_channels, h·f, w·f] in about [-1, 1], f = <see cref="DecoderFactor"/>. Latents are not changed.</summary>
    public void Decode(TensorView latents, TensorView pixels, int n, int height, int width)
    {
        var (b, a) = (_rt.Backend, _rt.Arena);
        if (height <= 0 || width <= 0) throw new ArgumentException($"latent size {height}×{width} must be positive");
        int mark = a.Mark();
        var z = a.Take(latents.Length);
        if (Config.ScalingFactor != 1.0)
        {
            b.Affine(latents, z, (float)(1.0 / Config.ScalingFactor), 0f);
            b.TanhClamp(z, z);
        }
        else b.TanhClamp(latents, z);
        Run(_decoder, z, pixels, n, height, width, Config.LatentChannels);
        a.Release(mark);
    }

    /// <summary>pixels [N, in_channels, H, W] in [-1, 1] (H, W multiples of 2^(levels − 1)) → latents [N, latent_channels,
    /// H/f, W/f] in UNet space (× scaling_factor).</summary>
    public void Encode(TensorView pixels, TensorView latents, int n, int height, int width)
    {
        if (!_hasEncoder) throw new InvalidOperationException("this AutoencoderTiny was loaded without its encoder");
        var (b, a) = (_rt.Backend, _rt.Arena);
        int f = Config.EncoderFactor;
        if (height <= 0 || width <= 0 || height % f != 0 || width % f != 0)
            throw new ArgumentException($"image size {height}×{width} is not a positive multiple of the tiny encoder's factor {f} in both dimensions");
        int mark = a.Mark();
        var x = a.Take(pixels.Length);
        b.Affine(pixels, x, 0.5f, 0.5f);                                        // EncoderTiny.forward: x.add(1).div(2)
        Run(_encoder, x, latents, n, height, width, Config.InChannels);
        a.Release(mark);
    }

    /// <summary>Runs <paramref name="layers"/> on x [N, <paramref name="inChannels"/>, H, W]; the last layer writes
    /// <paramref name="output"/>.</summary>
    private void Run(Layer[] layers, TensorView x, TensorView output, int n, int h, int w, int inChannels)
    {
        var (b, a) = (_rt.Backend, _rt.Arena);
        int c = inChannels;
        for (int i = 0; i < layers.Length; i++)
        {
            bool last = i == layers.Length - 1;
            switch (layers[i])
            {
                case ConvLayer(var conv, var relu):
                {
                    var s = conv.Shape(n, h, w);
                    var y = last ? output : a.Take((long)n * conv.Out * s.OutHeight * s.OutWidth);
                    if (y.Length != (long)n * conv.Out * s.OutHeight * s.OutWidth)
                        throw new ArgumentException($"output has {y.Length} values, the tiny autoencoder writes [{n}, {conv.Out}, {s.OutHeight}, {s.OutWidth}]");
                    conv.Forward(b, x, y, n, h, w, relu: relu);
                    (x, h, w, c) = (y, s.OutHeight, s.OutWidth, conv.Out);
                    break;
                }
                case BlockLayer(var block):
                {
                    var y = a.Take(x.Length);
                    block.Forward(x, y, n, h, w);
                    x = y;
                    break;
                }
                case UpsampleLayer:
                {
                    var y = a.Take(x.Length * 4);
                    b.Upsample2x(x, y, n, c, h, w);
                    (x, h, w) = (y, 2 * h, 2 * w);
                    break;
                }
            }
        }
    }
}
