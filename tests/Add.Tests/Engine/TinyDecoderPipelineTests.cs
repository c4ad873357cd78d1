using System.Text.Json.Nodes;
using Add.Engine.Backends;
using Add.Engine.Configs;
using Add.Engine.Imaging;
using Add.Engine.Pipeline;
using Add.Engine.SafeTensors;
using Add.Tests.Cli;
using Add.Train.Pipeline;
using Add.Train.Validation;

namespace Add.Tests.Engine;

/// <summary>
/// The tiny decoder in the pipeline: a vae_tiny component declared in model_index.json, or an AutoencoderTiny folder
/// loaded later (random-model's standalone output); tiny vs full decoding, validation of the tiny path against the
/// reference on both CPU backends, previews once per step, and every bad input (exit 2, one line).
/// </summary>
[Collection(TinyPipelineCollection.Name)]
public sealed class TinyDecoderPipelineTests(TinyPipelines tiny)
{
    /// <summary>The tiny student's VAE has 2 levels (factor 2): a 2-level AutoencoderTiny fits it.</summary>
    private static string TinyConfigJson(int latentChannels = 4) => $$"""
        {"_class_name": "AutoencoderTiny", "latent_channels": {{latentChannels}}, "encoder_block_out_channels": [8, 8], "decoder_block_out_channels": [8, 8],
         "num_encoder_blocks": [1, 1], "num_decoder_blocks": [2, 1], "scaling_factor": 1.0, "shift_factor": 0.0, "force_upcast": false}
        """;

    /// <summary>An AutoencoderTiny folder with seeded random weights, written by `add-train random-model` from a lone config.json.</summary>
    private static string TinyFolder(TempDir dir, string name, int latentChannels = 4)
    {
        var config = dir.File(name + "-config");
        Directory.CreateDirectory(config);
        File.WriteAllText(Path.Combine(config, "config.json"), TinyConfigJson(latentChannels));
        var target = dir.File(name);
        var run = CliRun.Train("random-model", "--config", config, "--out", target, "--seed", "3");
        Assert.True(run.Code == 0, run.Err);
        return target;
    }

    /// <summary>A copy of the tiny student with a vae_tiny component declared in its model_index.json.</summary>
    private string StudentWithVaeTiny(TempDir dir)
    {
        var model = dir.File("model");
        ModelFolders.Copy(tiny.Student, model);
        var source = TinyFolder(dir, "taesd-like");
        Directory.CreateDirectory(PipelineLayout.VaeTiny.Folder(model));
        foreach (var f in Directory.GetFiles(source)) File.Copy(f, Path.Combine(PipelineLayout.VaeTiny.Folder(model), Path.GetFileName(f)));
        var index = JsonNode.Parse(File.ReadAllText(PipelineLayout.ModelIndex(model)))!.AsObject();
        index["vae_tiny"] = new JsonArray("diffusers", "AutoencoderTiny");
        File.WriteAllText(PipelineLayout.ModelIndex(model), index.ToJsonString());
        return model;
    }

    private static GenerationRequest Request(int steps = 2) => new() { Prompts = ["grinning face", "snowman"], Seed = 5, Steps = steps };

    public static TheoryData<BackendKind> Backends => [BackendKind.Cpu, BackendKind.IlgpuCpu];

    [Theory]
    [MemberData(nameof(Backends))]
    public void TinyDecoderPathMatchesTheReferenceAndDiffersFromTheVae(BackendKind backend)
    {
        using var dir = new TempDir();
        var model = StudentWithVaeTiny(dir);
        // On ILGPU's CPU accelerator (208 s for this whole test there) only the comparison with
        // the reference, at one step; the pipeline-level checks below are backend-independent code and run on the CPU.
        var request = Request(steps: backend == BackendKind.IlgpuCpu ? 1 : 2);
        if (backend == BackendKind.Cpu)
        {
            using var pipeline = DiffusionPipeline.Load(model, BackendFactory.Create(backend));
            Assert.NotNull(pipeline.TinyDecoder);
            var full = pipeline.Generate(request);
            var small = pipeline.Generate(request with { Decoder = DecoderKind.Tiny });
            Assert.Equal((full[0].Width, full[0].Height), (small[0].Width, small[0].Height));
            Assert.NotEqual(full[0].Pixels, small[0].Pixels);
            Assert.Equal(small[1].Pixels, pipeline.Generate(request with { Decoder = DecoderKind.Tiny })[1].Pixels);
        }
        var report = EngineValidation.Run(model, backend, request with { Decoder = DecoderKind.Tiny }, decoder: EngineValidation.TinyDecoder);
        Assert.True(report.Passed, string.Join("\n", report.Stages));
        Assert.Contains(report.Stages, s => s.Name == "image");
    }

