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

    public UNetDownBlock(int inCh, int outCh, int layers, bool crossAttn, bool down, UNet2DConditionConfig c) : base(nameof(UNetDownBlock))
    {
        resnets = new ModuleList<ResnetBlock2D>(Enumerable.Range(0, layers)
            .Select(j => new ResnetBlock2D(j == 0 ? inCh : outCh, outCh, c.NormNumGroups, c.NormEps, c.TimeEmbedDim)).ToArray());
        if (crossAttn) attentions = new ModuleList<Transformer2DModel>(Enumerable.Range(0, layers)
            .Select(_ => new Transformer2DModel(outCh, c.AttentionHeadDim, c.CrossAttentionDim, c.NormNumGroups)).ToArray());
        if (down) downsamplers = new ModuleList<Module<Tensor, Tensor>>(new Downsample2D(outCh, asymmetricPad: false));
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

    /// <param name="prevOutCh">Channels arriving from the block below.</param>
    /// <param name="skipInCh">Channels of the deepest skip this block takes (the matching down block's input).</param>
    public UNetUpBlock(int prevOutCh, int outCh, int skipInCh, int layers, bool crossAttn, bool up, UNet2DConditionConfig c) : base(nameof(UNetUpBlock))
    {
        resnets = new ModuleList<ResnetBlock2D>(Enumerable.Range(0, layers + 1).Select(j =>
        {
            int skip = j == layers ? skipInCh : outCh;
            int input = j == 0 ? prevOutCh : outCh;
            return new ResnetBlock2D(input + skip, outCh, c.NormNumGroups, c.NormEps, c.TimeEmbedDim);
        }).ToArray());
        if (crossAttn) attentions = new ModuleList<Transformer2DModel>(Enumerable.Range(0, layers + 1)
            .Select(_ => new Transformer2DModel(outCh, c.AttentionHeadDim, c.CrossAttentionDim, c.NormNumGroups)).ToArray());
        if (up) upsamplers = new ModuleList<Module<Tensor, Tensor>>(new Upsample2D(outCh));
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

    public UNetMidBlock(int ch, UNet2DConditionConfig c) : base(nameof(UNetMidBlock))
    {
        resnets = new ModuleList<ResnetBlock2D>(
            new ResnetBlock2D(ch, ch, c.NormNumGroups, c.NormEps, c.TimeEmbedDim), new ResnetBlock2D(ch, ch, c.NormNumGroups, c.NormEps, c.TimeEmbedDim));
        attentions = new ModuleList<Transformer2DModel>(new Transformer2DModel(ch, c.AttentionHeadDim, c.CrossAttentionDim, c.NormNumGroups));
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
/// diffusers UNet2DConditionModel (Rombach et al. 2022, §3.3), ε-prediction: (sample (N, 4, s, s), timesteps (N,),
/// context (N, L, cross_attention_dim)) → ε̂ (N, 4, s, s).
/// </summary>
public sealed class UNet2DConditionModel : Module<Tensor, Tensor, Tensor, Tensor>
{
    readonly Conv2d conv_in, conv_out;
    readonly TimestepEmbedding time_embedding;
    readonly ModuleList<UNetDownBlock> down_blocks;
    readonly UNetMidBlock mid_block;
    readonly ModuleList<UNetUpBlock> up_blocks;
    readonly GroupNorm conv_norm_out;

    public UNet2DConditionConfig Config { get; }

    public UNet2DConditionModel(UNet2DConditionConfig c) : base(nameof(UNet2DConditionModel))
    {
        c.Validate();
        Config = c;
        var ch = c.BlockOutChannels;
        int n = ch.Length;
        conv_in = Conv2d(c.InChannels, ch[0], 3, padding: 1);
        time_embedding = new TimestepEmbedding(ch[0], c.TimeEmbedDim);
        down_blocks = new ModuleList<UNetDownBlock>(Enumerable.Range(0, n).Select(i => new UNetDownBlock(
            i == 0 ? ch[0] : ch[i - 1], ch[i], c.LayersPerBlock, c.DownBlockTypes[i] == "CrossAttnDownBlock2D", down: i < n - 1, c)).ToArray());
        mid_block = new UNetMidBlock(ch[^1], c);
        var rev = ch.Reverse().ToArray();
        up_blocks = new ModuleList<UNetUpBlock>(Enumerable.Range(0, n).Select(i => new UNetUpBlock(
            prevOutCh: i == 0 ? rev[0] : rev[i - 1], outCh: rev[i], skipInCh: rev[Math.Min(i + 1, n - 1)],
            c.LayersPerBlock, c.UpBlockTypes[i] == "CrossAttnUpBlock2D", up: i < n - 1, c)).ToArray());
        conv_norm_out = GroupNorm(c.NormNumGroups, ch[0], c.NormEps);
        conv_out = Conv2d(ch[0], c.OutChannels, 3, padding: 1);
        RegisterComponents();
        NormInit.Apply(this);
    }

    public override Tensor forward(Tensor sample, Tensor timesteps, Tensor context)
    {
        using var scope = NewDisposeScope();
        var tEmb = TimestepEmbedding.Sinusoidal(timesteps, Config.BlockOutChannels[0], Config.FlipSinToCos, Config.FreqShift);
        var temb = time_embedding.call(tEmb);                          // (N, 4·C0)
        var x = conv_in.call(sample);
        var skips = new Stack<Tensor>();
        skips.Push(x);
        foreach (var block in down_blocks)
        {
            var (h, s) = block.call(x, temb, context);
            foreach (var t in s) skips.Push(t);
            x = h;
        }
        x = mid_block.call(x, temb, context);
        foreach (var block in up_blocks) x = block.call(x, temb, context, skips);
        return conv_out.call(functional.silu(conv_norm_out.call(x))).MoveToOuterDisposeScope();
    }
}
