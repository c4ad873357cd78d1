using Add.Kernels.Ilgpu;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;

namespace Add.Tests.Kernels.Ilgpu;

/// <summary>
/// Compiles every ILGPU kernel (<see cref="IlgpuKernels.All"/>) to PTX for an H100 (sm_90) without needing a GPU. ILGPU's CPU accelerator runs
/// kernels as .NET code, so it accepts things the GPU backend rejects (managed allocations, MathF without
/// ILGPU.Algorithms, non-constant shared-memory sizes); this catches them on machines with no CUDA device.
/// </summary>
[Trait("Category", "Kernels")]
public sealed class PtxCompileTests
{
    public static TheoryData<string> Kernels() => new(IlgpuKernels.All.Select(k => k.Name));

    [Theory]
    [MemberData(nameof(Kernels))]
    public void CompilesForSm90(string name)
    {
        var (_, method, explicitlyGrouped) = IlgpuKernels.All.Single(k => k.Name == name);
        using var context = Context.Create(b => b.CPU().EnableAlgorithms());
        using var backend = new PTXBackend(context, new CudaCapabilityContext(CudaArchitecture.SM_90), CudaArchitecture.SM_90, CudaInstructionSet.ISA_80, null);
        var entry = explicitlyGrouped
            ? EntryPointDescription.FromExplicitlyGroupedKernel(method)
            : EntryPointDescription.FromImplicitlyGroupedKernel(method);
        var compiled = (PTXCompiledKernel)backend.Compile(entry, new KernelSpecialization());
        Assert.Contains(".entry", compiled.PTXAssembly);
    }
}
