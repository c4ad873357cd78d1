using System.Diagnostics;
using System.Text.Json.Serialization;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;

namespace Add.GpuCheck;

/// <summary>Options of <c>run</c>.</summary>
public sealed record RunOptions
{
    public required string DataDir { get; init; }
    public required string OutDir { get; init; }
    /// <summary>"cuda" (first CUDA device) or "cpu" (ILGPU's CPU accelerator emulating an NVIDIA device).</summary>
    public string Accelerator { get; init; } = "cuda";
    /// <summary>"gpu" (the engine's tiles) or "small" (cheap on the CPU accelerator); default gpu on CUDA, small on CPU.</summary>
    public string? Tiles { get; init; }
    public int? Repeats { get; init; }
    public int? Warmup { get; init; }
    /// <summary>Back-to-back launches between two markers; null = adaptive on CUDA (≥ 0.5 ms per repeat), 1 on CPU.</summary>
    public int? Inner { get; init; }
    /// <summary>Run only cases whose name contains, or whose kernel equals, one of these; empty = all.</summary>
    public string[] Only { get; init; } = [];

    [JsonIgnore] public bool Cuda => Accelerator == "cuda";
    [JsonIgnore] public string TileChoice => Tiles ?? (Cuda ? "gpu" : "small");
    [JsonIgnore] public int RepeatCount => Repeats ?? (Cuda ? 50 : 3);
    [JsonIgnore] public int WarmupCount => Warmup ?? (Cuda ? 5 : 1);

    public bool Selects(CheckCase c) =>
        Only.Length == 0 || Only.Any(o => c.Name.Contains(o, StringComparison.Ordinal) || c.Kernel == o);
}

/// <summary>Timing of one case: per-launch times from ILGPU profiling markers (device time on CUDA: CUDA events).</summary>
public sealed record Timing(
    [property: JsonPropertyName("median_ms")] double MedianMs,
    [property: JsonPropertyName("min_ms")] double MinMs,
    [property: JsonPropertyName("max_ms")] double MaxMs,
    [property: JsonPropertyName("repeats")] int Repeats,
    [property: JsonPropertyName("launches_per_repeat")] int Inner);

/// <summary>The outcome of one case.</summary>
public sealed record CaseResult
{
    [JsonPropertyName("name")] public required string Name { get; init; }
    [JsonPropertyName("kernel")] public required string Kernel { get; init; }
    [JsonPropertyName("where")] public required string Where { get; init; }
    [JsonPropertyName("shape")] public required string Shape { get; init; }
    [JsonPropertyName("tolerance")] public required Tolerance Tolerance { get; init; }
    [JsonPropertyName("outputs")] public List<Comparison> Outputs { get; init; } = [];
    [JsonPropertyName("error")] public string? Error { get; init; }
    [JsonPropertyName("timing")] public Timing? Timing { get; init; }
    [JsonPropertyName("flops")] public double Flops { get; init; }
    [JsonPropertyName("bytes")] public double Bytes { get; init; }
    [JsonPropertyName("metric")] public required string Metric { get; init; }

    [JsonPropertyName("passed")] public bool Passed => Error is null && Outputs.Count > 0 && Outputs.All(o => o.Passed);

    /// <summary>GFLOP/s or GB/s at the median time, by <see cref="Metric"/>; null without a timing or work.</summary>
    [JsonPropertyName("throughput")]
    public double? Throughput
    {
        get
        {
            double work = Metric == "flops" ? Flops : Bytes;
            return Timing is { MedianMs: > 0 } t && work > 0 ? work / (t.MedianMs * 1e-3) / 1e9 : null;
        }
    }

    [JsonPropertyName("unit")] public string Unit => Metric == "flops" ? "GFLOP/s" : "GB/s";
}

/// <summary>Runs the selected cases: check once against the expected outputs, then warm up and time.</summary>
public static class Runner
{
    /// <summary>A context for <paramref name="options"/>: ILGPU.Algorithms (XMath on PTX needs it) and profiling markers on.</summary>
    public static Context CreateContext(RunOptions options) => options.Cuda
        ? Context.Create(b => b.Cuda().EnableAlgorithms().Profiling())
        : Context.Create(b => b.CPU(CPUDevice.Nvidia).EnableAlgorithms().Profiling());

