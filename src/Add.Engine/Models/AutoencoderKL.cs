using Add.Engine.Backends;
using Add.Engine.Configs;

namespace Add.Engine.Models;

/// <summary>
/// The VAE's mid-block attention (diffusers Attention with a group norm, one head of C channels, biased projections):
/// y = x + toImage(to_out(attention(q, k, v of toTokens(group_norm(x))))). Keys to_q/to_k/to_v/to_out.0, or the legacy
/// query/key/value/proj_attn; each projection [C, C] or [C, C, 1, 1].
/// </summary>
public sealed class SpatialSelfAttention
{
    private readonly Runtime _rt;
    private readonly GroupNorm _norm;
    private readonly Attention _attention;
    private readonly int _channels;

    public SpatialSelfAttention(Runtime rt, Weights w, string prefix, int channels, int groups)
    {
        _rt = rt;
        _channels = channels;
        _norm = GroupNorm.Load(w, prefix + ".group_norm", channels, groups, 1e-6);
        var names = w.ShapeOf(prefix + ".to_q.weight") is null && w.ShapeOf(prefix + ".query.weight") is not null ? Attention.LegacyVae : Attention.Diffusers;
        _attention = new Attention(rt, w, prefix, channels, channels, heads: 1, bias: true, causal: false, names, pointwise: true);
    }

    /// <summary>x [N, C, H, W] → y [N, C, H, W].</summary>
    public void Forward(TensorView x, TensorView y, int n, int h, int w)
    {
        var (b, a) = (_rt.Backend, _rt.Arena);
        int mark = a.Mark(), l = h * w;
        var t0 = a.Take(x.Length);
        var t1 = a.Take(x.Length);
        _norm.Forward(b, x, t0, n, l, silu: false);
        b.Transpose(t0, TensorView.Empty, t1, n, _channels, l);   // [N, C, L] → [N, L, C]
        _attention.Forward(t1, t1, t0, TensorView.Empty, n, l, l);
        b.Transpose(t0, x, y, n, l, _channels);                   // [N, L, C] → [N, C, L], + x
        a.Release(mark);
    }
}

/// <summary>
/// diffusers AutoencoderKL as the engine uses it. Decode: latents z (scaled by scaling_factor, as the UNet sees them)
/// → post_quant_conv with 1/scaling_factor folded into its weights → decoder (conv_in, mid block, up blocks of
/// layers+1 resnets and nearest-2× + conv, GroupNorm+SiLU, conv_out) → pixels in [-1, 1].
/// Encode (init images): encoder (conv_in, down blocks with the asymmetric (0, 1, 0, 1) pad before each stride-2 conv,
/// mid block, GroupNorm+SiLU, conv_out) → the mean half of quant_conv with scaling_factor folded in → z0 (the
/// distribution's mean, as diffusers' img2img with <c>sample_mode="argmax"</c>).
/// </summary>
public sealed partial class AutoencoderKL
{
    private sealed record Block(ResnetBlock2D[] Resnets, Conv2d? Resample);
    private sealed record Mid(ResnetBlock2D Resnet0, SpatialSelfAttention? Attention, ResnetBlock2D Resnet1);

    private readonly Runtime _rt;
    private readonly Conv2d _postQuantConv, _decConvIn, _decConvOut;
    private readonly Mid _decMid;
    private readonly Block[] _decUp;
    private readonly GroupNorm _decNormOut;

    public AutoencoderKLConfig Config { get; }

