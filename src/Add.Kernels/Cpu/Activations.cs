using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Add.Kernels.Cpu;

/// <summary>
/// SiLU and GELU at each width, shared by the elementwise kernels and the fused epilogues (group norm + SiLU, GEGLU).
/// Formulas as <see cref="ElementwiseReference"/>: silu(x) = x/(1 + e^(−x)); gelu(x) = x/2·(1 + erf(x/√2)) with
/// erf by Abramowitz &amp; Stegun 7.1.26 (|error| ≤ 1.5e-7), 1 + erf(z) taken as erfc(|z|) for z &lt; 0 (no cancellation).
/// Vector exponentials are <see cref="Exp(Vector512{float})"/> below, scalar ones MathF.Exp.
/// <para>Why our own vector exp: the kernels' loops carry <c>AggressiveOptimization</c> (a generation calls many of
/// them only a few times, too few for tier-1, and their tier-0 code is 10-30× slower), and under that attribute the
/// runtime's Vector512.Exp ran 3-4× slower than at tier 1 (group norm + SiLU 28 → 104 µs). This one has only literal
/// constants, so it compiles the same way everywhere.</para>
/// </summary>
internal static class Activations
{
    private const float P = 0.3275911f, A1 = 0.254829592f, A2 = -0.284496736f, A3 = 1.421413741f, A4 = -1.453152027f, A5 = 1.061405429f;
    private const float InvSqrt2 = 0.70710678118654752f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Silu(float x) => x / (1f + MathF.Exp(-x));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Silu(Vector512<float> x) => x / (Vector512<float>.One + Exp(-x));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Silu(Vector256<float> x) => x / (Vector256<float>.One + Exp(-x));

    /// <summary>QuickGELU x·σ(1.702·x) = x / (1 + e^(−1.702·x)).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float QuickGelu(float x) => x / (1f + MathF.Exp(-ElementwiseReference.QuickGeluScale * x));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> QuickGelu(Vector512<float> x) => x / (Vector512<float>.One + Exp(x * -ElementwiseReference.QuickGeluScale));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> QuickGelu(Vector256<float> x) => x / (Vector256<float>.One + Exp(x * -ElementwiseReference.QuickGeluScale));

    /// <summary>tanh(x/3)·3 (DecoderTiny's clamp) as 3·(1 − 2/(e^(2x/3) + 1)): the vector exp clamps its argument, so large |x|
    /// give ±3 exactly, never NaN; near 0 the absolute error is a few ulp of 3.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float TanhClamp(float x) => MathF.Tanh(x / ElementwiseReference.TanhClampMagnitude) * ElementwiseReference.TanhClampMagnitude;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> TanhClamp(Vector512<float> x) =>
        Vector512.Create(ElementwiseReference.TanhClampMagnitude) * (Vector512<float>.One - Vector512.Create(2f) / (Exp(x * (2f / ElementwiseReference.TanhClampMagnitude)) + Vector512<float>.One));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> TanhClamp(Vector256<float> x) =>
        Vector256.Create(ElementwiseReference.TanhClampMagnitude) * (Vector256<float>.One - Vector256.Create(2f) / (Exp(x * (2f / ElementwiseReference.TanhClampMagnitude)) + Vector256<float>.One));

