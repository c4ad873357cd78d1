using Add.Engine.Backends;
using Add.Engine.Configs;
using Add.Kernels;

namespace Add.Engine.Models;

/// <summary>
/// diffusers UNet2DConditionModel (the layout of DESIGN.md §4): ε̂ = unet(x_t, t, context).
/// time: sinusoidal(t) → linear_1 → SiLU → linear_2 → SiLU (computed once; every ResnetBlock's time_emb_proj reads it);
/// down blocks (resnet [+ transformer]) × layers [+ stride-2 conv], each output kept as a skip; mid block
/// (resnet, transformer, resnet); up blocks (cat(x, skip) → resnet [+ transformer]) × (layers + 1) [+ nearest 2× + conv];
/// GroupNorm+SiLU → conv_out. With addition_embed_type "text_time" (SDXL, Podell et al. 2023 §2.2) the time embedding
/// gains add_embedding(cat(text_embeds, add_time_proj(time_ids))) before its SiLU. The channel and skip wiring comes from <see cref="UNetTopology"/>. All skips live on the
/// arena until the forward ends.
/// </summary>
public sealed class UNet2DConditionModel
{
    private sealed record DownBlock(ResnetBlock2D[] Resnets, Transformer2DModel[]? Attentions, Conv2d? Downsampler);
    private sealed record UpBlock(ResnetBlock2D[] Resnets, Transformer2DModel[]? Attentions, Conv2d? Upsampler);

    private readonly Runtime _rt;
    private readonly Conv2d _convIn, _convOut;
    private readonly Linear _time1, _time2;
    private readonly Linear? _add1, _add2;                // add_embedding.linear_1/2 (text_time only)
    private readonly DownBlock[] _down;
    private readonly ResnetBlock2D _midResnet0, _midResnet1;
    private readonly Transformer2DModel _midAttention;
    private readonly UpBlock[] _up;
    private readonly GroupNorm _normOut;
    [ThreadStatic]
    private static Stack<(TensorView View, int Channels)>? t_skips;     // per thread: generations may run concurrently

    public UNet2DConditionConfig Config { get; }

    public UNet2DConditionModel(Runtime rt, Weights w, UNet2DConditionConfig c)
    {
        _rt = rt;
        Config = c;
        var topology = UNetTopology.From(c);
        int c0 = topology.ConvInOutChannels, temb = c.TimeEmbedDim;
        ResnetBlock2D Resnet(string p, int i, int o) => new(rt, w, p, i, o, c.NormNumGroups, c.NormEps, temb);
        Transformer2DModel Transformer(string p, int channels, int heads, int layers) =>
            new(rt, w, p, channels, heads, c.CrossAttentionDim, c.NormNumGroups, layers, c.UseLinearProjection);

        _convIn = Conv2d.Load(w, "conv_in", c.InChannels, c0, 3);
        _time1 = Linear.Load(w, "time_embedding.linear_1", c0, temb);
        _time2 = Linear.Load(w, "time_embedding.linear_2", temb, temb);
        if (c.TextTime)
        {
            _add1 = Linear.Load(w, "add_embedding.linear_1", c.ProjectionClassEmbeddingsInputDim!.Value, temb);
            _add2 = Linear.Load(w, "add_embedding.linear_2", temb, temb);
        }
        _down = new DownBlock[topology.Down.Length];
        for (int i = 0; i < _down.Length; i++)
        {
            string p = $"down_blocks.{i}";
            var d = topology.Down[i];
            _down[i] = new DownBlock(
                Enumerable.Range(0, d.Layers).Select(j => Resnet($"{p}.resnets.{j}", d.ResnetInChannels(j), d.OutChannels)).ToArray(),
                d.CrossAttention ? Enumerable.Range(0, d.Layers).Select(j => Transformer($"{p}.attentions.{j}", d.OutChannels, d.Heads, d.TransformerLayers)).ToArray() : null,
                d.Downsample ? Conv2d.Load(w, $"{p}.downsamplers.0.conv", d.OutChannels, d.OutChannels, 3, stride: 2, padding: 1) : null);
        }
        int mid = topology.MidChannels;
        _midResnet0 = Resnet("mid_block.resnets.0", mid, mid);
        _midAttention = Transformer("mid_block.attentions.0", mid, topology.MidHeads, topology.MidTransformerLayers);
        _midResnet1 = Resnet("mid_block.resnets.1", mid, mid);
        _up = new UpBlock[topology.Up.Length];
        for (int i = 0; i < _up.Length; i++)
        {
            string p = $"up_blocks.{i}";
            var u = topology.Up[i];
            int layers = u.ResnetInChannels.Length;
            _up[i] = new UpBlock(
                Enumerable.Range(0, layers).Select(j => Resnet($"{p}.resnets.{j}", u.ResnetInChannels[j], u.OutChannels)).ToArray(),
                u.CrossAttention ? Enumerable.Range(0, layers).Select(j => Transformer($"{p}.attentions.{j}", u.OutChannels, u.Heads, u.TransformerLayers)).ToArray() : null,
                u.Upsample ? Conv2d.Load(w, $"{p}.upsamplers.0.conv", u.OutChannels, u.OutChannels, 3) : null);
        }
        _normOut = GroupNorm.Load(w, "conv_norm_out", c0, c.NormNumGroups, c.NormEps);
        _convOut = Conv2d.Load(w, "conv_out", c0, c.OutChannels, 3);
    }

