using System.Text.Json;
using System.Text.Json.Nodes;
using Add.Engine.Configs;
using Add.Engine.Pipeline;
using Add.Engine.Sampling;
using Add.Tests.Cli;
using Add.Tests.Engine;
using Add.Tests.Reference;
using Add.Train.Evaluation;
using Add.Train.Model;
using Add.Train.Pipeline;
using Add.Train.Training;
using static TorchSharp.torch;

namespace Add.Tests.Evaluation;

/// <summary>
/// `add-train eval` on the tiny random pipelines and the fixture data with a tiny random evaluator (seconds): the
/// model's own sampler and steps by default, stdout unless --json, the decoder choice (full, tiny, DIR) and its bad
/// input, and non-finite models as one-line errors.
/// </summary>
[Collection(TinyPipelineCollection.Name)]
public sealed class EvalCommandTests(TinyPipelines tiny)
{
    const int Images = 4, Resamples = 20;

    static EvaluatorNet TinyEvaluator()
    {
        manual_seed(3);
        var net = new EvaluatorNet(EvaluatorTrainer.For(Preset.Tiny, FixtureData.Emoji.Subcategories.Length).Config);
        net.eval();
        return net;
    }

    /// <summary>A 2-level AutoencoderTiny (the tiny pipelines' VAE upscales 2×) with seeded random weights.</summary>
    static string TinyDecoderFolder(TempDir dir, string name, int latentChannels = 4)
    {
        var config = dir.File(name + "-config");
        Directory.CreateDirectory(config);
        File.WriteAllText(Path.Combine(config, "config.json"), $$"""
            {"_class_name": "AutoencoderTiny", "latent_channels": {{latentChannels}}, "encoder_block_out_channels": [8, 8], "decoder_block_out_channels": [8, 8],
             "num_encoder_blocks": [1, 1], "num_decoder_blocks": [2, 1], "scaling_factor": 1.0, "shift_factor": 0.0, "force_upcast": false}
            """);
        var run = CliRun.Train("random-model", "--config", config, "--out", dir.File(name), "--seed", "3");
        Assert.True(run.Code == 0, run.Err);
        return dir.File(name);
    }

    /// <summary>A copy of the tiny student whose model_index.json declares a vae_tiny.</summary>
    string StudentWithVaeTiny(TempDir dir)
    {
        var model = dir.File("model");
        ModelFolders.Copy(tiny.Student, model);
        var source = TinyDecoderFolder(dir, "taesd-like");
        Directory.CreateDirectory(PipelineLayout.VaeTiny.Folder(model));
        foreach (var f in Directory.GetFiles(source)) File.Copy(f, Path.Combine(PipelineLayout.VaeTiny.Folder(model), Path.GetFileName(f)));
        var index = JsonNode.Parse(File.ReadAllText(PipelineLayout.ModelIndex(model)))!.AsObject();
        index["vae_tiny"] = new JsonArray("diffusers", "AutoencoderTiny");
        File.WriteAllText(PipelineLayout.ModelIndex(model), index.ToJsonString());
        return model;
    }

    [Fact]
    public void SamplingDefaultsComeFromTheModelsSchedulerConfig()
    {
        Assert.Equal(new SamplingSpec(SamplerKind.StudentRenoise, 1, 0), EvalCommand.ResolveSpec(SchedulerConfig.EmojiStudent, null, null, null));
        Assert.Equal(new SamplingSpec(SamplerKind.Ddim, 50, 4), EvalCommand.ResolveSpec(SchedulerConfig.EmojiTeacher, null, null, null));
        Assert.Equal(new SamplingSpec(SamplerKind.StudentRenoise, 2, 0), EvalCommand.ResolveSpec(SchedulerConfig.EmojiStudent, null, 2, null));
        Assert.Equal(new SamplingSpec(SamplerKind.Ddim, 4, 1.5), EvalCommand.ResolveSpec(SchedulerConfig.EmojiStudent, SamplerKind.Ddim, 4, 1.5));
        Assert.Throws<InvalidRequestException>(() => EvalCommand.ResolveSpec(SchedulerConfig.EmojiStudent, null, 9, null));   // add_max_steps 4
    }

