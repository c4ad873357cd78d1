using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using Xunit.Abstractions;

namespace Add.Tests.Kernels.Ilgpu;

/// <summary>
/// One ILGPU context and accelerator shared by every kernel test of a backend (ILGPU's test style:
/// one abstract suite per kernel family, one subclass per backend, accelerators from collection fixtures).
/// Contexts enable ILGPU.Algorithms, which the kernels need for XMath on GPUs.
/// </summary>
public abstract class IlgpuFixture : IDisposable
{
    private readonly Context? _context;

    protected IlgpuFixture(Func<Context?> createContext, Func<Context, Accelerator?> createAccelerator, string missing)
    {
        try
        {
            _context = createContext();
            Accelerator = _context is null ? null : createAccelerator(_context);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Accelerator = null;
            missing = $"{missing} ({e.GetType().Name}: {e.Message})";
        }
        SkipReason = missing;
    }

    /// <summary>The accelerator, or null when this backend's device is absent (its tests skip).</summary>
    public Accelerator? Accelerator { get; }

    /// <summary>Why the tests of this backend skip when <see cref="Accelerator"/> is null.</summary>
    public string SkipReason { get; }

    /// <summary>The accelerator; skips the calling test (reported as skipped) when it is absent.</summary>
    public Accelerator Require()
    {
        Skip.If(Accelerator is null, SkipReason);
        return Accelerator!;
    }

    public void Dispose()
    {
        Accelerator?.Dispose();
        _context?.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>ILGPU's CPU accelerator emulating an NVIDIA device (warp 32, groups up to 1024 threads); always present.</summary>
public sealed class IlgpuCpuFixture() : IlgpuFixture(
    () => Context.Create(b => b.CPU(CPUDevice.Nvidia).EnableAlgorithms()),
    context => context.CreateCPUAccelerator(0),
    "no CPU accelerator");

/// <summary>The first CUDA device, or none (its tests then skip).</summary>
public sealed class IlgpuCudaFixture() : IlgpuFixture(
    () => Context.Create(b => b.Cuda().EnableAlgorithms()),
    context => context.GetCudaDevices().Count > 0 ? context.CreateCudaAccelerator(0) : null,
    "no CUDA device");

[CollectionDefinition(Name)]
public sealed class IlgpuCpuCollection : ICollectionFixture<IlgpuCpuFixture>
{
    public const string Name = "ILGPU CPU accelerator";
}

[CollectionDefinition(Name)]
public sealed class IlgpuCudaCollection : ICollectionFixture<IlgpuCudaFixture>
{
    public const string Name = "ILGPU CUDA accelerator";
}

/// <summary>The GEMM-type ILGPU kernels (linear, conv) in both versions: v1 (one output per thread) and v2 (register-blocked).</summary>
public static class GemmVersions
{
    /// <summary>Runs <paramref name="launch"/>(blocked) for v1 then v2 into <paramref name="output"/>, filled with NaN before
    /// each (an unwritten output fails), checks each against <paramref name="expected"/> and the two against each other
    /// bit for bit (both sum each output in k order, one FMA chain).</summary>
    public static void CheckBoth(Accelerator accelerator, MemoryBuffer1D<float, Stride1D.Dense> output, Action<bool> launch,
        float[] expected, Tolerance tolerance, string what, ITestOutputHelper log)
    {
        float[]? previous = null;
        foreach (bool blocked in new[] { false, true })
        {
            output.CopyFromCPU(Enumerable.Repeat(float.NaN, (int)output.Length).ToArray());
            launch(blocked);
            accelerator.Synchronize();
            var got = output.GetAsArray1D();
            Numerics.AssertClose(expected, got, tolerance, $"{what} blocked={blocked}", log);
            if (previous is not null)
                Assert.Equal(previous, got);
            previous = got;
        }
    }
}
