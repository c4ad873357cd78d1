using Add.Engine.CommandLine;

namespace Add.Engine.Backends;

/// <summary>Which backend runs a pipeline (<c>--backend auto|cpu|cuda|ilgpu-cpu</c>).</summary>
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

public static class BackendFactory
{
    /// <summary>Parses auto|cpu|cuda|ilgpu-cpu; anything else is a usage error naming the choices.</summary>
    public static BackendKind Parse(string text) => text.ToLowerInvariant() switch
    {
        "auto" => BackendKind.Auto,
        "cpu" => BackendKind.Cpu,
        "cuda" => BackendKind.Cuda,
        "ilgpu-cpu" => BackendKind.IlgpuCpu,
        _ => throw new UsageException($"unknown backend '{text}' (choose auto, cpu, cuda or ilgpu-cpu)"),
    };

    /// <summary>Creates the backend; <see cref="BackendKind.Cuda"/> without a device is a usage error.</summary>
    public static Backend Create(BackendKind kind) => kind switch
    {
        BackendKind.Cpu => new CpuBackend(),
        BackendKind.IlgpuCpu => IlgpuBackend.CreateCpuAccelerator(),
        BackendKind.Cuda => IlgpuBackend.TryCreateCuda() ?? throw new UsageException("--backend cuda: no CUDA device (or driver) found"),
        _ => IlgpuBackend.TryCreateCuda() as Backend ?? new CpuBackend(),
    };
}
