using System.Globalization;
using Add.Perf;

// add-perf kernels --json FILE [--md FILE] [--scale emoji|sd-turbo] [--repeats N] [--filter TEXT] [--quiet-ms MS] [--quick] [--list]
//   Times every CPU SIMD kernel against the matching TorchSharp op at the shipped models' shapes (KernelRows),
//   alternating the two in one run; writes the JSON rows and a Markdown table (default perf/RESULTS.md).
//   --scale sd-turbo: instead, every distinct op shape of a 512×512 SD-Turbo generation (KernelRows.SdTurbo, from
//   models/configs/sd-turbo) and a "peak" row (the FMA peak on all threads, FmaPeak) that the GEMM-type rows are given
//   as a share of; each row's inputs are built just before it is timed and freed after (peak RSS 1.5 GB, at the
//   512² VAE rows); default 5 repeats; its own RESULTS.md section ("kernels sd-turbo"): give it its own --json
//   (e.g. perf/kernels-sd-turbo.json). The peak row runs whatever --filter says.
//   --quiet-ms: busy pause before each sample (default 20) so libtorch's OpenMP threads, which spin for milliseconds
//   after an op, are asleep when ours are timed, and ours (0.2 ms) when torch's are.
//   --list: print the rows (name, shape, GFLOP per call) that would run, and exit.
//   --quick: a smoke run (1 repeat, 1 call, the first two rows unless --filter): proves the harness works, writes no
//   Markdown unless --md is given; its timings mean nothing.
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

// add-perf e2e --json FILE [--md FILE] [--repeats N] [--quiet-ms MS] [--student DIR] [--teacher DIR] [--decoder DIR] [--only-decoders]
//   Whole generations, engine (CPU SIMD) vs the TorchSharp reference on the shipped models (E2eBench); with a tiny
//   decoder (the student's vae_tiny, or --decoder DIR) also the 1-step rows decoded by it (E2eDecoders).
//   --only-decoders: just the 1-step full/tiny decoder rows at batch 1 and 16 (about a minute), in their own RESULTS.md
//   section ("e2e decoders"); give them their own --json (e.g. perf/e2e-decoders.json).
// add-perf e2e --model DIR --json FILE [--md FILE] [--width W] [--height H] [--steps LIST] [--batches LIST] [--repeats N]
//   A real-size pipeline folder (e.g. a random SD-Turbo from `add-train random-model`): per stage (text encoder, UNet step,
//   VAE decode) and total, engine vs TorchSharp on the same weights, steps 1,4 and batch 1,4 by default, 1 repeat, each
//   side's peak resident memory (E2eModelBench); its own RESULTS.md section (only for the default grid, unless --md is
//   given) and a per-stage chart (FILE's name, .png).
// add-perf decode --json FILE [--md FILE] [--width W] [--height H] [--decoder DIR] [--vae DIR] [--repeats N] [--full-repeats N]
//                 [--no-torch-full] [--profile] [--seed S] [--quiet-ms MS]
//   Tiny (AutoencoderTiny) and full (AutoencoderKL) decode, engine vs libtorch, same weights and latents (DecodeBench);
//   without --decoder / --vae, seeded random TAESD / SD-Turbo-VAE weights are written to a temporary folder.
if (args.Length == 0 || args[0] is not ("kernels" or "e2e" or "decode"))
{
    Console.Error.WriteLine("usage: add-perf kernels --json FILE [--md FILE] [--scale emoji|sd-turbo] [--repeats N] [--filter TEXT] [--quiet-ms MS] [--quick] [--list]\n       add-perf e2e --json FILE [--md FILE] [--repeats N] [--quiet-ms MS] [--student DIR] [--teacher DIR] [--decoder DIR] [--only-decoders]\n" +
        "       add-perf e2e --model DIR --json FILE [--md FILE] [--width W] [--height H] [--steps LIST] [--batches LIST] [--repeats N]\n" +
        "       add-perf decode --json FILE [--md FILE] [--width W] [--height H] [--decoder DIR] [--vae DIR] [--repeats N] [--full-repeats N] [--no-torch-full] [--profile] [--seed S] [--quiet-ms MS]");
    return 2;
}
bool e2e = args[0] == "e2e", decode = args[0] == "decode";
string root = Add.CommandLine.RepoPaths.FindRoot() ?? ".";
string student = Path.Combine(root, "models", "add-emoji-32"), teacher = Path.Combine(root, "models", "emoji-32-teacher");
string? json = null, md = null, filter = null, decoder = null, vae = null, scale = null, model = null;
int[] stepList = [1, 4], batchList = [1, 4];
int? repeatsGiven = null;
int quietMs = 20, width = 512, height = 512, fullRepeats = 1;
bool quick = false, list = false, torchFull = true, profile = false, onlyDecoders = false;
long seed = DecodeBench.DefaultSeed;
for (int i = 1; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--json": json = args[++i]; break;
        case "--md": md = args[++i]; break;
        case "--filter": filter = args[++i]; break;
        case "--repeats": repeatsGiven = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--scale": scale = args[++i]; break;
        case "--quiet-ms": quietMs = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--quick": quick = true; break;
        case "--list": list = true; break;
        case "--student": student = args[++i]; break;
        case "--teacher": teacher = args[++i]; break;
        case "--decoder": decoder = args[++i]; break;
        case "--vae": vae = args[++i]; break;
        case "--width": width = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--height": height = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--full-repeats": fullRepeats = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--seed": seed = long.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--no-torch-full": torchFull = false; break;
        case "--profile": profile = true; break;
        case "--only-decoders": onlyDecoders = true; break;
        case "--model": model = args[++i]; break;
        case "--steps" or "--batches":
            var numbers = PositiveList(args[++i]);
            if (numbers.Length == 0)
            {
                Console.Error.WriteLine($"{args[i - 1]} '{args[i]}': a comma-separated list of whole numbers from 1 to 64");
                return 2;
            }
            if (args[i - 1] == "--steps") stepList = numbers; else batchList = numbers;
            break;
        default:
            Console.Error.WriteLine($"unknown option {args[i]}");
            return 2;
    }
}
if (scale is not (null or "emoji" or "sd-turbo") || (scale is not null && (e2e || decode)))
{
    Console.Error.WriteLine(e2e || decode ? "--scale is a kernels option" : $"--scale '{scale}' is not known (emoji, sd-turbo)");
    return 2;
}
bool sdTurbo = scale == "sd-turbo";
if (model is not null && (!e2e || onlyDecoders))
{
    Console.Error.WriteLine(e2e ? "--model and --only-decoders do not go together" : "--model is an e2e option");
    return 2;
}
if (model is not null && !File.Exists(Path.Combine(model, "model_index.json")))
{
    Console.Error.WriteLine($"--model {model}: no model_index.json there (a diffusers pipeline folder, e.g. from add-train random-model)");
    return 2;
}
int repeats = repeatsGiven ?? (model is not null ? 1 : decode || sdTurbo ? 5 : 15);
if (repeats < 1 || fullRepeats < 1)
{
    // A row with no timed call has no time: it used to reach the JSON writer as infinity and crash it.
    Console.Error.WriteLine($"{(repeats < 1 ? "--repeats" : "--full-repeats")} must be at least 1");
    return 2;
}
if (json is null && !list)
{
    Console.Error.WriteLine("--json FILE is required");
    return 2;
}
json ??= "";     // --list writes nothing
bool mdGiven = md is not null;
md ??= quick ? null : Path.Combine(root, "perf", "RESULTS.md");

