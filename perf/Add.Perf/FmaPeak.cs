using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Add.Kernels.Cpu;

namespace Add.Perf;

/// <summary>
/// The machine's fp32 FMA peak as this process can reach it: every thread the kernels use (<see cref="CpuSimd.Threads"/>,
/// through <see cref="CpuWorkers"/>) runs a loop of vector FMAs on <see cref="Accumulators"/> independent accumulators,
/// no loads or stores, at the widest accelerated width (Vector512, else Vector256). 16 chains cover the FMA latency
/// (4 cycles) times the FMA ports (2) twice over, so the loop is bound by FMA throughput alone. c ← c·a + b with
/// 0 &lt; a &lt; 1 converges (to b / (1 − a) = 1), so no value overflows or turns denormal. The GEMM-type kernel rows of the
/// sd-turbo table are reported as a share of this.
/// </summary>
public static class FmaPeak
{
    public const int Accumulators = 16;

    /// <summary>Iterations per thread and call: 2^22 × 16 × 32 flops = 2.1 GFLOP, ~10-15 ms per core with AVX-512.</summary>
    public const long Iterations = 1L << 22;

    private const float A = 0.9999f, B = 1e-4f;

    public static bool Wide => Vector512.IsHardwareAccelerated;

    public static int Lanes => Wide ? Vector512<float>.Count : Vector256<float>.Count;

    /// <summary>Flops of one call on all threads: 2 (multiply, add) per lane per FMA.</summary>
    public static double Flops => 2.0 * Lanes * Accumulators * Iterations * CpuSimd.Threads;

    public static string Describe => $"Vector{(Wide ? 512 : 256)} FMA, {Accumulators} accumulators, {CpuSimd.Threads} threads x {Iterations} iterations";

    /// <summary>One timed call: the loop on every thread at once; returns a value depending on every accumulator.</summary>
    public static float Run()
    {
        var sums = new float[CpuSimd.Threads];
        CpuWorkers.For(sums.Length, i => sums[i] = Wide ? Loop512(Iterations) : Loop256(Iterations));
        return sums.Sum();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static float Loop512(long iterations)
    {
        Vector512<float> a = Vector512.Create(A), b = Vector512.Create(B);
        Vector512<float> c0 = Vector512.Create(0.00f), c1 = Vector512.Create(0.01f), c2 = Vector512.Create(0.02f), c3 = Vector512.Create(0.03f);
        Vector512<float> c4 = Vector512.Create(0.04f), c5 = Vector512.Create(0.05f), c6 = Vector512.Create(0.06f), c7 = Vector512.Create(0.07f);
        Vector512<float> c8 = Vector512.Create(0.08f), c9 = Vector512.Create(0.09f), c10 = Vector512.Create(0.10f), c11 = Vector512.Create(0.11f);
        Vector512<float> c12 = Vector512.Create(0.12f), c13 = Vector512.Create(0.13f), c14 = Vector512.Create(0.14f), c15 = Vector512.Create(0.15f);
        for (long i = 0; i < iterations; i++)
        {
            c0 = Vector512.FusedMultiplyAdd(c0, a, b); c1 = Vector512.FusedMultiplyAdd(c1, a, b);
            c2 = Vector512.FusedMultiplyAdd(c2, a, b); c3 = Vector512.FusedMultiplyAdd(c3, a, b);
            c4 = Vector512.FusedMultiplyAdd(c4, a, b); c5 = Vector512.FusedMultiplyAdd(c5, a, b);
            c6 = Vector512.FusedMultiplyAdd(c6, a, b); c7 = Vector512.FusedMultiplyAdd(c7, a, b);
            c8 = Vector512.FusedMultiplyAdd(c8, a, b); c9 = Vector512.FusedMultiplyAdd(c9, a, b);
            c10 = Vector512.FusedMultiplyAdd(c10, a, b); c11 = Vector512.FusedMultiplyAdd(c11, a, b);
            c12 = Vector512.FusedMultiplyAdd(c12, a, b); c13 = Vector512.FusedMultiplyAdd(c13, a, b);
            c14 = Vector512.FusedMultiplyAdd(c14, a, b); c15 = Vector512.FusedMultiplyAdd(c15, a, b);
        }
        var sum = ((c0 + c1) + (c2 + c3)) + ((c4 + c5) + (c6 + c7)) + ((c8 + c9) + (c10 + c11)) + ((c12 + c13) + (c14 + c15));
        return Vector512.Sum(sum);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static float Loop256(long iterations)
    {
        Vector256<float> a = Vector256.Create(A), b = Vector256.Create(B);
        Vector256<float> c0 = Vector256.Create(0.00f), c1 = Vector256.Create(0.01f), c2 = Vector256.Create(0.02f), c3 = Vector256.Create(0.03f);
        Vector256<float> c4 = Vector256.Create(0.04f), c5 = Vector256.Create(0.05f), c6 = Vector256.Create(0.06f), c7 = Vector256.Create(0.07f);
        Vector256<float> c8 = Vector256.Create(0.08f), c9 = Vector256.Create(0.09f), c10 = Vector256.Create(0.10f), c11 = Vector256.Create(0.11f);
        Vector256<float> c12 = Vector256.Create(0.12f), c13 = Vector256.Create(0.13f), c14 = Vector256.Create(0.14f), c15 = Vector256.Create(0.15f);
        for (long i = 0; i < iterations; i++)
        {
            c0 = Vector256.FusedMultiplyAdd(c0, a, b); c1 = Vector256.FusedMultiplyAdd(c1, a, b);
            c2 = Vector256.FusedMultiplyAdd(c2, a, b); c3 = Vector256.FusedMultiplyAdd(c3, a, b);
            c4 = Vector256.FusedMultiplyAdd(c4, a, b); c5 = Vector256.FusedMultiplyAdd(c5, a, b);
            c6 = Vector256.FusedMultiplyAdd(c6, a, b); c7 = Vector256.FusedMultiplyAdd(c7, a, b);
            c8 = Vector256.FusedMultiplyAdd(c8, a, b); c9 = Vector256.FusedMultiplyAdd(c9, a, b);
            c10 = Vector256.FusedMultiplyAdd(c10, a, b); c11 = Vector256.FusedMultiplyAdd(c11, a, b);
            c12 = Vector256.FusedMultiplyAdd(c12, a, b); c13 = Vector256.FusedMultiplyAdd(c13, a, b);
            c14 = Vector256.FusedMultiplyAdd(c14, a, b); c15 = Vector256.FusedMultiplyAdd(c15, a, b);
        }
        var sum = ((c0 + c1) + (c2 + c3)) + ((c4 + c5) + (c6 + c7)) + ((c8 + c9) + (c10 + c11)) + ((c12 + c13) + (c14 + c15));
        return Vector256.Sum(sum);
    }
}
