using System.CommandLine;
using Add.CommandLine;
using Add.Tests.Cli;
using Add.Train.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Add.Tests.Reference;

/// <summary>
/// What every training command shares, on a 2×2 linear layer (no data, milliseconds): --checkpoint-every in steps or
/// minutes, a finished run refuses to resume (exit 0, result.json untouched), a corrupt checkpoint is one line and
/// exit 2, a signal ends the run with a checkpoint and exit 130, and the progress bar writes plain lines when redirected.
/// </summary>
[Collection("Training")]
public sealed class TrainingSessionTests
{
    static readonly Dictionary<string, double> Metrics = new() { ["loss"] = 0.5 };

    static TrainingSession Session(string run, int total, bool resume = false, CheckpointInterval? every = null)
    {
        var module = nn.Linear(2, 2);
        var optimizer = optim.AdamW(module.parameters(), lr: 1e-3);
        return new TrainingSession(run, total, ["loss"], [("m", module)], [optimizer], resume, every ?? TimeSpan.FromHours(1));
    }

    /// <summary>A finished run of <paramref name="steps"/> steps with a result.json.</summary>
    static void FinishedRun(string run, int steps)
    {
        using var s = Session(run, steps);
        for (int step = 1; step <= steps; step++) s.Report(step, Metrics, logEvery: 1);
        s.Finish(steps, Metrics);
        File.WriteAllText(Path.Combine(run, "result.json"), "{\"loss\": 0.5}");
    }

    [Theory]
    [InlineData("500", 500, null)]
    [InlineData("1", 1, null)]
    [InlineData("5m", null, 300.0)]
    [InlineData("0.5m", null, 30.0)]
    public void CheckpointEveryParsesStepsAndMinutes(string text, int? steps, double? seconds)
    {
        Assert.True(CheckpointInterval.TryParse(text, out var interval));
        Assert.Equal(steps, interval.Steps);
        Assert.Equal(seconds, interval.Time?.TotalSeconds);
        Assert.Equal(text, interval.ToString());
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-5")]
    [InlineData("5h")]
    [InlineData("m")]
    [InlineData("0m")]
    [InlineData("1e9m")]
    [InlineData("")]
    public void CheckpointEveryRefusesOtherText(string text)
    {
        Assert.False(CheckpointInterval.TryParse(text, out _));
        CliRun.AssertBadInput(CliRun.Train("vae", "--preset", "tiny", "--checkpoint-every", text), "--checkpoint-every");
    }

    [Fact]
    public void CheckpointEveryNStepsIsDueEveryNSteps()
    {
        using var dir = new TempDir();
        using var s = Session(dir.File("run"), 10, every: CheckpointInterval.EverySteps(3));
        var due = new List<int>();
        for (int step = 1; step <= 10; step++)
        {
            s.Report(step, Metrics, logEvery: 1);
            if (s.CheckpointDue) { s.SaveCheckpoint(step); due.Add(step); }
        }
        Assert.Equal([3, 6, 9], due);
        Assert.Equal(9, Checkpoint.ReadState(Path.Combine(dir.File("run"), Checkpoint.Folder, "state.json")).Step);
    }

    [Fact]
    public void ResumingAFinishedRunSaysSoExitsZeroAndLeavesResultJsonAlone()
    {
        using var dir = new TempDir();
        var run = dir.File("run");
        FinishedRun(run, 4);
        var result = Path.Combine(run, "result.json");
        var before = File.ReadAllText(result);
        var e = Assert.Throws<RunFinishedException>(() => Session(run, 4, resume: true));
        Assert.Contains("already finished (step 4 of 4)", e.Message);
        Assert.Equal(0, Add.Train.Program.ExitCode(e));
        Assert.Equal(before, File.ReadAllText(result));
        using var longer = Session(run, 6, resume: true);   // a larger --steps continues it
        Assert.Equal(4, longer.StartStep);
    }

    [Theory]
    [InlineData("{\"Step\": 3, \"Extra\": {\"seconds\": 1.")]   // truncated by a crash
    [InlineData("")]
    [InlineData("null")]
    [InlineData("{\"Step\": -1, \"Extra\": {}}")]
    [InlineData("{\"Step\": \"three\", \"Extra\": {}}")]
    public void ACorruptStateJsonIsOneLineAndExitTwo(string state)
    {
        using var dir = new TempDir();
        var run = dir.File("run");
        FinishedRun(run, 2);
        File.WriteAllText(Path.Combine(run, Checkpoint.Folder, "state.json"), state);
        var e = Assert.Throws<InvalidDataException>(() => Session(run, 4, resume: true));
        Assert.Contains("state.json", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.Equal(2, Add.Train.Program.ExitCode(e));
    }

    [Fact]
    public void ACorruptOptimizerStateIsOneLineAndExitTwo()
    {
        using var dir = new TempDir();
        var run = dir.File("run");
        FinishedRun(run, 2);
        File.WriteAllBytes(Path.Combine(run, Checkpoint.Folder, "optimizer-0.bin"), [1, 2, 3]);
        var e = Assert.Throws<InvalidDataException>(() => Session(run, 4, resume: true));
        Assert.Contains("optimizer-0.bin", e.Message);
        Assert.Equal(2, Add.Train.Program.ExitCode(e));
    }

    [Fact]
    public void ASignalStopsAfterTheStepWritesTheCheckpointAndExits130()
    {
        using var dir = new TempDir();
        var run = dir.File("run");
        using (var s = Session(run, 10))
        {
            s.Report(1, Metrics, logEvery: 1);
            s.Interrupt();
            Assert.True(s.StopRequested && s.Interrupted);
            var e = Assert.Throws<TrainingInterruptedException>(() => s.Finish(1, Metrics));
            Assert.Contains("--resume", e.Message);
        }
        Assert.Equal(1, Checkpoint.ReadState(Path.Combine(run, Checkpoint.Folder, "state.json")).Step);

        // The command line turns it into exit 130.
        var command = new Command("train-like");
        command.SetAction((ParseResult _) => (int)ThrowInterrupted(run));
        var (o, err) = (new StringWriter(), new StringWriter());
        Assert.Equal(130, CommandLineApp.Run("add-train", new RootCommand { command }, ["train-like"], o, err, Add.Train.Program.ExitCode));

        // RequestStop (what --stop-after and the tests use) is not an interruption: Finish returns.
        using var stopped = Session(dir.File("stopped"), 10);
        stopped.Report(1, Metrics, logEvery: 1);
        stopped.RequestStop();
        stopped.Finish(1, Metrics);
        Assert.False(stopped.Interrupted);
    }

    static object ThrowInterrupted(string run) => throw new TrainingInterruptedException(run, 1, 10);

    [Fact]
    public void ProgressBarWritesPlainLinesWhenRedirectedAndRedrawsOnATerminal()
    {
        var plain = new StringWriter();
        var bar = new ProgressBar(10, 0, plain, plain: true);
        for (int step = 1; step <= 3; step++) bar.Update(step, Metrics, force: true);
        Assert.DoesNotContain('\r', plain.ToString());
        Assert.Equal(3, plain.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.StartsWith("     1/10 [##", plain.ToString());

        var terminal = new StringWriter();
        new ProgressBar(10, 0, terminal, plain: false).Update(5, Metrics);
        Assert.StartsWith("\r", terminal.ToString());
    }
}