    /// <param name="encoderWeights">when given, the encoder's tensors are only checked now (names and shapes, so a
    /// config that disagrees with the file still fails at load) and read from a fresh <see cref="Weights"/> of this
    /// function on the first <see cref="Encode"/>: text-to-image never holds them (SD-Turbo's encoder: 34 M parameters,
    /// 137 MB in fp32); when null they are loaded now.</param>
    public AutoencoderKL(Runtime rt, Weights w, AutoencoderKLConfig c, Func<Weights>? encoderWeights = null)
    {
        _rt = rt;
        Config = c;
        var ch = c.BlockOutChannels;
        int g = c.NormNumGroups, lc = c.LatentChannels;
        float sf = (float)c.ScalingFactor;
        ResnetBlock2D Resnet(string p, int i, int o) => new(rt, w, p, i, o, g, 1e-6, null);
        Mid LoadMid(string p, int channels) => new(Resnet(p + ".resnets.0", channels, channels),
            c.MidBlockAddAttention ? new SpatialSelfAttention(rt, w, p + ".attentions.0", channels, g) : null, Resnet(p + ".resnets.1", channels, channels));

        // decoder
        var pq = w.Host("post_quant_conv.weight", lc, lc, 1, 1);
        System.Numerics.Tensors.TensorPrimitives.Divide(pq, sf, pq);
        _postQuantConv = new Conv2d(Conv2d.UploadWeight(w, pq, lc, lc, 1), w.Device("post_quant_conv.bias", lc), lc, lc, 1, 1, 0);
        var rev = ch.Reverse().ToArray();
        _decConvIn = Conv2d.Load(w, "decoder.conv_in", lc, rev[0], 3);
        _decMid = LoadMid("decoder.mid_block", rev[0]);
        _decUp = Enumerable.Range(0, rev.Length).Select(i => new Block(
            Enumerable.Range(0, c.LayersPerBlock + 1).Select(j => Resnet($"decoder.up_blocks.{i}.resnets.{j}", j == 0 ? (i == 0 ? rev[0] : rev[i - 1]) : rev[i], rev[i])).ToArray(),
            i < rev.Length - 1 ? Conv2d.Load(w, $"decoder.up_blocks.{i}.upsamplers.0.conv", rev[i], rev[i], 3) : null)).ToArray();
        _decNormOut = GroupNorm.Load(w, "decoder.conv_norm_out", rev[^1], g, 1e-6);
        _decConvOut = Conv2d.Load(w, "decoder.conv_out", rev[^1], c.OutChannels, 3);

        // encoder: now, or checked now and loaded on first use
        _encoderWeights = encoderWeights;
        if (encoderWeights is null)
            _encoder = new VaeEncoder(rt, w, c);
        else
            using (w.CheckOnly())
                _ = new VaeEncoder(rt, w, c);
    }

    private void MidForward(Mid mid, TensorView x, TensorView y, int n, int h, int w)
    {
        var a = _rt.Arena;
        int mark = a.Mark();
        var t0 = a.Take(x.Length);
        mid.Resnet0.Forward(x, t0, n, h, w, TensorView.Empty);
        if (mid.Attention is { } attn)
        {
            var t1 = a.Take(x.Length);
            attn.Forward(t0, t1, n, h, w);
            t0 = t1;
        }
        mid.Resnet1.Forward(t0, y, n, h, w, TensorView.Empty);
        a.Release(mark);
    }

    /// <summary>latents [N, C, h, w] (scaled; h = <paramref name="height"/>, w = <paramref name="width"/>, any positive size)
    /// → pixels [N, 3, h·f, w·f] in about [-1, 1], f = <see cref="AutoencoderKLConfig.DownsampleFactor"/>.
    /// <para>Memory: the activations alternate between two buffers of the largest one's size (at 512² the upsampled
    /// [N, 256, 512, 512], 268 MB per image), each op reading one and writing the other, instead of a new arena slot per
    /// block output (which held every level's outputs at once: 2.4 GB at 512²); the resnets' and the mid block's own
    /// temporaries are taken above them and released as each returns, except a resnet's conv1 output, which goes in the
    /// part of the output buffer the resnet's output leaves free when it fits (at 512², 134 MB less). A batch is decoded
    /// a few images at a time, as many as keep one of those buffers within <paramref name="maxChunkFloats"/> (by default <see cref="DecodeChunkFloats"/>:
    /// one at a time at 512², all of them at 32²): a batch of N equals N single decodes (the kernels are batch-invariant),
    /// and at 512² and batch 4 the activations take about 1.1 GB instead of 4.4.</para></summary>
    public void Decode(TensorView latents, TensorView pixels, int n, int height, int width, long maxChunkFloats = DecodeChunkFloats)
    {
        if (height <= 0 || width <= 0) throw new ArgumentException($"latent size {height}×{width} must be positive");
        long largest = DecoderLargestActivation(height, width);
        int chunk = (int)Math.Clamp(maxChunkFloats / largest, 1, Math.Max(n, 1));
        int f = Config.DownsampleFactor;
        long latentFloats = (long)Config.LatentChannels * height * width, pixelFloats = (long)Config.OutChannels * height * f * width * f;
        for (int i = 0; i < n; i += chunk)
        {
            int count = Math.Min(chunk, n - i);
            DecodeChunk(latents.Slice(i * latentFloats, count * latentFloats), pixels.Slice(i * pixelFloats, count * pixelFloats), count, height, width, largest);
        }
    }

    /// <summary>Floats one ping-pong buffer of <see cref="Decode"/> may take before a batch is split: 2^26 (256 MB), one
    /// 512² image's [256, 512, 512].</summary>
    public const long DecodeChunkFloats = 1L << 26;

