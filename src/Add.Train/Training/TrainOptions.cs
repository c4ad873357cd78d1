using System.CommandLine;
using Add.CommandLine;
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
    public int Seed { get; init; }
    public TimeSpan CheckpointEvery { get; init; } = TimeSpan.FromMinutes(3);
    /// <summary>Stop (as on Ctrl-C) after this step; tests use it to simulate a kill.</summary>
    public int? StopAfter { get; init; }

    /// <summary>The options every training command takes, added to one command by <see cref="AddTo"/>.</summary>
    public sealed class Cli
    {
        readonly string _name;
        readonly Option<Preset> _preset = Opt.Choice("--preset", "tiny: seconds (used by the tests); default: the full run", "preset", Preset.Default, Opt.EnumChoices<Preset>());
        readonly Option<string?> _run = Opt.Text("--run", "run folder: log, samples, checkpoint (default: runs/NAME, runs/NAME-tiny for the tiny preset)", "DIR");
        readonly Option<bool> _resume = Opt.Flag("--resume", "continue the run's checkpoint (weights, optimizer state, step)");
        readonly Option<int?> _steps = Opt.OptionalInt("--steps", "training steps, at least 1 (default: the preset's)", 1, int.MaxValue);
        readonly Option<int?> _batch = Opt.OptionalInt("--batch", "batch size, 1 to 4096 (default: the preset's)", 1, 4096, "B");
        readonly Option<int> _seed;
        readonly Option<int> _threads = Opt.IntRange("--threads", "TorchSharp CPU threads, 0 to 256 (0 = its default)", 0, 0, 256, "T");
        readonly Option<string?> _cache = CommonOptions.Cache();

        /// <param name="name">Names the default run folder (runs/NAME).</param>
        /// <param name="defaultSeed">The seed without --seed.</param>
        public Cli(string name, int defaultSeed = 0)
        {
            _name = name;
            _seed = Opt.IntRange("--seed", $"random seed, an integer {Opt.Range(int.MinValue, int.MaxValue)}", defaultSeed, int.MinValue, int.MaxValue, "S");
        }

        /// <summary>Adds the shared options to <paramref name="command"/>.</summary>
        public void AddTo(Command command)
        {
            foreach (var o in new Option[] { _preset, _run, _resume, _steps, _batch, _seed, _threads, _cache }) command.Add(o);
        }

        /// <summary>The parsed options (and the cache folder); sets TorchSharp's thread count when --threads is given.</summary>
        public (TrainOptions Options, string? Cache) Read(ParseResult p)
        {
            var preset = p.GetValue(_preset);
            var threads = p.GetValue(_threads);
            if (threads > 0) TorchSharp.torch.set_num_threads(threads);
            var options = new TrainOptions
            {
                Preset = preset,
                RunDir = p.GetValue(_run) ?? Path.Combine(RepoPaths.FindRoot() ?? ".", "runs", preset == Preset.Tiny ? _name + "-tiny" : _name),
                Resume = p.GetValue(_resume),
                Steps = p.GetValue(_steps),
                Batch = p.GetValue(_batch),
                Seed = p.GetValue(_seed),
            };
            return (options, p.GetValue(_cache));
        }
    }

    /// <summary>Where a run exports when --out is not given: RUN/export for the tiny preset (never over a shipped
    /// model), models/<paramref name="modelName"/> in the repository for the default preset.</summary>
    public string DefaultExport(string modelName)
        => Preset == Preset.Tiny ? Path.Combine(RunDir, "export") : Path.Combine(RepoPaths.FindRoot() ?? ".", "models", modelName);

    /// <summary>The full emoji-32 data set, prepared if the cache lacks it.</summary>
    public static Emoji32 LoadData(string? cache) => DataCommand.Prepare(DataCommand.DataFolder(cache), Console.Error.WriteLine);
}
