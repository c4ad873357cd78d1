using System.Diagnostics;

namespace Add.Train.Training;

/// <summary>One-line progress on stderr: step/total, a bar, the latest metrics, it/s and ETA.</summary>
public sealed class ProgressBar(int total, int startStep)
{
    readonly Stopwatch _watch = Stopwatch.StartNew();
    double _lastDraw = double.NegativeInfinity;   // seconds

    public void Update(int step, IReadOnlyDictionary<string, double> metrics, bool force = false)
    {
        double now = _watch.Elapsed.TotalSeconds;
        if (!force && now - _lastDraw < 0.5) return;
        _lastDraw = now;
        double rate = (step - startStep) / Math.Max(now, 1e-9);
        var eta = rate > 0 ? TimeSpan.FromSeconds((total - step) / rate) : TimeSpan.Zero;
        int filled = (int)(24.0 * step / Math.Max(total, 1));
        var bar = new string('#', filled) + new string('.', 24 - filled);
        var m = string.Join(" ", metrics.Select(kv => $"{kv.Key} {kv.Value:G4}"));
        Console.Error.Write($"\r{step,6}/{total} [{bar}] {m} | {rate:F2} it/s ETA {eta:hh\\:mm\\:ss}   ");
        if (force) Console.Error.WriteLine();
    }
}