    private void DecodeChunk(TensorView latents, TensorView pixels, int n, int height, int width, long largest)
    {
        var (b, a) = (_rt.Backend, _rt.Arena);
        var ch = Config.BlockOutChannels;
        int mark = a.Mark(), h = height, w = width, channels = ch[^1];
        var (x, y) = (a.Take(n * largest), a.Take(n * largest));     // ping-pong: each op reads x and writes y, then they swap
        var z = y.Slice(0, latents.Length);
        _postQuantConv.Forward(b, latents, z, n, h, w);
        _decConvIn.Forward(b, z, x.Slice(0, (long)n * channels * h * w), n, h, w);
        long size = (long)n * channels * h * w;
        MidForward(_decMid, x.Slice(0, size), y.Slice(0, size), n, h, w);
        (x, y) = (y, x);
        foreach (var block in _decUp)
        {
            foreach (var r in block.Resnets)
            {
                long output = (long)n * r.Out * h * w;      // the rest of y is free: conv1's output goes there when it fits
                r.Forward(x.Slice(0, (long)n * channels * h * w), y.Slice(0, output), n, h, w, TensorView.Empty, spare: y.Slice(output, y.Length - output));
                (x, y, channels) = (y, x, r.Out);
            }
            if (block.Resample is { } conv)
            {
                size = (long)n * channels * h * w;
                var big = y.Slice(0, 4 * size);
                b.Upsample2x(x.Slice(0, size), big, n, channels, h, w);
                (h, w) = (h * 2, w * 2);
                conv.Forward(b, big, x.Slice(0, big.Length), n, h, w);     // x is free once upsampled
            }
        }
        size = (long)n * channels * h * w;
        var normed = y.Slice(0, size);
        _decNormOut.Forward(b, x.Slice(0, size), normed, n, h * w, silu: true);
        _decConvOut.Forward(b, normed, pixels, n, h, w);
        a.Release(mark);
    }

    /// <summary>Floats per image of the decoder's largest activation (a block's output, or an upsampled input) for an
    /// h×w latent.</summary>
    private long DecoderLargestActivation(int height, int width)
    {
        var rev = Config.BlockOutChannels.Reverse().ToArray();
        long hw = (long)height * width, largest = Config.LatentChannels * hw;
        int channels = rev[0];
        for (int i = 0; i < _decUp.Length; i++)
        {
            foreach (var r in _decUp[i].Resnets)
                (largest, channels) = (Math.Max(largest, r.Out * hw), r.Out);
            if (_decUp[i].Resample is not null)
            {
                hw *= 4;
                largest = Math.Max(largest, channels * hw);
            }
        }
        return Math.Max(largest, (long)rev[0] * height * width);
    }

    /// <summary>pixels [N, 3, H, W] in [-1, 1] (H = <paramref name="height"/>, W = <paramref name="width"/>, multiples of the
    /// downsample factor f) → latents z0 [N, C, H/f, W/f] (mean, scaled by scaling_factor).</summary>
    public void Encode(TensorView pixels, TensorView latents, int n, int height, int width)
    {
        var (b, a) = (_rt.Backend, _rt.Arena);
        var ch = Config.BlockOutChannels;
        int f = Config.DownsampleFactor;
        if (height <= 0 || width <= 0 || height % f != 0 || width % f != 0)
            throw new ArgumentException($"image size {height}×{width} is not a positive multiple of the VAE's factor {f} in both dimensions");
        var e = Encoder();
        int mark = a.Mark(), h = height, w = width, channels = ch[0];
        var x = a.Take((long)n * channels * h * w);
        e.ConvIn.Forward(b, pixels, x, n, h, w);
        foreach (var block in e.Down)
        {
            foreach (var r in block.Resnets)
            {
                var y = a.Take((long)n * r.Out * h * w);
                r.Forward(x, y, n, h, w, TensorView.Empty);
                (x, channels) = (y, r.Out);
            }
            if (block.Resample is { } conv)
            {
                var padded = a.Take((long)n * channels * (h + 1) * (w + 1));
                b.ZeroPad(x, padded, n * channels, h, w, 1, 1);
                int ho = (h + 1 - 3) / 2 + 1, wo = (w + 1 - 3) / 2 + 1;
                var y = a.Take((long)n * channels * ho * wo);
                conv.Forward(b, padded, y, n, h + 1, w + 1);
                (x, h, w) = (y, ho, wo);
            }
        }
        var m = a.Take(x.Length);
        MidForward(e.Mid, x, m, n, h, w);
        var normed = a.Take(x.Length);
        e.NormOut.Forward(b, m, normed, n, h * w, silu: true);
        var moments = a.Take((long)n * 2 * Config.LatentChannels * h * w);
        e.ConvOut.Forward(b, normed, moments, n, h, w);
        e.QuantConvMean.Forward(b, moments, latents, n, h, w);
        a.Release(mark);
    }
}
