using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Add.Kernels.Cpu;

/// <summary>
/// SiLU and GELU at each width, shared by the elementwise kernels and the fused epilogues (group norm + SiLU, GEGLU).
/// Formulas as <see cref="Add.Kernels.Ilgpu.Elementwise"/>: silu(x) = x/(1 + e^(−x)); gelu(x) = x/2·(1 + erf(x/√2)) with
/// erf by Abramowitz &amp; Stegun 7.1.26 (|error| ≤ 1.5e-7), 1 + erf(z) taken as erfc(|z|) for z &lt; 0 (no cancellation).
/// Exponentials are the runtime's vector Exp (Vector512/256.Exp) and MathF.Exp.
/// </summary>
internal static class Activations
{
    private const float P = 0.3275911f, A1 = 0.254829592f, A2 = -0.284496736f, A3 = 1.421413741f, A4 = -1.453152027f, A5 = 1.061405429f;
    private const float InvSqrt2 = 0.70710678118654752f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Silu(float x) => x / (1f + MathF.Exp(-x));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Silu(Vector512<float> x) => x / (Vector512<float>.One + Vector512.Exp(-x));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Silu(Vector256<float> x) => x / (Vector256<float>.One + Vector256.Exp(-x));

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
        var erfc = t * poly * Vector512.Exp(-(az * az));
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
        var erfc = t * poly * Vector256.Exp(-(az * az));
        var onePlusErf = Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(z, Vector256<float>.Zero), Vector256.Create(2f) - erfc, erfc);
        return 0.5f * x * onePlusErf;
    }
}
