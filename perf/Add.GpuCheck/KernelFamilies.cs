using Add.GpuCheck.Families;
using ILGPU.Runtime;

namespace Add.GpuCheck;

/// <summary>Binds a case's device tensors to its kernel: returns the launch to check once and then time.</summary>
public delegate Action<AcceleratorStream> Binder(CheckCase spec, DeviceTensors tensors, IKernelSet kernels);

/// <summary>Every kernel family of the check by the name a manifest entry's "kernel" holds.</summary>
public static class KernelFamilies
{
    public static readonly IReadOnlyDictionary<string, Binder> Bind = new Dictionary<string, Binder>(StringComparer.Ordinal)
    {
        [GroupNormCheck.Kernel] = GroupNormCheck.Bind,
        [LayerNormCheck.Kernel] = LayerNormCheck.Bind,
        [AttentionCheck.Kernel] = AttentionCheck.Bind,
        [LinearCheck.Kernel] = LinearCheck.Bind,
        [Conv2dCheck.Kernel] = Conv2dCheck.Bind,
        [SamplerCheck.Kernel] = SamplerCheck.Bind,
        [ElementwiseCheck.Silu] = ElementwiseCheck.BindSilu,
        [ElementwiseCheck.Gelu] = ElementwiseCheck.BindGelu,
        [ElementwiseCheck.Geglu] = ElementwiseCheck.BindGeglu,
        [ElementwiseCheck.Add] = ElementwiseCheck.BindAdd,
        [ElementwiseCheck.Upsample] = ElementwiseCheck.BindUpsample,
        [ElementwiseCheck.Concat] = ElementwiseCheck.BindConcat,
        [ElementwiseCheck.Timestep] = ElementwiseCheck.BindTimestep,
        [TinyDecoderCheck.Relu] = TinyDecoderCheck.BindRelu,
        [TinyDecoderCheck.TanhClamp] = TinyDecoderCheck.BindTanhClamp,
        [TinyDecoderCheck.Affine] = TinyDecoderCheck.BindAffine,
    };
}
