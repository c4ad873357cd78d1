using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Add.Kernels.Cpu;

/// <summary>
/// Which vector width a CPU kernel's hand-written loops use. <see cref="Auto"/> is what the engine passes: the widest
/// width the hardware accelerates. Tests pass the narrower ones to cover every path on an AVX-512 machine: a forced
/// <see cref="Vector512"/> on hardware without it still runs (the JIT emulates it), only slowly.
/// <para>Every vector loop of these kernels runs its main part at the chosen width, then (for the 512 path) one
/// 256-bit step, then a scalar tail, so one call at an awkward length covers the tails too. Pieces delegated to
/// <c>TensorPrimitives</c> pick their own width; they are tested by dotnet/runtime and cross-checked here through
/// the kernels that use them.</para>
/// </summary>
public enum SimdPath
{
    /// <summary>The widest accelerated width: Vector512, else Vector256, else scalar.</summary>
    Auto = 0,
    /// <summary>16 floats per vector (AVX-512).</summary>
    Vector512,
    /// <summary>8 floats per vector (AVX2 / NEON pairs).</summary>
    Vector256,
    /// <summary>No vectors: the plain loop that the vector loops' tails also use.</summary>
    Scalar,
}

/// <summary>Helpers shared by the CPU kernels: path resolution and work splitting.</summary>
public static class CpuSimd
{
    /// <summary>The path <see cref="SimdPath.Auto"/> resolves to on this machine.</summary>
    public static SimdPath Best { get; } =
        Vector512.IsHardwareAccelerated ? SimdPath.Vector512 : Vector256.IsHardwareAccelerated ? SimdPath.Vector256 : SimdPath.Scalar;

    /// <summary>Replaces <see cref="SimdPath.Auto"/> by <see cref="Best"/>.</summary>
    public static SimdPath Resolve(SimdPath path) => path == SimdPath.Auto ? Best : path;

    /// <summary>Worker count for parallel kernels: one per core.</summary>
    public static int Threads { get; } = Math.Max(1, Environment.ProcessorCount);

    /// <summary>
    /// How many workers to split <paramref name="items"/> independent items of <paramref name="workPerItem"/> flops
    /// (or touched floats) over: 1 below <paramref name="minWorkPerThread"/> per worker, where a fork-join's few
    /// microseconds of dispatch would cost more than they save.
    /// </summary>
    internal static int Workers(long items, long workPerItem, long minWorkPerThread)
    {
        long byWork = items * workPerItem / Math.Max(1, minWorkPerThread);
        return (int)Math.Max(1, Math.Min(Math.Min(Threads, items), byWork));
    }

    /// <summary>Σ of the 16 lanes in five steps (halve, halve, two in-register shuffles). Vector512.Sum compiles to 26
    /// instructions, which the attention softmax paid once per query row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float Sum(Vector512<float> v) => Sum(v.GetLower() + v.GetUpper());

    /// <summary>Σ of the 8 lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float Sum(Vector256<float> v)
    {
        var x = v.GetLower() + v.GetUpper();
        x += Vector128.Shuffle(x, Vector128.Create(2, 3, 0, 1));
        x += Vector128.Shuffle(x, Vector128.Create(1, 0, 3, 2));
        return x.ToScalar();
    }

    /// <summary>Σ p[0..n) (or Σ (p[i] − <paramref name="center"/>)² when <paramref name="squares"/>, each difference rounded
    /// to fp32 first, as a stored x − μ would be) in an order fixed by n and the path alone: lanes of index mod 16 (or 8)
    /// from p, two vector accumulators, then the scalar tail. TensorPrimitives.Sum aligns its loads to the address, so its
    /// grouping (and last bit) moved with where a row sits in memory: with the batch size and with which arena a generation
    /// ran in.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static unsafe float Sum(float* p, int n, SimdPath path, bool squares, float center = 0f)
    {
        int i = 0;
        float s = 0f;
        if (path == SimdPath.Vector512 && n >= 16)
        {
            Vector512<float> a0 = default, a1 = default, c = Vector512.Create(center);
            for (; i <= n - 32; i += 32)
            {
                var x0 = squares ? Vector512.Load(p + i) - c : Vector512.Load(p + i);
                var x1 = squares ? Vector512.Load(p + i + 16) - c : Vector512.Load(p + i + 16);
                a0 = squares ? Vector512.FusedMultiplyAdd(x0, x0, a0) : a0 + x0;
                a1 = squares ? Vector512.FusedMultiplyAdd(x1, x1, a1) : a1 + x1;
            }
            if (i <= n - 16)
            {
                var x0 = squares ? Vector512.Load(p + i) - c : Vector512.Load(p + i);
                a0 = squares ? Vector512.FusedMultiplyAdd(x0, x0, a0) : a0 + x0;
                i += 16;
            }
            s = Sum(a0 + a1);
        }
        else if (path != SimdPath.Scalar && n >= 8)
        {
            Vector256<float> a0 = default, a1 = default, c = Vector256.Create(center);
            for (; i <= n - 16; i += 16)
            {
                var x0 = squares ? Vector256.Load(p + i) - c : Vector256.Load(p + i);
                var x1 = squares ? Vector256.Load(p + i + 8) - c : Vector256.Load(p + i + 8);
                a0 = squares ? Vector256.FusedMultiplyAdd(x0, x0, a0) : a0 + x0;
                a1 = squares ? Vector256.FusedMultiplyAdd(x1, x1, a1) : a1 + x1;
            }
            if (i <= n - 8)
            {
                var x0 = squares ? Vector256.Load(p + i) - c : Vector256.Load(p + i);
                a0 = squares ? Vector256.FusedMultiplyAdd(x0, x0, a0) : a0 + x0;
                i += 8;
            }
            s = Sum(a0 + a1);
        }
        for (; i < n; i++)
        {
            float d = p[i] - center;
            s = squares ? MathF.FusedMultiplyAdd(d, d, s) : s + p[i];
        }
        return s;
    }
}
