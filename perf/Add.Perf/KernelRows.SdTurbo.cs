using System.Reflection;
using Add.Engine.Configs;

namespace Add.Perf;

public static partial class KernelRows
{
    /// <summary>The name of the FMA peak row (<see cref="FmaPeak"/>); the sd-turbo table divides GEMM rows by it.</summary>
    public const string PeakName = "peak";

    /// <summary>
    /// `--scale sd-turbo`: the FMA <see cref="PeakName"/> row, then every distinct (kernel, shape) pair of one 512×512
    /// SD-Turbo generation at batch 1 (1 step, no classifier-free guidance), in the order the generation runs them, derived
    /// from the configs in <paramref name="configDir"/> (models/configs/sd-turbo) by walking the same modules as the engine:
    /// <list type="bullet">
    /// <item>Text encoder (CLIPTextConfig; OpenCLIP-H: 77 tokens, hidden 1024, 16 heads of 64, MLP 4096, causal, GELU):
    /// layer_norm, q/k/v_proj, causal self-attention, out_proj+residual, fc1, GELU, fc2+residual.</item>
    /// <item>UNet (UNet2DConditionConfig, wired by UNetTopology; latents 4×64×64, levels 64², 32², 16², 8² at
    /// block_out_channels [320, 640, 1280, 1280], attention_head_dim [5, 10, 20, 20] = heads of 64, context 77×1024):
    /// the timestep embedding, conv_in, every ResnetBlock2D (GroupNorm+SiLU, 3×3 convs, time_emb_proj, 1×1 conv_shortcut
    /// when the channels change), every Transformer2DModel (GroupNorm, proj_in/proj_out as Linear, LayerNorm, q/k/v,
    /// self- and cross-attention, to_out+residual, GEGLU feed-forward with inner 4·C), the stride-2 downsamplers, the skip
    /// concatenations, the nearest-2× upsamplers and their convs, conv_norm_out, conv_out, and the sampler step.</item>
    /// <item>VAE decoder (AutoencoderKLConfig, block_out_channels reversed: 512 at 64² and 128², 512 at 256², 256 at
    /// 512², then 128 at 512²): post_quant_conv, conv_in, the mid block's resnets and its single-head attention (GroupNorm,
    /// biased q/k/v/out projections, one head of 512 at L 4096), the up blocks' resnets and upsamplers, conv_norm_out,
    /// conv_out to 3×512×512.</item>
    /// </list>
    /// Two ops are the same row when the same builder gives the same shape and flops (epilogue flags included: a [4096, 320] ×
    /// [320, 320] GEMM appears without bias (to_q), with bias (proj_in) and with bias and residual (to_out)); the first
    /// site's name is kept. As in the emoji rows, ops the engine fuses elsewhere (the resnets' conv2 residual, the
    /// time-embedding channel bias, the token/image transposes) are not separate rows.
    /// </summary>
    public static List<BenchRow> SdTurbo(string configDir)
    {
        var text = ConfigJson.Load<CLIPTextConfig>(Path.Combine(configDir, "text_encoder", "config.json"));
        var unet = ConfigJson.Load<UNet2DConditionConfig>(Path.Combine(configDir, "unet", "config.json"));
        var vae = ConfigJson.Load<AutoencoderKLConfig>(Path.Combine(configDir, "vae", "config.json"));
        if (text.HiddenSize != unet.CrossAttentionDim)
            throw new InvalidDataException($"{configDir}: the text encoder's hidden_size {text.HiddenSize} is not the UNet's cross_attention_dim {unet.CrossAttentionDim}");
        var rows = new DistinctRows();
        rows.Add(Peak());
        TextEncoderRows(rows, text);
        int latent = unet.DefaultSampleSize;
        UNetRows(rows, unet, text.MaxPositionEmbeddings, latent);
        VaeDecoderRows(rows, vae, latent);
        return rows.List;
    }

    /// <summary>Keeps the first row of each (builder, shape, flops) triple: a builder's Setup lambda is one method for all its
    /// calls; the flops tell apart what a shape string leaves out (GroupNorm with and without its fused SiLU).</summary>
    private sealed class DistinctRows
    {
        private readonly HashSet<(MethodInfo, string, double)> _seen = [];
        public List<BenchRow> List { get; } = [];

        public void Add(BenchRow row)
        {
            if (_seen.Add((row.Setup.Method, row.Shape, row.Flops)))
                List.Add(row);
        }
    }

