using Add.Engine.SafeTensors;
using Add.Train.Pipeline;
using Add.Train.Training;
using static TorchSharp.torch;

namespace Add.Tests.Reference;

/// <summary>Tiny-preset VAE and teacher training on the fixture: losses fall, export reloads bit-identically, a killed run resumes.</summary>
[Collection("Training")]
public class TrainingTests
{
    static TrainOptions Tiny(string runDir, int? steps = null, int? stopAfter = null, bool resume = false)
        => new() { Preset = Preset.Tiny, RunDir = runDir, Steps = steps, StopAfter = stopAfter, Resume = resume, CheckpointEvery = TimeSpan.FromHours(1) };

    static double Mean(IEnumerable<(int Step, double Value)> rows) => rows.Average(r => r.Value);

    [Fact]
    public void TinyVaeAndTeacherTrainLossesFallAndExportReloadsBitIdentically()
    {
        using var dir = new TempDir();
        var data = FixtureData.Emoji;
        var vaeResult = VaeTrainer.Train(Tiny(dir.File("vae")), data, _ => { });
        var vaeLoss = CsvLog.Read(Path.Combine(dir.File("vae"), "log.csv"), "mse");
        Assert.True(Mean(vaeLoss.Take(2)) > 1.5 * Mean(vaeLoss.TakeLast(2)), $"VAE MSE should fall: {string.Join(", ", vaeLoss.Select(r => r.Value.ToString("F4")))}");
        Assert.True(vaeResult.ScalingFactor > 0 && double.IsFinite(vaeResult.ScalingFactor));

        var vae = VaeTrainer.Load(vaeResult.ExportDir);
        var export = dir.File("teacher-export");
        var teacher = TeacherTrainer.Train(Tiny(dir.File("teacher")), data, vae, export, _ => { });
        var loss = CsvLog.Read(Path.Combine(dir.File("teacher"), "log.csv"), "loss");
        Assert.True(Mean(loss.Take(2)) > 1.2 * Mean(loss.TakeLast(2)), $"teacher loss should fall: {string.Join(", ", loss.Select(r => r.Value.ToString("F4")))}");
        Assert.True(File.Exists(Path.Combine(dir.File("teacher"), "loss.png")));
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(dir.File("teacher"), "samples")));

        // The exported folder loads, and every tensor in it equals the module's weights bit for bit.
        var pipeline = ReferencePipeline.Load(export);
        foreach (var (folder, file, module) in new (string, string, TorchSharp.torch.nn.Module)[]
                 { ("unet", "diffusion_pytorch_model.safetensors", pipeline.Unet), ("text_encoder", "model.safetensors", pipeline.TextEncoder), ("vae", "diffusion_pytorch_model.safetensors", pipeline.Vae) })
        {
            using var st = SafeTensorsFile.Open(Path.Combine(export, folder, file));
            var sd = module.state_dict();
            Assert.Equal(sd.Count, st.Tensors.Count);
            foreach (var (name, tensor) in sd)
                Assert.True(st.ReadFloat32(name).AsSpan().SequenceEqual(tensor.contiguous().data<float>().ToArray()), $"{folder}/{name} differs after export");
        }
        var images = pipeline.Generate(["grinning face, google style"], Add.Engine.Sampling.SamplerKind.Ddim, 4, 3.0, seed: 5);
        Assert.Equal(32, images[0].Width);
    }

    [Fact]
    public void KilledRunResumesAtTheCheckpointWithTheSameOptimizerState()
    {
        using var dir = new TempDir();
        var data = FixtureData.Emoji;
        const int Steps = 12, Kill = 5;

        var straight = VaeTrainer.Train(Tiny(dir.File("straight"), Steps), data, _ => { });
        var stopped = VaeTrainer.Train(Tiny(dir.File("resumed"), Steps, stopAfter: Kill), data, _ => { });
        Assert.Equal(Kill, stopped.Step);
        var savedOptimizer = File.ReadAllBytes(Path.Combine(dir.File("resumed"), "checkpoint", "optimizer-0.bin"));

        // Loading the checkpoint restores the step and exactly the saved optimizer state (re-saving gives the same bytes).
        var vae = new Add.Train.Model.AutoencoderKL(VaeTrainer.For(Preset.Tiny).Config);
        var optimizer = optim.AdamW(vae.parameters(), lr: 1e-3);
        var state = Checkpoint.Load(dir.File("resumed"), [("vae", vae)], [optimizer]);
        Assert.Equal(Kill, state.Step);
        optimizer.save_state_dict(dir.File("reloaded.bin"));
        Assert.Equal(savedOptimizer, File.ReadAllBytes(dir.File("reloaded.bin")));

        // Resuming finishes the run and lands on the uninterrupted run's weights (per-step seeds make batches identical).
        var resumed = VaeTrainer.Train(Tiny(dir.File("resumed"), Steps, resume: true), data, _ => { });
        Assert.Equal(Steps, resumed.Step);
        using var a = SafeTensorsFile.Open(Path.Combine(straight.ExportDir, "diffusion_pytorch_model.safetensors"));
        using var b = SafeTensorsFile.Open(Path.Combine(resumed.ExportDir, "diffusion_pytorch_model.safetensors"));
        const float ResumeTolerance = 1e-5f;   // same ops and seeds; only libtorch's reduction order could differ
        foreach (var t in a.Tensors)
        {
            var x = a.ReadFloat32(t.Name); var y = b.ReadFloat32(t.Name);
            for (int i = 0; i < x.Length; i++) Assert.True(Math.Abs(x[i] - y[i]) <= ResumeTolerance, $"{t.Name}[{i}]: straight {x[i]}, resumed {y[i]}");
        }
        Assert.Equal(Steps, CsvLog.Read(Path.Combine(dir.File("resumed"), "log.csv"), "loss").Last().Step);
    }
}