if (decode)
{
    using var noGradDecode = TorchSharp.torch.no_grad();
    var options = new DecodeOptions(root, decoder, vae, width, height, repeats, fullRepeats, torchFull, profile, quietMs, seed);
    var (decodeRows, decodeNotes) = DecodeBench.Run(options, Console.Out);
    var decodeMachine = Machine.Describe();
    Report.WriteJson(json, decodeMachine, decodeRows);
    Console.WriteLine($"wrote {json}");
    if (md is not null)
    {
        Report.WriteDecodeMarkdown(md, decodeMachine, decodeRows, options, decodeNotes);
        Console.WriteLine($"wrote {md}");
    }
    return 0;
}

if (e2e && model is not null)
{
    using var noGradModel = TorchSharp.torch.no_grad();
    var options = new E2eModelOptions(model, width, height, repeats, stepList, batchList);
    List<BenchResult> modelRows;
    string modelNotes;
    try
    {
        (modelRows, modelNotes) = E2eModelBench.Run(options, Console.Out);
    }
    catch (Exception ex) when (ex is ArgumentException or InvalidDataException or IOException)
    {
        Console.Error.WriteLine(ex.Message);
        return 2;
    }
    var modelMachine = Machine.Describe();
    Report.WriteJson(json, modelMachine, modelRows);
    string chart = Path.ChangeExtension(json, ".png");
    StageChart.Write(modelRows, $"{Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(model)))} at {width}x{height}: engine against libtorch, ms (bars scaled per row)", chart);
    Console.WriteLine($"wrote {json}, {chart}");
    Console.WriteLine(modelNotes);
    // A part of the grid (e.g. --steps 1 --batches 1) would replace the section's full table with its few rows: only
    // the default grid rewrites perf/RESULTS.md, unless --md names a file.
    if (md is not null && !mdGiven && !(stepList.SequenceEqual([1, 4]) && batchList.SequenceEqual([1, 4])))
    {
        Console.WriteLine($"not rewriting {md}: --steps {string.Join(',', stepList)} --batches {string.Join(',', batchList)} is not the default grid 1,4 x 1,4 (give --md FILE to write the section)");
        md = null;
    }
    if (md is not null)
    {
        Report.WriteE2eModelMarkdown(md, modelMachine, modelRows, options, modelNotes, json, chart);
        Console.WriteLine($"wrote {md}");
    }
    return 0;
}

