using System.Reflection;
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
/// Compiles every ILGPU kernel to PTX for an H100 (sm_90) without needing a GPU. ILGPU's CPU accelerator runs
/// kernels as .NET code, so it accepts things the GPU backend rejects (managed allocations, MathF without
/// ILGPU.Algorithms, non-constant shared-memory sizes); this catches them on machines with no CUDA device.
/// </summary>
[Trait("Category", "Kernels")]
public sealed class PtxCompileTests
{
    public static TheoryData<string> Kernels() => new(KernelTable.Keys);

    private static readonly Dictionary<string, (MethodInfo Method, bool ExplicitlyGrouped)> KernelTable = new()
    {
        ["GroupNorm<Threads256>"] = (Method(GroupNorm.Kernel<Threads256>), true),
        ["Attention<AttentionTileGpu>"] = (Method(Attention.Kernel<AttentionTileGpu>), true),
        ["LatentSampler"] = (Method(LatentSampler.Kernel), false),
        ["Gemm<GemmTile16>"] = (Method(Gemm.Kernel<GemmTile16>), true),
        ["Conv2d<GemmTile16>"] = (Method(Conv2d.Kernel<GemmTile16>), true),
        ["LayerNorm<Threads256>"] = (Method(LayerNorm.Kernel<Threads256>), true),
        ["Silu"] = (Method(Elementwise.SiluKernel), false),
        ["Gelu"] = (Method(Elementwise.GeluKernel), false),
        ["Geglu"] = (Method(Elementwise.GegluKernel), false),
        ["Add"] = (Method(Elementwise.AddKernel), false),
        ["Upsample2x"] = (Method(Elementwise.Upsample2xKernel), false),
        ["ConcatChannels"] = (Method(Elementwise.ConcatChannelsKernel), false),
        ["TimestepEmbedding"] = (Method(Elementwise.TimestepEmbeddingKernel), false),
    };

    [Theory]
    [MemberData(nameof(Kernels))]
    public void CompilesForSm90(string name)
    {
        var (method, explicitlyGrouped) = KernelTable[name];
        using var context = Context.Create(b => b.CPU().EnableAlgorithms());
        using var backend = new PTXBackend(context, new CudaCapabilityContext(CudaArchitecture.SM_90), CudaArchitecture.SM_90, CudaInstructionSet.ISA_80, null);
        var entry = explicitlyGrouped
            ? EntryPointDescription.FromExplicitlyGroupedKernel(method)
            : EntryPointDescription.FromImplicitlyGroupedKernel(method);
        var compiled = (PTXCompiledKernel)backend.Compile(entry, new KernelSpecialization());
        Assert.Contains(".entry", compiled.PTXAssembly);
    }

    private static MethodInfo Method(Delegate kernel) => kernel.Method;
}