/// <summary>Tiny-preset features + ADD on the fixture, after a tiny VAE and teacher.</summary>
[Collection("Training")]
public class AddTrainingTests
{
    [Fact]
    public void TinyAddRunsAndExportsAStudentPipeline()
    {
        using var dir = new TempDir();
        var data = FixtureData.Emoji;
        TrainOptions Tiny(string name) => new() { Preset = Preset.Tiny, RunDir = dir.File(name), CheckpointEvery = TimeSpan.FromHours(1) };
        var vae = VaeTrainer.Load(VaeTrainer.Train(Tiny("vae") with { Steps = 10 }, data, _ => { }).ExportDir);
        TeacherTrainer.Train(Tiny("teacher") with { Steps = 10 }, data, vae, dir.File("teacher-export"), _ => { });
        var features = FeatureTrainer.Load(FeatureTrainer.Train(Tiny("features"), data, dir.File("features-export"), _ => { }).ExportDir);
        var teacher = ReferencePipeline.Load(dir.File("teacher-export"));

        var result = AddTrainer.Train(Tiny("add"), new AddSettings(), AddTrainer.Init.Teacher, data, teacher, features, dir.File("student"), _ => { });
        Assert.Equal(AddTrainer.For(Preset.Tiny).Steps, result.Step);
        Assert.All(new[] { "adv_g", "adv_d", "distill", "r1", "d_real", "d_fake" }, c => Assert.NotEmpty(CsvLog.Read(Path.Combine(dir.File("add"), "log.csv"), c)));

        var student = ReferencePipeline.Load(dir.File("student"));
        Assert.Equal(Add.Engine.Sampling.SamplerKind.StudentRenoise, student.Scheduler.DefaultSampler);
        Assert.Equal((1, 0.0), (student.Scheduler.AddDefaultSteps, student.Scheduler.AddDefaultGuidance));
        Assert.Equal([999.0, 749, 499, 249], student.Timesteps(Add.Engine.Sampling.SamplerKind.StudentRenoise, 4).Timesteps);
        var images = student.Generate(["grinning face, google style"], Add.Engine.Sampling.SamplerKind.StudentRenoise, 1, 0, seed: 3);
        Assert.Single(images);

        // LADD (--disc-features teacher): no feature network, the same loop and export.
        var ladd = new AddSettings { DiscFeatures = DiscFeatures.Teacher };
        var laddResult = AddTrainer.Train(Tiny("ladd") with { Steps = 3 }, ladd, AddTrainer.Init.Teacher, data, teacher, null, dir.File("ladd-student"), _ => { });
        Assert.Equal(3, laddResult.Step);
        Assert.All(new[] { "adv_g", "adv_d", "r1" }, c => Assert.True(double.IsFinite(Assert.Single(CsvLog.Read(Path.Combine(dir.File("ladd"), "log.csv"), c)).Value), c));   // logged at the last step
        Assert.Single(ReferencePipeline.Load(dir.File("ladd-student")).Generate(["grinning face, google style"], Add.Engine.Sampling.SamplerKind.StudentRenoise, 1, 0, seed: 3));

        // Resuming with the other mode is refused in one line, before any weight is read.
        var toTeacher = Assert.Throws<Add.CommandLine.UsageException>(() => AddTrainer.Train(Tiny("add") with { Steps = 8, Resume = true }, ladd, AddTrainer.Init.Teacher, data, teacher, null, dir.File("x"), _ => { }));
        Assert.Contains("--disc-features vit", toTeacher.Message);
        var toVit = Assert.Throws<Add.CommandLine.UsageException>(() => AddTrainer.Train(Tiny("ladd") with { Steps = 8, Resume = true }, new AddSettings(), AddTrainer.Init.Teacher, data, teacher, features, dir.File("x"), _ => { }));
        Assert.Contains("--disc-features teacher", toVit.Message);
        Assert.DoesNotContain('\n', toTeacher.Message + toVit.Message);
        // So is resuming with another weight of a loss, or another LADD noise level (AddSettings.ResumeKeys).
        var otherLambda = Assert.Throws<Add.CommandLine.UsageException>(() => AddTrainer.Train(Tiny("add") with { Steps = 8, Resume = true }, new AddSettings { Lambda = 1 }, AddTrainer.Init.Teacher, data, teacher, features, dir.File("x"), _ => { }));
        Assert.Contains("--lambda 2.5", otherLambda.Message);
        var otherNoise = Assert.Throws<Add.CommandLine.UsageException>(() => AddTrainer.Train(Tiny("ladd") with { Steps = 8, Resume = true }, ladd with { LaddLocation = -1 }, AddTrainer.Init.Teacher, data, teacher, null, dir.File("x"), _ => { }));
        Assert.Contains("--ladd-noise 1,", otherNoise.Message);
        // And resuming with a loss switched off (or on): the flags are recorded as set or unset.
        var withoutAdv = Assert.Throws<Add.CommandLine.UsageException>(() => AddTrainer.Train(Tiny("add") with { Steps = 8, Resume = true }, new AddSettings { Adversarial = false }, AddTrainer.Init.Teacher, data, teacher, features, dir.File("x"), _ => { }));
        Assert.Contains("trained without --no-adv, not with --no-adv: resume it without --no-adv", withoutAdv.Message);
    }
}
