using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Add.Perf;

/// <summary>One benchmark row: our kernel and the matching TorchSharp op on the same inputs, and the row's useful flops.</summary>
/// <param name="Name">kernel and model site, e.g. "linear unet.ff.geglu"</param>
/// <param name="Shape">shapes in words, e.g. "X [128, 64] W [512, 64]"</param>
/// <param name="Flops">floating-point operations of one call (the formula's, not the implementation's)</param>
/// <param name="Setup">builds the inputs once and returns (ours, torch) closures; each closure runs one call; torch is null
/// for a row with no libtorch side (the FMA peak)</param>
/// <param name="Gemm">a GEMM-type row (linear, conv, attention): the sd-turbo table gives its share of the FMA peak</param>
public sealed record BenchRow(string Name, string Shape, double Flops, Func<(Action Ours, Action? Torch)> Setup, bool Gemm = false);

/// <param name="TierUpRounds">rounds of 40 calls of every kernel (then a pause) before timing, so the JIT's tier-1 code is what gets timed</param>
/// <param name="QuietMs">busy pause before each sample, so the other side's spinning threads (libtorch's OpenMP team spins for
/// milliseconds after an op; ours for 0.2 ms) have gone to sleep and each side is timed on an otherwise idle machine</param>
/// <param name="PerRowSetup">build each row's inputs just before timing it and release them after (large rows)</param>
/// <param name="PeakBeside">the FMA peak row: when set, every GEMM-type row's repeats also time a sample of it, interleaved
/// with the row's own samples, so the row's share of the peak compares two measurements of the same minutes (this VM
/// changes speed state within minutes, so a peak measured once at the start of a 3-minute table can be the wrong one)</param>
public sealed record BenchOptions(int Repeats, int WarmupCalls, double TargetSampleMs, int TierUpRounds, int QuietMs = 0, bool PerRowSetup = false,
    BenchRow? PeakBeside = null);

/// <param name="TorchMs">NaN (and so <paramref name="Ratio"/>) for a row with no libtorch side</param>
/// <param name="PeakBesideGflops">the FMA peak timed between this row's samples (<see cref="BenchOptions.PeakBeside"/>), else NaN</param>
public sealed record BenchResult(string Name, string Shape, double OursMs, double TorchMs, double Ratio, double OursGflops, bool Gemm = false,
    double PeakBesideGflops = double.NaN);

/// <summary>
/// Times rows: tier-up rounds over all rows, then per row warm-up calls of both, then per repeat one sample of ours and one of torch (alternating, so
/// drift in clock or load hits both alike, each after a quiet pause so neither side's idle-spinning threads steal the
/// other's cores), each sample = enough calls to last about TargetSampleMs; reports medians.
/// <para>With <see cref="BenchOptions.PerRowSetup"/> (the sd-turbo rows: hundreds of MB of inputs each) a row's inputs are
/// built just before it is timed and released (collected) after it, so only one row's tensors are alive at a time, and
/// the tier-up rounds are skipped (Add.Perf JITs fully optimised code at once; these calls last milliseconds to seconds).</para>
/// </summary>
public static class KernelBench
{
    public static List<BenchResult> Run(IReadOnlyList<BenchRow> rows, BenchOptions options, TextWriter log)
    {
        var results = new List<BenchResult>();
        var closures = options.PerRowSetup ? null : rows.Select(r => r.Setup()).ToList();
        if (closures is not null && options.TierUpRounds > 0)
        {
            // .NET compiles a method first without optimisation and recompiles it fully optimised after 30 calls, in the
            // background: call every kernel past that threshold and give the JIT time before anything is timed.
            for (int round = 0; round < options.TierUpRounds; round++)
            {
                foreach (var (ours, torch) in closures)
                {
                    for (int i = 0; i < 40; i++)
                        ours();
                    torch?.Invoke();
                }
                Thread.Sleep(500);
            }
        }
        for (int index = 0; index < rows.Count; index++)
        {
            var result = closures is null ? TimeFresh(rows[index], options) : Time(rows[index], closures[index], options);
            results.Add(result);
            log.WriteLine($"{result.Name,-34} {result.Shape,-44} ours {result.OursMs,9:F4} ms  torch {result.TorchMs,9:F4} ms  ratio {result.Ratio,6:F2}  {result.OursGflops,7:F1} GFLOP/s{(double.IsFinite(result.PeakBesideGflops) ? $"  peak beside {result.PeakBesideGflops,6:F1}" : "")}");
            if (closures is null)
            {
                // The row's arrays and tensors (libtorch's freed by their finalizers) are garbage once TimeFresh returns.
                GC.Collect();
                GC.WaitForPendingFinalizers();
                GC.Collect();
            }
        }
        return results;
    }

