using System.Runtime.InteropServices;
using System.Text;

namespace Add.ServeLoad;

/// <summary>The serve section of perf/RESULTS.md (between <c>&lt;!-- serve:begin --&gt;</c> and <c>&lt;!-- serve:end --&gt;</c>,
/// as the other benchmarks keep theirs).</summary>
public static class LoadReport
{
    public static void Write(string path, string backend, int clients, int requests, Sequential sequential, IReadOnlyList<LoadResult> rows)
    {
        var sb = new StringBuilder();
        sb.AppendLine("## `add serve` under load: dynamic batching against one at a time");
        sb.AppendLine();
        sb.AppendLine($"Written by `dotnet run -c Release --project perf/Add.ServeLoad -- --clients {clients} --requests {requests}` on {DateTime.UtcNow:yyyy-MM-dd}: the shipped");
        sb.AppendLine($"student (1 step, 32×32) behind `add serve` on 127.0.0.1, {clients} closed-loop HTTP clients × {requests} requests each (a client sends");
        sb.AppendLine("its next request when the previous answer arrived), both modes in one process one after the other, after warm-up. Latency is");
        sb.AppendLine("the client's (request sent → PNG received, decoded afterwards); every image is compared byte for byte with a direct");
        sb.AppendLine("sequential `DiffusionPipeline.Generate` of the same prompt and seed. The clients run on the same 2 cores as the server,");
        sb.AppendLine("and the load average below says how busy the machine was; compare the rows of one run, not runs of different days.");
        sb.AppendLine();
        sb.AppendLine($"Machine: {Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, .NET {Environment.Version}, backend {backend}{LoadAverage()}");
        sb.AppendLine();
        sb.AppendLine("| mode | images/s | p50 ms | p99 ms | errors | images per generation | identical to sequential |");
        sb.AppendLine("|---|---:|---:|---:|---:|---:|---:|");
        sb.AppendLine($"| sequential direct calls (no HTTP) | {sequential.Images.Count / sequential.Seconds:F1} | {sequential.MedianMs:F2} | | 0 | 1 | (reference) |");
        foreach (var r in rows)
            sb.AppendLine($"| {r.Mode} | {r.ImagesPerSecond:F1} | {r.P50Ms:F1} | {r.P99Ms:F1} | {r.Errors} | {r.ImagesPerGeneration:F1} | {r.Identical} / {r.Requests - r.Errors}" +
                (r.Differing > 0 ? $" ({r.Differing} differ by ≤ {r.MaxDifference})" : "") + " |");
        sb.AppendLine();
        WriteSection(path, "serve", sb.ToString());
    }

    /// <summary>", load average 1.2" from /proc/loadavg at the time of writing (how shared the machine was), or nothing.</summary>
    static string LoadAverage()
    {
        try { return $", load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]} (1 min, at the end of the run)"; }
        catch (IOException) { return ""; }
        catch (UnauthorizedAccessException) { return ""; }
    }

    static void WriteSection(string path, string name, string content)
    {
        string begin = $"<!-- {name}:begin -->", end = $"<!-- {name}:end -->";
        var text = File.Exists(path) ? File.ReadAllText(path) : "# Benchmarks\n\n";
        var block = $"{begin}\n{content}{end}\n";
        int i = text.IndexOf(begin, StringComparison.Ordinal), j = text.IndexOf(end, StringComparison.Ordinal);
        text = i >= 0 && j > i ? text[..i] + block + text[(j + end.Length)..].TrimStart('\n') : text.TrimEnd() + "\n\n" + block;
        File.WriteAllText(path, text);
    }
}