    // e^x = 2^n · e^r with n = round(x·log2 e), r = x − n·ln 2 (ln 2 split in two for exactness), e^r by the Cephes expf
    // polynomial on |r| ≤ ln2/2 (about 1 ulp); x clamped to [−87.3, 88.376], where n stays in [−126, 127] and e^x a
    // normal float (above 88.376, x·log2 e rounds to n = 128, whose exponent bits would make +∞).
    private const float ExpHi = 88.3762626647949f, ExpLo = -87.3f, Log2E = 1.44269504088896341f, Ln2Hi = 0.693359375f, Ln2Lo = -2.12194440e-4f;
    // n = round(v) for |v| < 2^22 as (v + 1.5·2^23) − 1.5·2^23, the sum's low bits holding n as an integer: the same n
    // as Round + ConvertToInt32 (both ties-to-even), without the saturating conversion's fix-up (exp ran 25 % faster).
    private const float RoundMagic = 12582912f;
    private const int RoundMagicBits = 0x4B400000;
    private const float E0 = 1.9875691500e-4f, E1 = 1.3981999507e-3f, E2 = 8.3334519073e-3f, E3 = 4.1665795894e-2f, E4 = 1.6666665459e-1f, E5 = 5.0000001201e-1f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Exp(Vector512<float> x)
    {
        x = Vector512.Min(Vector512.Max(x, Vector512.Create(ExpLo)), Vector512.Create(ExpHi));
        var t = x * Log2E + Vector512.Create(RoundMagic);     // round-to-nearest-even of x·log2 e, in t's low mantissa bits
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
    public static Vector256<float> Exp(Vector256<float> x)
    {
        x = Vector256.Min(Vector256.Max(x, Vector256.Create(ExpLo)), Vector256.Create(ExpHi));
        var t = x * Log2E + Vector256.Create(RoundMagic);     // round-to-nearest-even of x·log2 e, in t's low mantissa bits
        var n = t - Vector256.Create(RoundMagic);
        var r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-Ln2Hi), x);
        r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-Ln2Lo), r);
        var p = Vector256.FusedMultiplyAdd(Vector256.Create(E0), r, Vector256.Create(E1));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(E2));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(E3));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(E4));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(E5));
        var er = Vector256.FusedMultiplyAdd(p, r * r, r) + Vector256<float>.One;
        var twoN = (t.AsInt32() - Vector256.Create(RoundMagicBits - 127)) << 23;
        return er * twoN.AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Gelu(float x)
    {
        float z = x * InvSqrt2, az = MathF.Abs(z);
        float t = 1f / (1f + P * az);
        float erfc = t * (A1 + t * (A2 + t * (A3 + t * (A4 + t * A5)))) * MathF.Exp(-az * az);
        return 0.5f * x * (z >= 0f ? 2f - erfc : erfc);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Gelu(Vector512<float> x)
    {
        var z = x * InvSqrt2;
        var az = Vector512.Abs(z);
        var t = Vector512<float>.One / Vector512.FusedMultiplyAdd(az, Vector512.Create(P), Vector512<float>.One);
        var poly = Vector512.FusedMultiplyAdd(t, Vector512.Create(A5), Vector512.Create(A4));
        poly = Vector512.FusedMultiplyAdd(t, poly, Vector512.Create(A3));
        poly = Vector512.FusedMultiplyAdd(t, poly, Vector512.Create(A2));
        poly = Vector512.FusedMultiplyAdd(t, poly, Vector512.Create(A1));
        var erfc = t * poly * Exp(-(az * az));
        var onePlusErf = Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(z, Vector512<float>.Zero), Vector512.Create(2f) - erfc, erfc);
        return 0.5f * x * onePlusErf;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Gelu(Vector256<float> x)
    {
        var z = x * InvSqrt2;
        var az = Vector256.Abs(z);
        var t = Vector256<float>.One / Vector256.FusedMultiplyAdd(az, Vector256.Create(P), Vector256<float>.One);
        var poly = Vector256.FusedMultiplyAdd(t, Vector256.Create(A5), Vector256.Create(A4));
        poly = Vector256.FusedMultiplyAdd(t, poly, Vector256.Create(A3));
        poly = Vector256.FusedMultiplyAdd(t, poly, Vector256.Create(A2));
        poly = Vector256.FusedMultiplyAdd(t, poly, Vector256.Create(A1));
        var erfc = t * poly * Exp(-(az * az));
        var onePlusErf = Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(z, Vector256<float>.Zero), Vector256.Create(2f) - erfc, erfc);
        return 0.5f * x * onePlusErf;
    }
}
