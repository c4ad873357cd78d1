using System.Diagnostics;

namespace Add.Engine.Backends;

/// <summary>
/// Per-kernel wall time, call count and work of one or more generations. When a backend has a profiler it waits for
/// each kernel to finish before stopping its clock (so GPU times are real, and the run is slower than unprofiled).
/// Recording is thread-safe (concurrent generations may share one profiler, their times overlapping); reading
/// <see cref="Entries"/> or <see cref="Format"/> while generations run is not.
/// </summary>
public sealed class KernelProfiler
{
    public sealed class Entry(string name)
    {
        public string Name { get; } = name;
        public int Calls { get; internal set; }
        public double Seconds { get; internal set; }
        public double Flops { get; internal set; }
        public double Bytes { get; internal set; }
    }

    private readonly Dictionary<string, Entry> _entries = [];

    public IReadOnlyCollection<Entry> Entries => _entries.Values;

    public double TotalSeconds => _entries.Values.Sum(e => e.Seconds);

    internal void Record(string name, long ticks, double flops, double bytes)
    {
        lock (_entries) RecordLocked(name, ticks, flops, bytes);
    }

    private void RecordLocked(string name, long ticks, double flops, double bytes)
    {
        if (!_entries.TryGetValue(name, out var e)) _entries[name] = e = new Entry(name);
        e.Calls++;
        e.Seconds += ticks / (double)Stopwatch.Frequency;
        e.Flops += flops;
        e.Bytes += bytes;
    }

    public void Clear()
    {
        lock (_entries) _entries.Clear();
    }

    /// <summary>A table: kernel, calls, ms, GFLOP/s, GB/s, share of the profiled total, longest first.</summary>
    public string Format()
    {
        double total = TotalSeconds;
        var lines = new List<string> { $"{"kernel",-16} {"calls",7} {"ms",10} {"GFLOP/s",9} {"GB/s",8} {"share",7}" };
        foreach (var e in _entries.Values.OrderByDescending(e => e.Seconds))
        {
            double s = Math.Max(e.Seconds, 1e-12);
            lines.Add($"{e.Name,-16} {e.Calls,7} {e.Seconds * 1e3,10:F3} {e.Flops / s / 1e9,9:F2} {e.Bytes / s / 1e9,8:F2} {e.Seconds / Math.Max(total, 1e-12),7:P1}");
        }
        lines.Add($"{"total",-16} {_entries.Values.Sum(e => e.Calls),7} {total * 1e3,10:F3}");
        return string.Join(Environment.NewLine, lines);
    }
}
