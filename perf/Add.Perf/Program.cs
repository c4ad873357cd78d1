using System.Globalization;
using Add.Perf;

// add-perf kernels --json FILE [--md FILE] [--repeats N] [--filter TEXT] [--quiet-ms MS] [--quick]
//   Times every CPU SIMD kernel against the matching TorchSharp op at the shipped models' shapes (KernelRows),
//   alternating the two in one run; writes the JSON rows and a Markdown table (default perf/RESULTS.md).
//   --quiet-ms: busy pause before each sample (default 20) so libtorch's OpenMP threads, which spin for milliseconds
//   after an op, are asleep when ours are timed, and ours (0.2 ms) when torch's are.
//   --quick: a smoke run (1 repeat, 1 call, the first two rows unless --filter): proves the harness works, writes no
//   Markdown unless --md is given; its timings mean nothing.
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

// add-perf e2e --json FILE [--md FILE] [--repeats N] [--quiet-ms MS] [--student DIR] [--teacher DIR] [--decoder DIR] [--only-decoders]
//   Whole generations, engine (CPU SIMD) vs the TorchSharp reference on the shipped models (E2eBench); with a tiny
//   decoder (the student's vae_tiny, or --decoder DIR) also the 1-step rows decoded by it (E2eDecoders).
//   --only-decoders: just the 1-step full/tiny decoder rows at batch 1 and 16 (about a minute), in their own RESULTS.md
//   section ("e2e decoders"); give them their own --json (e.g. perf/e2e-decoders.json).
// add-perf decode --json FILE [--md FILE] [--width W] [--height H] [--decoder DIR] [--vae DIR] [--repeats N] [--full-repeats N]
//                 [--no-torch-full] [--profile] [--seed S] [--quiet-ms MS]
//   Tiny (AutoencoderTiny) and full (AutoencoderKL) decode, engine vs libtorch, same weights and latents (DecodeBench);
//   without --decoder / --vae, seeded random TAESD / SD-Turbo-VAE weights are written to a temporary folder.
if (args.Length == 0 || args[0] is not ("kernels" or "e2e" or "decode"))
{
    Console.Error.WriteLine("usage: add-perf kernels --json FILE [--md FILE] [--repeats N] [--filter TEXT] [--quiet-ms MS] [--quick]\n       add-perf e2e --json FILE [--md FILE] [--repeats N] [--quiet-ms MS] [--student DIR] [--teacher DIR] [--decoder DIR] [--only-decoders]\n" +
        "       add-perf decode --json FILE [--md FILE] [--width W] [--height H] [--decoder DIR] [--vae DIR] [--repeats N] [--full-repeats N] [--no-torch-full] [--profile] [--seed S] [--quiet-ms MS]");
    return 2;
}
bool e2e = args[0] == "e2e", decode = args[0] == "decode";
string root = Add.CommandLine.RepoPaths.FindRoot() ?? ".";
string student = Path.Combine(root, "models", "add-emoji-32"), teacher = Path.Combine(root, "models", "emoji-32-teacher");
string? json = null, md = null, filter = null, decoder = null, vae = null;
int repeats = decode ? 5 : 15, quietMs = 20, width = 512, height = 512, fullRepeats = 1;
bool quick = false, torchFull = true, profile = false, onlyDecoders = false;
long seed = DecodeBench.DefaultSeed;
for (int i = 1; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--json": json = args[++i]; break;
        case "--md": md = args[++i]; break;
        case "--filter": filter = args[++i]; break;
        case "--repeats": repeats = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--quiet-ms": quietMs = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--quick": quick = true; break;
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
        default:
            Console.Error.WriteLine($"unknown option {args[i]}");
            return 2;
    }
}
if (json is null)
{
    Console.Error.WriteLine("--json FILE is required");
    return 2;
}
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

var benchOptions = quick ? new BenchOptions(Repeats: 1, WarmupCalls: 1, TargetSampleMs: 0, TierUpRounds: 0) : new BenchOptions(Repeats: repeats, WarmupCalls: 5, TargetSampleMs: 2.0, TierUpRounds: 2, QuietMs: quietMs);
var rows = KernelRows.All().Where(r => filter is null || r.Name.Contains(filter, StringComparison.OrdinalIgnoreCase)).ToList();
if (quick && filter is null)
    rows = rows.Take(2).ToList();
if (rows.Count == 0)
{
    Console.Error.WriteLine($"no row matches '{filter}'");
    return 2;
}

using var noGrad = TorchSharp.torch.no_grad();
var results = KernelBench.Run(rows, benchOptions, Console.Out);
var machine = Machine.Describe();
Report.WriteJson(json, machine, results);
Console.WriteLine($"wrote {json}");
if (md is not null)
{
    Report.WriteMarkdown(md, machine, results, benchOptions, filter);
    Console.WriteLine($"wrote {md}");
}
return 0;
