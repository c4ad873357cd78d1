using Add.Engine.Configs;
using Add.Engine.Pipeline;
using Add.Engine.SafeTensors;
using Add.Tests.Cli;

namespace Add.Tests.Configs;

/// <summary>
/// The network configs as diffusers and transformers write them: parameter counts from configs alone (the real
/// SD 2.1-base / sd-turbo configs, our shipped models), per-level heads and depths, JSON null, informational keys,
/// and every unsupported value refused naming its key, by the loader and by `add info`.
/// </summary>
public sealed class ModelConfigTests
{
    private static readonly string SdTurbo = Path.Combine(Fixtures.Root, "models", "configs", "sd-turbo");

    [Fact]
    public void SdTurboParameterCountsAreExact()
    {
        // SD 2.1-base / sd-turbo: the counts published for the released checkpoints (sd-turbo.md).
        Assert.Equal(865_910_724, ParameterCount.Of(ConfigJson.Load<UNet2DConditionConfig>(PipelineLayout.Unet.Config(SdTurbo))));
        Assert.Equal(340_387_840, ParameterCount.Of(ConfigJson.Load<CLIPTextConfig>(PipelineLayout.TextEncoder.Config(SdTurbo))));
        Assert.Equal(83_653_863, ParameterCount.Of(ConfigJson.Load<AutoencoderKLConfig>(PipelineLayout.Vae.Config(SdTurbo))));
    }

    [Theory]
    [InlineData("add-emoji-32")]
    [InlineData("emoji-32-teacher")]
    public void ShippedModelCountsEqualTheirSafetensors(string model)
    {
        var folder = Path.Combine(Fixtures.Root, "models", model);
        static long Elements(string path) { using var f = SafeTensorsFile.Open(path); return f.Tensors.Sum(t => t.ElementCount); }
        Assert.Equal(Elements(PipelineLayout.Unet.Weights(folder)), ParameterCount.Of(ConfigJson.Load<UNet2DConditionConfig>(PipelineLayout.Unet.Config(folder))));
        Assert.Equal(Elements(PipelineLayout.Vae.Weights(folder)), ParameterCount.Of(ConfigJson.Load<AutoencoderKLConfig>(PipelineLayout.Vae.Config(folder))));
        Assert.Equal(Elements(PipelineLayout.TextEncoder.Weights(folder)), ParameterCount.Of(ConfigJson.Load<CLIPTextConfig>(PipelineLayout.TextEncoder.Config(folder))));
    }

    [Fact]
    public void SdTurboConfigsLoadWithoutWarningsAndWithTheirValues()
    {
        var warnings = new List<string>();
        var unet = ConfigJson.Load<UNet2DConditionConfig>(PipelineLayout.Unet.Config(SdTurbo), warnings.Add);
        var text = ConfigJson.Load<CLIPTextConfig>(PipelineLayout.TextEncoder.Config(SdTurbo), warnings.Add);
        var vae = ConfigJson.Load<AutoencoderKLConfig>(PipelineLayout.Vae.Config(SdTurbo), warnings.Add);
        Assert.Empty(warnings);
        Assert.True(unet.UseLinearProjection);
        Assert.Equal(64, unet.SampleSize);
        Assert.Equal(0.18215, vae.ScalingFactor);                          // absent: diffusers' default
        Assert.Equal(("gelu", 23), (text.HiddenAct, text.NumHiddenLayers));

        var t = UNetTopology.From(unet);                                    // heads of 64 channels at every level
        Assert.Equal([5, 10, 20, 20], t.Down.Select(d => d.Heads));
        Assert.Equal([20, 20, 10, 5], t.Up.Select(u => u.Heads));          // reversed, as diffusers' up blocks
        Assert.Equal(20, t.MidHeads);
        Assert.All(t.Down.Where(d => d.CrossAttention), d => Assert.Equal(64, d.OutChannels / d.Heads));
    }

