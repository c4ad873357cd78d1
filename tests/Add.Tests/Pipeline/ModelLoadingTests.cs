using System.Text.Json.Nodes;
using Add.Engine.Backends;
using Add.Engine.Pipeline;
using Add.Engine.SafeTensors;
using Add.Tests.Cli;

namespace Add.Tests.Pipeline;

/// <summary>
/// Loading real diffusers folders (issue #14 item 4) on copies of the shipped student: model_index.json read and
/// checked, fp16 variants chosen / required / fallen back to, sharded checkpoints, the position_ids buffer, stray and
/// non-finite tensors refused, and a generation that turns non-finite refused instead of written.
/// </summary>
public sealed class ModelLoadingTests
{
    static readonly GenerationRequest Request = new() { Prompts = ["grinning face"], Steps = 1, Seed = 3 };

    static DiffusionPipeline Load(string model, Action<string>? warn = null, string? variant = null) =>
        DiffusionPipeline.Load(model, new CpuBackend(), warn, variant);

    static byte[] Generate(string model, Action<string>? warn = null, string? variant = null)
    {
        using var p = Load(model, warn, variant);
        return p.Generate(Request)[0].Pixels;
    }

    static T LoadFails<T>(string model, string? variant = null) where T : Exception =>
        Assert.Throws<T>(() => { using var p = Load(model, variant: variant); });

    // ---- model_index.json ----

    [Fact]
    public void AMissingModelIndexIsAnErrorNamingIt()
    {
        using var dir = new TempDir();
        var model = ModelSurgery.CopyEmoji(dir);
        File.Delete(PipelineLayout.ModelIndex(model));
        Assert.Contains("model_index.json", LoadFails<FileNotFoundException>(model).Message);
        CliRun.AssertBadInput(CliRun.Add("generate", "x", "--model", model, "-o", dir.File("x.png")), "model_index.json not found");
        Assert.False(File.Exists(dir.File("x.png")));
    }

    [Fact]
    public void AnUnreadableModelIndexIsAnErrorNamingIt()
    {
        using var dir = new TempDir();
        var model = ModelSurgery.CopyEmoji(dir);
        File.WriteAllText(PipelineLayout.ModelIndex(model), "{\"unet\": [\"diffusers\", ");
        Assert.Contains("model_index.json: not valid JSON", LoadFails<InvalidDataException>(model).Message);
    }

    [Fact]
    public void AModelIndexWithoutUnetNamesIt()
    {
        using var dir = new TempDir();
        var model = ModelSurgery.CopyEmoji(dir);
        ModelSurgery.EditIndex(model, i => i.Remove("unet"));
        Assert.Contains("does not declare the 'unet' component", LoadFails<InvalidDataException>(model).Message);
        ModelSurgery.EditIndex(model, i => i["unet"] = new JsonArray(null, null));
        Assert.Contains("'unet'", LoadFails<InvalidDataException>(model).Message);
    }

    [Fact]
    public void NullAndIgnoredComponentsAndFlagsAreAccepted()
    {
        using var dir = new TempDir();
        var model = ModelSurgery.CopyEmoji(dir);
        var expected = Generate(model);
        ModelSurgery.EditIndex(model, i =>
        {
            i["_name_or_path"] = "stabilityai/sd-turbo";
            i["safety_checker"] = new JsonArray(null, null);
            i["image_encoder"] = new JsonArray(null, null);
            i["feature_extractor"] = new JsonArray("transformers", "CLIPImageProcessor");
            i["requires_safety_checker"] = false;
        });
        Assert.Equal(expected, Generate(model));
    }

