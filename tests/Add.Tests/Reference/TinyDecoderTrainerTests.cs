using Add.Engine.Configs;
using Add.Engine.Imaging;
using Add.Engine.Pipeline;
using Add.Engine.SafeTensors;
using Add.Tests.Cli;
using Add.Train.Model;
using Add.Train.Training;

namespace Add.Tests.Reference;

/// <summary>`add-train tiny-decoder` on the fixture, distilling the shipped emoji VAE: the loss falls, a stopped run resumes
/// from its checkpoint (reusing the cached full-decoder targets), and the export is a decoder-only AutoencoderTiny folder
/// that the reference loads strictly and `add generate --decoder DIR` uses.</summary>
[Collection("Training")]
public class TinyDecoderTrainerTests
{
    static string EmojiModel => Path.Combine(Fixtures.Root, "models", "add-emoji-32");

    static TrainOptions Tiny(string runDir, int? stopAfter = null, bool resume = false)
        => new() { Preset = Preset.Tiny, RunDir = runDir, StopAfter = stopAfter, Resume = resume, CheckpointEvery = TimeSpan.FromHours(1) };

    [Fact]
    public void TinyDecoderDistilsResumesAndExportsAFolderTheEngineUses()
    {
        using var dir = new TempDir();
        var data = FixtureData.Emoji;
        var vae = VaeTrainer.Load(PipelineLayout.Vae.Folder(EmojiModel));
        var s = TinyDecoderTrainer.For(Preset.Tiny);
        string run = dir.File("run"), export = dir.File("vae_tiny");

        const int Kill = 20;
        var stopped = TinyDecoderTrainer.Train(Tiny(run, stopAfter: Kill), s, data, vae, export, _ => { });
        Assert.Equal(Kill, stopped.Step);
        Assert.False(Directory.Exists(export));
        Assert.True(File.Exists(Path.Combine(run, "targets-train.safetensors")));
        var cacheWritten = File.GetLastWriteTimeUtc(Path.Combine(run, "targets-train.safetensors"));

        var result = TinyDecoderTrainer.Train(Tiny(run, resume: true), s, data, vae, export, _ => { });
        Assert.Equal(s.Steps, result.Step);
        Assert.Equal(cacheWritten, File.GetLastWriteTimeUtc(Path.Combine(run, "targets-train.safetensors")));   // reused, not rebuilt

        var mse = CsvLog.Read(Path.Combine(run, "log.csv"), "mse_full");
        Assert.Equal(s.Steps, mse.Last().Step);
        Assert.True(mse.First().Value > 1.5 * mse.Last().Value, $"MSE against the full decoder should fall: {string.Join(", ", mse.Select(r => r.Value.ToString("F4")))}");
        Assert.True(File.Exists(Path.Combine(run, "loss.png")));
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(run, "samples")));
        Assert.True(File.Exists(Path.Combine(run, "result.json")));

        // PSNRs are finite; the full decoder reproduces the real images better than a 40-step student reproduces either.
        Assert.All(new[] { result.PsnrVsFull, result.PsnrVsReal, result.FullPsnrVsReal }, p => Assert.True(double.IsFinite(p) && p > 0, $"PSNR {p}"));
        Assert.True(result.FullPsnrVsReal > result.PsnrVsReal, $"full {result.FullPsnrVsReal:F2} dB vs tiny {result.PsnrVsReal:F2} dB against the real images");
        Assert.True(result.FlopsPerImage > 0 && result.FlopsPerImage < result.FullDecoderFlopsPerImage);

        // A diffusers AutoencoderTiny folder: _class_name, scaling_factor 1, decoder keys only, loaded strictly by the reference.
        var config = ConfigJson.Load<AutoencoderTinyConfig>(Path.Combine(export, PipelineLayout.ConfigFile), _ => { });
        Assert.Equal(AutoencoderTinyConfig.ClassName, config.DeclaredClass);
        Assert.Equal((1.0, 4), (config.ScalingFactor, config.DecoderFactor));
        Assert.Equal(s.Blocks, config.NumDecoderBlocks);
        using (var weights = SafeTensorsFile.Open(Path.Combine(export, PipelineLayout.DiffusersWeightsFile)))
        {
            Assert.All(weights.Tensors, t => Assert.StartsWith("decoder.layers.", t.Name));
            var decoder = new DecoderTiny(config);
            StateDict.LoadInto(decoder, weights, "decoder.");
            Assert.Equal(result.Parameters, StateDict.ParameterCount(decoder));
        }

        // The engine decodes with it: `add generate --decoder DIR` writes a 32×32 image unlike the full decoder's.
        string tinyPng = dir.File("tiny.png"), fullPng = dir.File("full.png");
        var tinyRun = CliRun.Add("generate", "grinning face", "--model", EmojiModel, "--decoder", export, "--seed", "4", "--scale", "1", "-o", tinyPng);
        Assert.True(tinyRun.Code == 0, tinyRun.Err);
        var fullRun = CliRun.Add("generate", "grinning face", "--model", EmojiModel, "--decoder", "full", "--seed", "4", "--scale", "1", "-o", fullPng);
        Assert.True(fullRun.Code == 0, fullRun.Err);
        var (tiny, full) = (Png.Load(tinyPng), Png.Load(fullPng));
        Assert.Equal((32, 32), (tiny.Width, tiny.Height));
        Assert.NotEqual(full.Pixels, tiny.Pixels);
    }

    /// <summary>With a student, its 1- and 2-step latents join the batches and the report gains their PSNR; --init
    /// starts from an exported decoder (a finished run's weights reproduce its PSNR before any step), and a decoder of
    /// another shape is refused.</summary>
    [Fact]
    public void StudentLatentsJoinTheDataAndInitStartsFromAFolder()
    {
        using var dir = new TempDir();
        var data = FixtureData.Emoji;
        var vae = VaeTrainer.Load(PipelineLayout.Vae.Folder(EmojiModel));
        var s = TinyDecoderTrainer.For(Preset.Tiny) with { Steps = 12 };
        string run = dir.File("run"), export = dir.File("vae_tiny");
        var first = TinyDecoderTrainer.Train(Tiny(run), s, data, vae, export, _ => { }, studentDir: EmojiModel);
        Assert.True(first.StudentPsnrVsFull is > 0 and < 100, $"student-latent PSNR {first.StudentPsnrVsFull}");
        Assert.True(File.Exists(Path.Combine(run, "student-train.safetensors")) && File.Exists(Path.Combine(run, "student-test.safetensors")));
        using (var cached = SafeTensorsFile.Open(Path.Combine(run, "student-test.safetensors")))
            Assert.Equal(data.Indices(test: true).Count(), (int)cached.Get("latents").Shape[0]);

        // One step at a learning rate of ~0 from the export: the same decoder, so the same test PSNR.
        var again = TinyDecoderTrainer.Train(Tiny(dir.File("run2")) with { Steps = 1 }, s with { Lr = 1e-12 }, data, vae, dir.File("out2"), _ => { },
            studentDir: EmojiModel, initDir: export);
        Assert.Equal(first.PsnrVsFull, again.PsnrVsFull, 2);

        var shipped = Path.Combine(EmojiModel, PipelineLayout.VaeTiny.Name);            // C 32, blocks [2, 2, 1]: not the tiny preset's shape
        var refused = Assert.Throws<Add.CommandLine.UsageException>(() =>
            TinyDecoderTrainer.Train(Tiny(dir.File("run3")), s, data, vae, dir.File("out3"), _ => { }, initDir: shipped));
        Assert.Contains("--init", refused.Message);
    }

    [Theory]
    [InlineData("2,x,1")]
    [InlineData("2,-1,1")]
    [InlineData("2,2")]
    public void BadBlocksAreAUsageError(string blocks)
        => CliRun.AssertBadInput(CliRun.Train("tiny-decoder", "--preset", "tiny", "--blocks", blocks, "--run", Path.Combine(Path.GetTempPath(), "never")), "--blocks");
}
