using System.Diagnostics;
using System.Reflection;
using Add.Kernels.Cpu;
using Add.Kernels;

// gemmlab5: linears at SD-Turbo shapes with cold weights (copies rotated past the L3), variants toggled in one process.
var f = typeof(PackedWeight).Assembly.GetType("Add.Kernels.Cpu.GemmCpu")!.GetField("LabVariant", BindingFlags.NonPublic | BindingFlags.Static)!;
int[] variants = args[0].Split(',').Select(int.Parse).ToArray();
var shapes = new (int M, int N, int K, string Name)[] {
    (77, 4096, 1024, "text fc1"), (308, 4096, 1024, "text fc1 b4"), (308, 1024, 4096, "text fc2 b4"), (308, 1024, 1024, "text q b4"),
    (1024, 5120, 640, "geglu 32²"), (1024, 640, 2560, "ff.out 32²"), (256, 10240, 1280, "geglu 16²"), (256, 1280, 5120, "ff.out 16²"),
    (4096, 320, 320, "proj_in 64²"), (4096, 2560, 320, "geglu 64²"), (4096, 320, 1280, "ff.out 64²"), (4096, 512, 512, "vae to_q"), (256, 1280, 1280, "proj_in 16²") };
if (args.Length > 1) shapes = shapes.Where(s => args[1].Split(',').Any(a => s.Name.Contains(a))).ToArray();
var r = new Random(1);
foreach (var (m, n, k, name) in shapes)
{
    long wBytes = 4L * n * k;
    int copies = (int)Math.Clamp(300_000_000 / wBytes, 2, 64);
    var w = new float[n * k]; for (int i = 0; i < w.Length; i++) w[i] = (float)r.NextDouble() - 0.5f;
    var packs = Enumerable.Range(0, copies).Select(_ => PackedWeight.ForLinear(w, n, k)).ToArray();
    var x = new float[m * k]; for (int i = 0; i < x.Length; i++) x[i] = (float)r.NextDouble() - 0.5f;
    var y = new float[m * n]; var b = new float[n];
    var ws = new float[LinearCpu.WorkspaceFloats(m, n, k)];
    var times = variants.Select(_ => new List<double>()).ToArray();
    int calls = 0;
    double flops = 2.0 * m * n * k;
    int per = Math.Max(1, (int)(2e9 / flops));
    for (int round = 0; round < 12; round++)
        for (int vi = 0; vi < variants.Length; vi++)
        {
            f.SetValue(null, variants[vi]);
            for (int it = 0; it < per; it++)
            {
                var p = packs[calls++ % copies];
                var sw = Stopwatch.StartNew();
                LinearCpu.Forward(x, default, b, default, y, m, n, k, ws, packed: p);
                if (round > 0) times[vi].Add(sw.Elapsed.TotalSeconds);
            }
        }
    Console.Write($"{name,-14} M{m} N{n} K{k} ({copies} copies):");
    for (int vi = 0; vi < variants.Length; vi++)
    {
        var t = times[vi].OrderBy(v => v).ToList();
        Console.Write($"  v{variants[vi]} med {flops / t[t.Count / 2] / 1e9:F0} best {flops / t[0] / 1e9:F0} GF/s");
    }
    Console.WriteLine();
}

var convs = new (int Ci, int Co, int H, int K, int S, string Name)[] { (960, 320, 64, 1, 1, "1x1 960-320 64²"), (1280, 640, 32, 1, 1, "1x1 1280-640 32²"),
    (320, 320, 64, 3, 2, "down 320 64²"), (4, 320, 64, 3, 1, "conv_in 4-320") };
if (args.Length > 1) convs = convs.Where(s => args[1].Split(',').Any(a => s.Name.Contains(a))).ToArray();
foreach (var (ci, co, h, k, st, name) in convs)
{
    var s = new Add.Kernels.Conv2dShape(1, ci, h, h, co, k, k, st, k / 2, true);
    var w = new float[co * ci * k * k]; for (int i = 0; i < w.Length; i++) w[i] = (float)r.NextDouble() - 0.5f;
    int copies = (int)Math.Clamp(300_000_000 / (4L * w.Length), 2, 64);
    var packs = Enumerable.Range(0, copies).Select(_ => PackedWeight.ForConv(w, co, ci * k * k)).ToArray();
    var x = new float[ci * h * h]; for (int i = 0; i < x.Length; i++) x[i] = (float)r.NextDouble() - 0.5f;
    int ho = (h + 2 * (k / 2) - k) / st + 1;
    var y = new float[co * ho * ho]; var b = new float[co];
    var ws = new float[Add.Kernels.Cpu.Conv2dCpu.WorkspaceFloats(s)];
    var times = variants.Select(_ => new List<double>()).ToArray();
    double flops = 2.0 * co * ci * k * k * ho * ho;
    int per = Math.Max(1, (int)(2e9 / flops)), calls = 0;
    for (int round = 0; round < 12; round++)
        for (int vi = 0; vi < variants.Length; vi++)
        {
            f.SetValue(null, variants[vi]);
            for (int it = 0; it < per; it++)
            {
                var sw = Stopwatch.StartNew();
                Add.Kernels.Cpu.Conv2dCpu.Forward(x, default, b, default, y, s, ws, packed: packs[calls++ % copies]);
                if (round > 0) times[vi].Add(sw.Elapsed.TotalSeconds);
            }
        }
    Console.Write($"{name,-14} ({copies} copies):");
    for (int vi = 0; vi < variants.Length; vi++)
    {
        var t = times[vi].OrderBy(v => v).ToList();
        Console.Write($"  v{variants[vi]} med {flops / t[t.Count / 2] / 1e9:F0} best {flops / t[0] / 1e9:F0} GF/s");
    }
    Console.WriteLine();
}