    /// <summary>One layer of a down or up block: resnet, then (cross-attention blocks) the transformer; outputs on the arena.</summary>
    private (TensorView Output, int Channels) ResnetThenAttention(ResnetBlock2D resnet, Transformer2DModel? attention, TensorView x, TensorView tembSilu,
        TensorView context, int n, int h, int w, int contextLength)
    {
        var y = _rt.Arena.Take((long)n * resnet.Out * h * w);
        resnet.Forward(x, y, n, h, w, tembSilu);
        if (attention is null) return (y, resnet.Out);
        var z = _rt.Arena.Take(y.Length);
        attention.Forward(y, z, context, n, h, w, contextLength);
        return (z, resnet.Out);
    }

    /// <summary>
    /// ε̂ [N, Cout, H, W] = unet(sample [N, Cin, H, W], timesteps [N] (as floats), context [N, Lk, Cctx]). H and W (the
    /// latent size, non-square allowed) must be multiples of 2^(levels − 1), so every skip matches its up block's size.
    /// A text_time UNet also takes <paramref name="textEmbeds"/> [N, <see cref="UNet2DConditionConfig.AddTextEmbedsDim"/>] (the
    /// pooled text) and <paramref name="timeIds"/> [N, 6] (original h, w, crop top, left, target h, w); others take neither.
    /// </summary>
    public void Forward(TensorView sample, TensorView timesteps, TensorView context, TensorView output, int n, int contextLength, int height, int width,
        TensorView textEmbeds = default, TensorView timeIds = default)
    {
        if (Config.TextTime != !textEmbeds.IsEmpty || Config.TextTime != !timeIds.IsEmpty)
            throw new ArgumentException(Config.TextTime ? "this UNet (addition_embed_type text_time) needs text_embeds and time_ids" : "text_embeds and time_ids are for a text_time UNet only");
        var (b, a) = (_rt.Backend, _rt.Arena);
        var c = Config;
        var ch = c.BlockOutChannels;
        int factor = 1 << (ch.Length - 1);
        if (height <= 0 || width <= 0 || height % factor != 0 || width % factor != 0)
            throw new ArgumentException($"latent size {height}×{width} is not a positive multiple of the UNet's factor {factor} in both dimensions");
        int mark = a.Mark(), h = height, w = width, temb = c.TimeEmbedDim;

        // time embedding: [N] → [N, C0] → [N, T] → silu → [N, T] → silu
        var sinusoid = a.Take((long)n * ch[0]);
        b.TimestepEmbedding(timesteps, sinusoid, new TimestepEmbeddingShape(ch[0], c.FlipSinToCos, c.FreqShift));
        var t1 = a.Take((long)n * temb);
        var tembSilu = a.Take((long)n * temb);
        _time1.Forward(b, sinusoid, t1, n);
        b.Silu(t1, t1);
        var aug = TensorView.Empty;
        if (_add1 is not null)
        {
            // aug = add_embedding(cat(text_embeds, add_time_proj(time_ids).reshape(N, 6·A))): [N, P] → [N, T]
            int ad = c.AdditionTimeEmbedDim!.Value, textDim = c.AddTextEmbedsDim, timeDim = UNet2DConditionConfig.AddTimeIds * ad;
            var timeProj = a.Take((long)n * timeDim);                   // [N·6, A] = [N, 6·A]
            b.TimestepEmbedding(timeIds, timeProj, new TimestepEmbeddingShape(ad, c.FlipSinToCos, c.FreqShift));
            var addEmbeds = a.Take((long)n * (textDim + timeDim));
            b.ConcatChannels(textEmbeds, timeProj, addEmbeds, n, textDim, timeDim, 1, 1);
            var a1 = a.Take((long)n * temb);
            _add1.Forward(b, addEmbeds, a1, n);
            b.Silu(a1, a1);
            aug = a.Take((long)n * temb);
            _add2!.Forward(b, a1, aug, n);
        }
        _time2.Forward(b, t1, tembSilu, n, residual: aug);              // emb = time_embedding(t) (+ aug)
        b.Silu(tembSilu, tembSilu);

        var x = a.Take((long)n * ch[0] * h * w);
        _convIn.Forward(b, sample, x, n, h, w);
        var skips = t_skips ??= new();   // reused: no allocation per step
        skips.Clear();
        skips.Push((x, ch[0]));
        int channels = ch[0];
        foreach (var block in _down)
        {
            for (int j = 0; j < block.Resnets.Length; j++)
            {
                (x, channels) = ResnetThenAttention(block.Resnets[j], block.Attentions?[j], x, tembSilu, context, n, h, w, contextLength);
                skips.Push((x, channels));
            }
            if (block.Downsampler is { } down)
            {
                int ho = (h + 1) / 2, wo = (w + 1) / 2;
                var y = a.Take((long)n * channels * ho * wo);
                down.Forward(b, x, y, n, h, w);
                (x, h, w) = (y, ho, wo);
                skips.Push((x, channels));
            }
        }

        var m0 = a.Take(x.Length);
        _midResnet0.Forward(x, m0, n, h, w, tembSilu);
        var m1 = a.Take(x.Length);
        _midAttention.Forward(m0, m1, context, n, h, w, contextLength);
        var m2 = a.Take(x.Length);
        _midResnet1.Forward(m1, m2, n, h, w, tembSilu);
        x = m2;

        foreach (var block in _up)
        {
            for (int j = 0; j < block.Resnets.Length; j++)
            {
                var (skip, skipChannels) = skips.Pop();
                var cat = a.Take((long)n * (channels + skipChannels) * h * w);
                b.ConcatChannels(x, skip, cat, n, channels, skipChannels, h, w);
                (x, channels) = ResnetThenAttention(block.Resnets[j], block.Attentions?[j], cat, tembSilu, context, n, h, w, contextLength);
            }
            if (block.Upsampler is { } up)
            {
                var big = a.Take(x.Length * 4);
                b.Upsample2x(x, big, n, channels, h, w);
                (h, w) = (h * 2, w * 2);
                var y = a.Take(big.Length);
                up.Forward(b, big, y, n, h, w);
                x = y;
            }
        }

        var normed = a.Take(x.Length);
        _normOut.Forward(b, x, normed, n, h * w, silu: true);
        _convOut.Forward(b, normed, output, n, h, w);
        a.Release(mark);
    }
}
