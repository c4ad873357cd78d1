using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Add.Perf;

/// <summary>A one-line description of the machine the numbers came from.</summary>
public static class Machine
{
    public static string Describe()
    {
        string cpu = "unknown CPU";
        try
        {
            var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            if (line is not null)
                cpu = line[(line.IndexOf(':') + 1)..].Trim();
        }
        catch (IOException)
        {
        }
        return $"{cpu}, {Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}, " +
               $"Vector512 {(Vector512.IsHardwareAccelerated ? "accelerated" : "not accelerated")}, TorchSharp {typeof(TorchSharp.torch).Assembly.GetName().Version}, torch threads {TorchSharp.torch.get_num_threads()}";
    }
}

/// <summary>Writes the JSON rows and the Markdown table of a run.</summary>
public static class Report
{
    private sealed record JsonRow(
        [property: JsonPropertyName("name")] string Name,
        [property: JsonPropertyName("shape")] string Shape,
        [property: JsonPropertyName("ours_ms")] double OursMs,
        [property: JsonPropertyName("torch_ms")] double TorchMs,
        [property: JsonPropertyName("ratio")] double Ratio,
        [property: JsonPropertyName("ours_gflops")] double OursGflops);

    private sealed record JsonReport(
        [property: JsonPropertyName("machine")] string Machine,
        [property: JsonPropertyName("rows")] List<JsonRow> Rows);

    public static void WriteJson(string path, string machine, IEnumerable<BenchResult> results)
    {
        var report = new JsonReport(machine, results.Select(r => new JsonRow(r.Name, r.Shape, Round(r.OursMs), Round(r.TorchMs), Round(r.Ratio), Round(r.OursGflops))).ToList());
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null)
            Directory.CreateDirectory(directory);
        File.WriteAllText(path, JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    public static void WriteMarkdown(string path, string machine, IReadOnlyList<BenchResult> results, BenchOptions options)
    {
        var sb = new StringBuilder();
        sb.AppendLine("# CPU kernels against libtorch");
        sb.AppendLine();
        sb.AppendLine("Written by `dotnet run -c Release --project perf/Add.Perf -- kernels --json FILE`: each row times our CPU SIMD kernel");
        sb.AppendLine("(src/Add.Kernels/Cpu) and the matching TorchSharp op on the same inputs at a shape the shipped UNet, VAE decoder or");
        sb.AppendLine($"text encoder runs, alternating the two, after warm-up; median of {options.Repeats} samples of about {options.TargetSampleMs} ms each.");
        sb.AppendLine("ratio = ours / torch (below 1: ours is faster). GFLOP/s counts the formula's flops (2·M·N·K for GEMMs).");
        sb.AppendLine();
        sb.AppendLine($"Machine: {machine}");
        sb.AppendLine();
        sb.AppendLine("| kernel | shape | ours ms | torch ms | ratio | ours GFLOP/s |");
        sb.AppendLine("|---|---|---:|---:|---:|---:|");
        foreach (var r in results)
            sb.AppendLine($"| {r.Name} | {r.Shape} | {r.OursMs:F4} | {r.TorchMs:F4} | {r.Ratio:F2} | {r.OursGflops:F1} |");
        File.WriteAllText(path, sb.ToString());
    }

    private static double Round(double value) => Math.Round(value, 5);
}
