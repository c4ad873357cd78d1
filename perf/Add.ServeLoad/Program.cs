using System.Globalization;
using Add.Cli.Serve;
using Add.Engine.Backends;
using Add.Engine.Pipeline;
using Add.ServeLoad;

// add-serve-load [--clients N] [--requests N] [--window-ms MS] [--model DIR] [--md FILE | --no-md]
//   Loads the model, generates every request's image directly (sequential reference and its images/s), then starts
//   `add serve` on a free 127.0.0.1 port twice in this one process, dynamic batching off (window 0) and on (window MS),
//   and drives each with N concurrent clients × N requests (each client sends its next request when the previous
//   answer arrived). Reports p50/p99 latency, images/s, errors and images that differ from the sequential reference,
//   and writes the table into perf/RESULTS.md (section serve).
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

string root = Add.CommandLine.RepoPaths.FindRoot() ?? ".";
string model = Path.Combine(root, "models", "add-emoji-32");
string? md = Path.Combine(root, "perf", "RESULTS.md");
int clients = 16, requests = 100, windowMs = 5;
for (int i = 0; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
    switch (args[i])
    {
        case "--clients": clients = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--requests": requests = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--window-ms": windowMs = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--model": model = Next(); break;
        case "--md": md = Next(); break;
        case "--no-md": md = null; break;
        default:
            Console.Error.WriteLine($"unknown option {args[i]}\nusage: add-serve-load [--clients N] [--requests N] [--window-ms MS] [--model DIR] [--md FILE | --no-md]");
            return 2;
    }
}
if (clients < 1 || requests < 1 || windowMs < 1)
{
    Console.Error.WriteLine("--clients, --requests and --window-ms must be at least 1");
    return 2;
}

using var pipeline = DiffusionPipeline.Load(model, new CpuBackend());
var plan = LoadPlan.Create(clients, requests);
Console.WriteLine($"model {model} on {pipeline.Backend.Name}; {clients} clients × {requests} requests = {plan.Count} images per mode");

var sequential = Sequential.Run(pipeline, plan);
Console.WriteLine(sequential.Describe());
var rows = new List<LoadResult>();
foreach (int window in new[] { 0, windowMs })
{
    // The server is the pipeline's only user while it runs (the sequential pass above has finished).
    await using var host = await ServeHost.StartAsync(pipeline, new ServeSettings { Port = 0, BatchWindowMs = window }, Console.Error);
    var result = await LoadRun.RunAsync(host.Address, window, clients, plan, sequential.Images);
    Console.WriteLine(result.Describe());
    rows.Add(result);
}
if (md is not null)
{
    LoadReport.Write(md, pipeline.Backend.Name, clients, requests, sequential, rows);
    Console.WriteLine($"wrote {md}");
}
return rows.All(r => r.Errors == 0) ? 0 : 1;
