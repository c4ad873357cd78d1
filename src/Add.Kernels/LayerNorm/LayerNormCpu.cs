using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Add.Kernels.Cpu;

/// <summary>
/// Layer normalization over the last dim (Ba et al. 2016, Eq. 4; torch.nn.functional.layer_norm over [D]) on the CPU:
/// per row <c>μ = mean(x)</c>, <c>σ² = mean((x − μ)²)</c>, <c>y = (x − μ)/√(σ² + ε)·γ + β</c>.
/// <para>Legend: M rows (B·L tokens), D features. x, y [M, D]; γ, β [D].</para>
/// <para>Versions: reference <see cref="LayerNormReference.Forward"/> (double statistics); <see cref="Forward"/>: the two-pass fp32
/// statistics of <see cref="GroupNormCpu"/> (CpuSimd.Sum in a fixed order: Σx, then Σ(x − μ)²), then one fused pass
/// y = ((x − μ)·rstd)·γ + β at the chosen width, x − μ rounded to fp32 in each as a stored difference would be (y written
/// once). Rows run in parallel above 32k values per core. y may be x.</para>
/// </summary>
public static unsafe class LayerNormCpu
{
    private const long MinFloatsPerThread = 1 << 15;

    /// <summary>y = layernorm(x) over rows of D.</summary>
    /// <param name="x">[M, D]</param><param name="gamma">[D]</param><param name="beta">[D]</param><param name="y">[M, D]; may be x</param>
    public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, Span<float> y,
        int m, int d, float epsilon, SimdPath path = SimdPath.Auto)
    {
        KernelArgs.Length(nameof(x), x.Length, (long)m * d);
        KernelArgs.Length(nameof(y), y.Length, (long)m * d);
        KernelArgs.Length(nameof(gamma), gamma.Length, d);
        KernelArgs.Length(nameof(beta), beta.Length, d);
        if (m == 0 || d == 0)
            return;
        path = CpuSimd.Resolve(path);
        int workers = CpuSimd.Workers(m, d, MinFloatsPerThread);
        fixed (float* px = x, pg = gamma, pb = beta, py = y)
        {
            if (workers == 1)
            {
                Rows(0, m, px, pg, pb, py, d, epsilon, path);
                return;
            }
            nint ax = (nint)px, ag = (nint)pg, ab = (nint)pb, ay = (nint)py;
            CpuWorkers.For(workers, t => Rows(m * t / workers, m * (t + 1) / workers, (float*)ax, (float*)ag, (float*)ab, (float*)ay, d, epsilon, path));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rows(int first, int last, float* x, float* gamma, float* beta, float* y, int d, float epsilon, SimdPath path)
    {
        for (int r = first; r < last; r++)
        {
            float* u = x + (long)r * d, v = y + (long)r * d;
            float mean = CpuSimd.Sum(u, d, path, squares: false) / d;
            float rstd = 1f / MathF.Sqrt(CpuSimd.Sum(u, d, path, squares: true, center: mean) / d + epsilon);
            int i = 0;
            if (path == SimdPath.Vector512)
            {
                var s = Vector512.Create(rstd);
                var c = Vector512.Create(mean);
                for (; i <= d - 16; i += 16)
                    Vector512.FusedMultiplyAdd((Vector512.Load(u + i) - c) * s, Vector512.Load(gamma + i), Vector512.Load(beta + i)).Store(v + i);
            }
            if (path != SimdPath.Scalar)
            {
                var s = Vector256.Create(rstd);
                var c = Vector256.Create(mean);
                for (; i <= d - 8; i += 8)
                    Vector256.FusedMultiplyAdd((Vector256.Load(u + i) - c) * s, Vector256.Load(gamma + i), Vector256.Load(beta + i)).Store(v + i);
            }
            for (; i < d; i++)
                v[i] = MathF.FusedMultiplyAdd((u[i] - mean) * rstd, gamma[i], beta[i]);
        }
    }
}
