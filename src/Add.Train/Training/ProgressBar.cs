using System.Diagnostics;

namespace Add.Train.Training;

/// <summary>
/// Progress on stderr: step/total, a bar, the latest metrics, it/s and ETA. On a terminal one line redrawn in place
/// (carriage return) at most every <see cref="TerminalInterval"/>; when stderr is redirected (a log file, a pipe)
/// plain lines without carriage returns, at most one per <see cref="RedirectedInterval"/>, so logs stay readable.
/// </summary>
public sealed class ProgressBar
{
    /// <summary>Seconds between redraws on a terminal.</summary>
    public const double TerminalInterval = 0.5;
    /// <summary>Seconds between lines when redirected: a day-long run logs a few thousand lines, not 170,000.</summary>
    public const double RedirectedInterval = 10;

    readonly int _total, _startStep;
    readonly TextWriter _writer;
    readonly bool _plain;
    readonly Stopwatch _watch = Stopwatch.StartNew();
    double _lastDraw = double.NegativeInfinity;   // seconds

    /// <param name="writer">Where lines go (default: stderr).</param>
    /// <param name="plain">Plain lines instead of an in-place bar (default: whether stderr is redirected).</param>
    public ProgressBar(int total, int startStep, TextWriter? writer = null, bool? plain = null)
    {
        _total = total; _startStep = startStep;
        _writer = writer ?? Console.Error;
        _plain = plain ?? Console.IsErrorRedirected;
    }

    /// <summary>Whether lines are plain (no carriage return).</summary>
    public bool Plain => _plain;

    public void Update(int step, IReadOnlyDictionary<string, double> metrics, bool force = false)
    {
        double now = _watch.Elapsed.TotalSeconds;
        if (!force && now - _lastDraw < (_plain ? RedirectedInterval : TerminalInterval)) return;
        _lastDraw = now;
        double rate = (step - _startStep) / Math.Max(now, 1e-9);
        var eta = rate > 0 ? TimeSpan.FromSeconds((_total - step) / rate) : TimeSpan.Zero;
        int filled = (int)(24.0 * Math.Clamp(step, 0, Math.Max(_total, 1)) / Math.Max(_total, 1));
        var bar = new string('#', filled) + new string('.', 24 - filled);
        var m = string.Join(" ", metrics.Select(kv => $"{kv.Key} {kv.Value:G4}"));
        var line = $"{step,6}/{_total} [{bar}] {m} | {rate:F2} it/s ETA {eta:hh\\:mm\\:ss}";
        if (_plain) _writer.WriteLine(line);
        else
        {
            _writer.Write($"\r{line}   ");
            if (force) _writer.WriteLine();
        }
    }
}