    private static BenchRow Peak() => new(PeakName, FmaPeak.Describe, FmaPeak.Flops, () => (() => FmaPeak.Run(), null));

    private static void TextEncoderRows(DistinctRows rows, CLIPTextConfig c)
    {
        int m = c.MaxPositionEmbeddings, d = c.HiddenSize, f = c.IntermediateSize, heads = c.NumAttentionHeads;
        string t = $"text {m}x{d}";
        rows.Add(LayerNorm($"{t} layer_norm", m, d));
        rows.Add(Linear($"{t} q_proj", m, d, d));
        rows.Add(Attention($"{t} self_attn causal H{heads} D{d / heads}", 1, heads, m, m, d / heads, true));
        rows.Add(Linear($"{t} out_proj+residual", m, d, d, residual: true));
        rows.Add(Linear($"{t} fc1 {d}->{f}", m, f, d));
        if (c.HiddenAct == "gelu")
            rows.Add(Gelu($"{t} gelu {f}", m * f));
        rows.Add(Linear($"{t} fc2+residual {f}->{d}", m, d, f, residual: true));
    }

    private static void UNetRows(DistinctRows rows, UNet2DConditionConfig c, int contextLength, int size)
    {
        var topology = UNetTopology.From(c);
        int c0 = topology.ConvInOutChannels, temb = c.TimeEmbedDim, groups = c.NormNumGroups, ctx = c.CrossAttentionDim;
        const string u = "unet";
        rows.Add(Timestep($"{u} time_proj {c0}", 1, c0));
        rows.Add(Linear($"{u} time_embedding.linear_1 {c0}->{temb}", 1, temb, c0));
        rows.Add(Linear($"{u} time_embedding.linear_2 {temb}->{temb}", 1, temb, temb));
        rows.Add(Conv($"{u} conv_in {c.InChannels}->{c0} {size}x{size}", 1, c.InChannels, size, size, c0, 3, 1, 1));
        foreach (var down in topology.Down)
        {
            for (int j = 0; j < down.Layers; j++)
            {
                ResnetRows(rows, u, down.ResnetInChannels(j), down.OutChannels, size, groups, temb);
                if (down.CrossAttention)
                    TransformerRows(rows, down.OutChannels, down.Heads, size, groups, contextLength, ctx);
            }
            if (down.Downsample)
            {
                rows.Add(Conv($"{u} downsample {down.OutChannels} {size}x{size}->{size / 2}x{size / 2}", 1, down.OutChannels, size, size, down.OutChannels, 3, 2, 1));
                size /= 2;
            }
        }
        int mid = topology.MidChannels;
        ResnetRows(rows, u, mid, mid, size, groups, temb);
        TransformerRows(rows, mid, topology.MidHeads, size, groups, contextLength, ctx);
        foreach (var up in topology.Up)
        {
            for (int j = 0; j < up.ResnetInChannels.Length; j++)
            {
                int skip = up.SkipChannels[j], x = up.ResnetInChannels[j] - skip;
                rows.Add(Concat($"{u} skip concat {x}+{skip} {size}x{size}", 1, x, skip, size, size));
                ResnetRows(rows, u, up.ResnetInChannels[j], up.OutChannels, size, groups, temb);
                if (up.CrossAttention)
                    TransformerRows(rows, up.OutChannels, up.Heads, size, groups, contextLength, ctx);
            }
            if (up.Upsample)
            {
                int ch = up.OutChannels;
                rows.Add(Upsample($"{u} upsample {ch} {size}x{size}->{2 * size}x{2 * size}", 1, ch, size, size));
                size *= 2;
                rows.Add(Conv($"{u} conv {ch}->{ch} {size}x{size}", 1, ch, size, size, ch, 3, 1, 1));
            }
        }
        rows.Add(GroupNorm($"{u} norm+silu {c0} {size}x{size}", 1, c0, size, size, groups, true));
        rows.Add(Conv($"{u} conv_out {c0}->{c.OutChannels} {size}x{size}", 1, c0, size, size, c.OutChannels, 3, 1, 1));
        rows.Add(Sampler($"sampler 1 step {size}x{size}", 1, guided: false, size));
    }

