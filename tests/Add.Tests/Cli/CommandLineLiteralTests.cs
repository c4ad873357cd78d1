using Add.Engine.SafeTensors;
using Add.Tests.Engine;

namespace Add.Tests.Cli;

/// <summary>Arguments are taken as typed: no response-file expansion, `help` as a command word, output extensions checked
/// while parsing (before any work), and a failed safetensors write names the destination.</summary>
[Collection(TinyPipelineCollection.Name)]
public sealed class CommandLineLiteralTests(TinyPipelines tiny)
{
    [Fact]
    public void PromptAndOutputStartingWithAtAreTakenLiterally()
    {
        using var dir = new TempDir();
        var output = dir.File("@face.png");
        var run = CliRun.Add("generate", "@home", "--model", tiny.Student, "-o", output);
        Assert.True(run.Code == 0, run.Err);
        Assert.True(File.Exists(output));
        Assert.DoesNotContain("esponse file", run.Err);
    }

    [Fact]
    public void HelpAsACommandWordPrintsTheCommands()
    {
        var add = CliRun.Add("help");
        Assert.Equal(0, add.Code);
        Assert.Contains("generate", add.Out);
        var train = CliRun.Train("help");
        Assert.Equal(0, train.Code);
        Assert.Contains("validate", train.Out);
    }

    [Fact]
    public void ContactSheetWithoutAnImageExtensionIsRefusedWhileParsing()
    {
        using var dir = new TempDir();
        var err = CliRun.AssertBadInput(CliRun.Train("data", "show", "--cache", dir.File("cache"), "-o", dir.File("sheet")), "supported: .png, .jpg, .jpeg");
        Assert.False(Directory.Exists(dir.File("cache")), "the data set must not be prepared before the options are checked");
        Assert.Contains("sheet", err);
    }

    [Fact]
    public void FailedSafetensorsWriteNamesTheDestinationNotTheTemporaryFile()
    {
        var writer = new SafeTensorsWriter();
        writer.AddAsF16("w", [1f, 2f], [2]);
        var e = Assert.Throws<IOException>(() => writer.Save("/proc/add-test.safetensors"));
        Assert.Contains("/proc/add-test.safetensors", e.Message);
        Assert.DoesNotContain(".tmp", e.Message);
    }
}
