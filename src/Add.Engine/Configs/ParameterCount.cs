namespace Add.Engine.Configs;

/// <summary>
/// Parameter counts computed from a config alone (no weights): the number of elements in the state dict the
/// engine and the reference bind for that config (buffers such as CLIP's position_ids excluded). Each count walks the
/// same modules as the model code, layer by layer; the tests check it against real configs (SD 2.1-base: UNet
/// 865,910,724, OpenCLIP-H text encoder 340,387,840, VAE 83,653,863) and against the element counts of our
/// shipped safetensors.
/// </summary>
public static class ParameterCount
{
    private static long Linear(long inFeatures, long outFeatures, bool bias = true) => inFeatures * outFeatures + (bias ? outFeatures : 0);
    private static long Conv(long inChannels, long outChannels, long kernel) => inChannels * outChannels * kernel * kernel + outChannels;
    private static long Norm(long channels) => 2 * channels;

    /// <summary>ResnetBlock2D: norm1, conv1, [time_emb_proj], norm2, conv2, [conv_shortcut when the channels change].</summary>
    private static long Resnet(long inChannels, long outChannels, long? temb) =>
        Norm(inChannels) + Conv(inChannels, outChannels, 3) + (temb is long t ? Linear(t, outChannels) : 0)
        + Norm(outChannels) + Conv(outChannels, outChannels, 3) + (inChannels != outChannels ? Conv(inChannels, outChannels, 1) : 0);

    /// <summary>Transformer2DModel: norm, proj_in, blocks × (norm1-3, attn1, attn2 (k, v from the context), GEGLU FF), proj_out.
    /// A 1×1-conv projection has the elements of a linear one.</summary>
    private static long Transformer(long c, long context, int layers)
    {
        long attn1 = 3 * Linear(c, c, bias: false) + Linear(c, c);
        long attn2 = Linear(c, c, bias: false) + 2 * Linear(context, c, bias: false) + Linear(c, c);
        long ff = Linear(c, 8 * c) + Linear(4 * c, c);
        return Norm(c) + 2 * Linear(c, c) + layers * (3 * Norm(c) + attn1 + attn2 + ff);
    }

    /// <summary>UNet2DConditionModel's parameters.</summary>
    public static long Of(UNet2DConditionConfig c)
    {
        var t = UNetTopology.From(c);
        long temb = c.TimeEmbedDim, ctx = c.CrossAttentionDim, c0 = t.ConvInOutChannels;
        long total = Conv(c.InChannels, c0, 3) + Linear(c0, temb) + Linear(temb, temb);
        if (c.TextTime) total += Linear(c.ProjectionClassEmbeddingsInputDim!.Value, temb) + Linear(temb, temb);   // add_embedding (add_time_proj has none)
        foreach (var d in t.Down)
        {
            for (int j = 0; j < d.Layers; j++)
                total += Resnet(d.ResnetInChannels(j), d.OutChannels, temb) + (d.CrossAttention ? Transformer(d.OutChannels, ctx, d.TransformerLayers) : 0);
            if (d.Downsample) total += Conv(d.OutChannels, d.OutChannels, 3);
        }
        total += 2 * Resnet(t.MidChannels, t.MidChannels, temb) + Transformer(t.MidChannels, ctx, t.MidTransformerLayers);
        foreach (var u in t.Up)
        {
            foreach (var input in u.ResnetInChannels)
                total += Resnet(input, u.OutChannels, temb) + (u.CrossAttention ? Transformer(u.OutChannels, ctx, u.TransformerLayers) : 0);
            if (u.Upsample) total += Conv(u.OutChannels, u.OutChannels, 3);
        }
        return total + Norm(c0) + Conv(c0, c.OutChannels, 3);
    }

