using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Add.GpuCheck;
using ILGPU.Runtime;

// Add.GpuCheck: the ILGPU kernels checked and timed on a GPU against reference outputs prepared on the CPU.
//   prepare --out DIR        seeded inputs + reference-loop outputs of every case, and manifest.json
//   run --data DIR --out DIR [--accelerator cuda|cpu] [--tiles gpu|small] [--repeats N] [--warmup N] [--inner N] [--only a,b]
//                            check every case, time it, write results.json and results.md; exit 1 if a check fails
//   ptx [--out DIR]          compile every kernel at the GPU tiles to PTX (sm_90) without a GPU: a check of the bundle
//   engine --model DIR --out DIR [--backend cuda|ilgpu-cpu|cpu] [--repeats N] [--requests 1x1,4x2] [--width N --height N]
//                            the whole generator on that backend vs the CPU SIMD backend (EngineCheck)
//   to-f16 --from DIR --to DIR   a model folder with F16 weights (to fit the bundle)
//   layout --model DIR --out FILE   every tensor's file, name and shape (RandomWeights)
//   random-model --config DIR --layout FILE --out DIR [--seed N]   a model folder of seeded weights (RandomWeights)
const string Usage = """
    usage:
      Add.GpuCheck prepare --out DIR
      Add.GpuCheck ptx [--out DIR]
      Add.GpuCheck engine --model DIR --out DIR [--backend cuda|ilgpu-cpu|cpu] [--repeats N]
                          [--requests STEPSxBATCH,...] [--width N --height N]
      Add.GpuCheck to-f16 --from DIR --to DIR
      Add.GpuCheck layout --model DIR --out FILE
      Add.GpuCheck random-model --config DIR --layout FILE --out DIR [--seed N]
      Add.GpuCheck run --data DIR --out DIR [--accelerator cuda|cpu] [--tiles gpu|small]
                       [--repeats N] [--warmup N] [--inner N] [--only NAME_OR_KERNEL,...]
    """;

try
{
    if (args.Length == 0)
        return Fail(Usage);
    var options = ParseOptions(args.AsSpan(1));
    string[]? allowed = args[0] switch
    {
        "prepare" => ["out"],
        "run" => ["data", "out", "accelerator", "tiles", "repeats", "warmup", "inner", "only"],
        "ptx" => ["out"],
        "engine" => ["model", "out", "backend", "repeats", "requests", "width", "height"],
        "to-f16" => ["from", "to"],
        "layout" => ["model", "out"],
        "random-model" => ["config", "layout", "out", "seed"],
        _ => null,
    };
    // An option the command does not take is an error, not ignored (a misspelt --requests would run the default set).
    if (allowed is not null && options.Keys.FirstOrDefault(k => !allowed.Contains(k)) is string unknown)
        return Fail($"{args[0]} takes no --{unknown} (it takes {string.Join(", ", allowed.Select(a => "--" + a))})\n{Usage}");
    return args[0] switch
    {
        "prepare" => Prepare(Required(options, "out")),
        "run" => Run(options),
        "ptx" => PtxCheck.Run(Console.Out, options.GetValueOrDefault("out")) == 0 ? 0 : 1,
        "engine" => EngineCheck.Run(Required(options, "model"), Required(options, "out"), options.GetValueOrDefault("backend", "cuda"), Int(options, "repeats") ?? 20,
            options.TryGetValue("requests", out var requests) ? EngineCheck.ParseRequests(requests) : EngineCheck.DefaultRequests, Int(options, "width"), Int(options, "height")),
        "to-f16" => EngineCheck.ToF16(Required(options, "from"), Required(options, "to")),
        "layout" => RandomWeights.Layout(Required(options, "model"), Required(options, "out")),
        "random-model" => RandomWeights.Write(Required(options, "config"), Required(options, "layout"), Required(options, "out"), (ulong)(Int(options, "seed") ?? 1)),
        _ => Fail($"unknown command '{args[0]}'\n{Usage}"),
    };
}
catch (ArgumentException e)
{
    return Fail($"{e.Message}\n{Usage}");
}

