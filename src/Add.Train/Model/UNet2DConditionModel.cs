using Add.Engine.Configs;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Add.Train.Model;

#pragma warning disable IDE1006 // field names are diffusers state-dict keys

/// <summary>time_embedding: linear_1 → SiLU → linear_2 (diffusers TimestepEmbedding).</summary>
public sealed class TimestepEmbedding : Module<Tensor, Tensor>
{
    readonly Linear linear_1, linear_2;

    public TimestepEmbedding(int inDim, int dim) : base(nameof(TimestepEmbedding))
    {
        linear_1 = Linear(inDim, dim); linear_2 = Linear(dim, dim);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var h = functional.silu(linear_1.call(x));
        return linear_2.call(h);
    }

    /// <summary>
    /// Sinusoidal embedding (Vaswani et al. 2017 §3.5; diffusers get_timestep_embedding): for i &lt; dim/2,
    /// f_i = exp(−ln(10000)·i/(dim/2 − freq_shift)); emb = [sin(t·f), cos(t·f)], or [cos, sin] when flip_sin_to_cos.
    /// (N,) → (N, dim).
    /// </summary>
    public static Tensor Sinusoidal(Tensor t, int dim, bool flipSinToCos, int freqShift)
    {
        using var scope = NewDisposeScope();
        int half = dim / 2;
        var freqs = exp(arange(half, dtype: ScalarType.Float32) * (float)(-Math.Log(10000) / (half - freqShift)));
        var args = t.to_type(ScalarType.Float32).unsqueeze(1) * freqs.unsqueeze(0);
        var emb = flipSinToCos ? cat([cos(args), sin(args)], 1) : cat([sin(args), cos(args)], 1);
        return emb.MoveToOuterDisposeScope();
    }
}

/// <summary>CrossAttnDownBlock2D / DownBlock2D: (resnet, attention?) × layers, then an optional stride-2 downsampler.</summary>
public sealed class UNetDownBlock : Module<Tensor, Tensor, Tensor, (Tensor, List<Tensor>)>
{
    readonly ModuleList<ResnetBlock2D> resnets;
    readonly ModuleList<Transformer2DModel>? attentions;
    readonly ModuleList<Module<Tensor, Tensor>>? downsamplers;

    public UNetDownBlock(UNetDownBlockTopology b, UNet2DConditionConfig c) : base(nameof(UNetDownBlock))
    {
        resnets = new ModuleList<ResnetBlock2D>(Enumerable.Range(0, b.Layers)
            .Select(j => new ResnetBlock2D(b.ResnetInChannels(j), b.OutChannels, c.NormNumGroups, c.NormEps, c.TimeEmbedDim)).ToArray());
        if (b.CrossAttention) attentions = new ModuleList<Transformer2DModel>(Enumerable.Range(0, b.Layers)
            .Select(_ => new Transformer2DModel(b.OutChannels, b.Heads, c.CrossAttentionDim, c.NormNumGroups, b.TransformerLayers, c.UseLinearProjection)).ToArray());
        if (b.Downsample) downsamplers = new ModuleList<Module<Tensor, Tensor>>(new Downsample2D(b.OutChannels, asymmetricPad: false));
        RegisterComponents();
    }

    /// <summary>Returns the block output and the skip states it contributes (one per resnet, plus one after downsampling).</summary>
    public override (Tensor, List<Tensor>) forward(Tensor x, Tensor temb, Tensor context)
    {
        var skips = new List<Tensor>();
        for (int j = 0; j < resnets.Count; j++)
        {
            x = resnets[j].call(x, temb);
            if (attentions is not null) x = attentions[j].call(x, context);
            skips.Add(x);
        }
        if (downsamplers is not null) { x = downsamplers[0].call(x); skips.Add(x); }
        return (x, skips);
    }
}

/// <summary>CrossAttnUpBlock2D / UpBlock2D: (concat skip, resnet, attention?) × (layers+1), then an optional nearest-2× upsampler.</summary>
public sealed class UNetUpBlock : Module<Tensor, Tensor, Tensor, Stack<Tensor>, Tensor>
{
    readonly ModuleList<ResnetBlock2D> resnets;
    readonly ModuleList<Transformer2DModel>? attentions;
    readonly ModuleList<Module<Tensor, Tensor>>? upsamplers;