    /// <summary>AutoencoderKL's parameters: encoder, quant_conv, post_quant_conv, decoder.</summary>
    public static long Of(AutoencoderKLConfig c)
    {
        c.Validate();
        var ch = c.BlockOutChannels;
        long lc = c.LatentChannels;
        long Mid(long channels) => 2 * Resnet(channels, channels, null) + (c.MidBlockAddAttention ? Norm(channels) + 4 * Linear(channels, channels) : 0);
        long encoder = Conv(c.InChannels, ch[0], 3), decoder = Conv(lc, ch[^1], 3);
        for (int i = 0; i < ch.Length; i++)
        {
            long input = i == 0 ? ch[0] : ch[i - 1];
            for (int j = 0; j < c.LayersPerBlock; j++) encoder += Resnet(j == 0 ? input : ch[i], ch[i], null);
            if (i < ch.Length - 1) encoder += Conv(ch[i], ch[i], 3);
        }
        encoder += Mid(ch[^1]) + Norm(ch[^1]) + Conv(ch[^1], 2 * lc, 3);
        var rev = ch.Reverse().ToArray();
        decoder += Mid(rev[0]);
        for (int i = 0; i < rev.Length; i++)
        {
            long input = i == 0 ? rev[0] : rev[i - 1];
            for (int j = 0; j <= c.LayersPerBlock; j++) decoder += Resnet(j == 0 ? input : rev[i], rev[i], null);
            if (i < rev.Length - 1) decoder += Conv(rev[i], rev[i], 3);
        }
        decoder += Norm(rev[^1]) + Conv(rev[^1], c.OutChannels, 3);
        return encoder + Conv(2 * lc, 2 * lc, 1) + Conv(lc, lc, 1) + decoder;
    }

    /// <summary>AutoencoderTinyBlock: three 3×3 convs with bias (the skip is the identity: diffusers' tiny blocks keep their width).</summary>
    private static long TinyBlock(long channels) => 3 * Conv(channels, channels, 3);

    /// <summary>AutoencoderTiny's decoder (DecoderTiny): conv latent→C, blocks, a bias-free conv per upsampled level, conv C→out
    /// (TAESD: 1,222,531).</summary>
    public static long Decoder(AutoencoderTinyConfig c)
    {
        c.Validate();
        long ch = c.DecoderBlockOutChannels[0], total = Conv(c.LatentChannels, ch, 3);
        for (int i = 0; i < c.NumDecoderBlocks.Length; i++)
        {
            total += c.NumDecoderBlocks[i] * TinyBlock(ch);
            total += i < c.NumDecoderBlocks.Length - 1 ? ch * ch * 9 : Conv(ch, c.OutChannels, 3);
        }
        return total;
    }

    /// <summary>AutoencoderTiny's encoder (EncoderTiny): conv in→C, a bias-free stride-2 conv before each level but the first,
    /// blocks, conv C→latent (TAESD: 1,222,532).</summary>
    public static long Encoder(AutoencoderTinyConfig c)
    {
        c.Validate();
        long ch = c.EncoderBlockOutChannels[0], total = Conv(c.InChannels, ch, 3);
        for (int i = 0; i < c.NumEncoderBlocks.Length; i++)
            total += (i > 0 ? ch * ch * 9 : 0) + c.NumEncoderBlocks[i] * TinyBlock(ch);
        return total + Conv(ch, c.LatentChannels, 3);
    }

    /// <summary>AutoencoderTiny's parameters: encoder and decoder (TAESD: 2,445,063).</summary>
    public static long Of(AutoencoderTinyConfig c) => Encoder(c) + Decoder(c);

    /// <summary>CLIPTextModel's parameters: embeddings, layers × (2 layer norms, q/k/v/out projections, fc1, fc2), final_layer_norm;
    /// <paramref name="withProjection"/>: CLIPTextModelWithProjection's text_projection too (hidden → projection_dim, no bias).</summary>
    public static long Of(CLIPTextConfig c, bool withProjection = false)
    {
        c.Validate();
        long d = c.HiddenSize, f = c.IntermediateSize;
        long layer = 2 * Norm(d) + 4 * Linear(d, d) + Linear(d, f) + Linear(f, d);
        return (long)c.VocabSize * d + (long)c.MaxPositionEmbeddings * d + c.NumHiddenLayers * layer + Norm(d)
            + (withProjection ? Linear(d, c.ProjectionDim, bias: false) : 0);
    }
}
