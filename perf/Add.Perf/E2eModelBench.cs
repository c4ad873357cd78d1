using System.Diagnostics;
using System.Runtime;
using Add.Engine.Backends;
using Add.Engine.Pipeline;
using Add.Engine.SafeTensors;
using Add.Train.Pipeline;
using Add.Train.Training;
using static TorchSharp.torch;

namespace Add.Perf;

/// <summary>What `add-perf e2e --model DIR` runs.</summary>
/// <param name="Model">a diffusers pipeline folder (model_index.json), e.g. a random SD-Turbo from `add-train random-model`</param>
/// <param name="Repeats">timed generations per (steps, batch) and side; the median of each stage is kept</param>
public sealed record E2eModelOptions(string Model, int Width, int Height, int Repeats, int[] Steps, int[] Batches, long Seed = 0);

/// <summary>One side's measurements: the stage medians per (steps, batch), load time, peak and base resident memory.</summary>
internal sealed record SideResult(Dictionary<(int Steps, int Batch), StageTimes> Times, double LoadMs, long PeakBytes, long BaseBytes, double StealPercent, string Detail = "");

/// <summary>Milliseconds of one generation's stages: the text encoder, the mean UNet step (model call and sampler step),
/// the VAE decode (with the conversion to RGB), and the whole call.</summary>
internal sealed record StageTimes(double Text, double UnetStep, double Decode, double Total);

/// <summary>
/// `add-perf e2e --model DIR --width W --height H`: whole generations on a real-size pipeline, the engine (CPU SIMD backend)
/// against the TorchSharp reference on the same weights, per stage (text encoder, one UNet step, VAE decode) and in total,
/// at 1 and 4 steps and batch 1 and 4, with the peak resident memory of each side.
/// <para>
/// The sides run one after the other in one process, not alternating: each holds a whole model (SD-Turbo: 5.2 GB) and its
/// peak memory is read alone. Engine first: load (GEMM weights are packed there), a warm-up generation (batch 1, 1 step:
/// JIT, the arena, other constants packed at first use), the timed generations, then VmHWM. The engine is disposed, the GC compacts and returns memory (aggressive collection), the
/// kernel's peak counter is reset (<c>/proc/self/clear_refs</c> 5) and libtorch does the same. Hypervisor steal (/proc/stat) is
/// recorded per side, since the two sides' minutes can differ. Both peaks include the process baseline (runtime, libtorch's
/// code), reported beside them.
/// </para>
/// </summary>
public static class E2eModelBench
{
    public static (List<BenchResult> Rows, string Notes) Run(E2eModelOptions o, TextWriter log)
    {
        if (o.Width % 8 != 0 || o.Height % 8 != 0 || o.Width <= 0 || o.Height <= 0)
            throw new ArgumentException($"--width {o.Width} --height {o.Height}: positive multiples of 8 (the VAE's factor)");
        long weightBytes = Fp32WeightBytes(o.Model);
        log.WriteLine($"e2e {o.Model} at {o.Width}×{o.Height}: {weightBytes / 1e9:F2} GB of fp32 weights; steps {string.Join(", ", o.Steps)}, batch {string.Join(", ", o.Batches)}, {o.Repeats} run(s) each");
        var engine = RunEngine(o, log);
        ReleaseManagedMemory();
        bool reset = ResetPeak();
        var torch = RunTorch(o, log);

        var rows = new List<BenchResult>
        {
            Row("model load", "from safetensors", engine.LoadMs, torch.LoadMs),
        };
        foreach (var key in engine.Times.Keys.OrderBy(k => k.Batch).ThenBy(k => k.Steps))
        {
            var (e, t) = (engine.Times[key], torch.Times[key]);
            string shape = $"{o.Width}×{o.Height}, batch {key.Batch}, {key.Steps} step{(key.Steps == 1 ? "" : "s")}";
            if (key.Steps == o.Steps.Min())      // the text encoder and the decode do not depend on the step count
            {
                rows.Add(Row("text encoder", $"batch {key.Batch}", e.Text, t.Text));
                rows.Add(Row("vae decode", $"{o.Width}×{o.Height}, batch {key.Batch}", e.Decode, t.Decode));
            }
            rows.Add(Row("unet step", shape, e.UnetStep, t.UnetStep));
            rows.Add(Row("total", shape, e.Total, t.Total));
        }
        string notes =
            $"Weights: {weightBytes / 1e9:F2} GB fp32. Peak resident memory (VmHWM): engine {Gb(engine.PeakBytes)} GB " +
            $"({(double)engine.PeakBytes / weightBytes:F2}× the weights; process baseline before loading {Gb(engine.BaseBytes)} GB), " +
            $"libtorch {Gb(torch.PeakBytes)} GB ({(double)torch.PeakBytes / weightBytes:F2}×; baseline after the engine was released {Gb(torch.BaseBytes)} GB)" +
            (reset ? "." : "; the peak counter could not be reset (/proc/self/clear_refs), so libtorch's peak is at least the engine's.") +
            $" Hypervisor steal: {engine.StealPercent:F1} % during the engine's runs, {torch.StealPercent:F1} % during libtorch's. {engine.Detail}";
        return (rows, notes);
    }

