using System.Text.Json.Nodes;
using Add.Engine.Configs;
using Add.Engine.Pipeline;
using Add.Tests.Cli;

namespace Add.Tests.Configs;

/// <summary>
/// models/configs/sdxl-turbo (sd-turbo.md §1.1, §1.2): the exact parameter counts (§3), the UNet's text_time conditioning
/// and per-level transformer depths, the pooled-token rule of text_encoder_2, and SDXL folders that lack their second
/// encoder or tokenizer refused in one line naming it.
/// </summary>
public sealed class SdxlTurboConfigTests
{
    private static readonly string SdxlTurbo = Path.Combine(Fixtures.Root, "models", "configs", "sdxl-turbo");

    [Fact]
    public void ParameterCountsAreExact()
    {
        // sd-turbo.md §3: computed counts that reproduce the published 2.567 B, 123.06 M and 694.7 M.
        Assert.Equal(2_567_463_684, ParameterCount.Of(ConfigJson.Load<UNet2DConditionConfig>(PipelineLayout.Unet.Config(SdxlTurbo))));
        Assert.Equal(123_060_480, ParameterCount.Of(ConfigJson.Load<CLIPTextConfig>(PipelineLayout.TextEncoder.Config(SdxlTurbo))));
        Assert.Equal(694_659_840, ParameterCount.Of(ConfigJson.Load<CLIPTextConfig>(PipelineLayout.TextEncoder2.Config(SdxlTurbo)), withProjection: true));
        Assert.Equal(83_653_863, ParameterCount.Of(ConfigJson.Load<AutoencoderKLConfig>(PipelineLayout.Vae.Config(SdxlTurbo))));
    }

    [Fact]
    public void ConfigsLoadWithoutWarningsAndWithTheirValues()
    {
        var warnings = new List<string>();
        var unet = ConfigJson.Load<UNet2DConditionConfig>(PipelineLayout.Unet.Config(SdxlTurbo), warnings.Add);
        var text2 = ConfigJson.Load<CLIPTextConfig>(PipelineLayout.TextEncoder2.Config(SdxlTurbo), warnings.Add);
        ConfigJson.Load<CLIPTextConfig>(PipelineLayout.TextEncoder.Config(SdxlTurbo), warnings.Add);
        ConfigJson.Load<AutoencoderKLConfig>(PipelineLayout.Vae.Config(SdxlTurbo), warnings.Add);
        ConfigJson.Load<SchedulerConfig>(PipelineLayout.Scheduler.Config(SdxlTurbo), warnings.Add);
        Assert.Empty(warnings);
        Assert.True(unet.TextTime);
        Assert.Equal(1280, unet.AddTextEmbedsDim);                         // 2816 − 6·256: text_encoder_2's projection_dim
        Assert.Equal(text2.ProjectionDim, unet.AddTextEmbedsDim);
        var t = UNetTopology.From(unet);
        Assert.Equal([(1, 5), (2, 10), (10, 20)], t.Down.Select(d => (d.TransformerLayers, d.Heads)));
        Assert.Equal([(10, 20), (2, 10), (1, 5)], t.Up.Select(u => (u.TransformerLayers, u.Heads)));
        Assert.Equal((10, 20), (t.MidTransformerLayers, t.MidHeads));

        var index = ModelIndex.Load(SdxlTurbo);
        Assert.True(index.DualEncoder);
        Assert.True(index.ForceZerosForEmptyPrompt);
    }

    [Fact]
    public void TheTokenizersPadAsSdxlDoes()
    {
        var first = Add.Engine.Text.TextTokenizer.Load(PipelineLayout.Tokenizer.Folder(SdxlTurbo)).Encode("a photo of a cat");
        var second = Add.Engine.Text.TextTokenizer.Load(PipelineLayout.Tokenizer2.Folder(SdxlTurbo)).Encode("a photo of a cat");
        int[] tokens = [49406, 320, 1125, 539, 320, 2368, 49407];        // sd-turbo.md §5's test vector
        Assert.Equal(tokens, first[..7]);
        Assert.Equal(tokens, second[..7]);
        Assert.All(first[7..], id => Assert.Equal(49407, id));             // CLIP-L: pads with <|endoftext|>
        Assert.All(second[7..], id => Assert.Equal(0, id));                // bigG: pads with "!"
    }