    [Fact]
    public void AStudentIsEvaluatedWithItsOwnSamplerAndTheRowGoesToStdoutUnlessJsonIsGiven()
    {
        using var dir = new TempDir();
        var tracked = Path.Combine(Fixtures.Root, "docs", "reproduction", "eval.jsonl");
        long trackedBefore = File.Exists(tracked) ? new FileInfo(tracked).Length : -1;

        var target = EvalCommand.Prepare(tiny.Student, null, null, null, EvalDecoder.Full, _ => { });
        var stdout = new StringWriter();
        var record = EvalCommand.Run(target, TinyEvaluator(), FixtureData.Emoji, Images, Resamples, jsonPath: null, stdout, _ => { });
        var row = JsonNode.Parse(stdout.ToString().Trim())!.AsObject();
        Assert.Equal("studentrenoise", (string?)row["Sampler"]);
        Assert.Equal(1, (int)row["Steps"]!);
        Assert.Equal(0.0, (double)row["Guidance"]!);
        Assert.Equal("full", (string?)row["decoder"]);
        Assert.True((double)row["fid_ci_low"]! <= (double)row["fid_ci_high"]!, stdout.ToString());
        Assert.True(double.IsFinite(record.Fid));
        Assert.Equal(trackedBefore, File.Exists(tracked) ? new FileInfo(tracked).Length : -1);

        var json = dir.File("rows/eval.jsonl");
        var again = new StringWriter();
        EvalCommand.Run(target, TinyEvaluator(), FixtureData.Emoji, Images, bootstrap: 0, json, again, _ => { });
        Assert.Equal(again.ToString().Trim(), File.ReadAllText(json).Trim());
        Assert.Null(JsonNode.Parse(again.ToString())!["fid_ci_low"]);   // --bootstrap 0 leaves the interval out
    }

    [Fact]
    public void TheTinyDecoderOrAnAutoencoderTinyFolderDecodesInsteadOfTheVae()
    {
        using var dir = new TempDir();
        var model = StudentWithVaeTiny(dir);
        var full = EvalCommand.Prepare(model, null, null, null, EvalDecoder.Full, _ => { });
        var tinyTarget = EvalCommand.Prepare(model, null, null, null, EvalDecoder.Tiny, _ => { });
        var folder = TinyDecoderFolder(dir, "my-taesd");
        var folderTarget = EvalCommand.Prepare(model, null, null, null, folder, _ => { });
        Assert.Equal("tiny", tinyTarget.Decoder.Name);
        Assert.Equal("my-taesd", folderTarget.Decoder.Name);

        using var latents = randn([2, 4, 4, 4], generator: new TorchSharp.torch.Generator(1));
        using var a = full.Decoder.Decode(latents);
        using var b = tinyTarget.Decoder.Decode(latents);
        Assert.Equal(a.shape, b.shape);
        Assert.True((a - b).abs().max().item<float>() > 1e-3f, "the tiny decoder should give other pixels than the VAE");

        var record = EvalCommand.Run(tinyTarget, TinyEvaluator(), FixtureData.Emoji, Images, bootstrap: 0, null, new StringWriter(), _ => { });
        Assert.Equal("tiny", record.Decoder);
    }

    [Fact]
    public void ABadDecoderIsOneLineAndExitTwo()
    {
        using var dir = new TempDir();
        CliRun.AssertBadInput(CliRun.Train("eval", "--model", tiny.Student, "--decoder", dir.File("missing")), "--decoder");
        CliRun.AssertBadInput(CliRun.Train("eval", "--model", tiny.Student, "--decoder", "tiny"), "vae_tiny");
        CliRun.AssertBadInput(CliRun.Train("eval", "--model", tiny.Student, "--decoder", Path.Combine(tiny.Student, "unet")), "AutoencoderTiny");
        CliRun.AssertBadInput(CliRun.Train("eval", "--model", tiny.Student, "--decoder", TinyDecoderFolder(dir, "three", latentChannels: 3)), "latent_channels 3");
    }

    [Fact]
    public void NonFiniteWeightsOrFeaturesAreOneLineErrorsNotACrash()
    {
        using var dir = new TempDir();
        // NaN weights on disk: the loader refuses them, naming the tensor.
        var pipeline = ReferencePipeline.Load(tiny.Student);
        using (no_grad()) pipeline.Unet.parameters().First().fill_(double.NaN);
        pipeline.Save(dir.File("nan"), "AddStudentPipeline");
        CliRun.AssertBadInput(CliRun.Train("eval", "--model", dir.File("nan")), "non-finite");

        // Finite weights whose activations overflow: non-finite features are an InvalidDataException (exit 2), not an
        // ArithmeticException from the eigen-decomposition.
        var target = EvalCommand.Prepare(tiny.Student, null, null, null, EvalDecoder.Full, _ => { });
        using (no_grad()) foreach (var p in target.Pipeline.Unet.parameters()) p.fill_(1e30);
        var e = Assert.Throws<InvalidDataException>(() => EvalCommand.Run(target, TinyEvaluator(), FixtureData.Emoji, Images, 0, null, new StringWriter(), _ => { }));
        Assert.Contains("NaN or infinite", e.Message);
        Assert.Equal(2, Add.Train.Program.ExitCode(e));
        Assert.Throws<ArgumentException>(() => SymmetricEigen.Decompose([1, double.NaN, double.NaN, 1], 2));
    }
}
