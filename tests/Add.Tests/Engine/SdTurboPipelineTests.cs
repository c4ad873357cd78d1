using System.Text.Json.Nodes;
using Add.Engine.Backends;
using Add.Engine.Pipeline;
using Add.Tests.Cli;
using Add.Train.Pipeline;
using Add.Train.Validation;
using Xunit.Abstractions;

namespace Add.Tests.Engine;

/// <summary>
/// A tiny pipeline with SD-Turbo's structure, made from models/configs/sd-turbo by shrinking only the widths: the real
/// CLIP BPE tokenizer (vocab 49,408, pad "!"), a GELU text encoder, a 4-level UNet with a per-level head list,
/// transformer_layers_per_block as a list and linear projections, a 4-level VAE (factor 8) with mid-block attention,
/// and sd-turbo's verbatim EulerDiscreteScheduler config (trailing) — plus a v-prediction variant. Random weights
/// (`add-train random-model`); engine vs reference on every stage (`add-train validate`) on both CPU backends.
/// </summary>
public sealed class SdTurboPipelineFixture : IDisposable
{
    private readonly TempDir _dir = new();

    /// <summary>The epsilon-prediction folder (sd-turbo's scheduler config as shipped).</summary>
    public string Epsilon { get; }

    /// <summary>The same weights with prediction_type v_prediction (SD 2.x-768 style).</summary>
    public string VPrediction { get; }

    public SdTurboPipelineFixture()
    {
        var configs = Shrink(Path.Combine(Fixtures.Root, "models", "configs", "sd-turbo"), _dir.File("configs"));
        Epsilon = _dir.File("eps");
        RandomModel.Write(configs, Epsilon, seed: 14);
        VPrediction = _dir.File("v");
        CopyTree(Epsilon, VPrediction);
        Edit(Path.Combine(VPrediction, "scheduler", "scheduler_config.json"), j => j["prediction_type"] = "v_prediction");
    }

    /// <summary>Copies the sd-turbo configs to <paramref name="target"/> with every width divided down; the structure
    /// (levels, block types, heads per level, projections, activations, tokenizer, scheduler) stays.</summary>
    private static string Shrink(string source, string target)
    {
        CopyTree(source, target);
        Edit(Path.Combine(target, "unet", "config.json"), j =>
        {
            j["block_out_channels"] = new JsonArray(16, 32, 32, 32);
            j["attention_head_dim"] = new JsonArray(2, 4, 4, 4);                // heads per level (SD: 5, 10, 20, 20)
            j["transformer_layers_per_block"] = new JsonArray(1, 2, 1, 1);
            j["cross_attention_dim"] = 32;
            j["norm_num_groups"] = 8;
            j["layers_per_block"] = 1;
            j["sample_size"] = 8;                                              // 64×64 images by default
        });
        Edit(Path.Combine(target, "vae", "config.json"), j =>
        {
            j["block_out_channels"] = new JsonArray(8, 16, 16, 16);
            j["norm_num_groups"] = 4;
            j["layers_per_block"] = 1;
        });
        Edit(Path.Combine(target, "text_encoder", "config.json"), j =>
        {
            j["hidden_size"] = 32;
            j["intermediate_size"] = 64;
            j["num_hidden_layers"] = 2;
            j["num_attention_heads"] = 2;
        });
        return target;
    }

    internal static void Edit(string path, Action<JsonObject> edit)
    {
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        edit(json);
        File.WriteAllText(path, json.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
    }

    internal static void CopyTree(string source, string target)
    {
        foreach (var f in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var to = Path.Combine(target, Path.GetRelativePath(source, f));
            Directory.CreateDirectory(Path.GetDirectoryName(to)!);
            File.Copy(f, to);
        }
    }

    public void Dispose() => _dir.Dispose();
}

/// <summary>Engine vs reference on the tiny SD-Turbo-structured pipeline, and its requests.</summary>
[Collection(TinyPipelineCollection.Name)]   // serial with the other ILGPU-CPU engine tests: in parallel their emulated thread groups thrash 2 cores (13 min for one case)
public sealed class SdTurboPipelineTests(SdTurboPipelineFixture tiny, ITestOutputHelper log) : IClassFixture<SdTurboPipelineFixture>
{
    private void AssertPasses(string model, BackendKind backend, GenerationRequest request)
    {
        var report = EngineValidation.Run(model, backend, request, log.WriteLine);
        foreach (var s in report.Stages) log.WriteLine(s.ToString());
        log.WriteLine($"bytes differing: {report.DifferingBytes} of {report.TotalBytes}");
        Assert.Contains(report.Stages, s => s.Name == "text");
        Assert.Contains(report.Stages, s => s.Name == "unet.0");
        Assert.Contains(report.Stages, s => s.Name == "image");
        Assert.True(report.Passed, string.Join("; ", report.Stages.Where(s => !s.Passed)));
    }

