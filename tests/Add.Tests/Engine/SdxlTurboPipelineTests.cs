using System.Text.Json.Nodes;
using Add.Engine.Backends;
using Add.Engine.Pipeline;
using Add.Tests.Cli;
using Add.Train.Pipeline;
using Add.Train.Validation;
using Xunit.Abstractions;

namespace Add.Tests.Engine;

/// <summary>
/// A tiny pipeline with SDXL-Turbo's structure, made from models/configs/sdxl-turbo by shrinking only the widths: both
/// CLIP BPE tokenizers (pad &lt;|endoftext|&gt; and "!"), a quick_gelu CLIPTextModel and a gelu
/// CLIPTextModelWithProjection (legacy eos_token_id 2: pooled at the argmax), a 3-level UNet with text_time conditioning,
/// per-level heads and transformer_layers_per_block [1, 2, 3], the SDXL VAE's structure and sdxl-turbo's verbatim
/// EulerAncestralDiscreteScheduler config (trailing). Random weights (`add-train random-model`); engine vs reference on
/// every stage (`add-train validate`) on both CPU backends.
/// </summary>
public sealed class SdxlTurboPipelineFixture : IDisposable
{
    private readonly TempDir _dir = new();

    public string Model { get; }

    public SdxlTurboPipelineFixture()
    {
        var configs = _dir.File("configs");
        SdTurboPipelineFixture.CopyTree(Path.Combine(Fixtures.Root, "models", "configs", "sdxl-turbo"), configs);
        SdTurboPipelineFixture.Edit(Path.Combine(configs, "unet", "config.json"), j =>
        {
            j["block_out_channels"] = new JsonArray(16, 32, 32);
            j["attention_head_dim"] = new JsonArray(2, 4, 4);                // heads per level (SDXL: 5, 10, 20)
            j["transformer_layers_per_block"] = new JsonArray(1, 2, 3);      // SDXL: 1, 2, 10
            j["cross_attention_dim"] = 32 + 32;                                 // both encoders' widths side by side
            j["addition_time_embed_dim"] = 8;
            j["projection_class_embeddings_input_dim"] = 24 + 6 * 8;           // text_encoder_2's projection_dim + 6 time ids
            j["norm_num_groups"] = 8;
            j["layers_per_block"] = 1;
            j["sample_size"] = 8;                                              // 64×64 images by default
        });
        SdTurboPipelineFixture.Edit(Path.Combine(configs, "vae", "config.json"), j =>
        {
            j["block_out_channels"] = new JsonArray(8, 16, 16, 16);
            j["norm_num_groups"] = 4;
            j["layers_per_block"] = 1;
        });
        SdTurboPipelineFixture.Edit(Path.Combine(configs, "text_encoder", "config.json"), j =>
        {
            (j["hidden_size"], j["intermediate_size"], j["num_hidden_layers"], j["num_attention_heads"]) = (32, 64, 2, 2);
        });
        SdTurboPipelineFixture.Edit(Path.Combine(configs, "text_encoder_2", "config.json"), j =>
        {
            (j["hidden_size"], j["intermediate_size"], j["num_hidden_layers"], j["num_attention_heads"], j["projection_dim"]) = (32, 64, 2, 2, 24);
        });
        Model = _dir.File("model");
        RandomModel.Write(configs, Model, seed: 19);
    }

    public void Dispose() => _dir.Dispose();
}

/// <summary>Engine vs reference on the tiny SDXL-Turbo-structured pipeline.</summary>
[Collection(TinyPipelineCollection.Name)]   // serial with the other ILGPU-CPU engine tests: in parallel their emulated thread groups thrash 2 cores (13 min for one case)
public sealed class SdxlTurboPipelineTests(SdxlTurboPipelineFixture tiny, ITestOutputHelper log) : IClassFixture<SdxlTurboPipelineFixture>
{
    private void AssertPasses(BackendKind backend, GenerationRequest request)
    {
        var report = EngineValidation.Run(tiny.Model, backend, request, log.WriteLine);
        foreach (var s in report.Stages) log.WriteLine(s.ToString());
        log.WriteLine($"bytes differing: {report.DifferingBytes} of {report.TotalBytes}");
        foreach (var stage in new[] { "text", "text_embeds", "unet.0", "latent", "image" })
            Assert.Contains(report.Stages, s => s.Name == stage);
        Assert.True(report.Passed, string.Join("; ", report.Stages.Where(s => !s.Passed)));
    }

    private static GenerationRequest Request(int steps, int prompts = 2) =>
        new() { Prompts = new[] { "A small cactus with a happy face in the Sahara desert.", "a photo of a cat" }[..prompts], Steps = steps, Seed = 7 };

    [Fact]
    public void EveryStageMatchesTheReference() => AssertPasses(BackendKind.Cpu, Request(1));

    /// <summary>ILGPU's CPU accelerator emulates GPU thread groups (slow): one prompt, one step and 32² (4² latents) cover
    /// every kernel in seconds rather than minutes.</summary>
    [Fact]
    public void EveryStageMatchesTheReferenceOnIlgpu() => AssertPasses(BackendKind.IlgpuCpu, Request(1, prompts: 1) with { Width = 32, Height = 32 });

    /// <summary>Guided, non-square, two ancestral steps: the zeroed uncond rows (force_zeros_for_empty_prompt), time ids
    /// (H, W, 0, 0, H, W) that differ in H and W, and fresh noise between steps.</summary>
    [Fact]
    public void GuidedNonSquareTwoStepsMatchTheReference() => AssertPasses(BackendKind.Cpu, Request(2) with { Guidance = 2, Width = 128, Height = 64 });

    [Fact]
    public void TheEngineDefaultsToOneUnguidedStepAndSumsTheTextWidths()
    {
        using var pipeline = DiffusionPipeline.Load(tiny.Model, BackendFactory.Create(BackendKind.Cpu));
        var plan = pipeline.Plan(new GenerationRequest { Prompts = ["a cat"] });
        Assert.Equal([999.0], plan.Timesteps);
        Assert.False(plan.Guided);
        var ids2 = pipeline.Tokenize2(["a cat"], guided: false);
        Assert.NotNull(ids2);
        Assert.Equal(0, ids2![^1]);                                          // tokenizer_2 pads with "!"
        Assert.Equal(49407, pipeline.Tokenize(["a cat"], guided: false)[^1]);  // tokenizer pads with <|endoftext|>
    }
}
