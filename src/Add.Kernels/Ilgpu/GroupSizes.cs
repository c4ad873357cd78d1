namespace Add.Kernels.Ilgpu;

/// <summary>
/// A compile-time number of threads per group for the reduction kernels (group norm, layer norm).
/// Kernels are generic over a struct implementing this, so ILGPU sees <see cref="Threads"/> as a
/// constant: shared-memory arrays get a fixed size and the same code runs with 16-thread groups
/// in tests (ILGPU's CPU accelerator pays about 1.5 ms per barrier of a 256-thread group) and
/// 256-thread groups on a GPU.
/// </summary>
public interface IGroupSize
{
    /// <summary>Threads per group; a power of two (the tree reductions halve it).</summary>
    int Threads { get; }
}

/// <summary>16 threads per group: the most ILGPU's default CPU device allows; used by tests.</summary>
public readonly struct Threads16 : IGroupSize { public int Threads => 16; }

/// <summary>32 threads per group (one warp on NVIDIA GPUs).</summary>
public readonly struct Threads32 : IGroupSize { public int Threads => 32; }

/// <summary>64 threads per group.</summary>
public readonly struct Threads64 : IGroupSize { public int Threads => 64; }

/// <summary>128 threads per group.</summary>
public readonly struct Threads128 : IGroupSize { public int Threads => 128; }

/// <summary>256 threads per group: the GPU default for the reduction kernels.</summary>
public readonly struct Threads256 : IGroupSize { public int Threads => 256; }

/// <summary>Device-side helpers shared by the kernels.</summary>
public static class GroupReduce
{
    /// <summary>
    /// Deterministic sum over the group: every thread passes its partial <paramref name="value"/>,
    /// every thread gets the total. A shared-memory tree (pairs at distance T/2, T/4, ..., 1), so
    /// the order of additions depends only on the group size, never on scheduling (ILGPU's
    /// <c>Group.Reduce</c> uses atomics and is order-dependent). Costs log2(T) + 2 barriers;
    /// the last barrier lets the caller reuse <paramref name="scratch"/> at once.
    /// </summary>
    /// <param name="scratch">shared memory, [T] floats</param>
    public static float Sum(ILGPU.ArrayView<float> scratch, float value, int threads)
    {
        int t = ILGPU.Group.IdxX;
        scratch[t] = value;
        ILGPU.Group.Barrier();
        for (int stride = threads / 2; stride > 0; stride >>= 1)
        {
            if (t < stride)
                scratch[t] += scratch[t + stride];
            ILGPU.Group.Barrier();
        }
        float total = scratch[0];
        ILGPU.Group.Barrier();
        return total;
    }
}