    private static GenerationRequest Request(int steps) =>
        new() { Prompts = ["A cinematic shot of a baby racoon, wearing an intricate italian priest robe.", "a photo of a cat"], Steps = steps, Seed = 5 };

    [Theory]
    [InlineData(BackendKind.Cpu, 4)]
    // Not on ILGPU's CPU accelerator here (147 s for one step at 64², a fifth of the suite's time): SdTurboStructureTests
    // checks SD-Turbo's text encoder, UNet and VAE on it stage by stage, and the wiring above the Backend is the same code.
    public void EveryStageMatchesTheReference(BackendKind backend, int steps) => AssertPasses(tiny.Epsilon, backend, Request(steps));

    [Theory]
    [InlineData(Add.Engine.Sampling.SamplerKind.Euler)]
    [InlineData(Add.Engine.Sampling.SamplerKind.EulerAncestral)]
    [InlineData(Add.Engine.Sampling.SamplerKind.Ddim)]
    public void VPredictionMatchesTheReference(Add.Engine.Sampling.SamplerKind sampler) =>
        AssertPasses(tiny.VPrediction, BackendKind.Cpu, Request(3) with { Sampler = sampler });

    [Fact]
    public void NonSquareSizeMatchesTheReference() =>
        AssertPasses(tiny.Epsilon, BackendKind.Cpu, Request(2) with { Width = 128, Height = 64 });

    [Fact]
    public void GuidanceWithThePadTokenMatchesTheReference() =>
        AssertPasses(tiny.Epsilon, BackendKind.Cpu, Request(2) with { Guidance = 3 });

    [Fact]
    public void DefaultsAreOneUnguidedStepAtTheConfigSizeAndSaySo()
    {
        using var pipeline = DiffusionPipeline.Load(tiny.Epsilon, BackendFactory.Create(BackendKind.Cpu));
        var warnings = new List<string>();
        var request = new GenerationRequest { Prompts = ["a cat"] };
        var plan = pipeline.Plan(request, warnings.Add);
        Assert.Equal([999.0], plan.Timesteps);
        Assert.False(plan.Guided);
        Assert.Contains(warnings, w => w.Contains("trailing", StringComparison.Ordinal));
        Assert.Equal((64, 64), pipeline.SizeOf(request));
        var image = Assert.Single(pipeline.Generate(request with { Width = 64, Height = 128 }));
        Assert.Equal((64, 128), (image.Width, image.Height));
    }

    [Theory]
    [InlineData(32, 64, "width 32")]      // below the multiple: the VAE's 8 × the UNet's 2^3 = 64
    [InlineData(64, 96, "height 96")]     // not a multiple of 64
    [InlineData(64, 8192, "height 8192")] // above the limit
    public void SizesTheModelCannotTakeAreRefusedNamingTheSide(int width, int height, string named)
    {
        using var pipeline = DiffusionPipeline.Load(tiny.Epsilon, BackendFactory.Create(BackendKind.Cpu));
        var e = Assert.Throws<InvalidRequestException>(() => pipeline.Generate(new GenerationRequest { Prompts = ["a cat"], Width = width, Height = height }));
        Assert.Contains(named, e.Message);
        Assert.Contains("multiples of 64", e.Message);
    }

    [Fact]
    public void TheCliRefusesASizeInOneLineAndWritesNothing()
    {
        using var dir = new TempDir();
        var output = dir.File("x.png");
        CliRun.AssertBadInput(CliRun.Add("generate", "--model", tiny.Epsilon, "a cat", "--width", "100", "-o", output), "width 100 is not allowed");
        Assert.False(File.Exists(output));
        CliRun.AssertBadInput(CliRun.Add("generate", "--width", "20", "-o", output, "grinning face"), "multiples of 16");
    }

    [Fact]
    public void TheCliPrintsEachStageAndWritesTheRequestedSize()
    {
        using var dir = new TempDir();
        var output = dir.File("x.png");
        var run = CliRun.Add("generate", "--model", tiny.Epsilon, "a cat", "--width", "128", "--height", "64", "--scale", "1", "-o", output);
        Assert.True(run.Code == 0, run.Err);
        foreach (var stage in new[] { "tokenize: ", "text encoder: ", "step 1/1: ", "vae decode: " }) Assert.Contains(stage, run.Err);
        var image = Add.Engine.Imaging.Png.Load(output);
        Assert.Equal((128, 64), (image.Width, image.Height));
    }
}
