using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Add.GpuCheck;

/// <summary>What ran where: the header of results.json and results.md.</summary>
public sealed record RunInfo
{
    [JsonPropertyName("device")] public required string Device { get; init; }
    [JsonPropertyName("accelerator")] public required string Accelerator { get; init; }
    [JsonPropertyName("device_memory_bytes")] public long DeviceMemory { get; init; }
    [JsonPropertyName("max_threads_per_group")] public int MaxThreadsPerGroup { get; init; }
    [JsonPropertyName("tiles")] public required string Tiles { get; init; }
    [JsonPropertyName("ilgpu")] public required string Ilgpu { get; init; }
    [JsonPropertyName("runtime")] public required string Runtime { get; init; }
    [JsonPropertyName("started_utc")] public required string StartedUtc { get; init; }
    [JsonPropertyName("data_created_utc")] public required string DataCreatedUtc { get; init; }
    [JsonPropertyName("warmup")] public int Warmup { get; init; }
    [JsonPropertyName("repeats")] public int Repeats { get; init; }
    [JsonPropertyName("only")] public string[] Only { get; init; } = [];
}

/// <summary>results.json and results.md of a run, and the console line per case.</summary>
public static class Report
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static void Write(string outDir, RunInfo info, List<CaseResult> results)
    {
        Directory.CreateDirectory(outDir);
        var report = new RunReport(info, results.Count(r => r.Passed), results.Count(r => !r.Passed), results);
        File.WriteAllText(Path.Combine(outDir, "results.json"), JsonSerializer.Serialize(report, GpuCheckJson.Files.RunReport));
        File.WriteAllText(Path.Combine(outDir, "results.md"), Markdown(info, results));
    }

    public static string Markdown(RunInfo info, List<CaseResult> results)
    {
        var md = new StringBuilder();
        md.AppendLine("# ILGPU kernel check").AppendLine();
        string memory = info.DeviceMemory < (1L << 50) ? $"{info.DeviceMemory / (1024.0 * 1024 * 1024):F1} GiB" : "host memory";
        md.AppendLine(Inv, $"- Device: {info.Device} ({info.Accelerator}, {memory}, up to {info.MaxThreadsPerGroup} threads per group)");
        md.AppendLine(Inv, $"- Tiles: {info.Tiles}");
        md.AppendLine(Inv, $"- ILGPU {info.Ilgpu}, {info.Runtime}; run {info.StartedUtc}, data prepared {info.DataCreatedUtc}");
        md.AppendLine(Inv, $"- Timing: ILGPU profiling markers around back-to-back launches (CUDA events on a GPU), {info.Warmup} warm-up launches, median of {info.Repeats} repeats; ms per launch");
        md.AppendLine("- Check: expected outputs from the plain reference loops on the CPU (double accumulation); pass when every |err| <= atol + rtol·|ref| (err/allowed <= 1)");
        md.AppendLine("- Throughput: GFLOP/s by the formula's flops (2·M·N·K, 4·B·H·Lq·Lk·D) for GEMM, conv and attention; GB/s of minimum traffic (inputs read once, outputs written once) for the rest");
        if (info.Only.Length > 0)
            md.AppendLine(Inv, $"- Subset: --only {string.Join(",", info.Only)}");
        md.AppendLine(Inv, $"- Result: {results.Count(r => r.Passed)} of {results.Count} cases pass").AppendLine();

        md.AppendLine("| kernel | case | shape | max abs err | tolerance (atol, rtol) | err/allowed | pass | median ms | throughput |");
        md.AppendLine("|---|---|---|---:|---|---:|---|---:|---:|");
        foreach (var r in results)
        {
            double maxAbs = r.Outputs.Count > 0 ? r.Outputs.Max(o => o.MaxAbsError) : double.NaN;
            double ratio = r.Outputs.Count > 0 ? r.Outputs.Max(o => o.MaxRatio) : double.NaN;
            string pass = r.Passed ? "pass" : r.Error is not null ? $"**error**: {Escape(r.Error)}" : "**FAIL**";
            string ms = r.Timing is { } t ? t.MedianMs.ToString("G4", Inv) : "-";
            string tp = r.Throughput is { } x ? $"{x.ToString("G4", Inv)} {r.Unit}" : "-";
            md.AppendLine(Inv, $"| {r.Kernel} | {r.Name} | {Escape(r.Shape)} | {maxAbs:0.00E+0} | {r.Tolerance.Name} ({r.Tolerance.Atol:G2}, {r.Tolerance.Rtol:G2}) | {ratio:F3} | {pass} | {ms} | {tp} |");
        }

        md.AppendLine().AppendLine("## Tolerances").AppendLine();
        foreach (var t in results.Select(r => r.Tolerance).DistinctBy(t => t.Name))
            md.AppendLine(Inv, $"- `{t.Name}` = {t.Atol:G2} + {t.Rtol:G2}·|ref|: {t.Reason}");

        var failures = results.Where(r => !r.Passed && r.Error is null).ToList();
        if (failures.Count > 0)
        {
            md.AppendLine().AppendLine("## Failures").AppendLine();
            foreach (var r in failures)
                foreach (var o in r.Outputs.Where(o => !o.Passed))
                    md.AppendLine(Inv, $"- {r.Name} `{o.Output}`: {o.Failures} of {o.Count} values out of tolerance; worst [{o.WorstIndex}] expected {o.WorstExpected:R} actual {o.WorstActual:R}");
        }
        return md.ToString();
    }

    public static string ConsoleLine(CaseResult r, double seconds)
    {
        string check = r.Error is not null ? $"ERROR {r.Error}"
            : $"{(r.Passed ? "pass" : "FAIL")} err/allowed {r.Outputs.Max(o => o.MaxRatio).ToString("F3", Inv)}";
        string time = r.Timing is { } t ? $"{t.MedianMs.ToString("G4", Inv)} ms" : "";
        string tp = r.Throughput is { } x ? $"{x.ToString("G4", Inv)} {r.Unit}" : "";
        return string.Create(Inv, $"{r.Name,-36} {check,-28} {time,12} {tp,16}  ({seconds:F1} s)");
    }

    private static string Escape(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);
}
