using Add.Engine;
using Add.Engine.CommandLine;
using Add.Train.Data;

namespace Add.Train.Training;

public enum Preset { Tiny, Default }

/// <summary>Options every training command takes.</summary>
public sealed record TrainOptions
{
    public Preset Preset { get; init; } = Preset.Default;
    public required string RunDir { get; init; }
    public bool Resume { get; init; }
    /// <summary>Overrides the preset's step count when set.</summary>
    public int? Steps { get; init; }
    public int? Batch { get; init; }
    public int Seed { get; init; } = 0;
    public TimeSpan CheckpointEvery { get; init; } = TimeSpan.FromMinutes(3);
    /// <summary>Stop (as on Ctrl-C) after this step; tests use it to simulate a kill.</summary>
    public int? StopAfter { get; init; }

    public const string Usage = "[--preset tiny|default] [--run DIR] [--resume] [--steps N] [--batch B] [--seed S] [--threads T] [--cache DIR]";

    /// <summary>Reads the shared options; <paramref name="name"/> names the default run folder (runs/NAME).</summary>
    public static (TrainOptions Options, string? Cache) Parse(ArgReader a, string name)
    {
        var preset = a.Choice("preset", Preset.Default);
        var threads = a.Int("threads", 0, 0, 256);
        if (threads > 0) TorchSharp.torch.set_num_threads(threads);
        var options = new TrainOptions
        {
            Preset = preset,
            RunDir = a.String("run") ?? Path.Combine(RepoPaths.FindRoot() ?? ".", "runs", preset == Preset.Tiny ? name + "-tiny" : name),
            Resume = a.Flag("resume"),
            Steps = a.String("steps") is null ? null : a.Int("steps", 0, 1),
            Batch = a.String("batch") is null ? null : a.Int("batch", 0, 1, 4096),
            Seed = a.Int("seed", 0),
        };
        return (options, a.String("cache"));
    }

    /// <summary>Where a run exports when --out is not given: RUN/export for the tiny preset (never over a shipped
    /// model), models/<paramref name="modelName"/> in the repository for the default preset.</summary>
    public string DefaultExport(string modelName)
        => Preset == Preset.Tiny ? Path.Combine(RunDir, "export") : Path.Combine(RepoPaths.FindRoot() ?? ".", "models", modelName);

    /// <summary>The full emoji-32 data set, prepared if the cache lacks it.</summary>
    public static Emoji32 LoadData(string? cache) => DataCommand.Prepare(DataCommand.DataFolder(cache), Console.Error.WriteLine);
}