    /// <param name="b">The block's wiring: resnet input channels (x plus the popped skip), output channels.</param>
    public UNetUpBlock(UNetUpBlockTopology b, UNet2DConditionConfig c) : base(nameof(UNetUpBlock))
    {
        resnets = new ModuleList<ResnetBlock2D>(b.ResnetInChannels
            .Select(input => new ResnetBlock2D(input, b.OutChannels, c.NormNumGroups, c.NormEps, c.TimeEmbedDim)).ToArray());
        if (b.CrossAttention) attentions = new ModuleList<Transformer2DModel>(b.ResnetInChannels
            .Select(_ => new Transformer2DModel(b.OutChannels, b.Heads, c.CrossAttentionDim, c.NormNumGroups, b.TransformerLayers, c.UseLinearProjection)).ToArray());
        if (b.Upsample) upsamplers = new ModuleList<Module<Tensor, Tensor>>(new Upsample2D(b.OutChannels));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, Tensor temb, Tensor context, Stack<Tensor> skips)
    {
        for (int j = 0; j < resnets.Count; j++)
        {
            x = resnets[j].call(cat([x, skips.Pop()], 1), temb);
            if (attentions is not null) x = attentions[j].call(x, context);
        }
        if (upsamplers is not null) x = upsamplers[0].call(x);
        return x;
    }
}

/// <summary>UNetMidBlock2DCrossAttn: resnets.0, attentions.0, resnets.1.</summary>
public sealed class UNetMidBlock : Module<Tensor, Tensor, Tensor, Tensor>
{
    readonly ModuleList<ResnetBlock2D> resnets;
    readonly ModuleList<Transformer2DModel> attentions;

    public UNetMidBlock(UNetTopology t, UNet2DConditionConfig c) : base(nameof(UNetMidBlock))
    {
        int ch = t.MidChannels;
        resnets = new ModuleList<ResnetBlock2D>(
            new ResnetBlock2D(ch, ch, c.NormNumGroups, c.NormEps, c.TimeEmbedDim), new ResnetBlock2D(ch, ch, c.NormNumGroups, c.NormEps, c.TimeEmbedDim));
        attentions = new ModuleList<Transformer2DModel>(
            new Transformer2DModel(ch, t.MidHeads, c.CrossAttentionDim, c.NormNumGroups, t.MidTransformerLayers, c.UseLinearProjection));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, Tensor temb, Tensor context)
    {
        x = resnets[0].call(x, temb);
        x = attentions[0].call(x, context);
        return resnets[1].call(x, temb);
    }
}

/// <summary>
/// diffusers UNet2DConditionModel (Rombach et al. 2022, §3.3): (sample (N, 4, H, W), timesteps (N,),
/// context (N, L, cross_attention_dim)) → model output (N, 4, H, W); any H, W that are multiples of 2^(levels − 1).
/// </summary>
public sealed class UNet2DConditionModel : Module<Tensor, Tensor, Tensor, Tensor>
{
    readonly Conv2d conv_in, conv_out;
    readonly TimestepEmbedding time_embedding;
    readonly TimestepEmbedding? add_embedding;                     // text_time only (add_time_proj has no parameters)
    readonly ModuleList<UNetDownBlock> down_blocks;
    readonly UNetMidBlock mid_block;
    readonly ModuleList<UNetUpBlock> up_blocks;
    readonly GroupNorm conv_norm_out;

    public UNet2DConditionConfig Config { get; }

    public UNet2DConditionModel(UNet2DConditionConfig c) : base(nameof(UNet2DConditionModel))
    {
        var topology = UNetTopology.From(c);                           // validates c
        Config = c;
        int c0 = topology.ConvInOutChannels;
        conv_in = Conv2d(c.InChannels, c0, 3, padding: 1);
        time_embedding = new TimestepEmbedding(c0, c.TimeEmbedDim);
        if (c.TextTime) add_embedding = new TimestepEmbedding(c.ProjectionClassEmbeddingsInputDim!.Value, c.TimeEmbedDim);
        down_blocks = new ModuleList<UNetDownBlock>(topology.Down.Select(b => new UNetDownBlock(b, c)).ToArray());
        mid_block = new UNetMidBlock(topology, c);
        up_blocks = new ModuleList<UNetUpBlock>(topology.Up.Select(b => new UNetUpBlock(b, c)).ToArray());
        conv_norm_out = GroupNorm(c.NormNumGroups, c0, c.NormEps);
        conv_out = Conv2d(c0, c.OutChannels, 3, padding: 1);
        RegisterComponents();
        NormInit.Apply(this);
    }