static int Prepare(string outDir)
{
    Directory.CreateDirectory(Path.Combine(outDir, "cases"));
    var cases = new List<CheckCase>();
    var total = Stopwatch.StartNew();
    foreach (var spec in Catalog.All())
    {
        CaseStore.SaveCase(outDir, spec);
        cases.Add(spec);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{spec.Name,-36} {spec.Shape}  ({total.Elapsed.TotalSeconds:F1} s)"));
    }
    var manifest = new Manifest { Seed = Catalog.Seed, CreatedUtc = DateTime.UtcNow.ToString("u", CultureInfo.InvariantCulture), Cases = cases };
    CaseStore.SaveManifest(outDir, manifest);
    long bytes = Directory.EnumerateFiles(outDir, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
    Console.WriteLine($"{cases.Count} cases, {bytes / (1024.0 * 1024):F1} MiB in {outDir}");
    return 0;
}

static int Run(Dictionary<string, string> o)
{
    var options = new RunOptions
    {
        DataDir = Required(o, "data"),
        OutDir = Required(o, "out"),
        Accelerator = o.GetValueOrDefault("accelerator", "cuda") is "cuda" or "cpu" ? o.GetValueOrDefault("accelerator", "cuda")
            : throw new ArgumentException($"--accelerator must be cuda or cpu, not '{o["accelerator"]}'"),
        Tiles = o.TryGetValue("tiles", out var tiles) ? (tiles is "gpu" or "small" ? tiles : throw new ArgumentException($"--tiles must be gpu or small, not '{tiles}'")) : null,
        Repeats = Int(o, "repeats"),
        Warmup = Int(o, "warmup"),
        Inner = Int(o, "inner"),
        Only = o.TryGetValue("only", out var only) ? only.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : [],
    };
    var manifest = CaseStore.LoadManifest(options.DataDir);
    if (!manifest.Cases.Any(options.Selects))
        return Fail($"--only {string.Join(",", options.Only)} selects none of the {manifest.Cases.Count} cases");

    using var context = Runner.CreateContext(options);
    Accelerator accelerator;
    try
    {
        accelerator = Runner.CreateAccelerator(context, options);
    }
    catch (InvalidOperationException e)
    {
        Console.Error.WriteLine($"error: {e.Message}");
        return 3;
    }
    using var _ = accelerator;
    var kernels = options.TileChoice == "gpu" ? KernelSets.Gpu(accelerator) : KernelSets.Small(accelerator);
    var info = new RunInfo
    {
        Device = accelerator.Name,
        Accelerator = accelerator.AcceleratorType.ToString(),
        DeviceMemory = accelerator.MemorySize,
        MaxThreadsPerGroup = accelerator.MaxNumThreadsPerGroup,
        Tiles = kernels.Tiles,
        Ilgpu = typeof(ILGPU.Context).Assembly.GetName().Version?.ToString() ?? "?",
        Runtime = RuntimeInformation.FrameworkDescription,
        StartedUtc = DateTime.UtcNow.ToString("u", CultureInfo.InvariantCulture),
        DataCreatedUtc = manifest.CreatedUtc,
        Warmup = options.WarmupCount,
        Repeats = options.RepeatCount,
        Only = options.Only,
    };
    Console.WriteLine($"{info.Device} ({info.Accelerator}); tiles: {info.Tiles}");
    var results = Runner.Run(accelerator, kernels, manifest, options, Console.Out);
    Report.Write(options.OutDir, info, results);
    int failed = results.Count(r => !r.Passed);
    Console.WriteLine($"{results.Count - failed} of {results.Count} cases pass; results.json and results.md in {options.OutDir}");
    return failed == 0 ? 0 : 1;
}

static Dictionary<string, string> ParseOptions(ReadOnlySpan<string> args)
{
    var options = new Dictionary<string, string>(StringComparer.Ordinal);
    for (int i = 0; i < args.Length; i++)
    {
        if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
            throw new ArgumentException($"expected --name value, got '{args[i]}'");
        options[args[i][2..]] = args[++i];
    }
    return options;
}

static string Required(Dictionary<string, string> options, string name) =>
    options.TryGetValue(name, out var value) ? value : throw new ArgumentException($"--{name} is required");

static int? Int(Dictionary<string, string> options, string name) =>
    !options.TryGetValue(name, out var text) ? null
    : int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) && value > 0 ? value
    : throw new ArgumentException($"--{name} must be a positive integer, not '{text}'");

static int Fail(string message)
{
    Console.Error.WriteLine(message);
    return 2;
}
