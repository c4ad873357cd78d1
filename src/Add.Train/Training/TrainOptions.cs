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
    /// <summary>Periodic checkpoints (besides the one at the end): every few minutes or every N steps.</summary>
    public CheckpointInterval CheckpointEvery { get; init; } = CheckpointInterval.Default;
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
        readonly Option<string?> _checkpointEvery = CheckpointEveryOption();

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
            foreach (var o in new Option[] { _preset, _run, _resume, _steps, _batch, _seed, _threads, _checkpointEvery, _cache }) command.Add(o);
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
                CheckpointEvery = p.GetValue(_checkpointEvery) is { } every ? CheckpointInterval.Parse(every) : CheckpointInterval.Default,
            };
            return (options, p.GetValue(_cache));
        }
    }

    static Option<string?> CheckpointEveryOption()
    {
        var option = Opt.Text("--checkpoint-every", $"periodic checkpoints: every N steps (500) or every N minutes (5m, 0.5m) (default: {CheckpointInterval.Default})", "N|Nm");
        option.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<string?>() is { } text && !CheckpointInterval.TryParse(text, out _))
                r.AddError($"--checkpoint-every {text}: not a step count (500) or minutes (5m); both must be positive");
        });
        return option;
    }

    /// <summary>Where a run exports when --out is not given: RUN/export for the tiny preset (never over a shipped
    /// model), models/<paramref name="modelName"/> in the repository for the default preset.</summary>
    public string DefaultExport(string modelName)
        => Preset == Preset.Tiny ? Path.Combine(RunDir, "export") : Path.Combine(RepoPaths.FindRoot() ?? ".", "models", modelName);

    /// <summary>The full emoji-32 data set, prepared if the cache lacks it.</summary>
    public static Emoji32 LoadData(string? cache) => DataCommand.Prepare(DataCommand.DataFolder(cache), Console.Error.WriteLine);
}

/// <summary>How often a training run writes its periodic checkpoint: every <see cref="Steps"/> steps, or every
/// <see cref="Time"/> of wall time (exactly one is set). `--checkpoint-every 500` or `--checkpoint-every 5m`.</summary>
public readonly record struct CheckpointInterval
{
    public int? Steps { get; }
    public TimeSpan? Time { get; }

    CheckpointInterval(int? steps, TimeSpan? time) { Steps = steps; Time = time; }

    static readonly TimeSpan DefaultTime = TimeSpan.FromMinutes(3);

    /// <summary>Every 3 minutes.</summary>
    public static CheckpointInterval Default => EveryTime(DefaultTime);

    public static CheckpointInterval EverySteps(int steps)
        => steps >= 1 ? new(steps, null) : throw new ArgumentOutOfRangeException(nameof(steps), steps, "at least 1");

    public static CheckpointInterval EveryTime(TimeSpan time)
        => time > TimeSpan.Zero ? new(null, time) : throw new ArgumentOutOfRangeException(nameof(time), time, "must be positive");

    public static implicit operator CheckpointInterval(TimeSpan time) => EveryTime(time);

    /// <summary>Whether a checkpoint is due after <paramref name="stepsSince"/> steps and <paramref name="sinceLast"/>
    /// of wall time since the last one.</summary>
    public bool Due(int stepsSince, TimeSpan sinceLast) => Steps is int n ? stepsSince >= n : sinceLast >= (Time ?? DefaultTime);

    /// <summary>"500" (steps) or "5m", "0.5m" (minutes, positive, at most a week).</summary>
    public static bool TryParse(string text, out CheckpointInterval interval)
    {
        interval = Default;
        text = text.Trim();
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        if (text.EndsWith('m') && double.TryParse(text[..^1], System.Globalization.NumberStyles.Float, inv, out var minutes))
        {
            if (!(minutes > 0 && minutes <= 7 * 24 * 60)) return false;
            interval = EveryTime(TimeSpan.FromMinutes(minutes));
            return true;
        }
        if (int.TryParse(text, System.Globalization.NumberStyles.None, inv, out var steps) && steps >= 1)
        {
            interval = EverySteps(steps);
            return true;
        }
        return false;
    }

    public static CheckpointInterval Parse(string text)
        => TryParse(text, out var interval) ? interval : throw new UsageException($"--checkpoint-every {text}: not a step count (500) or minutes (5m)");

    public override string ToString()
        => Steps is int n ? $"{n}" : $"{(Time ?? DefaultTime).TotalMinutes.ToString(System.Globalization.CultureInfo.InvariantCulture)}m";
}