    public override Tensor forward(Tensor sample, Tensor timesteps, Tensor context) => forward(sample, timesteps, context, null, null);

    /// <summary>The forward with SDXL's text_time conditioning (see <see cref="DownMid"/>); other UNets take null for
    /// <paramref name="textEmbeds"/> and <paramref name="timeIds"/>.</summary>
    public Tensor forward(Tensor sample, Tensor timesteps, Tensor context, Tensor? textEmbeds, Tensor? timeIds)
    {
        using var scope = NewDisposeScope();
        var skips = new Stack<Tensor>();
        var (x, temb) = DownMid(sample, timesteps, context, textEmbeds, timeIds, skips, features: null);
        foreach (var block in up_blocks) x = block.call(x, temb, context, skips);
        return conv_out.call(functional.silu(conv_norm_out.call(x))).MoveToOuterDisposeScope();
    }

    /// <summary>Channels of the maps <see cref="Features"/> returns: each down block's output, then the mid block's.</summary>
    public int[] FeatureChannels
    {
        get
        {
            var topology = UNetTopology.From(Config);
            return [.. topology.Down.Select(b => b.OutChannels), topology.MidChannels];
        }
    }

    /// <summary>
    /// Intermediate features for a discriminator on this UNet (LADD, Sauer et al. 2024, §3.1: the teacher as the
    /// feature network): the output of each down block (after its downsampler) and of the mid block, as tokens
    /// (N, C_k, H_k·W_k); the up path is not run. Differentiable in <paramref name="sample"/> when the caller keeps a
    /// graph, whether or not the weights require gradients.
    /// </summary>
    public List<Tensor> Features(Tensor sample, Tensor timesteps, Tensor context)
    {
        if (Config.TextTime) throw new ArgumentException("Features takes a UNet without text_time conditioning");
        using var scope = NewDisposeScope();
        var features = new List<Tensor>();
        DownMid(sample, timesteps, context, null, null, skips: null, features);
        return features.Select(f => f.flatten(2).MoveToOuterDisposeScope()).ToList();
    }

    /// <summary>
    /// The shared first half: time embedding, conv_in, the down blocks (pushing their skip states onto
    /// <paramref name="skips"/> when given), the mid block; with <paramref name="features"/>, each down block's and
    /// the mid block's output (N, C, H, W) is appended. Returns the mid block's output and the time embedding.
    /// With addition_embed_type "text_time" (SDXL; Podell et al. 2023, §2.2; diffusers get_aug_embed): text_embeds
    /// (N, P) and time_ids (N, 6) give aug = add_embedding(cat(text_embeds, add_time_proj(time_ids.flatten()).reshape(N, −1))),
    /// added to the time embedding. Other UNets take null for both.
    /// </summary>
    (Tensor X, Tensor Temb) DownMid(Tensor sample, Tensor timesteps, Tensor context, Tensor? textEmbeds, Tensor? timeIds, Stack<Tensor>? skips, List<Tensor>? features)
    {
        if (Config.TextTime != (textEmbeds is not null) || Config.TextTime != (timeIds is not null))
            throw new ArgumentException(Config.TextTime ? "a text_time UNet needs text_embeds and time_ids" : "text_embeds and time_ids are for a text_time UNet only");
        var tEmb = TimestepEmbedding.Sinusoidal(timesteps, Config.BlockOutChannels[0], Config.FlipSinToCos, Config.FreqShift);
        var temb = time_embedding.call(tEmb);                          // (N, 4·C0)
        if (add_embedding is not null)
        {
            long n = timeIds!.shape[0];
            var timeEmbeds = TimestepEmbedding.Sinusoidal(timeIds.flatten(), Config.AdditionTimeEmbedDim!.Value, Config.FlipSinToCos, Config.FreqShift)
                .reshape(n, -1);                                        // (N, 6·A)
            temb = temb + add_embedding.call(cat([textEmbeds!, timeEmbeds], 1));
        }
        var x = conv_in.call(sample);
        skips?.Push(x);
        foreach (var block in down_blocks)
        {
            var (h, s) = block.call(x, temb, context);
            if (skips is not null) foreach (var t in s) skips.Push(t);
            x = h;
            features?.Add(x);
        }
        x = mid_block.call(x, temb, context);
        features?.Add(x);
        return (x, temb);
    }
}
