using System.CommandLine;

namespace Add.Tests.Cli;

/// <summary>`--help` on every command of both tools prints that command's options and exits 0; no help text mentions
/// the issue tracker.</summary>
public sealed class HelpTests
{
    /// <summary>Every command path of a tool: [] (the root), ["generate"], ["data", "show"], ...</summary>
    static IEnumerable<string[]> Paths(Command command, string[] prefix)
    {
        yield return prefix;
        foreach (var sub in command.Subcommands)
            foreach (var path in Paths(sub, [.. prefix, sub.Name])) yield return path;
    }

    static Command Find(Command root, string[] path) => path.Aggregate(root, (c, name) => c.Subcommands.Single(s => s.Name == name));

    public static TheoryData<string, string> Commands()
    {
        var data = new TheoryData<string, string>();
        foreach (var (tool, root) in new[] { ("add", (Command)global::Add.Cli.Program.Create()), ("add-train", global::Add.Train.Program.Create()) })
            foreach (var path in Paths(root, [])) data.Add(tool, string.Join(' ', path));
        return data;
    }

    [Theory, MemberData(nameof(Commands))]
    public void HelpListsTheOptionsAndExitsZero(string tool, string path)
    {
        var words = path.Length == 0 ? [] : path.Split(' ');
        var run = tool == "add" ? CliRun.Add([.. words, "--help"]) : CliRun.Train([.. words, "--help"]);
        Assert.True(run.Code == 0, $"{tool} {path} --help: exit {run.Code}; {run.Err}");
        Assert.Equal("", run.Err);
        var command = Find(tool == "add" ? global::Add.Cli.Program.Create() : global::Add.Train.Program.Create(), words);
        Assert.Contains("Options:", run.Out);
        foreach (var option in command.Options) Assert.Contains(option.Name, run.Out);
        foreach (var sub in command.Subcommands) Assert.Contains(sub.Name, run.Out);
        Assert.DoesNotContain("issue", run.Out, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void EveryCommandIsCovered()
    {
        var commands = Commands().Select(row => $"{row[0]} {row[1]}".Trim()).ToList();
        foreach (var expected in new[] { "add generate", "add profile", "add info", "add-train vae", "add-train data show", "add-train card student", "add-train validate", "add-train reproduce" })
            Assert.Contains(expected, commands);
    }

    [Fact]
    public void NoArgumentsPrintsUsageAndExitsTwo()
    {
        var run = CliRun.Add();
        Assert.Equal(2, run.Code);
        Assert.Contains("generate", run.Out);
    }

    [Fact]
    public void GenerateHelpDocumentsTheSeedRangeAndFormats()
    {
        var run = CliRun.Add("generate", "--help");
        Assert.Contains("from 0 to 9223372036854775807", run.Out);
        Assert.Contains("-o, --out", run.Out);
        Assert.Contains(".jpg", run.Out);
    }
}