    [Fact]
    public void PreviewsArriveOncePerStepAtTheImageSize()
    {
        using var dir = new TempDir();
        using var pipeline = DiffusionPipeline.Load(StudentWithVaeTiny(dir), BackendFactory.Create(BackendKind.Cpu));
        var seen = new List<(int Step, int Total, int Count, int Width)>();
        var images = pipeline.Generate(Request(steps: 3) with { OnPreview = (step, total, previews) => seen.Add((step, total, previews.Count, previews[0].Width)) });
        Assert.Equal([(1, 3, 2, images[0].Width), (2, 3, 2, images[0].Width), (3, 3, 2, images[0].Width)], seen);
    }

    [Fact]
    public void AnAutoencoderTinyFolderLoadsIntoAPipelineWithoutOne()
    {
        using var dir = new TempDir();
        var folder = TinyFolder(dir, "taesd-dir");
        using (var weights = SafeTensorsFile.Open(Path.Combine(folder, PipelineLayout.DiffusersWeightsFile)))
            Assert.Equal(ParameterCount.Of(ConfigJson.Load<AutoencoderTinyConfig>(Path.Combine(folder, "config.json"))), weights.Tensors.Sum(t => t.ElementCount));
        using (var pipeline = DiffusionPipeline.Load(tiny.Student, BackendFactory.Create(BackendKind.Cpu)))
        {
            Assert.Null(pipeline.TinyDecoder);
            var e = Assert.Throws<InvalidRequestException>(() => pipeline.Generate(Request() with { Decoder = DecoderKind.Tiny }));
            Assert.Contains("vae_tiny", e.Message);
            Assert.Contains(PipelineLayout.ModelIndex(tiny.Student), e.Message);
            Assert.Throws<InvalidRequestException>(() => pipeline.Generate(Request() with { OnPreview = (_, _, _) => { } }));
            pipeline.LoadTinyDecoder(folder);
            Assert.Equal(2, pipeline.Generate(Request() with { Decoder = DecoderKind.Tiny }).Count);
        }
        var report = EngineValidation.Run(tiny.Student, BackendKind.Cpu, Request() with { Decoder = DecoderKind.Tiny }, decoder: folder);
        Assert.True(report.Passed, string.Join("\n", report.Stages));
    }

    [Fact]
    public void RandomModelWritesADeclaredVaeTiny()
    {
        using var dir = new TempDir();
        var configs = StudentWithVaeTiny(dir);
        var target = dir.File("random");
        RandomModel.Write(configs, target, seed: 9);
        Assert.True(File.Exists(PipelineLayout.VaeTiny.Weights(target)));
        using var pipeline = DiffusionPipeline.Load(target, BackendFactory.Create(BackendKind.Cpu));
        Assert.NotNull(pipeline.TinyDecoder);
        Assert.Single(pipeline.Generate(Request() with { Prompts = ["snowman"], Decoder = DecoderKind.Tiny }));
    }

    [Fact]
    public void BadDecodersAreRefusedWithOneLine()
    {
        using var dir = new TempDir();
        string output = dir.File("out.png"), preview = dir.File("preview.png");
        CliRun.AssertBadInput(CliRun.Add("generate", "x", "--model", tiny.Student, "--decoder", "tiny", "-o", output), "has no tiny decoder");
        CliRun.AssertBadInput(CliRun.Add("generate", "x", "--model", tiny.Student, "--preview", preview, "-o", output), "--preview needs a tiny decoder");
        CliRun.AssertBadInput(CliRun.Add("generate", "x", "--model", tiny.Student, "--decoder", PipelineLayout.Vae.Folder(tiny.Student), "-o", output), "AutoencoderTiny");
        CliRun.AssertBadInput(CliRun.Add("generate", "x", "--model", tiny.Student, "--decoder", dir.File("missing"), "-o", output), "--decoder");
        CliRun.AssertBadInput(CliRun.Add("generate", "x", "--model", tiny.Student, "--decoder", TinyFolder(dir, "three", latentChannels: 3), "-o", output),
            "latent_channels 3 differs from the unet's in_channels 4");
        CliRun.AssertBadInput(CliRun.Train("validate", "--model", tiny.Student, "--decoder", "tiny", "--steps", "1"), "vae_tiny");
        Assert.False(File.Exists(output));
    }

    [Fact]
    public void GenerateWritesTheImageAndItsPreviewWithTheTinyDecoder()
    {
        using var dir = new TempDir();
        var model = StudentWithVaeTiny(dir);
        string full = dir.File("full.png"), small = dir.File("tiny.png"), preview = dir.File("preview.png");
        var run = CliRun.Add("generate", "snowman", "--model", model, "--steps", "2", "--decoder", "tiny", "--preview", preview, "-o", small, "--scale", "1");
        Assert.True(run.Code == 0, run.Err);
        Assert.Equal(0, CliRun.Add("generate", "snowman", "--model", model, "--steps", "2", "--decoder", "full", "-o", full, "--scale", "1").Code);
        Assert.Equal((Png.Load(full).Width, Png.Load(full).Height), (Png.Load(preview).Width, Png.Load(preview).Height));
        Assert.NotEqual(Png.Load(full).Pixels, Png.Load(small).Pixels);
    }
}
