using System.Diagnostics;
using System.Runtime.InteropServices;
using TorchSharp;
using TorchSharp.Modules;

namespace Add.Train.Training;

/// <summary>
/// What every training command shares: resume from the run folder's checkpoint, progress bar, CSV log
/// (log.csv), loss-curve PNG (loss.png), checkpoints every few minutes or every N steps and at the end (atomic,
/// <see cref="Checkpoint"/>), and SIGINT / SIGTERM handling: the current step finishes, a checkpoint is written, and
/// <see cref="Finish"/> throws <see cref="TrainingInterruptedException"/> (exit 130); a second signal ends the process
/// at once. Resuming a run whose checkpoint is already at its last step throws <see cref="RunFinishedException"/>
/// (exit 0, result.json untouched).
/// </summary>
public sealed class TrainingSession : IDisposable
{
    readonly IReadOnlyList<(string Name, torch.nn.Module Module)> _modules;
    readonly IReadOnlyList<OptimizerHelper> _optimizers;
    readonly string[] _columns;
    readonly CsvLog _log;
    readonly ProgressBar _progress;
    readonly Stopwatch _sinceCheckpoint = Stopwatch.StartNew();
    readonly Stopwatch _wall = Stopwatch.StartNew();
    readonly CheckpointInterval _checkpointEvery;
    readonly double _secondsBefore;
    readonly IReadOnlyDictionary<string, string> _settings;
    readonly PosixSignalRegistration[] _signals = [];
    volatile bool _stop, _interrupted;
    int _lastStep, _checkpointStep;

    public string RunDir { get; }
    public int TotalSteps { get; }
    /// <summary>Last completed step restored from the checkpoint (0 for a fresh run).</summary>
    public int StartStep { get; }
    public bool StopRequested => _stop;
    /// <summary>True once SIGINT or SIGTERM arrived (<see cref="Interrupt"/>).</summary>
    public bool Interrupted => _interrupted;
    /// <summary>Wall seconds of training so far, including earlier runs that were resumed.</summary>
    public double Seconds => _secondsBefore + _wall.Elapsed.TotalSeconds;

