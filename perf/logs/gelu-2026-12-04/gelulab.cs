using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
unsafe
{
    int n = 157696;
    var x = new float[n]; var y = new float[n]; var y0 = new float[n];
    var rng = new Random(1); for (int i = 0; i < n; i++) x[i] = (float)(rng.NextDouble() * 8 - 4);
    fixed (float* px = x, py = y, py0 = y0)
    {
        L.V0(px, py0, n);
        for (int round = 0; round < 3; round++)
        for (int v = 0; v < 7; v++)
        {
            string name = new[] { "v0", "v1 unroll2", "v2 relu-form", "v3 relu+unroll", "v4 no clamp hi", "v5 rcp14 relu", "v6 rcp14 relu unroll" }[v];
            delegate*<float*, float*, int, void> f = v switch { 0 => &L.V0, 1 => &L.V1, 2 => &L.V2, 3 => &L.V3, 4 => &L.V4, 5 => &L.V5, _ => &L.V6 };
            for (int w = 0; w < 50; w++) f(px, py, n);
            var ts = new List<double>();
            for (int r = 0; r < 15; r++) { var sw = Stopwatch.StartNew(); for (int k = 0; k < 50; k++) f(px, py, n); ts.Add(sw.Elapsed.TotalMilliseconds * 1000 / 50); }
            ts.Sort();
            double md = 0; for (int i = 0; i < n; i++) md = Math.Max(md, Math.Abs(y[i] - y0[i]));
            Console.WriteLine($"{name,-16} {ts[7],7:F1} us  maxdiff {md:E2}");
        }
    }
}
static unsafe class L
{
    const float P = 0.3275911f, A1 = 0.254829592f, A2 = -0.284496736f, A3 = 1.421413741f, A4 = -1.453152027f, A5 = 1.061405429f, InvSqrt2 = 0.70710678118654752f;
    const float ExpHi = 88.3762626647949f, ExpLo = -87.3f, Log2E = 1.44269504088896341f, Ln2Hi = 0.693359375f, Ln2Lo = -2.12194440e-4f, RoundMagic = 12582912f;
    const int RoundMagicBits = 0x4B400000;
    const float E0 = 1.9875691500e-4f, E1 = 1.3981999507e-3f, E2 = 8.3334519073e-3f, E3 = 4.1665795894e-2f, E4 = 1.6666665459e-1f, E5 = 5.0000001201e-1f;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> Exp(Vector512<float> x, bool hi = true)
    {
        x = Vector512.Max(x, Vector512.Create(ExpLo)); if (hi) x = Vector512.Min(x, Vector512.Create(ExpHi));
        var t = x * Log2E + Vector512.Create(RoundMagic);
        var n = t - Vector512.Create(RoundMagic);
        var r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2Hi), x);
        r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2Lo), r);
        var p = Vector512.FusedMultiplyAdd(Vector512.Create(E0), r, Vector512.Create(E1));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(E2));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(E3));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(E4));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(E5));
        var er = Vector512.FusedMultiplyAdd(p, r * r, r) + Vector512<float>.One;
        var twoN = (t.AsInt32() - Vector512.Create(RoundMagicBits - 127)) << 23;
        return er * twoN.AsSingle();
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> Erfc(Vector512<float> az, bool hi)
    {
        var t = Vector512<float>.One / Vector512.FusedMultiplyAdd(az, Vector512.Create(P), Vector512<float>.One);
        var poly = Vector512.FusedMultiplyAdd(t, Vector512.Create(A5), Vector512.Create(A4));
        poly = Vector512.FusedMultiplyAdd(t, poly, Vector512.Create(A3));
        poly = Vector512.FusedMultiplyAdd(t, poly, Vector512.Create(A2));
        poly = Vector512.FusedMultiplyAdd(t, poly, Vector512.Create(A1));
        return t * poly * Exp(-(az * az), hi);
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> ErfcR(Vector512<float> az)
    {
        var d = Vector512.FusedMultiplyAdd(az, Vector512.Create(P), Vector512<float>.One);
        var t = System.Runtime.Intrinsics.X86.Avx512F.Reciprocal14(d);
        t = Vector512.FusedMultiplyAdd(t, Vector512.FusedMultiplyAdd(-d, t, Vector512<float>.One), t);
        var poly = Vector512.FusedMultiplyAdd(t, Vector512.Create(A5), Vector512.Create(A4));
        poly = Vector512.FusedMultiplyAdd(t, poly, Vector512.Create(A3));
        poly = Vector512.FusedMultiplyAdd(t, poly, Vector512.Create(A2));
        poly = Vector512.FusedMultiplyAdd(t, poly, Vector512.Create(A1));
        return t * poly * Exp(-(az * az), false);
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> G5(Vector512<float> x)
    {
        var ax = Vector512.Abs(x);
        var erfc = ErfcR(ax * InvSqrt2);
        return Vector512.FusedMultiplyAdd(ax * -0.5f, erfc, Vector512.Max(x, Vector512<float>.Zero));
    }
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] public static void V5(float* x, float* y, int n) { for (int i = 0; i <= n - 16; i += 16) G5(Vector512.Load(x + i)).Store(y + i); }
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] public static void V6(float* x, float* y, int n) { for (int i = 0; i <= n - 32; i += 32) { var a = G5(Vector512.Load(x + i)); var b = G5(Vector512.Load(x + i + 16)); a.Store(y + i); b.Store(y + i + 16); } }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> G0(Vector512<float> x, bool hi = true)
    {
        var z = x * InvSqrt2; var az = Vector512.Abs(z);
        var erfc = Erfc(az, hi);
        var onePlusErf = Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(z, Vector512<float>.Zero), Vector512.Create(2f) - erfc, erfc);
        return 0.5f * x * onePlusErf;
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> G2(Vector512<float> x)
    {
        var ax = Vector512.Abs(x);
        var erfc = Erfc(ax * InvSqrt2, false);
        return Vector512.FusedMultiplyAdd(ax * -0.5f, erfc, Vector512.Max(x, Vector512<float>.Zero));
    }
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] public static void V0(float* x, float* y, int n) { for (int i = 0; i <= n - 16; i += 16) G0(Vector512.Load(x + i)).Store(y + i); }
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] public static void V4(float* x, float* y, int n) { for (int i = 0; i <= n - 16; i += 16) G0(Vector512.Load(x + i), false).Store(y + i); }
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] public static void V1(float* x, float* y, int n) { for (int i = 0; i <= n - 32; i += 32) { var a = G0(Vector512.Load(x + i)); var b = G0(Vector512.Load(x + i + 16)); a.Store(y + i); b.Store(y + i + 16); } }
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] public static void V2(float* x, float* y, int n) { for (int i = 0; i <= n - 16; i += 16) G2(Vector512.Load(x + i)).Store(y + i); }
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] public static void V3(float* x, float* y, int n) { for (int i = 0; i <= n - 32; i += 32) { var a = G2(Vector512.Load(x + i)); var b = G2(Vector512.Load(x + i + 16)); a.Store(y + i); b.Store(y + i + 16); } }
}
