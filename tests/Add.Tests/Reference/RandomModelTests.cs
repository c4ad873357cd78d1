using Add.Engine.Backends;
using Add.Engine.Pipeline;
using Add.Engine.SafeTensors;
using Add.Tests.Cli;
using Add.Tests.Pipeline;
using Add.Train.Pipeline;

namespace Add.Tests.Reference;

/// <summary>`add-train random-model` at emoji size: a loadable diffusers folder with a finite image, the same bytes for
/// the same seed, F16 tensors for --dtype f16.</summary>
public sealed class RandomModelTests
{
    /// <summary>The configs of the shipped student without its weights: what --config takes.</summary>
    static string ConfigDir(TempDir dir)
    {
        var configs = dir.File("configs");
        File.Copy(PipelineLayout.ModelIndex(ModelSurgery.Emoji), PipelineLayout.ModelIndex(Directory.CreateDirectory(configs).FullName));
        foreach (var c in PipelineLayout.Components.Concat(PipelineLayout.OptionalComponents).Where(c => Directory.Exists(c.Folder(ModelSurgery.Emoji))))
            foreach (var f in Directory.EnumerateFiles(c.Folder(ModelSurgery.Emoji)).Where(f => !f.EndsWith(".safetensors", StringComparison.Ordinal)))
                File.Copy(f, Path.Combine(Directory.CreateDirectory(c.Folder(configs)).FullName, Path.GetFileName(f)));
        return configs;
    }

    static Dictionary<string, byte[]> Files(string folder) => Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
        .ToDictionary(f => Path.GetRelativePath(folder, f), File.ReadAllBytes);

    [Fact]
    public void TheFolderLoadsAndGeneratesAFiniteImageAndTheSameSeedWritesTheSameBytes()
    {
        using var dir = new TempDir();
        var configs = ConfigDir(dir);
        var log = new List<string>();
        RandomModel.Write(configs, dir.File("a"), seed: 5, log: log.Add);
        Assert.Contains(log, l => l.StartsWith("unet: ", StringComparison.Ordinal) && l.Contains("parameters"));
        var run = CliRun.Train("random-model", "--config", configs, "--out", dir.File("b"), "--seed", "5");
        Assert.True(run.Code == 0, run.Err);
        RandomModel.Write(configs, dir.File("c"), seed: 6);

        var a = Files(dir.File("a"));
        Assert.Equal(a, Files(dir.File("b")));
        Assert.NotEqual(a[Path.Combine("unet", "diffusion_pytorch_model.safetensors")], Files(dir.File("c"))[Path.Combine("unet", "diffusion_pytorch_model.safetensors")]);
        foreach (var c in PipelineLayout.Components)
            Assert.Equal(File.ReadAllBytes(c.Config(configs)), a[Path.GetRelativePath(dir.File("a"), c.Config(dir.File("a")))]);

        using var p = DiffusionPipeline.Load(dir.File("a"), new CpuBackend());
        var pixels = new List<float[]>();
        p.Trace = (stage, values) => { if (stage == "image") pixels.Add(values); };
        var image = p.Generate(new GenerationRequest { Prompts = ["grinning face"], Steps = 2, Seed = 1 })[0];
        Assert.Equal(-1, SafeTensorsSet.IndexOfNonFinite(pixels[0]));
        Assert.True(image.Pixels.Distinct().Count() > 1, "a random model's image is not constant");
    }

    [Fact]
    public void F16WritesF16TensorsThatLoad()
    {
        using var dir = new TempDir();
        var configs = ConfigDir(dir);
        RandomModel.Write(configs, dir.File("h"), seed: 5, SafeTensorsDType.F16);
        RandomModel.Write(configs, dir.File("f"), seed: 5, SafeTensorsDType.F32);
        foreach (var c in new[] { PipelineLayout.TextEncoder, PipelineLayout.Unet, PipelineLayout.Vae })
        {
            using var half = SafeTensorsFile.Open(c.Weights(dir.File("h")));
            using var full = SafeTensorsFile.Open(c.Weights(dir.File("f")));
            Assert.All(half.Tensors, t => Assert.Equal(SafeTensorsDType.F16, t.DType));
            Assert.Equal(full.Tensors.Select(t => (t.Name, t.ShapeText)), half.Tensors.Select(t => (t.Name, t.ShapeText)));
            var t0 = full.Tensors[^1].Name;
            var expected = full.ReadFloat32(t0).Select(v => (float)(Half)v);
            Assert.Equal(expected, half.ReadFloat32(t0));
        }
        using var p = DiffusionPipeline.Load(dir.File("h"), new CpuBackend());
        Assert.Single(p.Generate(new GenerationRequest { Prompts = ["red heart"], Steps = 1, Seed = 2 }));
    }

    [Fact]
    public void BadArgumentsExitTwo()
    {
        using var dir = new TempDir();
        var configs = ConfigDir(dir);
        Directory.CreateDirectory(dir.File("full"));
        File.WriteAllText(dir.File("full/x"), "");
        CliRun.AssertBadInput(CliRun.Train("random-model", "--config", configs, "--out", dir.File("full")), "is not empty");
        CliRun.AssertBadInput(CliRun.Train("random-model", "--config", dir.File("none"), "--out", dir.File("o")), "config folder not found");
        CliRun.AssertBadInput(CliRun.Train("random-model", "--config", configs, "--out", dir.File("o"), "--dtype", "bf16"), "--dtype");
    }
}
