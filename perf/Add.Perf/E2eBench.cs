using System.Diagnostics;
using Add.Engine.Backends;
using Add.Engine.Pipeline;
using Add.Engine.Sampling;
using Add.Train.Pipeline;

namespace Add.Perf;

/// <summary>
/// `add-perf e2e`: the engine (CPU SIMD backend) against the TorchSharp reference on the shipped student and teacher,
/// whole generations (tokenize, text encoder, UNet steps, sampler, VAE decode, conversion to RGB), warm, alternating
/// the two in one run, median of repeats. Rows: model load, 1-step and 4-step batch-1 latency, teacher 50-step
/// latency (guidance 4), 1-step batch-16 time (throughput = 16 / time); with a tiny decoder, the 1-step batch-1 and
/// batch-16 rows once more decoded by it (<see cref="E2eDecoders"/>). Each timed generation follows a busy pause (--quiet-ms). Peak working set of the engine alone is read
/// (VmHWM) before libtorch runs anything.
/// </summary>
public static class E2eBench
{
    /// <param name="quietMs">busy pause before each timed generation, so the other side's idle-spinning threads are asleep (see KernelBench)</param>
    /// <param name="tinyDecoder">the tiny decoder of the "tiny decoder" rows (<see cref="E2eDecoders.TinyChoice"/>): "tiny" (the
    /// student's vae_tiny), an AutoencoderTiny folder, or null: no such rows</param>
    public static (List<BenchResult> Rows, string Notes) Run(string student, string teacher, string? tinyDecoder, int repeats, int quietMs, TextWriter log)
    {
        var results = new List<BenchResult>();
        var prompt = new List<string> { "grinning face" };
        var batch16 = Enumerable.Range(0, 16).Select(i => i % 2 == 0 ? "grinning face" : "red heart").ToList();

        // Engine-only phase: load time and peak memory before libtorch allocates.
        var loadTimes = new List<double>();
        DiffusionPipeline? engine = null;
        for (int i = 0; i < 5; i++)
        {
            engine?.Dispose();
            var clock = Stopwatch.StartNew();
            engine = DiffusionPipeline.Load(student, new CpuBackend());
            loadTimes.Add(clock.Elapsed.TotalMilliseconds);
        }
        engine!.Generate(new GenerationRequest { Prompts = batch16, Steps = 1 });
        engine.Generate(new GenerationRequest { Prompts = prompt, Steps = 4 });
        long enginePeak = PeakWorkingSet();
        using var engineTeacher = DiffusionPipeline.Load(teacher, new CpuBackend());

        var torchLoads = new List<double>();
        ReferencePipeline? reference = null;
        for (int i = 0; i < 5; i++)
        {
            var clock = Stopwatch.StartNew();
            reference = ReferencePipeline.Load(student);
            torchLoads.Add(clock.Elapsed.TotalMilliseconds);
        }
        var referenceTeacher = ReferencePipeline.Load(teacher);
        var tiny = tinyDecoder is null ? null : E2eDecoders.Prepare(engine, reference!, student, tinyDecoder);
        results.Add(new BenchResult("model load", "add-emoji-32 (30 MB F32)", Median(loadTimes.Skip(1)), Median(torchLoads.Skip(1)), Median(loadTimes.Skip(1)) / Median(torchLoads.Skip(1)), 0));

        var row = new E2eRowTimer(results, quietMs, log);
        void Row(string name, string shape, Action ours, Action torch, int reps) => row.Time(name, shape, ours, torch, reps);

        Row("student 1 step, batch 1", "latency per image", () => engine.Generate(new GenerationRequest { Prompts = prompt, Steps = 1 }),
            () => reference!.Generate(prompt, SamplerKind.StudentRenoise, 1, 0, 1), repeats);
        if (tiny is not null)
            E2eDecoders.TimeRow(row, engine, reference!, tiny, prompt, repeats);
        Row("student 4 steps, batch 1", "latency per image", () => engine.Generate(new GenerationRequest { Prompts = prompt, Steps = 4 }),
            () => reference!.Generate(prompt, SamplerKind.StudentRenoise, 4, 0, 1), repeats);
        Row("student 1 step, batch 16", "time per batch (16 / throughput)", () => engine.Generate(new GenerationRequest { Prompts = batch16, Steps = 1 }),
            () => reference!.Generate(batch16, SamplerKind.StudentRenoise, 1, 0, 1), repeats);
        if (tiny is not null)
            E2eDecoders.TimeRow(row, engine, reference!, tiny, batch16, repeats);
        Row("teacher 50 steps DDIM, cfg 4", "latency per image", () => engineTeacher.Generate(new GenerationRequest { Prompts = prompt, Steps = 50, Guidance = 4 }),
            () => referenceTeacher.Generate(prompt, SamplerKind.Ddim, 50, 4, 1), Math.Max(3, repeats / 3));
        engine.Dispose();
        string notes = $"Engine peak working set (VmHWM, engine only: loaded 5×, batch-16 and 4-step generations, before libtorch ran): {enginePeak / 1048576.0:F0} MiB; " +
                       $"process peak after both: {PeakWorkingSet() / 1048576.0:F0} MiB." +
                       (tiny is null ? "" : " " + E2eDecoders.Describe(tiny, student));
        return (results, notes);
    }

    internal static double Median(IEnumerable<double> values)
    {
        var s = values.Order().ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }

    private static long PeakWorkingSet() => E2eModelBench.Proc("VmHWM");
}

/// <summary>Times one row: the engine and libtorch alternating after two warm-up calls each, each timed call after a busy
/// pause (see <see cref="KernelBench.Quiet"/>); the medians go to the results and the log.</summary>
public sealed class E2eRowTimer(List<BenchResult> results, int quietMs, TextWriter log)
{
    public void Time(string name, string shape, Action ours, Action torch, int reps)
    {
        ours(); torch(); ours(); torch();      // warm-up (JIT, tiering, arena sizing)
        var (a, b) = (new List<double>(), new List<double>());
        for (int r = 0; r < reps; r++)
        {
            KernelBench.Quiet(quietMs);
            var c = Stopwatch.StartNew(); ours(); a.Add(c.Elapsed.TotalMilliseconds);
            KernelBench.Quiet(quietMs);
            c.Restart(); torch(); b.Add(c.Elapsed.TotalMilliseconds);
        }
        var (ma, mb) = (E2eBench.Median(a), E2eBench.Median(b));
        results.Add(new BenchResult(name, shape, ma, mb, ma / mb, 0));
        log.WriteLine($"{name,-40} {shape,-34} ours {ma,9:F2} ms  torch {mb,9:F2} ms  ratio {ma / mb:F2}");
    }
}
