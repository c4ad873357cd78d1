using Add.Kernels.Cpu;

namespace Add.Tests.Kernels.Cpu;

/// <summary>The SIMD paths every CPU kernel test runs: the 512 path (with its 256 step and scalar tail), the 256 path, scalar.</summary>
public static class CpuPaths
{
    public static readonly SimdPath[] All = [SimdPath.Vector512, SimdPath.Vector256, SimdPath.Scalar];

    /// <summary>Cartesian product of the paths with each row of <paramref name="cases"/>, for [MemberData].</summary>
    public static TheoryData<SimdPath, T> With<T>(params T[] cases)
    {
        var data = new TheoryData<SimdPath, T>();
        foreach (var path in All)
            foreach (var c in cases)
                data.Add(path, c);
        return data;
    }
}