    public static Accelerator CreateAccelerator(Context context, RunOptions options)
    {
        if (!options.Cuda)
            return context.CreateCPUAccelerator(0);
        if (context.GetCudaDevices().Count == 0)
            throw new InvalidOperationException("no CUDA device: ILGPU found none (is the NVIDIA driver's libcuda.so visible?)");
        return context.CreateCudaAccelerator(0);
    }

    public static List<CaseResult> Run(Accelerator accelerator, IKernelSet kernels, Manifest manifest, RunOptions options, TextWriter log)
    {
        var results = new List<CaseResult>();
        using var stream = accelerator.CreateStream();
        foreach (var spec in manifest.Cases.Where(options.Selects))
        {
            var clock = Stopwatch.StartNew();
            var result = RunCase(accelerator, kernels, stream, spec, options);
            results.Add(result);
            log.WriteLine(Report.ConsoleLine(result, clock.Elapsed.TotalSeconds));
        }
        return results;
    }

    private static CaseResult RunCase(Accelerator accelerator, IKernelSet kernels, AcceleratorStream stream, CheckCase spec, RunOptions options)
    {
        var result = new CaseResult
        {
            Name = spec.Name, Kernel = spec.Kernel, Where = spec.Where, Shape = spec.Shape, Tolerance = spec.Tolerance,
            Flops = spec.Flops, Bytes = spec.Bytes, Metric = spec.Metric,
        };
        try
        {
            if (!KernelFamilies.Bind.TryGetValue(spec.Kernel, out var bind))
                throw new InvalidDataException($"unknown kernel '{spec.Kernel}'");
            var (inputs, expected) = CaseStore.LoadCase(options.DataDir, spec);
            using var tensors = new DeviceTensors(accelerator, spec, inputs);
            var launch = bind(spec, tensors, kernels);

            // Check: one launch on NaN-filled outputs, compared with the reference loop's values.
            launch(stream);
            stream.Synchronize();
            var outputs = spec.Outputs.Select(o => Comparison.Of(o.Name, expected[o.Name], tensors.Read(o.Name), spec.Tolerance)).ToList();

            var timing = Time(launch, stream, options);
            return result with { Outputs = outputs, Timing = timing };
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return result with { Error = $"{e.GetType().Name}: {e.Message}" };
        }
    }

    /// <summary>
    /// Warm-up launches, then <see cref="RunOptions.RepeatCount"/> repeats of `inner` back-to-back launches between two
    /// profiling markers; per-launch time = marker interval / inner. Launches are out of place, so repeating them
    /// recomputes the same outputs.
    /// </summary>
    private static Timing Time(Action<AcceleratorStream> launch, AcceleratorStream stream, RunOptions options)
    {
        for (int i = 0; i < options.WarmupCount; i++)
            launch(stream);
        stream.Synchronize();

        int inner = options.Inner ?? 1;
        if (options.Inner is null && options.Cuda)
        {
            // Launch overhead is ~µs: batch enough launches that one repeat spans ≥ 0.5 ms of device time.
            double single = Measure(launch, stream, 1, options.Cuda);
            inner = (int)Math.Clamp(Math.Ceiling(0.5 / Math.Max(single, 1e-4)), 1, 200);
        }
        var times = new double[options.RepeatCount];
        for (int r = 0; r < times.Length; r++)
            times[r] = Measure(launch, stream, inner, options.Cuda);
        Array.Sort(times);
        double median = times.Length % 2 == 1 ? times[times.Length / 2] : 0.5 * (times[times.Length / 2 - 1] + times[times.Length / 2]);
        return new Timing(median, times[0], times[^1], times.Length, inner);
    }

    /// <summary>
    /// Milliseconds per launch over <paramref name="inner"/> launches between two markers. CUDA markers are events
    /// recorded on the stream (device time); the CPU accelerator's are host timestamps taken when added, so there the
    /// stream is synchronized before the end marker.
    /// </summary>
    private static double Measure(Action<AcceleratorStream> launch, AcceleratorStream stream, int inner, bool deviceMarkers)
    {
        using var start = stream.AddProfilingMarker();
        for (int i = 0; i < inner; i++)
            launch(stream);
        if (!deviceMarkers)
            stream.Synchronize();
        using var end = stream.AddProfilingMarker();
        return end.MeasureFrom(start).TotalMilliseconds / inner;
    }
}
