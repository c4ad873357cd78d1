using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.InteropServices;

// gemmlab4: micro-kernel ceilings on one thread. (1) A and B panels resident (L1), C tile fixed; (2) A block of MC rows
// streaming from L2 with the B panel in L1 (the jr/ir loop of one packed block), C rows over a 4096-wide region.
unsafe
{
    int kc = args.Length > 0 ? int.Parse(args[0]) : 256;
    int mcRows = args.Length > 1 ? int.Parse(args[1]) : 96;
    double peak = Peak();
    Console.WriteLine($"peak 1 thread {peak:F1} GFLOP/s, kc {kc}, MC {mcRows}");
    if (args.Length > 2 && args[2] == "rows") { RowsTest(kc, mcRows, peak); return; }
    foreach (var (mr, nr, fn) in Kern.All.Where(t => args.Length < 3 || args[2].Split(',').Contains($"{t.Item1}x{t.Item2}")))
    {
        int mc = mcRows / mr * mr;
        float* a = Alloc((long)mc * kc), b = Alloc((long)kc * nr * 8), c = Alloc(64 * 64), cbig = Alloc((long)mc * 512);
        for (long i = 0; i < (long)mc * kc; i++) a[i] = 0.001f * (i % 7);
        for (long i = 0; i < (long)kc * nr * 8; i++) b[i] = 0.001f * (i % 5);
        // (1) resident
        int reps = (int)(2e9 / (2.0 * mr * nr * kc));
        for (int w = 0; w < 1000; w++) fn(kc, a, b, c, nr);
        var sw = Stopwatch.StartNew();
        for (int r = 0; r < reps; r++) fn(kc, a, b, c, nr);
        double g1 = 2.0 * mr * nr * kc * reps / sw.Elapsed.TotalSeconds / 1e9;
        // (2) one packed block: 8 B panels (jr) x mc/mr A panels (ir), C [mc, 8·nr]
        int ldc = 8 * nr;
        long flopsBlock = 2L * mc * 8 * nr * kc;
        int blocks = (int)(4e9 / flopsBlock) + 1;
        sw.Restart();
        for (int r = 0; r < blocks; r++)
            for (int jr = 0; jr < 8; jr++)
                for (int ir = 0; ir < mc; ir += mr)
                    fn(kc, a + (long)ir * kc, b + (long)jr * kc * nr, cbig + (long)ir * ldc + jr * nr, ldc);
        double g2 = flopsBlock * blocks / sw.Elapsed.TotalSeconds / 1e9;
        Console.WriteLine($"{mr}x{nr,-3} resident {g1,6:F1} ({g1 / peak:P0})   block {g2,6:F1} ({g2 / peak:P0})");
    }
}

static unsafe void RowsTest(int kc, int mc, double peak)
{
    // A [mc, 1280] row-major read in place vs packed; 5 B panels (N = 320), C [mc, 320]
    long lda = 1280; int nr = 64, ldc = 320;
    float* A = Alloc(mc * lda), Ap = Alloc((long)mc * kc), B = Alloc((long)kc * 320), C = Alloc((long)mc * 320);
    for (long i = 0; i < mc * lda; i++) A[i] = 0.001f * (i % 7);
    for (long i = 0; i < (long)kc * 320; i++) B[i] = 0.001f * (i % 5);
    long flops = 2L * mc * 320 * kc; int reps = (int)(4e9 / flops) + 1;
    for (int mode = 0; mode < 2; mode++)
    {
        var sw = Stopwatch.StartNew();
        for (int r = 0; r < reps; r++)
        {
            if (mode == 1)
                for (int ir = 0; ir < mc; ir += 6)
                    for (int i = 0; i < 6; i++)
                        for (int k = 0; k < kc; k++) Ap[ir * kc + k * 6 + i] = A[(ir + i) * lda + k];
            for (int jr = 0; jr < 320; jr += nr)
                for (int ir = 0; ir < mc; ir += 6)
                    if (mode == 0) Kern3.K6x64Rows(kc, A + ir * lda, lda, B + (long)jr * kc, C + ir * ldc + jr, ldc);
                    else Kern.K6x64(kc, Ap + (long)ir * kc, B + (long)jr * kc, C + ir * ldc + jr, ldc);
        }
        double g = (double)flops * reps / sw.Elapsed.TotalSeconds / 1e9;
        Console.WriteLine($"6x64 {(mode == 0 ? "rows in place" : "packed+scalar pack")} kc {kc} mc {mc}: {g,6:F1} ({g / peak:P0})");
    }
}

static unsafe float* Alloc(long n) => (float*)NativeMemory.AlignedAlloc((nuint)(n * 4), 64);

static double Peak()
{
    PeakLoop(1000);
    double best = 0;
    for (int rep = 0; rep < 3; rep++)
    {
        var sw = Stopwatch.StartNew();
        const int n = 20_000_000;
        PeakLoop(n);
        best = Math.Max(best, (double)n * 12 * 32 / sw.Elapsed.TotalSeconds / 1e9);
    }
    return best;
}

[MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
static float PeakLoop(int count)
{
    Vector512<float> x = Vector512.Create(1.0001f), y = Vector512.Create(0.9999f);
    Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default, a8 = default, a9 = default, a10 = default, a11 = default;
    for (int i = 0; i < count; i++)
    {
        a0 = Vector512.FusedMultiplyAdd(x, y, a0); a1 = Vector512.FusedMultiplyAdd(x, y, a1); a2 = Vector512.FusedMultiplyAdd(x, y, a2); a3 = Vector512.FusedMultiplyAdd(x, y, a3);
        a4 = Vector512.FusedMultiplyAdd(x, y, a4); a5 = Vector512.FusedMultiplyAdd(x, y, a5); a6 = Vector512.FusedMultiplyAdd(x, y, a6); a7 = Vector512.FusedMultiplyAdd(x, y, a7);
        a8 = Vector512.FusedMultiplyAdd(x, y, a8); a9 = Vector512.FusedMultiplyAdd(x, y, a9); a10 = Vector512.FusedMultiplyAdd(x, y, a10); a11 = Vector512.FusedMultiplyAdd(x, y, a11);
    }
    var s = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11;
    return s[0];
}