    [Fact]
    public void DeclaredClassesAreChecked()
    {
        using var dir = new TempDir();
        var model = ModelSurgery.CopyEmoji(dir);
        ModelSurgery.EditIndex(model, i => i["vae"] = new JsonArray("diffusers", "AutoencoderTiny"));
        Assert.Contains("'vae' is [\"diffusers\", \"AutoencoderTiny\"]", LoadFails<NotSupportedException>(model).Message);
        ModelSurgery.EditIndex(model, i => { i["vae"] = new JsonArray("diffusers", "AutoencoderKL"); i["text_encoder_2"] = new JsonArray("transformers", "CLIPTextModelWithProjection"); });
        Assert.Contains("does not declare the 'tokenizer_2' component", LoadFails<InvalidDataException>(model).Message);   // SDXL's pair
        ModelSurgery.EditIndex(model, i => { i.Remove("text_encoder_2"); i["text_encoder_3"] = new JsonArray("transformers", "T5EncoderModel"); });
        Assert.Contains("component 'text_encoder_3'", LoadFails<NotSupportedException>(model).Message);
        ModelSurgery.EditIndex(model, i => { i.Remove("text_encoder_3"); i["unet"] = new JsonArray("diffusers"); });
        Assert.Contains("expected [library, class] or [null, null]", LoadFails<InvalidDataException>(model).Message);
    }

    [Fact]
    public void TheDiffusersStableDiffusionIndexIsValid()
    {
        using var dir = new TempDir();
        File.WriteAllText(PipelineLayout.ModelIndex(dir.Path), """
            {"_class_name": "StableDiffusionPipeline", "_diffusers_version": "0.24.0.dev0",
             "feature_extractor": ["transformers", "CLIPImageProcessor"], "image_encoder": [null, null],
             "requires_safety_checker": false, "safety_checker": [null, null],
             "scheduler": ["diffusers", "EulerDiscreteScheduler"], "text_encoder": ["transformers", "CLIPTextModel"],
             "tokenizer": ["transformers", "CLIPTokenizer"], "unet": ["diffusers", "UNet2DConditionModel"],
             "vae": ["diffusers", "AutoencoderKL"]}
            """);
        var index = ModelIndex.Load(dir.Path);
        Assert.Equal("StableDiffusionPipeline", index.PipelineClass);
        Assert.Equal("CLIPTokenizer", index.ClassOf("tokenizer"));
        Assert.Equal(["scheduler", "text_encoder", "tokenizer", "unet", "vae"], index.Components.Keys.Order());
        foreach (var shipped in new[] { "add-emoji-32", "emoji-32-teacher" })
            Assert.Equal("WordTokenizer", ModelIndex.Load(Path.Combine(Fixtures.Root, "models", shipped)).ClassOf("tokenizer"));
    }

    // ---- variants ----

    [Fact]
    public void VariantFp16IsChosenWhenAskedAndFullPrecisionOtherwise()
    {
        using var dir = new TempDir();
        var model = ModelSurgery.CopyEmoji(dir);
        var half = ModelSurgery.CopyEmoji(dir, asF16: true);
        var full = Generate(model);
        var rounded = Generate(half);
        Assert.NotEqual(full, rounded);   // fp16 rounding of the weights moves some pixel
        ModelSurgery.RenameToVariant(half, "fp16");
        foreach (var c in ModelSurgery.WeightedComponents(model))
            File.Copy(Path.Combine(c.Folder(half), PipelineComponent.WithVariant(c.WeightsFile!, "fp16")),
                Path.Combine(c.Folder(model), PipelineComponent.WithVariant(c.WeightsFile!, "fp16")));
        var notices = new List<string>();
        Assert.Equal(full, Generate(model, notices.Add));
        Assert.Equal(rounded, Generate(model, notices.Add, "fp16"));
        Assert.Empty(notices);
    }

    [Fact]
    public void WithoutFullPrecisionWeightsTheFp16OnesLoadWithANotice()
    {
        using var dir = new TempDir();
        var half = ModelSurgery.CopyEmoji(dir, asF16: true);
        var expected = Generate(half);
        ModelSurgery.RenameToVariant(half, "fp16");
        var notices = new List<string>();
        Assert.Equal(expected, Generate(half, notices.Add));
        Assert.Equal(ModelSurgery.WeightedComponents(half).Count(), notices.Count(n => n.Contains("fp16 variant") && n.Contains("--variant fp16")));
        Assert.Contains(notices, n => n.Contains("unet/diffusion_pytorch_model.fp16.safetensors"));
    }

