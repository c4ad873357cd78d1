using Add.Engine.Backends;
using Add.Engine.Imaging;
using Add.Tests.Engine;

namespace Add.Tests.Cli;

/// <summary>One test per command-line problem the structure review found (tried as a new user would), each asserting
/// the exit code and the message.</summary>
[Collection(TinyPipelineCollection.Name)]
public sealed class CommandLineReviewTests(TinyPipelines tiny)
{
    [Fact]
    public void GenerateHelpExitsZero()
    {
        var run = CliRun.Add("generate", "--help");
        Assert.Equal(0, run.Code);
        Assert.Contains("--steps", run.Out);
    }

    [Fact]
    public void TrainVaeHelpExitsZero()
    {
        var run = CliRun.Train("vae", "--help");
        Assert.Equal(0, run.Code);
        Assert.Contains("--preset", run.Out);
    }

    [Fact]
    public void ShortAndLongAliasGivenTogetherIsOneOptionGivenTwice()
    {
        var err = CliRun.AssertBadInput(CliRun.Add("generate", "x", "--model", tiny.Student, "-o", "a.png", "--out", "b.png"), "expects a single argument but 2 were provided");
        Assert.DoesNotContain("unknown option", err);
    }

    [Fact]
    public void UnknownFlagAtTheEndIsUnknown()
    {
        var err = CliRun.AssertBadInput(CliRun.Add("generate", "x", "--model", tiny.Student, "--bogus"), "Unrecognized command or argument '--bogus'");
        Assert.DoesNotContain("needs a value", err);
    }

    [Fact]
    public void SeedBeyondInt32IsAcceptedAndTheRangeIsStated()
    {
        using var dir = new TempDir();
        var run = CliRun.Add("generate", "x", "--model", tiny.Student, "--seed", "2147483648", "-o", dir.File("x.png"));
        Assert.True(run.Code == 0, run.Err);
        Assert.Contains("seed 2147483648", run.Out);
        CliRun.AssertBadInput(CliRun.Add("generate", "x", "--seed", "-1"), "--seed must be an integer from 0 to 9223372036854775807, got '-1'");
        CliRun.AssertBadInput(CliRun.Add("generate", "x", "--seed", "9223372036854775808"), "from 0 to 9223372036854775807");
    }

    [Fact]
    public void StrengthZeroIsRefusedWithTheEnginesRange()
    {
        using var dir = new TempDir();
        Png.Save(new RgbImage(8, 8), dir.File("init.png"));
        CliRun.AssertBadInput(CliRun.Add("generate", "x", "--model", tiny.Student, "--init-image", dir.File("init.png"), "--strength", "0"),
            "--strength must be a number greater than 0 and at most 1, got '0'");
    }

    [Fact]
    public void DoubleDashEndsTheOptions()
    {
        using var dir = new TempDir();
        var run = CliRun.Add("generate", "--model", tiny.Student, "-o", dir.File("x.png"), "--", "--not-an-option");
        Assert.True(run.Code == 0, run.Err);
        Assert.True(File.Exists(dir.File("x.png")));
    }

    [Fact]
    public void InfoOnATextFileSaysItIsNotSafetensors()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("README.md"), "# ADD engine\n\nAn open C# implementation of Adversarial Diffusion Distillation.\n");
        var err = CliRun.AssertBadInput(CliRun.Add("info", dir.File("README.md")), "not a safetensors file");
        Assert.Contains("README.md", err);
        Assert.DoesNotMatch(@"\d{10}", err);   // not a header length read from the text
    }

    [Fact]
    public void UnwritableOutputNamesTheOutputNotTheTemporaryFile()
    {
        var run = CliRun.Add("generate", "x", "--model", tiny.Student, "-o", "/proc/x.png");   // the generation runs, the write fails
        Assert.Equal(2, run.Code);
        var last = run.Err.Trim().Split('\n')[^1];
        Assert.StartsWith("add: cannot write /proc/x.png", last);
        Assert.DoesNotContain(".tmp", run.Err);
        Assert.DoesNotContain("   at ", run.Err);
    }

    [Theory]
    [InlineData("unet")]
    [InlineData("vae")]
    public void TruncatedWeightsNameTheComponentFolder(string component)
    {
        using var dir = new TempDir();
        var model = dir.File("model");
        Add.Engine.Pipeline.ModelFolders.Copy(tiny.Student, model);
        var weights = Path.Combine(model, component, "diffusion_pytorch_model.safetensors");
        var bytes = File.ReadAllBytes(weights);
        File.WriteAllBytes(weights, bytes[..(bytes.Length / 2)]);
        CliRun.AssertBadInput(CliRun.Add("generate", "x", "--model", model, "-o", dir.File("x.png")),
            $"{component}/diffusion_pytorch_model.safetensors: truncated");
    }

    [Fact]
    public void OutputFormatFollowsTheExtension()
    {
        using var dir = new TempDir();
        Assert.Equal(0, CliRun.Add("generate", "x", "--model", tiny.Student, "-o", dir.File("x.jpg")).Code);
        Assert.Equal([0xFF, 0xD8, 0xFF], File.ReadAllBytes(dir.File("x.jpg"))[..3]);
        Assert.Equal(0, CliRun.Add("generate", "x", "--model", tiny.Student, "-o", dir.File("x.JPEG")).Code);
        Assert.Equal([0xFF, 0xD8, 0xFF], File.ReadAllBytes(dir.File("x.JPEG"))[..3]);
        Assert.Equal(0, CliRun.Add("generate", "x", "--model", tiny.Student, "-o", dir.File("x.png")).Code);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], File.ReadAllBytes(dir.File("x.png"))[..4]);
        CliRun.AssertBadInput(CliRun.Add("generate", "x", "--model", tiny.Student, "-o", dir.File("x.gif")), "(supported: .png, .jpg, .jpeg)");
        Assert.False(File.Exists(dir.File("x.gif")));
    }

    [Fact]
    public void TrainHelpMentionsNoIssue()
    {
        var run = CliRun.Train("--help");
        Assert.Equal(0, run.Code);
        Assert.DoesNotContain("issue", run.Out, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("issue", CliRun.Train("eval", "--help").Out, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void UnquotedPromptOfSeveralWordsSaysToQuoteIt()
        => CliRun.AssertBadInput(CliRun.Add("generate", "grinning", "face"), "quote it");

    [Fact]
    public void TrainParseErrorsExitTwoAndNameTheChoices()
        => CliRun.AssertBadInput(CliRun.Train("vae", "--preset", "huge"), "unknown preset 'huge' for --preset (choose tiny or default)");

    [SkippableFact]
    public void CudaWithoutADeviceIsNotSupported()
    {
        using (var probe = IlgpuBackend.TryCreateCuda()) Skip.If(probe is not null, "a CUDA device is present");
        var e = Assert.Throws<NotSupportedException>(() => BackendFactory.Create(BackendKind.Cuda));
        Assert.Contains("cuda", e.Message);
        CliRun.AssertBadInput(CliRun.Add("generate", "x", "--model", tiny.Student, "--backend", "cuda"), "the cuda backend needs an NVIDIA GPU");
    }

    [Fact]
    public void PngSaveErrorsNameThePathGiven()
    {
        var e = Assert.ThrowsAny<Exception>(() => Png.Save(new RgbImage(2, 2), "/proc/y.png"));
        Assert.Contains("cannot write /proc/y.png", e.Message);
        Assert.DoesNotContain(".tmp", e.Message);
        Assert.Contains(".png, .jpg, .jpeg", Assert.Throws<NotSupportedException>(() => Png.Save(new RgbImage(2, 2), "y.bmp")).Message);
    }
}
