using Add.Kernels.Ilgpu;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;

namespace Add.GpuCheck;

/// <summary>
/// <c>ptx</c>: compiles every kernel of the library (<see cref="IlgpuKernels.All"/>, the list the kernel tests compile too),
/// at the GPU tiles, to PTX for an H100 (sm_90) without a GPU.
/// Run on the published (trimmed) bundle before it goes to a GPU machine: it exercises ILGPU's IL frontend and PTX
/// backend on the trimmed runtime, the parts the CPU accelerator never touches.
/// </summary>
public static class PtxCheck
{
    /// <summary>Compiles each kernel; prints its PTX size, writes NAME.ptx to <paramref name="outDir"/> if given; returns the number that failed.</summary>
    public static int Run(TextWriter log, string? outDir)
    {
        if (outDir is not null)
            Directory.CreateDirectory(outDir);
        using var context = Context.Create(b => b.CPU(CPUDevice.Nvidia).EnableAlgorithms());
        using var backend = new PTXBackend(context, new CudaCapabilityContext(CudaArchitecture.SM_90), CudaArchitecture.SM_90, CudaInstructionSet.ISA_80, null);
        int failed = 0;
        foreach (var (name, method, explicitlyGrouped) in IlgpuKernels.All)
        {
            try
            {
                var entry = explicitlyGrouped
                    ? EntryPointDescription.FromExplicitlyGroupedKernel(method)
                    : EntryPointDescription.FromImplicitlyGroupedKernel(method);
                var compiled = (PTXCompiledKernel)backend.Compile(entry, new KernelSpecialization());
                bool ok = compiled.PTXAssembly.Contains(".entry", StringComparison.Ordinal);
                failed += ok ? 0 : 1;
                if (outDir is not null)
                    File.WriteAllText(Path.Combine(outDir, $"{name.Replace('<', '.').Replace(">", "", StringComparison.Ordinal)}.ptx"), compiled.PTXAssembly);
                log.WriteLine($"{name,-30} {(ok ? "ok" : "FAIL: no .entry")} ({compiled.PTXAssembly.Length} chars of PTX)");
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                failed++;
                log.WriteLine($"{name,-30} FAIL: {e.GetType().Name}: {e.Message}");
            }
        }
        return failed;
    }
}
