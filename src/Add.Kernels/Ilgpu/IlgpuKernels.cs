using System.Reflection;

namespace Add.Kernels.Ilgpu;

/// <summary>One ILGPU kernel entry point: its name in reports, its method (at the GPU tiles for generic kernels) and whether
/// it is launched with an explicit group size (<c>LoadKernel</c>) or implicitly grouped (<c>LoadAutoGroupedKernel</c>).</summary>
public readonly record struct IlgpuKernel(string Name, MethodInfo Method, bool ExplicitlyGrouped);

/// <summary>
/// Every ILGPU kernel of the library, in one list, for the checks that compile each one to PTX without a GPU (the
/// kernel tests and Add.GpuCheck's <c>ptx</c> command). A new kernel goes here, beside its family folder.
/// </summary>
public static class IlgpuKernels
{
    /// <summary>Each kernel once, generic kernels at the tiles and group sizes the engine uses on a GPU.</summary>
    public static IReadOnlyList<IlgpuKernel> All { get; } =
    [
        new("GroupNorm<Threads256>", Method(GroupNormDevice.Kernel<Threads256>), true),
        new("LayerNorm<Threads128>", Method(LayerNormDevice.Kernel<Threads128>), true),
        new("LayerNorm<Threads256>", Method(LayerNormDevice.Kernel<Threads256>), true),
        new("Attention<AttentionTileGpu>", Method(AttentionDevice.Kernel<AttentionTileGpu>), true),
        new("Attention<AttentionTileWide>", Method(AttentionDevice.Kernel<AttentionTileWide>), true),
        new("Linear<GemmTile16>", Method(LinearDevice.Kernel<GemmTile16>), true),
        new("LinearBlocked<GemmTile16>", Method(LinearDevice.KernelBlocked<GemmTile16>), true),
        new("Conv2d<GemmTile16>", Method(Conv2dDevice.Kernel<GemmTile16>), true),
        new("Conv2dBlocked<GemmTile16>", Method(Conv2dDevice.KernelBlocked<GemmTile16>), true),
        new("LatentSampler", Method(LatentSamplerDevice.Kernel), false),
        new("Silu", Method(ElementwiseDevice.SiluKernel), false),
        new("Gelu", Method(ElementwiseDevice.GeluKernel), false),
        new("QuickGelu", Method(ElementwiseDevice.QuickGeluKernel), false),
        new("Relu", Method(ElementwiseDevice.ReluKernel), false),
        new("TanhClamp", Method(ElementwiseDevice.TanhClampKernel), false),
        new("Affine", Method(ElementwiseDevice.AffineKernel), false),
        new("Geglu", Method(ElementwiseDevice.GegluKernel), false),
        new("Add", Method(ElementwiseDevice.AddKernel), false),
        new("Upsample2x", Method(ElementwiseDevice.Upsample2xKernel), false),
        new("ConcatChannels", Method(ElementwiseDevice.ConcatChannelsKernel), false),
        new("TimestepEmbedding", Method(TimestepEmbeddingDevice.Kernel), false),
        new("Transpose", Method(LayoutDevice.TransposeKernel), false),
        new("ChannelBias", Method(LayoutDevice.ChannelBiasKernel), false),
        new("ZeroPad", Method(LayoutDevice.ZeroPadKernel), false),
    ];

    private static MethodInfo Method(Delegate kernel) => kernel.Method;
}
