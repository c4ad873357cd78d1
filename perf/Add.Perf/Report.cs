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
    static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <param name="TorchMs">null for a row with no libtorch side (the FMA peak), and so <paramref name="Ratio"/></param>
    /// <param name="OursPctPeak">GEMM-type rows of a run with a peak row: ours GFLOP/s as a percentage of the peak's</param>
    private sealed record JsonRow(
        [property: JsonPropertyName("name")] string Name,
        [property: JsonPropertyName("shape")] string Shape,
        [property: JsonPropertyName("ours_ms")] double OursMs,
        [property: JsonPropertyName("torch_ms")] double? TorchMs,
        [property: JsonPropertyName("ratio")] double? Ratio,
        [property: JsonPropertyName("ours_gflops")] double OursGflops,
        [property: JsonPropertyName("ours_pct_peak"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? OursPctPeak = null,
        [property: JsonPropertyName("peak_beside_gflops"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? PeakBesideGflops = null,
        [property: JsonPropertyName("ours_pct_peak_beside"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? OursPctPeakBeside = null);

    private sealed record JsonReport(
        [property: JsonPropertyName("machine")] string Machine,
        [property: JsonPropertyName("rows")] List<JsonRow> Rows,
        [property: JsonPropertyName("peak_gflops"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? PeakGflops = null);

    /// <param name="peakGflops">the run's FMA peak (sd-turbo scale): GEMM-type rows also get ours_pct_peak</param>
    public static void WriteJson(string path, string machine, IEnumerable<BenchResult> results, double? peakGflops = null)
    {
        var rows = results.Select(r => new JsonRow(r.Name, r.Shape, Round(r.OursMs), Finite(r.TorchMs), Finite(r.Ratio), Round(r.OursGflops),
            r.Gemm && peakGflops is double p ? Round(100 * r.OursGflops / p) : null,
            Finite(r.PeakBesideGflops), double.IsFinite(r.PeakBesideGflops) ? Round(100 * r.OursGflops / r.PeakBesideGflops) : null)).ToList();
        var report = new JsonReport(machine, rows, peakGflops is double pk ? Round(pk) : null);
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null)
            Directory.CreateDirectory(directory);
        File.WriteAllText(path, JsonSerializer.Serialize(report, Indented) + "\n");
    }

    private static double? Finite(double value) => double.IsFinite(value) ? Round(value) : null;

    /// <summary>A table cell: the value in <paramref name="format"/>, or — when the side was not run (NaN).</summary>
    private static string Cell(double value, string format) => double.IsFinite(value) ? value.ToString(format) : "—";

    /// <param name="filter">the run's --filter: its rows go to a section of their own ("kernels FILTER"), so a partial run
    /// never replaces the full table</param>
    public static void WriteMarkdown(string path, string machine, IReadOnlyList<BenchResult> results, BenchOptions options, string? filter = null)
    {
        var sb = new StringBuilder();
        sb.AppendLine(filter is null ? "## CPU kernels against libtorch" : $"## CPU kernels against libtorch: the rows matching '{filter}'");
        sb.AppendLine();
        sb.AppendLine($"Written by `dotnet run -c Release --project perf/Add.Perf -- kernels --json FILE{(filter is null ? "" : $" --filter {filter}")}` on {DateTime.UtcNow:yyyy-MM-dd}: each row times our CPU SIMD kernel");
        sb.AppendLine("(src/Add.Kernels/<Family>/<Family>Cpu.cs) and the matching TorchSharp op on the same inputs at a shape the shipped UNet, VAE decoder or");
        sb.AppendLine($"text encoder runs, alternating the two, after warm-up; median of {options.Repeats} samples of about {options.TargetSampleMs} ms each,");
        sb.AppendLine($"each after a {options.QuietMs} ms busy pause (`--quiet-ms`) so that neither side's idle threads are still spinning (libtorch's");
        sb.AppendLine("OpenMP team spins for milliseconds after an op; ours for 0.2 ms) when the other is timed.");
        sb.AppendLine("ratio = ours / torch (below 1: ours is faster). GFLOP/s counts the formula's flops (2·M·N·K for GEMMs).");
        sb.AppendLine("Our linear and conv weights are packed into the GEMM's panels once, untimed, as the engine does at first use");
        sb.AppendLine("(`PackedWeight`); TorchSharp's F.linear / F.conv2d get the plain weights, as the reference model passes them.");
        sb.AppendLine();
        sb.AppendLine($"Machine: {machine}");
        sb.AppendLine();
        sb.AppendLine("| kernel | shape | ours ms | torch ms | ratio | ours GFLOP/s |");
        sb.AppendLine("|---|---|---:|---:|---:|---:|");
        foreach (var r in results)
            sb.AppendLine($"| {r.Name} | {r.Shape} | {r.OursMs:F4} | {r.TorchMs:F4} | {r.Ratio:F2} | {r.OursGflops:F1} |");
        WriteSection(path, filter is null ? "kernels" : $"kernels {filter}", sb.ToString());
    }

    public static void WriteE2eMarkdown(string path, string machine, IReadOnlyList<BenchResult> results, int repeats, int quietMs, string notes)
    {
        var sb = new StringBuilder();
        sb.AppendLine("## End to end: engine (CPU SIMD) against the TorchSharp reference");
        sb.AppendLine();
        sb.AppendLine("Written by `dotnet run -c Release --project perf/Add.Perf -- e2e --json FILE`: whole generations on the shipped models");
        sb.AppendLine("(tokenize, text encoder, UNet steps, sampler, VAE decode, RGB conversion), the engine and TorchSharp alternating in one");
        sb.AppendLine($"process, after warm-up, each generation after a {quietMs} ms busy pause (`--quiet-ms`); median of {repeats} runs (teacher row: fewer). Load: median");
        sb.AppendLine("of 4 loads after a first one. libtorch's own latency varies up to ±40 % between runs of this command (1 step: 12-22 ms).");
        sb.AppendLine("ratio = ours / torch (below 1: ours is faster; for the batch-16 rows the throughput ratio is its inverse).");
        sb.AppendLine("Rows marked (tiny decoder) decode with the student's tiny decoder (AutoencoderTiny) instead of its VAE, on both sides.");
        sb.AppendLine();
        AppendE2eTable(sb, machine, results, notes);
        WriteSection(path, "e2e", sb.ToString());
    }

    /// <summary>The machine line, the e2e rows as a table, and the notes.</summary>
    static void AppendE2eTable(StringBuilder sb, string machine, IReadOnlyList<BenchResult> results, string notes)
    {
        sb.AppendLine($"Machine: {machine}");
        sb.AppendLine();
        sb.AppendLine("| run | measure | ours ms | torch ms | ratio |");
        sb.AppendLine("|---|---|---:|---:|---:|");
        foreach (var r in results)
            sb.AppendLine($"| {r.Name} | {r.Shape} | {r.OursMs:F2} | {r.TorchMs:F2} | {r.Ratio:F2} |");
        sb.AppendLine();
        sb.AppendLine(notes);
    }

    /// <summary>`add-perf e2e --model`: its own section ("e2e NAME", NAME the folder's name), with the chart beside the JSON.</summary>
    public static void WriteE2eModelMarkdown(string path, string machine, IReadOnlyList<BenchResult> results, E2eModelOptions o, string notes, string json, string chart)
    {
        string name = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(o.Model)));
        string folder = Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".";
        var sb = new StringBuilder();
        sb.AppendLine($"## End to end at {o.Width}×{o.Height}: {name}, engine (CPU SIMD) against the TorchSharp reference");
        sb.AppendLine();
        sb.AppendLine($"Written by `dotnet run -c Release --project perf/Add.Perf -- e2e --model {o.Model} --width {o.Width} --height {o.Height} --json {json}` on {DateTime.UtcNow:yyyy-MM-dd}");
        sb.AppendLine("(`E2eModelBench`): the same weights on both sides, the model's own sampler without guidance. Per stage: the text encoder,");
        sb.AppendLine("one UNet step (the mean over the steps, model and sampler), the VAE decode (with the conversion to RGB), and the whole");
        sb.AppendLine($"generation (`total`). Each side ran alone (engine first, then libtorch: each holds a whole model, and its peak memory is read");
        sb.AppendLine($"alone), after a warm-up generation; median of {o.Repeats} run(s). ratio = ours / torch (below 1: ours is faster).");
        sb.AppendLine();
        AppendE2eTable(sb, machine, results, notes);
        sb.AppendLine();
        sb.AppendLine($"![per-stage times, engine against libtorch]({Path.GetRelativePath(folder, Path.GetFullPath(chart))})");
        sb.AppendLine();
        WriteSection(path, $"e2e {name}", sb.ToString());
    }

    /// <summary>`add-perf e2e --only-decoders`: its own section ("e2e decoders"), so the full e2e table stays.</summary>
    public static void WriteE2eDecodersMarkdown(string path, string machine, IReadOnlyList<BenchResult> results, int repeats, int quietMs, string notes, string json)
    {
        var sb = new StringBuilder();
        sb.AppendLine("## End to end, 1 step, full VAE against tiny decoder: engine (CPU SIMD) and the TorchSharp reference");
        sb.AppendLine();
        sb.AppendLine($"Written by `dotnet run -c Release --project perf/Add.Perf -- e2e --only-decoders --json {json}` on {DateTime.UtcNow:yyyy-MM-dd}: the shipped student's");
        sb.AppendLine("whole 1-step generation (tokenize, text encoder, one UNet step, decode, RGB conversion) at batch 1 and 16, decoded by its");
        sb.AppendLine("VAE (AutoencoderKL) and by its tiny decoder (AutoencoderTiny, the same weights on both sides: the engine's");
        sb.AppendLine("`GenerationRequest.Decoder = Tiny`, the reference's DecoderTiny). The engine and TorchSharp alternate in one process, after");
        sb.AppendLine($"warm-up, each generation after a {quietMs} ms busy pause (`--quiet-ms`); median of {repeats} runs.");
        sb.AppendLine("ratio = ours / torch (below 1: ours is faster; batch-16 rows: time per batch, throughput = 16 / time).");
        sb.AppendLine();
        AppendE2eTable(sb, machine, results, notes);
        WriteSection(path, "e2e decoders", sb.ToString());
    }

    public static void WriteDecodeMarkdown(string path, string machine, IReadOnlyList<BenchResult> results, DecodeOptions o, string notes)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"## Decoding at {o.Width}×{o.Height}: tiny decoder (AutoencoderTiny) and full VAE (AutoencoderKL), engine against libtorch");
        sb.AppendLine();
        sb.AppendLine($"Written by `dotnet run -c Release --project perf/Add.Perf -- decode --json perf/decode.json --width {o.Width} --height {o.Height}` on {DateTime.UtcNow:yyyy-MM-dd}:");
        sb.AppendLine("one process, the same seeded latents and the same weights on both sides: " +
                      (o.Decoder is null ? "random TAESD-shaped weights (models/configs/taesd, `random-model`'s initialisation)" : $"the tiny decoder in {o.Decoder}") + " and " +
                      (o.Vae is null ? "a random SD-Turbo VAE (models/configs/sd-turbo/vae)" : $"the VAE in {o.Vae}") + $", seed {o.Seed}.");
        sb.AppendLine("The engine runs the CPU SIMD backend; libtorch runs the reference modules (src/Add.Train/Model) under no_grad.");
        sb.AppendLine($"Each call follows a {o.QuietMs} ms busy pause (`--quiet-ms`). ratio = engine / libtorch (below 1: the engine is faster); the last row is engine full / engine tiny.");
        sb.AppendLine();
        sb.AppendLine($"Machine: {machine}");
        sb.AppendLine();
        sb.AppendLine("| decode | size | engine ms | libtorch ms | ratio | engine GFLOP/s |");
        sb.AppendLine("|---|---|---:|---:|---:|---:|");
        foreach (var r in results)
            sb.AppendLine($"| {r.Name} | {r.Shape} | {r.OursMs:F1} | {Cell(r.TorchMs, "F1")} | {Cell(r.Ratio, "F2")} | {(r.OursGflops > 0 ? r.OursGflops.ToString("F1") : "")} |");
        sb.AppendLine();
        sb.AppendLine(notes);
        WriteSection(path, "decode", sb.ToString());
    }

    /// <summary>Replaces the section between <c>&lt;!-- NAME:begin --&gt;</c> and <c>&lt;!-- NAME:end --&gt;</c> (appends it when absent),
    /// so the kernel and end-to-end benchmarks share perf/RESULTS.md without overwriting each other.</summary>
    public static void WriteSection(string path, string name, string content)
    {
        string begin = $"<!-- {name}:begin -->", end = $"<!-- {name}:end -->";
        var text = File.Exists(path) ? File.ReadAllText(path) : "# Benchmarks\n\n";
        var block = $"{begin}\n{content}{end}\n";
        int i = text.IndexOf(begin, StringComparison.Ordinal), j = text.IndexOf(end, StringComparison.Ordinal);
        text = i >= 0 && j > i ? text[..i] + block + text[(j + end.Length)..].TrimStart('\n') : text.TrimEnd() + "\n\n" + block;
        File.WriteAllText(path, text);
    }

    private static double Round(double value) => Math.Round(value, 5);

    /// <summary>`add-perf kernels --scale sd-turbo`: its own section ("kernels sd-turbo", or "kernels sd-turbo FILTER"),
    /// so the emoji table stays; GEMM-type rows get their share of the run's FMA peak row.</summary>
    public static void WriteSdTurboMarkdown(string path, string machine, IReadOnlyList<BenchResult> results, BenchOptions options, double? peakGflops, string json, string? filter)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"## CPU kernels against libtorch at SD-Turbo scale (512×512, 1 step, batch 1){(filter is null ? "" : $": the rows matching '{filter}'")}");
        sb.AppendLine();
        sb.AppendLine($"Written by `dotnet run -c Release --project perf/Add.Perf -- kernels --scale sd-turbo --json {json}{(filter is null ? "" : $" --filter \"{filter}\"")}` on {DateTime.UtcNow:yyyy-MM-dd}:");
        sb.AppendLine("every distinct (kernel, shape) of a 512×512 SD-Turbo generation, derived from models/configs/sd-turbo (text encoder at");
        sb.AppendLine("77 tokens; UNet at 64², 32², 16², 8²; VAE decoder from 64² to 512²), our CPU SIMD kernel against the matching TorchSharp op on");
        sb.AppendLine($"the same inputs, alternating, after warm-up; median of {options.Repeats} samples of at least one call (about {options.TargetSampleMs} ms for short ops),");
        sb.AppendLine($"each after a {options.QuietMs} ms busy pause (`--quiet-ms`). Each row's inputs are built just before it is timed and freed after.");
        sb.AppendLine("ratio = ours / torch (below 1: ours is faster). GFLOP/s counts the formula's flops (2·M·N·K for GEMMs and convs, 4·H·Lq·Lk·D");
        sb.AppendLine("for attention). Our linear and conv weights are packed once, untimed (`PackedWeight`), as the engine does at first use.");
        sb.AppendLine($"The `{KernelRows.PeakName}` row is a Vector512 (else Vector256) FMA loop with 16 independent accumulators on every kernel thread, measured");
        sb.AppendLine("in this run (no libtorch side); \"% of peak\" = GFLOP/s ÷ the peak row's, for the GEMM-type rows (linear, conv, attention);");
        sb.AppendLine("\"% of peak beside\" = GFLOP/s ÷ the same FMA loop timed between that row's own samples (a ~50 ms sample per repeat, interleaved),");
        sb.AppendLine("because this machine changes speed state within minutes and the peak row is timed once, at the start.");
        sb.AppendLine();
        sb.AppendLine($"Machine: {machine}");
        sb.AppendLine();
        sb.AppendLine("| kernel | shape | ours ms | torch ms | ratio | ours GFLOP/s | ours % of peak | torch % of peak | ours % of peak beside |");
        sb.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in results)
        {
            bool torch = double.IsFinite(r.TorchMs);
            string ours = r.Gemm && peakGflops is double p ? $"{100 * r.OursGflops / p:F0} %" : "";
            string theirs = r.Gemm && torch && peakGflops is double q ? $"{100 * r.OursGflops * r.OursMs / r.TorchMs / q:F0} %" : "";
            string beside = double.IsFinite(r.PeakBesideGflops) ? $"{100 * r.OursGflops / r.PeakBesideGflops:F0} %" : "";
            sb.AppendLine($"| {r.Name} | {r.Shape} | {r.OursMs:F3} | {Cell(r.TorchMs, "F3")} | {Cell(r.Ratio, "F2")} | {r.OursGflops:F1} | {ours} | {theirs} | {beside} |");
        }
        WriteSection(path, filter is null ? "kernels sd-turbo" : $"kernels sd-turbo {filter}", sb.ToString());
    }
}