if (e2e)
{
    using var noGradE2e = TorchSharp.torch.no_grad();
    string? tinyChoice = E2eDecoders.TinyChoice(student, decoder);
    if (onlyDecoders && tinyChoice is null)
    {
        Console.Error.WriteLine($"--only-decoders: {student} declares no vae_tiny component; pass --decoder DIR (an AutoencoderTiny folder)");
        return 2;
    }
    var (e2eRows, notes) = onlyDecoders ? E2eDecoders.Run(student, tinyChoice!, repeats, quietMs, Console.Out)
        : E2eBench.Run(student, teacher, tinyChoice, repeats, quietMs, Console.Out);
    var e2eMachine = Machine.Describe();
    Report.WriteJson(json, e2eMachine, e2eRows);
    Console.WriteLine($"wrote {json}");
    Console.WriteLine(notes);
    if (md is not null)
    {
        if (onlyDecoders)
            Report.WriteE2eDecodersMarkdown(md, e2eMachine, e2eRows, repeats, quietMs, notes, json);
        else
            Report.WriteE2eMarkdown(md, e2eMachine, e2eRows, repeats, quietMs, notes);
        Console.WriteLine($"wrote {md}");
    }
    return 0;
}

var benchOptions = (quick, sdTurbo) switch
{
    (true, _) => new BenchOptions(Repeats: 1, WarmupCalls: 1, TargetSampleMs: 0, TierUpRounds: 0, PerRowSetup: sdTurbo),
    // SD-Turbo rows last 0.01-1.5 s a call: one warm-up call (CallsFor's measuring call is a second), samples of at least one call
    (false, true) => new BenchOptions(Repeats: repeats, WarmupCalls: 1, TargetSampleMs: 50, TierUpRounds: 0, QuietMs: quietMs, PerRowSetup: true),
    _ => new BenchOptions(Repeats: repeats, WarmupCalls: 5, TargetSampleMs: 2.0, TierUpRounds: 2, QuietMs: quietMs),
};
List<BenchRow> allRows;
try
{
    allRows = sdTurbo ? KernelRows.SdTurbo(Path.Combine(root, "models", "configs", "sd-turbo")) : KernelRows.All().ToList();
}
catch (Exception ex) when (ex is IOException or InvalidDataException)
{
    Console.Error.WriteLine(ex.Message);
    return 2;
}
bool Keep(BenchRow r) => filter is null || r.Name.Contains(filter, StringComparison.OrdinalIgnoreCase);
var rows = allRows.Where(r => Keep(r) || (sdTurbo && r.Name == KernelRows.PeakName)).ToList();
if (quick && filter is null)
    rows = rows.Take(2).ToList();
if (rows.Count == 0 || (sdTurbo && filter is not null && !allRows.Any(Keep)))
{
    Console.Error.WriteLine($"no row matches '{filter}'");
    return 2;
}
if (list)
{
    foreach (var r in rows)
        Console.WriteLine($"{r.Name,-48} {r.Shape,-52} {r.Flops / 1e9,9:F3} GFLOP");
    return 0;
}
if (sdTurbo)
    Console.WriteLine($"sd-turbo: {rows.Count} of {allRows.Count} rows, {rows.Sum(r => r.Flops) / 1e9:F0} GFLOP per call of each");

if (sdTurbo && !quick)
    benchOptions = benchOptions with { PeakBeside = rows.First(r => r.Name == KernelRows.PeakName) };
using var noGrad = TorchSharp.torch.no_grad();
var results = KernelBench.Run(rows, benchOptions, Console.Out);
var machine = Machine.Describe();
double? peak = results.FirstOrDefault(r => sdTurbo && r.Name == KernelRows.PeakName)?.OursGflops;
Report.WriteJson(json, machine, results, peak);
Console.WriteLine($"wrote {json}");
if (md is not null)
{
    if (sdTurbo)
        Report.WriteSdTurboMarkdown(md, machine, results, benchOptions, peak, json, filter);
    else
        Report.WriteMarkdown(md, machine, results, benchOptions, filter);
    Console.WriteLine($"wrote {md}");
}
return 0;

// A comma-separated list of whole numbers from 1 to 64, sorted and distinct; empty when the text is not one.
static int[] PositiveList(string text)
{
    var values = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
        .Select(v => int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n is >= 1 and <= 64 ? n : 0).ToArray();
    return values.Length == 0 || values.Contains(0) ? [] : values.Distinct().Order().ToArray();
}
