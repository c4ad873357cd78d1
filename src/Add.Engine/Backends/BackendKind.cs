namespace Add.Engine.Backends;

/// <summary>Which backend runs a pipeline.</summary>
public enum BackendKind
{
    /// <summary>CUDA when an NVIDIA GPU and driver are present, else the CPU SIMD backend.</summary>
    Auto,
    /// <summary>CPU SIMD kernels (<see cref="CpuBackend"/>).</summary>
    Cpu,
    /// <summary>ILGPU kernels on the first CUDA device; an error when there is none.</summary>
    Cuda,
    /// <summary>ILGPU kernels on ILGPU's CPU accelerator: for debugging the GPU kernels, very slow.</summary>
    IlgpuCpu,
}

/// <summary>Creates the backend a <see cref="BackendKind"/> names.</summary>
public static class BackendFactory
{
    /// <summary>Creates the backend.</summary>
    /// <exception cref="NotSupportedException"><see cref="BackendKind.Cuda"/> and no CUDA device or driver is present.</exception>
    public static Backend Create(BackendKind kind) => kind switch
    {
        BackendKind.Cpu => new CpuBackend(),
        BackendKind.IlgpuCpu => IlgpuBackend.CreateCpuAccelerator(),
        BackendKind.Cuda => IlgpuBackend.TryCreateCuda() ?? throw new NotSupportedException("the cuda backend needs an NVIDIA GPU and its driver; none was found (use the cpu backend)"),
        _ => IlgpuBackend.TryCreateCuda() as Backend ?? new CpuBackend(),
    };
}