    public TrainingSession(string runDir, int totalSteps, string[] columns,
        IReadOnlyList<(string Name, torch.nn.Module Module)> modules, IReadOnlyList<OptimizerHelper> optimizers,
        bool resume, CheckpointInterval checkpointEvery, IReadOnlyDictionary<string, string>? settings = null)
    {
        RunDir = runDir; TotalSteps = totalSteps; _columns = columns; _modules = modules; _optimizers = optimizers;
        _settings = settings ?? new Dictionary<string, string>();
        _checkpointEvery = checkpointEvery;
        Directory.CreateDirectory(runDir);
        if (resume)
        {
            var state = Checkpoint.Load(runDir, modules, optimizers, CheckSettings);
            StartStep = state.Step;
            _secondsBefore = state.Extra.GetValueOrDefault("seconds");
            if (StartStep >= totalSteps) throw new RunFinishedException(runDir, StartStep, totalSteps);
            Console.Error.WriteLine($"resumed {runDir} at step {StartStep}");
        }
        else if (Checkpoint.Exists(runDir))
        {
            throw new Add.CommandLine.UsageException($"{runDir} already holds a checkpoint: pass --resume to continue it, or choose another --run");
        }
        _log = new CsvLog(Path.Combine(runDir, "log.csv"), columns, StartStep);
        _progress = new ProgressBar(totalSteps, StartStep);
        _lastStep = _checkpointStep = StartStep;
        _signals = [PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal), PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal)];
    }

    /// <summary>A resumed run must keep the settings its checkpoint was written with (a setting the checkpoint does not
    /// record, from before it was recorded, is not checked).</summary>
    void CheckSettings(Checkpoint.State state)
    {
        foreach (var (key, value) in _settings)
            if (state.Settings?.GetValueOrDefault(key) is string saved && saved != value)
                throw new Add.CommandLine.UsageException($"{RunDir} was trained {With(key, saved)}, not {With(key, value)}: resume it {With(key, saved)}, or choose another --run");
    }

    /// <summary>"with --lambda 2.5"; a flag recorded as set or unset: "with --no-adv", "without --no-adv".</summary>
    static string With(string key, string value) => value switch
    {
        AddSettings.FlagSet => $"with {key}",
        AddSettings.FlagUnset => $"without {key}",
        _ => $"with {key} {value}",
    };

    void OnSignal(PosixSignalContext context)
    {
        if (_interrupted) return;   // a second signal: not cancelled, the process ends at once
        context.Cancel = true;
        Interrupt();
    }

    /// <summary>What SIGINT / SIGTERM do: stop after the current step; <see cref="Finish"/> then writes the checkpoint
    /// and throws <see cref="TrainingInterruptedException"/>.</summary>
    public void Interrupt()
    {
        _interrupted = true;
        _stop = true;
        Console.Error.WriteLine($"{Environment.NewLine}stopping: finishing the step and writing a checkpoint (signal again to quit at once)");
    }

    /// <summary>Asks the loop to stop after the current step (what Ctrl-C does; tests call it to simulate a kill).</summary>
    public void RequestStop() => _stop = true;

    /// <summary>Records a finished step: progress bar always, CSV every <paramref name="logEvery"/> steps.</summary>
    public void Report(int step, IReadOnlyDictionary<string, double> metrics, int logEvery)
    {
        _progress.Update(step, metrics);
        _lastStep = step;
        if (step % logEvery == 0 || step == TotalSteps) _log.Append(step, Seconds, metrics);
    }

    /// <summary>True when a periodic checkpoint is due (steps counted from the last <see cref="Report"/>).</summary>
    public bool CheckpointDue => _checkpointEvery.Due(_lastStep - _checkpointStep, _sinceCheckpoint.Elapsed);

    /// <summary>Writes the checkpoint for <paramref name="step"/> and refreshes loss.png.</summary>
    public void SaveCheckpoint(int step)
    {
        Checkpoint.Save(RunDir, step, _modules, _optimizers, new() { ["seconds"] = Seconds }, _settings);
        _sinceCheckpoint.Restart();
        _checkpointStep = step;
        LossPlot.Write(Path.Combine(RunDir, "log.csv"), _columns, Path.Combine(RunDir, "loss.png"), Path.GetFileName(RunDir));
    }

    /// <summary>Ends the run at <paramref name="step"/>: final checkpoint, plot, a closing line on the progress bar.
    /// After a signal, throws <see cref="TrainingInterruptedException"/> once the checkpoint is written.</summary>
    public void Finish(int step, IReadOnlyDictionary<string, double> metrics)
    {
        _progress.Update(step, metrics, force: true);
        SaveCheckpoint(step);
        if (!_interrupted) return;
        var stopped = new TrainingInterruptedException(RunDir, step, TotalSteps);
        Console.Error.WriteLine(stopped.Message);
        throw stopped;
    }

    public void Dispose()
    {
        foreach (var s in _signals) s.Dispose();
    }

    /// <summary>Deterministic per-step seed, so a resumed run draws the same batches and noise as an uninterrupted one.</summary>
    public static long StepSeed(int seed, int step) => seed * 1_000_003L + step;

    /// <summary>The step's index sampler and tensor-noise generator, both from <see cref="StepSeed"/>.</summary>
    public static (Random Rng, torch.Generator Gen) StepRandom(int seed, int step)
        => (new Random((int)(StepSeed(seed, step) % int.MaxValue)), new torch.Generator((ulong)StepSeed(seed, step)));

    /// <summary>Cosine decay from <paramref name="peak"/> to peak·<paramref name="floor"/> after a linear warmup.</summary>
    public static double CosineLr(int step, int total, double peak, int warmup, double floor = 0.1)
    {
        if (step < warmup) return peak * (step + 1) / warmup;
        double t = (step - warmup) / (double)Math.Max(1, total - warmup);
        return peak * (floor + (1 - floor) * 0.5 * (1 + Math.Cos(Math.PI * Math.Min(1, t))));
    }

    public static void SetLearningRate(OptimizerHelper optimizer, double lr)
    {
        foreach (var g in optimizer.ParamGroups) g.LearningRate = lr;
    }
}

/// <summary>A signal stopped the run; its checkpoint is written. Exits 130 (an <see cref="OperationCanceledException"/>).</summary>
public sealed class TrainingInterruptedException(string runDir, int step, int total)
    : OperationCanceledException($"interrupted at step {step} of {total}: checkpoint written in {runDir}; continue with --resume")
{
    public int Step => step;
}

/// <summary>--resume on a run whose checkpoint is already at its last step: nothing to do, exit 0, result.json untouched.</summary>
public sealed class RunFinishedException(string runDir, int step, int total)
    : Exception($"{runDir} is already finished (step {step} of {total}): nothing to do; pass a larger --steps to train on, or another --run")
{
    public int Step => step;
}