    /// <summary>ResnetBlock2D: norm1+SiLU, conv1, [time_emb_proj], norm2+SiLU, [conv_shortcut], conv2 (residual fused).</summary>
    private static void ResnetRows(DistinctRows rows, string p, int cin, int cout, int s, int groups, int? temb)
    {
        rows.Add(GroupNorm($"{p} norm+silu {cin} {s}x{s}", 1, cin, s, s, groups, true));
        rows.Add(Conv($"{p} conv {cin}->{cout} {s}x{s}", 1, cin, s, s, cout, 3, 1, 1));
        if (temb is int t)
            rows.Add(Linear($"{p} time_emb_proj {t}->{cout}", 1, cout, t));
        rows.Add(GroupNorm($"{p} norm+silu {cout} {s}x{s}", 1, cout, s, s, groups, true));
        if (cin != cout)
            rows.Add(Conv($"{p} conv_shortcut {cin}->{cout} {s}x{s}", 1, cin, s, s, cout, 1, 1, 0));
        rows.Add(Conv($"{p} conv {cout}->{cout} {s}x{s}", 1, cout, s, s, cout, 3, 1, 1));
    }

    /// <summary>Transformer2DModel with one BasicTransformerBlock (deeper ones repeat the same shapes) at an s×s level.</summary>
    private static void TransformerRows(DistinctRows rows, int ch, int heads, int s, int groups, int contextLength, int contextDim)
    {
        int l = s * s, d = ch / heads;
        string p = $"unet {s}x{s} C{ch}";
        rows.Add(GroupNorm($"unet transformer.norm {ch} {s}x{s}", 1, ch, s, s, groups, false));
        rows.Add(Linear($"{p} proj_in", l, ch, ch));
        rows.Add(LayerNorm($"{p} transformer.norm1", l, ch));
        rows.Add(Linear($"{p} attn.to_q", l, ch, ch, bias: false));
        rows.Add(Attention($"unet attn1 self {s}x{s} L{l} H{heads} D{d}", 1, heads, l, l, d, false));
        rows.Add(Linear($"{p} attn.to_out+residual", l, ch, ch, residual: true));
        rows.Add(Linear($"unet attn2.to_k context {contextLength}x{contextDim}->{ch}", contextLength, ch, contextDim, bias: false));
        rows.Add(Attention($"unet attn2 cross {s}x{s} L{l} H{heads} D{d} Lk{contextLength}", 1, heads, l, contextLength, d, false));
        rows.Add(Linear($"{p} ff.geglu.proj {ch}->{8 * ch}", l, 8 * ch, ch));
        rows.Add(Geglu($"{p} ff.geglu F{4 * ch}", l, 4 * ch));
        rows.Add(Linear($"{p} ff.out+residual {4 * ch}->{ch}", l, ch, 4 * ch, residual: true));
    }

    private static void VaeDecoderRows(DistinctRows rows, AutoencoderKLConfig c, int size)
    {
        var rev = c.BlockOutChannels.Reverse().ToArray();
        int lc = c.LatentChannels, groups = c.NormNumGroups, channels = rev[0];
        const string v = "vae";
        rows.Add(Conv($"{v} post_quant_conv {lc}->{lc} {size}x{size}", 1, lc, size, size, lc, 1, 1, 0));
        rows.Add(Conv($"{v} conv_in {lc}->{channels} {size}x{size}", 1, lc, size, size, channels, 3, 1, 1));
        ResnetRows(rows, v, channels, channels, size, groups, null);
        if (c.MidBlockAddAttention)
        {
            int l = size * size;
            rows.Add(GroupNorm($"{v} attn mid group_norm {channels} {size}x{size}", 1, channels, size, size, groups, false));
            rows.Add(Linear($"{v} attn mid to_q L{l} C{channels}", l, channels, channels));
            rows.Add(Attention($"{v} attn mid L{l} D{channels}", 1, 1, l, l, channels, false));
        }
        for (int i = 0; i < rev.Length; i++)
        {
            for (int j = 0; j <= c.LayersPerBlock; j++)
            {
                ResnetRows(rows, v, channels, rev[i], size, groups, null);
                channels = rev[i];
            }
            if (i < rev.Length - 1)
            {
                rows.Add(Upsample($"{v} upsample {channels} {size}x{size}->{2 * size}x{2 * size}", 1, channels, size, size));
                size *= 2;
                rows.Add(Conv($"{v} conv {channels}->{channels} {size}x{size}", 1, channels, size, size, channels, 3, 1, 1));
            }
        }
        rows.Add(GroupNorm($"{v} norm+silu {channels} {size}x{size}", 1, channels, size, size, groups, true));
        rows.Add(Conv($"{v} conv_out {channels}->{c.OutChannels} {size}x{size}", 1, channels, size, size, c.OutChannels, 3, 1, 1));
    }
}