    [Fact]
    public void AVariantWithNoSuchFilesIsAnError()
    {
        using var dir = new TempDir();
        var model = ModelSurgery.CopyEmoji(dir);
        var message = LoadFails<FileNotFoundException>(model, "fp16").Message;
        Assert.Contains("--variant fp16", message);
        Assert.Contains("model.fp16.safetensors", message);
        CliRun.AssertBadInput(CliRun.Add("generate", "x", "--model", model, "--variant", "fp16", "-o", dir.File("x.png")), "--variant fp16");
        CliRun.AssertBadInput(CliRun.Add("generate", "x", "--model", model, "--variant", "../fp16"), "not a plain name");
        Assert.False(File.Exists(dir.File("x.png")));
    }

    [Fact]
    public void NoWeightsAtAllNamesWhatWasLookedFor()
    {
        using var dir = new TempDir();
        var model = ModelSurgery.CopyEmoji(dir);
        File.Delete(ModelSurgery.UnetWeights(model));
        var message = LoadFails<FileNotFoundException>(model).Message;
        Assert.Contains("weights not found", message);
        Assert.Contains("diffusion_pytorch_model.safetensors.index.json", message);
    }

    // ---- shards ----

    [Fact]
    public void AShardedCheckpointLoadsTheSameModelAsTheSingleFile()
    {
        using var dir = new TempDir();
        var model = ModelSurgery.CopyEmoji(dir);
        var expected = Generate(model);
        ModelSurgery.Shard(ModelSurgery.UnetWeights(model), 2);
        ModelSurgery.Shard(ModelSurgery.TextWeights(model), 3);
        Assert.False(File.Exists(ModelSurgery.UnetWeights(model)));
        Assert.Equal(expected, Generate(model));
    }

    [Fact]
    public void AShardedFp16VariantIsFoundByItsIndexName()
    {
        using var dir = new TempDir();
        var half = ModelSurgery.CopyEmoji(dir, asF16: true);
        var expected = Generate(half);
        ModelSurgery.RenameToVariant(half, "fp16");
        var index = ModelSurgery.Shard(Path.Combine(PipelineLayout.Unet.Folder(half), "diffusion_pytorch_model.fp16.safetensors"), 2, "fp16");
        Assert.EndsWith("diffusion_pytorch_model.safetensors.index.fp16.json", index);
        Assert.Equal(expected, Generate(half, variant: "fp16"));
    }

    [Fact]
    public void AShardIndexNamingAMissingFileNamesIt()
    {
        using var dir = new TempDir();
        var model = ModelSurgery.CopyEmoji(dir);
        ModelSurgery.Shard(ModelSurgery.UnetWeights(model), 2);
        File.Delete(Path.Combine(PipelineLayout.Unet.Folder(model), "diffusion_pytorch_model-00002-of-00002.safetensors"));
        Assert.Contains("diffusion_pytorch_model-00002-of-00002.safetensors", LoadFails<FileNotFoundException>(model).Message);
        CliRun.AssertBadInput(CliRun.Add("generate", "x", "--model", model, "-o", dir.File("x.png")), "names shard diffusion_pytorch_model-00002-of-00002.safetensors");
    }

    // ---- buffers and stray tensors ----

    [Fact]
    public void ThePositionIdsBufferIsAccepted()
    {
        using var dir = new TempDir();
        var model = ModelSurgery.CopyEmoji(dir);
        var expected = Generate(model);
        ModelSurgery.Rewrite(ModelSurgery.TextWeights(model), add: w => ModelSurgery.AddPositionIds(w, 16));
        Assert.Equal(expected, Generate(model));
    }

    [Fact]
    public void AnyOtherUnusedTensorIsRejected()
    {
        using var dir = new TempDir();
        var model = ModelSurgery.CopyEmoji(dir);
        ModelSurgery.Rewrite(ModelSurgery.TextWeights(model), add: w => w.Add("text_model.embeddings.extra", new float[4], 4));
        var message = LoadFails<InvalidDataException>(model).Message;
        Assert.Contains("text_model.embeddings.extra", message);
        Assert.Contains("does not describe", message);
    }