    [Fact]
    public void PooledPositionFollowsTransformers()
    {
        int[] ids = [49406, 320, 49407, 49407, 49407, 0, 0, 49406, 320, 2, 49407, 0];
        var legacy = new CLIPTextConfig { EosTokenId = 2 };                 // SDXL's configs: argmax of the ids
        Assert.Equal(2, legacy.PooledPosition(ids, 0, 6));                   // the first of several 49407
        Assert.Equal(4, legacy.PooledPosition(ids, 1, 6));                   // not the id 2
        var current = new CLIPTextConfig { EosTokenId = 49407 };            // the first eos_token_id
        Assert.Equal(2, current.PooledPosition(ids, 0, 6));
        Assert.Equal(0, current.PooledPosition([5, 6, 7], 0, 3));           // none: argmax of an all-false mask
    }

    [Fact]
    public void AddInfoPrintsEveryComponentsCount()
    {
        var run = CliRun.Add("info", SdxlTurbo);
        Assert.True(run.Code == 0, run.Err);
        Assert.Matches(@"text_encoder\s+CLIPTextModel\s+123,060,480", run.Out);
        Assert.Matches(@"text_encoder_2\s+CLIPTextModelWithProjection\s+694,659,840", run.Out);
        Assert.Matches(@"unet\s+UNet2DConditionModel\s+2,567,463,684", run.Out);
        Assert.Matches(@"vae\s+AutoencoderKL\s+83,653,863", run.Out);
        Assert.DoesNotContain("warning", run.Err);
    }

    /// <summary>The sdxl-turbo configs with one model_index.json entry removed (or the class renamed): refused before any weights are read.</summary>
    [Theory]
    [InlineData("text_encoder_2", null, "does not declare the 'text_encoder_2' component")]
    [InlineData("tokenizer_2", null, "does not declare the 'tokenizer_2' component")]
    [InlineData("tokenizer_2", "StableDiffusionPipeline", "does not declare the 'tokenizer_2' component (text_encoder_2 and tokenizer_2 come as a pair)")]
    public void AnSdxlFolderWithoutItsSecondEncoderIsRefusedNamingIt(string removed, string? pipelineClass, string expected)
    {
        using var dir = new TempDir();
        File.Copy(PipelineLayout.ModelIndex(SdxlTurbo), PipelineLayout.ModelIndex(dir.Path));
        var index = JsonNode.Parse(File.ReadAllText(PipelineLayout.ModelIndex(dir.Path)))!.AsObject();
        index.Remove(removed);
        if (pipelineClass is not null) index["_class_name"] = pipelineClass;
        File.WriteAllText(PipelineLayout.ModelIndex(dir.Path), index.ToJsonString());
        Assert.Contains(expected, Assert.Throws<InvalidDataException>(() => ModelIndex.Load(dir.Path)).Message);
        CliRun.AssertBadInput(CliRun.Add("generate", "--model", dir.Path, "a cat", "-o", dir.File("x.png")), expected);
    }

    [Fact]
    public void ATextTimeUnetWithOneEncoderIsRefusedNamingTextEncoder2()
    {
        using var dir = new TempDir();
        // sd-turbo's pipeline (one encoder) with sdxl-turbo's UNet: the pooled text has no source
        foreach (var f in Directory.EnumerateFiles(Path.Combine(Fixtures.Root, "models", "configs", "sd-turbo"), "*", SearchOption.AllDirectories))
        {
            var to = Path.Combine(dir.Path, Path.GetRelativePath(Path.Combine(Fixtures.Root, "models", "configs", "sd-turbo"), f));
            Directory.CreateDirectory(Path.GetDirectoryName(to)!);
            File.Copy(f, to);
        }
        File.Copy(PipelineLayout.Unet.Config(SdxlTurbo), PipelineLayout.Unet.Config(dir.Path), overwrite: true);
        CliRun.AssertBadInput(CliRun.Add("generate", "--model", dir.Path, "a cat", "-o", dir.File("x.png")), "declares no 'text_encoder_2'");
    }
}
