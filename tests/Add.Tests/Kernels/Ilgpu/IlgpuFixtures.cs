using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;

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