    [Fact]
    public void PerBlockListsAndNumAttentionHeads()
    {
        var c = UNet2DConditionConfig.Emoji32 with { AttentionHeadDim = new[] { 2, 4, 8 }, TransformerLayersPerBlock = new[] { 1, 2, 3 } };
        var t = UNetTopology.From(c);
        Assert.Equal([(2, 1), (4, 2), (8, 3)], t.Down.Select(d => (d.Heads, d.TransformerLayers)));
        Assert.Equal([(8, 3), (4, 2), (2, 1)], t.Up.Select(u => (u.Heads, u.TransformerLayers)));
        Assert.Equal((8, 3), (t.MidHeads, t.MidTransformerLayers));
        Assert.Equal([16, 16, 16], UNetTopology.From(c with { NumAttentionHeads = 16 }).Down.Select(d => d.Heads));   // wins over attention_head_dim

        using var dir = new TempDir();
        ConfigJson.Save(c, dir.File("config.json"));
        var text = File.ReadAllText(dir.File("config.json"));
        Assert.Contains("\"attention_head_dim\": [", text);                // written back as a list, and an int as an int
        Assert.Contains("\"cross_attention_dim\": 128", text);
        var loaded = ConfigJson.Load<UNet2DConditionConfig>(dir.File("config.json"));
        Assert.Equal(c.AttentionHeadDim, loaded.AttentionHeadDim);
        Assert.Equal(c.TransformerLayersPerBlock, loaded.TransformerLayersPerBlock);
        Assert.Equal(ParameterCount.Of(c), ParameterCount.Of(loaded));
    }