    static BenchResult Row(string name, string shape, double ours, double torch) => new(name, shape, ours, torch, ours / torch, 0);

    static string Gb(long bytes) => (bytes / 1e9).ToString("F2");

    static List<string> Prompts(int batch) =>
        Enumerable.Range(0, batch).Select(i => i % 2 == 0 ? "a photograph of an astronaut riding a horse" : "a red fox in the snow, detailed fur").ToList();

    static SideResult RunEngine(E2eModelOptions o, TextWriter log)
    {
        long baseBytes = Proc("VmRSS");
        var steal = StealMeter.Start();
        var clock = Stopwatch.StartNew();
        using var engine = DiffusionPipeline.Load(o.Model, new CpuBackend());
        double load = clock.Elapsed.TotalMilliseconds;
        log.WriteLine($"engine: loaded in {load / 1e3:F1} s");
        GenerationRequest Request(int steps, int batch) => new() { Prompts = Prompts(batch), Steps = steps, Guidance = 0, Width = o.Width, Height = o.Height, Seed = o.Seed };
        engine.Generate(Request(o.Steps.Min(), 1));     // warm-up: packs every weight, JIT
        var times = Measure(o, "engine", log, (steps, batch) =>
        {
            double text = 0, unet = 0, decode = 0;
            var total = Stopwatch.StartNew();
            engine.Generate(Request(steps, batch), onStage: (name, seconds) =>
            {
                if (name == "text encoder") text += seconds;
                else if (name.StartsWith("unet ", StringComparison.Ordinal)) unet += seconds;
                else if (name == "vae decode") decode += seconds;
            });
            return new StageTimes(text * 1e3, unet * 1e3 / steps, decode * 1e3, total.Elapsed.TotalMilliseconds);
        });
        // Where the engine's memory is at the end: its activation arena, the packing scratch, the managed heap.
        var gc = GC.GetGCMemoryInfo();
        string detail = $"Engine memory after its runs: activation arena {engine.Arena.Capacity * 4 / 1e9:F2} GB, packing scratch " +
            $"{engine.ScratchFloats * 4 / 1e9:F2} GB, managed heap {gc.HeapSizeBytes / 1e9:F2} GB ({gc.TotalCommittedBytes / 1e9:F2} GB committed), resident {Proc("VmRSS") / 1e9:F2} GB.";
        log.WriteLine(detail);
        foreach (var (stack, i) in engine.Arena.SlotLengths.Select((l, i) => (l, i)).Where(t => t.l.Length > 0))
            log.WriteLine($"  arena stack {i}: block {stack[0] * 4 / 1e6:F0} MB" + (stack.Length > 1 ? ", buffers of takes beyond it (MB): " + string.Join(" ", stack.Skip(1).Select(l => (l * 4 / 1e6).ToString("F0"))) : ""));
        return new SideResult(times, load, Proc("VmHWM"), baseBytes, steal.Percent(), detail);
    }

