using System.Text.Json.Nodes;
using Add.Train.Evaluation;

namespace Add.Tests.Reference;

/// <summary>`add-train reproduce --seeds`: the per-seed cells in results.json and the per-seed table in tables.md.</summary>
public class ReproduceSeedsTests
{
    static JsonObject Cell(double fid, int seed, double? seconds) => new()
    {
        ["fid"] = fid, ["acc"] = 0.5, ["diversity"] = 0.25, ["sec_per_image"] = 0.002, ["images"] = 1000,
        ["budget"] = $"400 ADD steps x 32, EMA 0.99, seed {seed}; LADD", ["train_seconds"] = seconds,
    };

    [Fact]
    public void SeedZeroStaysTheAblationCellAndTheMeanAndPerSeedTableAreWritten()
    {
        using var dir = new TempDir();
        var results = new JsonObject { ["teacher"] = new JsonObject(), ["student"] = new JsonObject() };
        ReproduceCommand.RecordSeeds(results, "ladd", [Cell(10, 0, 100.4), Cell(13, 1, null)]);

        Assert.Equal(10, (double)results["ablations"]!["ladd"]!["fid"]!);
        Assert.Contains("seed 0", (string)results["ablations"]!["ladd"]!["budget"]!);
        Assert.Equal([10.0, 13.0], results["ablations_seeds"]!["ladd"]!.AsArray().Select(c => (double)c!["fid"]!));
        Assert.Equal(11.5, (double)results["ablations_fid_mean"]!["ladd"]!);

        ReproduceCommand.WriteTables(results, dir.File("tables.md"));
        var lines = File.ReadAllLines(dir.File("tables.md"));
        Assert.Contains("| ladd | 10.00, 13.00 | 11.50 | 100, ? |", lines);   // a run without result.json has no training time
    }

    /// <summary>--ablations names ablations to run; a name that is none is refused (exit 2, naming it and the known
    /// ones) before any model loads.</summary>
    [Theory]
    [InlineData("ladd,nope", "'nope'")]
    [InlineData(",", "names no ablation")]
    public void UnknownAblationIsOneLineExit2(string names, string expected)
    {
        var (o, err) = (new StringWriter(), new StringWriter());
        int code = Add.CommandLine.CommandLineApp.Run("add-train", new System.CommandLine.RootCommand { ReproduceCommand.Create() },
            ["reproduce", "--skip-main", "--ablations", names], o, err, Add.Train.Program.ExitCode);
        Assert.Equal(2, code);
        Assert.Contains(expected, err.ToString());
        Assert.Single(err.ToString().Trim().Split('\n'));
    }
}
