using Add.Engine.Configs;
using Add.Train.Model;
using static TorchSharp.torch;

namespace Add.Tests.Reference;

/// <summary>Each reference module's output shape and state-dict keys follow its config and diffusers' naming.</summary>
public class ModuleShapeTests
{
    [Fact]
    public void AutoencoderKLShapesAndKeys()
    {
        var config = AutoencoderKLConfig.Emoji32.WithLevels(8, 16, 16) with { NormNumGroups = 4, LayersPerBlock = 1 };
        var vae = new AutoencoderKL(config);
        using var x = randn(2, 3, 32, 32);
        var (mean, logvar) = vae.Encode(x);
        Assert.Equal(new long[] { 2, 4, 8, 8 }, mean.shape);
        Assert.Equal(mean.shape, logvar.shape);
        using var recon = vae.Decode(mean);
        Assert.Equal(x.shape, recon.shape);

        var keys = vae.state_dict().Keys.ToHashSet();
        Assert.Contains("encoder.down_blocks.0.resnets.0.norm1.weight", keys);
        Assert.Contains("encoder.down_blocks.0.downsamplers.0.conv.weight", keys);
        Assert.DoesNotContain("encoder.down_blocks.2.downsamplers.0.conv.weight", keys);     // last block keeps resolution
        Assert.Contains("encoder.mid_block.attentions.0.to_out.0.weight", keys);
        Assert.Contains("decoder.up_blocks.0.resnets.1.conv2.weight", keys);                  // layers_per_block + 1 resnets
        Assert.DoesNotContain("decoder.up_blocks.0.resnets.2.conv2.weight", keys);
        Assert.Contains("decoder.up_blocks.1.upsamplers.0.conv.weight", keys);
        Assert.Contains("quant_conv.weight", keys);
        Assert.Contains("post_quant_conv.weight", keys);
        Assert.Equal(new long[] { 16, 8, 1, 1 }, vae.state_dict()["encoder.down_blocks.1.resnets.0.conv_shortcut.weight"].shape);
        Assert.All(vae.parameters(), p => Assert.False(p.isnan().any().item<bool>()));
    }

    [Fact]
    public void UNetShapesAndKeys()
    {
        var config = UNet2DConditionConfig.Emoji32 with
        {
            BlockOutChannels = [16, 32, 32], NormNumGroups = 8, AttentionHeadDim = 2, CrossAttentionDim = 24, SampleSize = 8,
        };
        var unet = new UNet2DConditionModel(config);
        using var x = randn(3, 4, 8, 8);
        using var t = tensor(new long[] { 0, 500, 999 });
        using var ctx = randn(3, 5, 24);
        using var eps = unet.forward(x, t, ctx);
        Assert.Equal(x.shape, eps.shape);

        var sd = unet.state_dict();
        Assert.Equal(new long[] { 32, 24 }, sd["down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_k.weight"].shape);
        Assert.Equal(new long[] { 16 * 4, 16 }, sd["time_embedding.linear_1.weight"].shape);   // time_embed_dim = 4·C0
        Assert.Contains("down_blocks.0.attentions.0.transformer_blocks.0.ff.net.0.proj.weight", sd.Keys);
        Assert.Contains("down_blocks.0.attentions.0.transformer_blocks.0.ff.net.2.weight", sd.Keys);
        Assert.DoesNotContain("down_blocks.2.attentions.0.norm.weight", sd.Keys);              // DownBlock2D: no attention
        Assert.Contains("mid_block.attentions.0.proj_in.weight", sd.Keys);
        Assert.Contains("up_blocks.2.resnets.1.conv_shortcut.weight", sd.Keys);
        Assert.DoesNotContain("up_blocks.2.upsamplers.0.conv.weight", sd.Keys);
        // up_blocks.0 resnet 0 takes the deepest block's output (32) plus its skip (32); resnet 1 the skip of down_blocks.1's downsampler (32).
        Assert.Equal(new long[] { 32, 64, 3, 3 }, sd["up_blocks.0.resnets.0.conv1.weight"].shape);
        // up_blocks.2's last resnet takes conv_in's output (16) as its skip: 16 + 16 channels in.
        Assert.Equal(new long[] { 16, 32, 3, 3 }, sd["up_blocks.2.resnets.1.conv1.weight"].shape);
        Assert.False(sd.Keys.Any(k => k.Contains("attn1.to_q.bias")), "diffusers' attention projections have no bias");
    }

    [Fact]
    public void TextEncoderShapesKeysAndPooling()
    {
        var config = CLIPTextConfig.Emoji32(50) with { HiddenSize = 16, IntermediateSize = 32, NumHiddenLayers = 2, NumAttentionHeads = 2, MaxPositionEmbeddings = 6 };
        var te = new CLIPTextModel(config);
        using var ids = tensor(new long[] { 1, 7, 8, 2, 0, 0, 1, 2, 0, 0, 0, 0 }, [2, 6]);
        using var h = te.forward(ids);
        Assert.Equal(new long[] { 2, 6, 16 }, h.shape);
        using var pooled = te.Pooled(h, ids);
        Assert.Equal(new long[] { 2, 16 }, pooled.shape);
        Assert.Equal(h[0, 3].data<float>().ToArray(), pooled[0].data<float>().ToArray());
        Assert.Equal(h[1, 1].data<float>().ToArray(), pooled[1].data<float>().ToArray());
        var keys = te.state_dict().Keys.ToHashSet();
        Assert.Contains("text_model.embeddings.token_embedding.weight", keys);
        Assert.Contains("text_model.encoder.layers.1.self_attn.q_proj.weight", keys);
        Assert.Contains("text_model.encoder.layers.1.mlp.fc2.weight", keys);
        Assert.Contains("text_model.final_layer_norm.weight", keys);
        Assert.DoesNotContain("text_model.encoder.layers.2.mlp.fc2.weight", keys);

        // Causal mask: changing a later token leaves earlier hidden states unchanged.
        using var ids2 = ids.clone();
        ids2[0, 4] = tensor(9L);
        using var h2 = te.forward(ids2);
        Assert.True(h[0, ..4].allclose(h2[0, ..4]));
        Assert.False(h[0, 4].allclose(h2[0, 4]));
    }
}
