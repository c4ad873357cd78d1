using Add.Engine.Backends;
using Add.Engine.Pipeline;
static long Proc(string key) => long.Parse(File.ReadLines("/proc/self/status").First(l => l.StartsWith(key + ":")).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
int size = int.Parse(args[1]);
var batches = args[2].Split(',').Select(int.Parse).ToArray();
using var engine = DiffusionPipeline.Load(args[0], new CpuBackend());
Console.WriteLine($"loaded: rss {Proc("VmRSS") / 1e9:F2} GB, heap {GC.GetGCMemoryInfo().HeapSizeBytes / 1e9:F2} GB");
List<string> Prompts(int batch) => Enumerable.Range(0, batch).Select(i => i % 2 == 0 ? "a photograph of an astronaut riding a horse" : "a red fox in the snow, detailed fur").ToList();
string stage = "load"; long maxRss = 0; string maxAt = "";
var sampler = new Thread(() => { while (true) { long r = Proc("VmRSS"); if (r > maxRss) { maxRss = r; maxAt = stage; } Thread.Sleep(2); } }) { IsBackground = true };
sampler.Start();
foreach (int batch in batches)
{
    maxRss = 0;
    var stages = new List<string>();
    long hwm0 = Proc("VmHWM");
    engine.Generate(new GenerationRequest { Prompts = Prompts(batch), Steps = 1, Guidance = 0, Width = size, Height = size, Seed = 0 },
        onStage: (name, s) => { stages.Add($"{name} {s:F2}s rss {Proc("VmRSS") / 1e9:F2} max {maxRss / 1e9:F3} in '{maxAt}'"); stage = "after " + name; });
    var gc = GC.GetGCMemoryInfo();
    Console.WriteLine($"batch {batch}: VmHWM {Proc("VmHWM") / 1e9:F3} GB (before {hwm0 / 1e9:F3}), rss {Proc("VmRSS") / 1e9:F3}, heap {gc.HeapSizeBytes / 1e9:F3} GB, committed {gc.TotalCommittedBytes / 1e9:F3}, arena {engine.Arena.Capacity * 4 / 1e9:F3} GB");
    Console.WriteLine("  " + string.Join(" | ", stages));
}