    /// <summary>Builds the row's inputs, times it; not inlined, so nothing of the row stays reachable from the caller's frame.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static BenchResult TimeFresh(BenchRow row, BenchOptions options) => Time(row, row.Setup(), options);

    private static BenchResult Time(BenchRow row, (Action Ours, Action? Torch) closures, BenchOptions options)
    {
        var (ours, torch) = closures;
        for (int i = 0; i < options.WarmupCalls; i++)
        {
            ours();
            torch?.Invoke();
        }
        int oursCalls = CallsFor(ours, options.TargetSampleMs), torchCalls = torch is null ? 0 : CallsFor(torch, options.TargetSampleMs);
        var oursMs = new double[options.Repeats];
        var torchMs = new double[options.Repeats];
        var peak = row.Gemm && options.PeakBeside is BenchRow p ? p.Setup().Ours : null;
        var peakMs = new double[options.Repeats];
        // As many calls per sample as the peak row's own (one 8 ms call right after a quiet pause sometimes ran both
        // threads' halves on the caller while the worker woke, and measured half the peak).
        int peakCalls = peak is null ? 0 : CallsFor(peak, options.TargetSampleMs);
        for (int r = 0; r < options.Repeats; r++)
        {
            if (peak is not null)
            {
                Quiet(options.QuietMs);
                peakMs[r] = Sample(peak, peakCalls);
            }
            Quiet(options.QuietMs);
            oursMs[r] = Sample(ours, oursCalls);
            if (torch is null)
                continue;
            Quiet(options.QuietMs);
            torchMs[r] = Sample(torch, torchCalls);
        }
        double o = Median(oursMs), t = torch is null ? double.NaN : Median(torchMs);
        double beside = peak is null ? double.NaN : options.PeakBeside!.Flops / (Median(peakMs) * 1e6);
        return new BenchResult(row.Name, row.Shape, o, t, o / t, row.Flops / (o * 1e6), row.Gemm, beside);
    }

    /// <summary>Busy-waits: a Thread.Sleep here let the (virtual) cores idle and made the next torch sample up to 100×
    /// slower; spinning on this thread keeps them awake while the other side's threads go to sleep.</summary>
    internal static void Quiet(int ms)
    {
        long end = Stopwatch.GetTimestamp() + Stopwatch.Frequency * ms / 1000;
        while (Stopwatch.GetTimestamp() < end)
            Thread.SpinWait(50);
    }

    private static int CallsFor(Action call, double targetMs)
    {
        if (targetMs <= 0)
            return 1;
        var sw = Stopwatch.StartNew();
        int calls = 0;
        while (sw.Elapsed.TotalMilliseconds < targetMs / 4 || calls < 1)
        {
            call();
            calls++;
        }
        double perCall = sw.Elapsed.TotalMilliseconds / calls;
        return (int)Math.Clamp(targetMs / perCall, 1, 100_000);
    }

    private static double Sample(Action call, int calls)
    {
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < calls; i++)
            call();
        return Stopwatch.GetElapsedTime(start).TotalMilliseconds / calls;
    }

    private static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        int n = sorted.Length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