    [Fact]
    public void NullIsAbsentAndInformationalKeysAreSilent()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("plain.json"), """{"block_out_channels": [32, 64], "down_block_types": ["CrossAttnDownBlock2D", "DownBlock2D"], "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D"]}""");
        File.WriteAllText(dir.File("nulls.json"), """
            {"_class_name": "UNet2DConditionModel", "_diffusers_version": "0.24.0", "_name_or_path": "x", "block_out_channels": [32, 64],
             "down_block_types": ["CrossAttnDownBlock2D", "DownBlock2D"], "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D"],
             "sample_size": null, "num_attention_heads": null, "class_embed_type": null, "addition_embed_type": null, "time_cond_proj_dim": null,
             "upcast_attention": true, "dropout": 0.1, "center_input_sample": false, "downsample_padding": 1, "mid_block_scale_factor": 1,
             "addition_time_embed_dim": 256, "flip_sin_to_cos": true, "some_new_key": 3}
            """);
        var warnings = new List<string>();
        var plain = ConfigJson.Load<UNet2DConditionConfig>(dir.File("plain.json"), warnings.Add);
        var nulls = ConfigJson.Load<UNet2DConditionConfig>(dir.File("nulls.json"), warnings.Add);
        Assert.Equal("unknown key 'some_new_key' ignored", Assert.Single(warnings).Split(": ")[^1]);
        Assert.Null(nulls.SampleSize);
        Assert.Equal(ParameterCount.Of(plain), ParameterCount.Of(nulls));
        Assert.Equal((8, 2, 1280, false), (nulls.AttentionHeadDim.At(0), nulls.LayersPerBlock, nulls.CrossAttentionDim, nulls.UseLinearProjection));   // diffusers' defaults
        Assert.Contains("sample_size", Assert.Throws<InvalidDataException>(() => nulls.DefaultSampleSize).Message);
    }

    /// <summary>A value that would change the math and is not implemented: an error naming the key and the value.</summary>
    [Theory]
    [InlineData("unet", """ "resnet_time_scale_shift": "scale_shift" """, "resnet_time_scale_shift 'scale_shift'")]
    [InlineData("unet", """ "class_embed_type": "timestep" """, "class_embed_type 'timestep'")]
    [InlineData("unet", """ "addition_embed_type": "text_image" """, "addition_embed_type 'text_image'")]
    [InlineData("unet", """ "addition_embed_type": "text_time" """, "text_time needs a positive even addition_time_embed_dim")]
    [InlineData("unet", """ "time_cond_proj_dim": 256 """, "time_cond_proj_dim 256")]
    [InlineData("unet", """ "encoder_hid_dim": 768 """, "encoder_hid_dim 768")]
    [InlineData("unet", """ "conv_in_kernel": 5 """, "conv_in_kernel 5")]
    [InlineData("unet", """ "act_fn": "gelu" """, "act_fn 'gelu'")]
    [InlineData("unet", """ "center_input_sample": true """, "center_input_sample true")]
    [InlineData("unet", """ "mid_block_scale_factor": 2 """, "mid_block_scale_factor 2")]
    [InlineData("unet", """ "resnet_out_scale_factor": 0.5 """, "resnet_out_scale_factor 0.5")]
    [InlineData("unet", """ "only_cross_attention": true """, "only_cross_attention true")]
    [InlineData("unet", """ "dual_cross_attention": true """, "dual_cross_attention true")]
    [InlineData("unet", """ "norm_num_groups": null """, "norm_num_groups null")]
    [InlineData("unet", """ "attention_head_dim": [5, 10] """, "attention_head_dim has 2 entries")]
    [InlineData("unet", """ "transformer_layers_per_block": [[1, 2], [1, 2]] """, "transformer_layers_per_block")]
    [InlineData("unet", """ "layers_per_block": [2, 2] """, "layers_per_block")]
    [InlineData("vae", """ "use_quant_conv": false """, "use_quant_conv false")]
    [InlineData("vae", """ "latents_mean": [0.1, 0.2, 0.3, 0.4] """, "latents_mean")]
    [InlineData("vae", """ "shift_factor": 0.0609 """, "shift_factor 0.0609")]
    [InlineData("vae", """ "down_block_types": ["DownEncoderBlock2D"] """, "down_block_types (1)")]
    [InlineData("text_encoder", """ "hidden_act": "gelu_new" """, "hidden_act 'gelu_new'")]
    public void UnsupportedValuesNameTheKeyInTheLoaderAndInAddInfo(string component, string entry, string expected)
    {
        using var dir = new TempDir();
        WriteSdTurboWith(dir.Path, component, entry);
        var path = Path.Combine(dir.Path, component, "config.json");
        var e = Assert.Throws<InvalidDataException>(() => _ = component switch
        {
            "unet" => (ConfigBase)ConfigJson.Load<UNet2DConditionConfig>(path),
            "vae" => ConfigJson.Load<AutoencoderKLConfig>(path),
            _ => ConfigJson.Load<CLIPTextConfig>(path),
        });
        Assert.Contains(path, e.Message);
        Assert.Contains(expected, e.Message);
        var err = CliRun.AssertBadInput(CliRun.Add("info", dir.Path), expected);
        Assert.Contains(path, err);
    }

    [Fact]
    public void AddInfoPrintsTheCountsOfAConfigOnlyFolder()
    {
        var run = CliRun.Add("info", SdTurbo);
        Assert.True(run.Code == 0, run.Err);
        Assert.Matches(@"text_encoder\s+CLIPTextModel\s+340,387,840", run.Out);
        Assert.Matches(@"unet\s+UNet2DConditionModel\s+865,910,724", run.Out);
        Assert.Matches(@"vae\s+AutoencoderKL\s+83,653,863", run.Out);
    }

    private static void RemoveKey(string path, string key)
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        node.Remove(key);
        File.WriteAllText(path, node.ToJsonString());
    }

    /// <summary>Copies the sd-turbo network configs into <paramref name="dir"/>, with <paramref name="entry"/> set in one.</summary>
    private static void WriteSdTurboWith(string dir, string component, string entry)
    {
        foreach (var c in new[] { "unet", "vae", "text_encoder" })
        {
            Directory.CreateDirectory(Path.Combine(dir, c));
            var text = File.ReadAllText(Path.Combine(SdTurbo, c, "config.json"));
            if (c == component)
            {
                var node = System.Text.Json.Nodes.JsonNode.Parse(text)!.AsObject();
                var patch = System.Text.Json.Nodes.JsonNode.Parse("{" + entry + "}")!.AsObject();
                foreach (var (k, v) in patch.ToList()) { patch.Remove(k); node[k] = v; }
                text = node.ToJsonString();
            }
            File.WriteAllText(Path.Combine(dir, c, "config.json"), text);
        }
    }
}