    static SideResult RunTorch(E2eModelOptions o, TextWriter log)
    {
        long baseBytes = Proc("VmRSS");
        var steal = StealMeter.Start();
        var clock = Stopwatch.StartNew();
        var reference = ReferencePipeline.Load(o.Model);
        reference.Eval();
        double load = clock.Elapsed.TotalMilliseconds;
        log.WriteLine($"libtorch: loaded in {load / 1e3:F1} s");
        var kind = reference.Scheduler.DefaultSampler;
        int factor = reference.Vae.Config.DownsampleFactor;
        StageTimes Generate(int steps, int batch)
        {
            using var scope = NewDisposeScope();
            var prompts = Prompts(batch);
            var gen = new TorchSharp.torch.Generator((ulong)o.Seed);
            var total = Stopwatch.StartNew();
            // As ReferencePipeline.SampleLatents without guidance (SD-Turbo's default): the text encoder, then the sampler.
            var ids = reference.Tokenize(prompts);
            var ids2 = reference.Tokenize2(prompts);
            var (context, added) = reference.Condition(ids, ids2, batch, false, o.Width, o.Height);
            double text = total.Elapsed.TotalMilliseconds;
            var noise = randn([batch, reference.Unet.Config.InChannels, o.Height / factor, o.Width / factor], generator: gen);
            var s = reference.Timesteps(kind, steps);
            var lap = Stopwatch.StartNew();
            var latents = ReferenceSampler.Sample(reference.Unet, s, 0, context, ReferenceSampler.InitialLatent(s, noise),
                () => randn(noise.shape, generator: gen), added: added);
            double unet = lap.Elapsed.TotalMilliseconds / steps;
            lap.Restart();
            var images = ImageTensors.ToImages(reference.Decode(latents));
            double decode = lap.Elapsed.TotalMilliseconds;
            if (images.Count != batch) throw new InvalidOperationException($"libtorch made {images.Count} images for a batch of {batch}");
            return new StageTimes(text, unet, decode, total.Elapsed.TotalMilliseconds);
        }
        Generate(o.Steps.Min(), 1);     // warm-up
        var times = Measure(o, "libtorch", log, Generate);
        return new SideResult(times, load, Proc("VmHWM"), baseBytes, steal.Percent());
    }

    /// <summary>Each (steps, batch) <see cref="E2eModelOptions.Repeats"/> times; the median of each stage.</summary>
    static Dictionary<(int, int), StageTimes> Measure(E2eModelOptions o, string side, TextWriter log, Func<int, int, StageTimes> generate)
    {
        var result = new Dictionary<(int, int), StageTimes>();
        foreach (int batch in o.Batches)
            foreach (int steps in o.Steps)
            {
                var runs = Enumerable.Range(0, o.Repeats).Select(_ => generate(steps, batch)).ToList();
                var m = new StageTimes(E2eBench.Median(runs.Select(r => r.Text)), E2eBench.Median(runs.Select(r => r.UnetStep)),
                    E2eBench.Median(runs.Select(r => r.Decode)), E2eBench.Median(runs.Select(r => r.Total)));
                result[(steps, batch)] = m;
                log.WriteLine($"{side,-8} batch {batch} steps {steps}: text {m.Text,8:F0} ms  unet/step {m.UnetStep,8:F0} ms  decode {m.Decode,8:F0} ms  total {m.Total,8:F0} ms");
            }
        return result;
    }

    /// <summary>Bytes the pipeline's weights take as fp32: every tensor of every non-variant safetensors file under the folder.</summary>
    internal static long Fp32WeightBytes(string folder)
    {
        long elements = 0;
        foreach (var path in Directory.EnumerateFiles(folder, "*.safetensors", SearchOption.AllDirectories))
        {
            if (Path.GetFileName(path).Split('.').Length > 2) continue;     // model.fp16.safetensors: a variant of model.safetensors
            using var file = SafeTensorsFile.Open(path);
            elements += file.Tensors.Sum(t => t.ElementCount);
        }
        if (elements == 0) throw new InvalidDataException($"{folder} holds no safetensors weights");
        return elements * sizeof(float);
    }

    /// <summary>Drops the engine's managed memory and hands it back to the OS, so libtorch's peak starts near the baseline.</summary>
    static void ReleaseManagedMemory()
    {
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
    }

    /// <summary>Resets VmHWM to the current resident set (Linux ≥ 4.0: "5" to clear_refs); false where that is not possible.</summary>
    static bool ResetPeak()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>A /proc/self/status memory line (VmRSS, VmHWM) in bytes.</summary>
    internal static long Proc(string key)
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith(key + ":", StringComparison.Ordinal))
                return long.Parse(line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;     // "VmRSS:\t10682456 kB"
        return Environment.WorkingSet;
    }
}

/// <summary>The share of CPU time the hypervisor stole (/proc/stat's steal column) since <see cref="Start"/>; NaN where unreadable.</summary>
internal readonly record struct StealMeter(long Total, long Steal)
{
    public static StealMeter Start() => Read();

    public double Percent()
    {
        var now = Read();
        return now.Total > Total ? 100.0 * (now.Steal - Steal) / (now.Total - Total) : double.NaN;
    }

    static StealMeter Read()
    {
        try
        {
            var f = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Take(8).Select(long.Parse).ToArray();
            return new StealMeter(f.Sum(), f.Length > 7 ? f[7] : 0);
        }
        catch (IOException)
        {
            return new StealMeter(0, 0);
        }
    }
}
