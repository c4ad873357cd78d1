using Add.Engine.Imaging;

namespace Add.Tests.Engine;

/// <summary>`add generate` end to end on the tiny pipeline, and every bad input the issue lists: exit code 2, one line.</summary>
[Collection(TinyPipelineCollection.Name)]
public sealed class CliTests(TinyPipelines tiny)
{
    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var (o, e) = (new StringWriter(), new StringWriter());
        int code = Add.Cli.Program.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    private static void AssertBadInput(string expected, params string[] args)
    {
        var (code, _, err) = Run(args);
        Assert.Equal(2, code);
        Assert.Contains(expected, err);
        Assert.Single(err.Trim().Split('\n'));
        Assert.DoesNotContain("   at ", err);
    }

    /// <summary>A writable copy of the tiny student to damage.</summary>
    private string CopyOfStudent(TempDir dir)
    {
        var target = dir.File("model");
        Add.Engine.Pipeline.ModelFolders.Copy(tiny.Student, target);
        return target;
    }

    [Fact]
    public void GenerateWritesTheSamePngTwice()
    {
        using var dir = new TempDir();
        string a = dir.File("a.png"), b = dir.File("b.png");
        var first = Run("generate", "grinning face", "--model", tiny.Student, "--steps", "2", "-o", a, "--scale", "3");
        Assert.True(first.Code == 0, first.Err);
        Assert.Equal(0, Run("generate", "grinning face", "--model", tiny.Student, "--steps", "2", "-o", b, "--scale", "3").Code);
        Assert.Equal(File.ReadAllBytes(a), File.ReadAllBytes(b));
        var image = Png.Load(a);
        Assert.Equal((24, 24), (image.Width, image.Height));
    }

    [Fact]
    public void BatchWritesAGrid()
    {
        using var dir = new TempDir();
        Assert.Equal(0, Run("generate", "snowman", "--model", tiny.Student, "--batch", "4", "-o", dir.File("grid.png"), "--scale", "1").Code);
        var grid = Png.Load(dir.File("grid.png"));
        Assert.True(grid.Width > 16 && grid.Height > 16, $"{grid.Width}x{grid.Height}");
    }

    [Fact]
    public void MissingModelFolder() => AssertBadInput("model folder not found", "generate", "x", "--model", "/nonexistent/model");

    [Fact]
    public void CorruptWeights()
    {
        using var dir = new TempDir();
        var model = CopyOfStudent(dir);
        var unet = Path.Combine(model, "unet", "diffusion_pytorch_model.safetensors");
        var bytes = File.ReadAllBytes(unet);
        File.WriteAllBytes(unet, bytes[..(bytes.Length / 2)]);
        AssertBadInput("diffusion_pytorch_model.safetensors", "generate", "x", "--model", model, "-o", dir.File("x.png"));
    }

    [Fact]
    public void MissingWeights()
    {
        using var dir = new TempDir();
        var model = CopyOfStudent(dir);
        File.Delete(Path.Combine(model, "vae", "diffusion_pytorch_model.safetensors"));
        AssertBadInput("weights not found", "generate", "x", "--model", model, "-o", dir.File("x.png"));
    }

    [Fact]
    public void ConfigWeightMismatchNamesKeyAndShapes()
    {
        using var dir = new TempDir();
        var model = CopyOfStudent(dir);
        var config = Path.Combine(model, "unet", "config.json");
        File.WriteAllText(config, File.ReadAllText(config).Replace("\"out_channels\": 4", "\"out_channels\": 8"));
        var vaeConfig = Path.Combine(model, "vae", "config.json");
        File.WriteAllText(vaeConfig, File.ReadAllText(vaeConfig).Replace("\"latent_channels\": 4", "\"latent_channels\": 8"));
        File.WriteAllText(config, File.ReadAllText(config).Replace("\"in_channels\": 4", "\"in_channels\": 8"));
        AssertBadInput("has shape [24, 4, 3, 3] but the config implies [24, 8, 3, 3]", "generate", "x", "--model", model, "-o", dir.File("x.png"));
    }

    [Fact]
    public void UnknownBackend() => AssertBadInput("unknown backend 'tpu'", "generate", "x", "--model", tiny.Student, "--backend", "tpu");

    [Fact]
    public void StepsOutOfRange() => AssertBadInput("runs 1..4 steps", "generate", "x", "--model", tiny.Student, "--steps", "9");

    [Fact]
    public void StepsTimesStrengthBelowOne()
    {
        using var dir = new TempDir();
        Png.Save(new RgbImage(8, 8), dir.File("init.png"));
        AssertBadInput("steps × strength", "generate", "x", "--model", tiny.Student, "--steps", "1", "--init-image", dir.File("init.png"), "--strength", "0.5", "-o", dir.File("x.png"));
    }

    [Fact]
    public void BatchNotPositive() => AssertBadInput("--batch must be an integer from 1 to 256", "generate", "x", "--model", tiny.Student, "--batch", "0");

    [Fact]
    public void UnreadableInitImage()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("init.png"), "not an image");
        AssertBadInput("init.png", "generate", "x", "--model", tiny.Student, "--init-image", dir.File("init.png"), "-o", dir.File("x.png"));
    }

    [Fact]
    public void UnwritableOutputPath() => AssertBadInput("does not exist", "generate", "x", "--model", tiny.Student, "-o", "/nonexistent-folder/x.png");
}