    // ---- non-finite weights and images ----

    [Theory]
    [InlineData("unet", "conv_out.weight", float.NaN)]
    [InlineData("unet", "conv_in.weight", float.PositiveInfinity)]
    [InlineData("text_encoder", "text_model.final_layer_norm.weight", float.NaN)]
    [InlineData("vae", "decoder.conv_out.bias", float.NegativeInfinity)]
    public void ANonFiniteWeightIsRefusedAtLoadNamingTheTensor(string component, string tensor, float value)
    {
        using var dir = new TempDir();
        var model = ModelSurgery.CopyEmoji(dir);
        var c = PipelineLayout.Components.Single(x => x.Name == component);
        ModelSurgery.Poke(c.Weights(model), tensor, value, index: 2);
        var message = LoadFails<InvalidDataException>(model).Message;
        Assert.Contains($"{component}/{c.WeightsFile}: tensor '{tensor}'", message);
        Assert.Contains($"the first {SafeTensorsSet.Show(value)} at element 2", message);
        CliRun.AssertBadInput(CliRun.Add("generate", "x", "--model", model, "-o", dir.File("x.png")), $"tensor '{tensor}'");
        Assert.False(File.Exists(dir.File("x.png")));
    }

    [Fact]
    public void ANonFiniteWeightInAShardNamesTheShard()
    {
        using var dir = new TempDir();
        var model = ModelSurgery.CopyEmoji(dir, asF16: true);
        ModelSurgery.Shard(ModelSurgery.UnetWeights(model), 2);
        var last = Path.Combine(PipelineLayout.Unet.Folder(model), "diffusion_pytorch_model-00002-of-00002.safetensors");
        string victim;
        using (var f = SafeTensorsFile.Open(last)) victim = f.Tensors[^1].Name;
        ModelSurgery.Poke(last, victim, float.NaN);
        Assert.Contains($"unet/diffusion_pytorch_model-00002-of-00002.safetensors: tensor '{victim}'", LoadFails<InvalidDataException>(model).Message);
    }

    [Fact]
    public void AnImageThatBecomesNonFiniteIsAnErrorAndNoPng()
    {
        using var dir = new TempDir();
        var model = ModelSurgery.CopyEmoji(dir);
        // Finite weights whose products overflow fp32: the decoder's last convolution sums 3·3·C terms of ~3e38·x.
        ModelSurgery.Rewrite(ModelSurgery.VaeWeights(model), (n, v) => n == "decoder.conv_out.weight" ? v.Select(x => x >= 0 ? 3e38f : -3e38f).ToArray() : null);
        using (var p = Load(model))
        {
            var e = Assert.Throws<InvalidDataException>(() => p.Generate(Request));
            Assert.Contains("stage image (VAE decode)", e.Message);
        }
        var (code, _, err) = CliRun.Add("generate", "x", "--model", model, "-o", dir.File("x.png"));
        Assert.Equal(2, code);   // progress lines come first on stderr; the error is the last, one line
        Assert.StartsWith("add: generation failed at stage image (VAE decode)", err.Trim().Split('\n')[^1]);
        Assert.DoesNotContain("   at ", err);
        Assert.False(File.Exists(dir.File("x.png")));
    }

    [Fact]
    public void ToImagesRefusesNaNAndNamesWhere()
    {
        var pixels = new float[2 * 3 * 4 * 4];
        Assert.Equal(2, PipelineImages.ToImages(pixels, 2, 4).Count);
        pixels[1 * 48 + 2 * 16 + 3 * 4 + 1] = float.NaN;
        var e = Assert.Throws<InvalidDataException>(() => PipelineImages.ToImages(pixels, 2, 4));
        Assert.Contains("first NaN at [1, 2, 3, 1] of [2, 3, 4, 4]", e.Message);
    }
}
