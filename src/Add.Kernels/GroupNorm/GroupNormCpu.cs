using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Add.Kernels.Cpu;

/// <summary>
/// Group normalization (Wu &amp; He 2018, Eq. 1-3) with optional fused SiLU, on the CPU. Per (n, g) over the Cg·H·W values:
/// <c>μ = mean(x)</c>, <c>σ² = mean((x − μ)²)</c>, <c>y = (x − μ)/√(σ² + ε)·γ[c] + β[c]</c>, then <c>y ← y·σ(y)</c> if fused.
/// <para>Legend: N batch, C channels, H W size, G groups, Cg = C/G. x, y [N, C, H, W]; γ, β [C].</para>
/// <para>Versions: reference <see cref="GroupNormReference.Forward"/> (double statistics); <see cref="Forward"/>: fp32 statistics by two
/// passes, deterministic (a summation order fixed by L and the path, not by the address or the batch): μ = CpuSimd.Sum / L;
/// σ² = CpuSimd.Sum of (x − μ)² / L, never E[x²] − μ²; then one fused pass per channel y = (x − μ)·(rstd·γ) + β (+ SiLU)
/// at the chosen width, x − μ rounded to fp32 in each (three passes over x, one write of y: the same values as storing
/// x − μ in y and reading it twice, which cost a write and a read more). Groups run in parallel above 32k values per core.
/// y may be x.</para>
/// </summary>
public static unsafe class GroupNormCpu
{
    private const long MinFloatsPerThread = 1 << 15;

    /// <summary>y = groupnorm(x) (then SiLU if <paramref name="fuseSilu"/>).</summary>
    /// <param name="x">[N, C, H, W]</param>
    /// <param name="gamma">[C]</param>
    /// <param name="beta">[C]</param>
    /// <param name="y">[N, C, H, W]; may be x</param>
    public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, Span<float> y,
        int n, int c, int h, int w, int groups, float epsilon, bool fuseSilu, SimdPath path = SimdPath.Auto)
    {
        long count = GroupNormReference.Check(x.Length, gamma.Length, beta.Length, y.Length, n, c, h, w, groups);
        if (count == 0)
            return;
        path = CpuSimd.Resolve(path);
        int hw = h * w, cg = c / groups, items = n * groups;
        int workers = CpuSimd.Workers(items, (long)cg * hw, MinFloatsPerThread);
        fixed (float* px = x, pg = gamma, pb = beta, py = y)
        {
            if (workers == 1)
            {
                Groups(0, items, px, pg, pb, py, groups, cg, hw, epsilon, fuseSilu, path);
                return;
            }
            nint ax = (nint)px, ag = (nint)pg, ab = (nint)pb, ay = (nint)py;
            CpuWorkers.For(workers, t => Groups(items * t / workers, items * (t + 1) / workers,
                (float*)ax, (float*)ag, (float*)ab, (float*)ay, groups, cg, hw, epsilon, fuseSilu, path));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Groups(int first, int last, float* x, float* gamma, float* beta, float* y, int groups, int cg, int hw,
        float epsilon, bool fuseSilu, SimdPath path)
    {
        int len = cg * hw;
        for (int ng = first; ng < last; ng++)
        {
            float* xg = x + (long)ng * len, yg = y + (long)ng * len;
            float mean = CpuSimd.Sum(xg, len, path, squares: false) / len;
            float rstd = 1f / MathF.Sqrt(CpuSimd.Sum(xg, len, path, squares: true, center: mean) / len + epsilon);
            int channel0 = (ng % groups) * cg;
            for (int ch = 0; ch < cg; ch++)
                ScaleShift(yg + (long)ch * hw, hw, rstd * gamma[channel0 + ch], beta[channel0 + ch], fuseSilu, path, xg + (long)ch * hw, mean);
        }
    }

    /// <summary>v ← (u − center)·scale + shift, then SiLU if asked, over <paramref name="count"/> floats at the chosen
    /// width; u is <paramref name="from"/> (may be v), or v itself when null. u − center is rounded to fp32 before the
    /// FMA, as a stored x − μ would be.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void ScaleShift(float* v, int count, float scale, float shift, bool silu, SimdPath path, float* from = null, float center = 0f)
    {
        int i = 0;
        float* u = from == null ? v : from;
        if (path == SimdPath.Vector512)
        {
            var s = Vector512.Create(scale);
            var b = Vector512.Create(shift);
            var c = Vector512.Create(center);
            for (; i <= count - 16; i += 16)
            {
                var r = Vector512.FusedMultiplyAdd(Vector512.Load(u + i) - c, s, b);
                (silu ? Activations.Silu(r) : r).Store(v + i);
            }
        }
        if (path != SimdPath.Scalar)
        {
            var s = Vector256.Create(scale);
            var b = Vector256.Create(shift);
            var c = Vector256.Create(center);
            for (; i <= count - 8; i += 8)
            {
                var r = Vector256.FusedMultiplyAdd(Vector256.Load(u + i) - c, s, b);
                (silu ? Activations.Silu(r) : r).Store(v + i);
            }
        }
        for (; i < count; i++)
        {
            float r = MathF.FusedMultiplyAdd(u[i] - center, scale, shift);
            v[i] = silu ? Activations.Silu(r) : r;
        }
    }
}
