using Add.Engine.Backends;
using Add.Engine.Configs;

namespace Add.Engine.Models;

/// <summary>The VAE's encoder half (init images only), loaded at construction or on the first <see cref="Encode"/>.</summary>
public sealed partial class AutoencoderKL
{
    private readonly Func<Weights>? _encoderWeights;
    private readonly Lock _encoderLock = new();
    private VaeEncoder? _encoder;

    /// <summary>Whether the encoder's weights are held (loaded at construction, or by an <see cref="Encode"/> since).</summary>
    public bool EncoderLoaded => Volatile.Read(ref _encoder) is not null;

    private VaeEncoder Encoder()
    {
        if (Volatile.Read(ref _encoder) is { } loaded)
            return loaded;
        lock (_encoderLock)
        {
            if (_encoder is null)
            {
                using var w = _encoderWeights!();
                Volatile.Write(ref _encoder, new VaeEncoder(_rt, w, Config));
            }
            return _encoder;
        }
    }

    /// <summary>encoder.* and quant_conv's mean half: conv_in, down blocks (resnets, then a stride-2 conv but for the
    /// last), mid block, GroupNorm+SiLU, conv_out; quant_conv's rows for the mean with scaling_factor folded in.</summary>
    private sealed class VaeEncoder
    {
        public Conv2d ConvIn { get; }
        public Block[] Down { get; }
        public Mid Mid { get; }
        public GroupNorm NormOut { get; }
        public Conv2d ConvOut { get; }
        public Conv2d QuantConvMean { get; }

        public VaeEncoder(Runtime rt, Weights w, AutoencoderKLConfig c)
        {
            var ch = c.BlockOutChannels;
            int g = c.NormNumGroups, lc = c.LatentChannels;
            float sf = (float)c.ScalingFactor;
            ResnetBlock2D Resnet(string p, int i, int o) => new(rt, w, p, i, o, g, 1e-6, null);
            ConvIn = Conv2d.Load(w, "encoder.conv_in", c.InChannels, ch[0], 3);
            Down = Enumerable.Range(0, ch.Length).Select(i => new Block(
                Enumerable.Range(0, c.LayersPerBlock).Select(j => Resnet($"encoder.down_blocks.{i}.resnets.{j}", j == 0 ? (i == 0 ? ch[0] : ch[i - 1]) : ch[i], ch[i])).ToArray(),
                i < ch.Length - 1 ? Conv2d.Load(w, $"encoder.down_blocks.{i}.downsamplers.0.conv", ch[i], ch[i], 3, stride: 2, padding: 0) : null)).ToArray();
            const string mid = "encoder.mid_block";
            int top = ch[^1];
            Mid = new(Resnet(mid + ".resnets.0", top, top),
                c.MidBlockAddAttention ? new SpatialSelfAttention(rt, w, mid + ".attentions.0", top, g) : null, Resnet(mid + ".resnets.1", top, top));
            NormOut = GroupNorm.Load(w, "encoder.conv_norm_out", top, g, 1e-6);
            ConvOut = Conv2d.Load(w, "encoder.conv_out", top, 2 * lc, 3);
            var q = w.Host("quant_conv.weight", 2 * lc, 2 * lc, 1, 1);
            var qb = w.Host("quant_conv.bias", 2 * lc);
            var mean = q.AsSpan(0, lc * 2 * lc).ToArray();     // rows 0..lc-1: the mean half of the moments
            var meanBias = qb.AsSpan(0, lc).ToArray();
            System.Numerics.Tensors.TensorPrimitives.Multiply(mean, sf, mean);
            System.Numerics.Tensors.TensorPrimitives.Multiply(meanBias, sf, meanBias);
            QuantConvMean = new Conv2d(Conv2d.UploadWeight(w, mean, 2 * lc, lc, 1), w.Upload(meanBias), 2 * lc, lc, 1, 1, 0);
        }
    }
}
