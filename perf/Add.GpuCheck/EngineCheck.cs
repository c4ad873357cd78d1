using System.Diagnostics;
using System.Globalization;
using System.Text;
using Add.Engine.Backends;
using Add.Engine.Pipeline;

namespace Add.GpuCheck;

/// <summary>
/// `engine`: the whole generator on one backend (CUDA on the GPU machine) against the CPU SIMD backend on the same
/// model, seeds and prompts: max relative error of the final latent, differing image bytes, and warm latency of both
/// (median of repeats). `to-f16`: a model folder with its weights stored as F16 (half the bytes; no script uses it since
/// the bundle stopped carrying a model, kept for one that must: both backends widen the same values, so a comparison
/// is unaffected).
/// </summary>
public static class EngineCheck
{
    /// <summary>Final latent, relative to its range: kernels in other summation orders (GPU tiles, FMA contraction)
    /// across 4 UNet steps; the CPU backends agree with TorchSharp to ~1e-6 (add-train validate).</summary>
    public const double LatentRelTolerance = 1e-3;

    /// <summary>Image bytes that may differ by rounding (a value within the latent's error of a .5 boundary).</summary>
    public const double DifferingBytesFraction = 0.02;

    public static int ToF16(string source, string target)
    {
        ModelFolders.Copy(source, target, asF16: true);
        Console.WriteLine($"{source} -> {target} (F16)");
        return 0;
    }

    /// <summary>The requests of the emoji check: (steps, batch).</summary>
    public static readonly (int Steps, int Batch)[] DefaultRequests = [(1, 1), (4, 2), (1, 16)];

    /// <summary>"1x1,4x2": steps × batch per request.</summary>
    public static (int Steps, int Batch)[] ParseRequests(string text) => text.Split(',').Select(r =>
    {
        var p = r.Split('x');
        return p.Length == 2 && int.TryParse(p[0], NumberStyles.None, CultureInfo.InvariantCulture, out int steps) && steps > 0
            && int.TryParse(p[1], NumberStyles.None, CultureInfo.InvariantCulture, out int batch) && batch > 0
            ? (steps, batch)
            : throw new ArgumentException($"--requests: '{r}' is not STEPSxBATCH (e.g. 1x1,4x2)");
    }).ToArray();

    public static int Run(string model, string outDir, string backend, int repeats, (int Steps, int Batch)[] requests, int? width = null, int? height = null)
    {
        Directory.CreateDirectory(outDir);
        Backend created;
        try { created = BackendFactory.Create(Enum.Parse<BackendKind>(backend.Replace("-", ""), ignoreCase: true)); }
        catch (Exception e) when (e is ArgumentException or NotSupportedException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 3;
        }
        using var device = DiffusionPipeline.Load(model, created);
        using var cpu = DiffusionPipeline.Load(model, new CpuBackend());
        var report = new StringBuilder();
        report.AppendLine($"# Engine on {device.Backend.Name} vs {cpu.Backend.Name}").AppendLine();
        string size = width is null && height is null ? "the model's default size"
            : $"{(width is null ? "default width" : width.ToString())} x {(height is null ? "default height" : height.ToString())}";
        report.AppendLine($"Model {model}, {size}; {DateTime.UtcNow.ToString("u", CultureInfo.InvariantCulture)}; median of {repeats} warm runs.").AppendLine();
        report.AppendLine("| request | latent max rel err | latent max abs | bytes differing | device ms | cpu ms | pass |").AppendLine("|---|---:|---:|---:|---:|---:|---|");
        bool allPass = true;
        foreach (var (steps, batch) in requests)
        {
            var request = new GenerationRequest
            {
                Prompts = Enumerable.Range(0, batch).Select(i => i % 2 == 0 ? "grinning face" : "red heart").ToList(),
                Steps = steps, Seed = 7, Width = width, Height = height,
            };
            float[]? a = null, b = null;
            device.Trace = (stage, v) => { if (stage == "latent") a = v; };
            cpu.Trace = (stage, v) => { if (stage == "latent") b = v; };
            var ia = device.Generate(request);
            var ib = cpu.Generate(request);
            device.Trace = cpu.Trace = null;
            double err = 0, range = 0;
            for (int i = 0; i < a!.Length; i++) { err = Math.Max(err, Math.Abs(a[i] - b![i])); range = Math.Max(range, Math.Abs(b[i])); }
            double rel = err / Math.Max(range, 1e-30);
            int differing = ia.Zip(ib).Sum(p => p.First.Pixels.Zip(p.Second.Pixels).Count(q => q.First != q.Second));
            int total = ia.Sum(i => i.Pixels.Length);
            double deviceMs = Time(device, request, repeats), cpuMs = Time(cpu, request, repeats);
            bool pass = rel <= LatentRelTolerance && differing <= DifferingBytesFraction * total;
            allPass &= pass;
            var line = string.Create(CultureInfo.InvariantCulture, $"| {steps} step(s), batch {batch} | {rel:E2} | {range:F3} | {differing} of {total} | {deviceMs:F2} | {cpuMs:F2} | {(pass ? "yes" : "NO")} |");
            report.AppendLine(line);
            Console.WriteLine(line);
        }
        // Where the device's time goes in the first request (each kernel waited for, so the total is slower than above).
        var (firstSteps, firstBatch) = requests[0];
        var profiler = new KernelProfiler();
        device.Backend.Profiler = profiler;
        device.Generate(new GenerationRequest { Prompts = Enumerable.Repeat("grinning face", firstBatch).ToList(), Steps = firstSteps, Seed = 7, Width = width, Height = height });
        device.Backend.Profiler = null;
        report.AppendLine().AppendLine($"Kernels on {device.Backend.Name}, {firstSteps} step(s), batch {firstBatch}, each waited for ({profiler.TotalSeconds * 1e3:F1} ms in all):").AppendLine();
        report.AppendLine("```").AppendLine(profiler.Format()).AppendLine("```");
        File.WriteAllText(Path.Combine(outDir, "engine.md"), report.ToString());
        Console.WriteLine($"engine.md in {outDir}");
        return allPass ? 0 : 1;
    }

    private static double Time(DiffusionPipeline p, GenerationRequest request, int repeats)
    {
        p.Generate(request);
        var times = new List<double>();
        for (int i = 0; i < repeats; i++)
        {
            var clock = Stopwatch.StartNew();
            p.Generate(request);
            times.Add(clock.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        return times[times.Count / 2];
    }
}
