using ILGPU;
using ILGPU.Runtime;

namespace Add.Kernels.Ilgpu;

/// <summary>
/// The fused latent sampler of <see cref="LatentSamplerReference"/> on ILGPU (coefficients: <see cref="LatentSamplerStep"/>).
/// <para>
/// Versions: <see cref="LatentSamplerReference.Step"/> (plain loop); <see cref="Kernel"/> (v1: one thread per element, reads
/// x, ε̂c, [ε̂u], [noise], writes x' and x̂0; memory bound, 4-6 floats of traffic per element).
/// </para>
/// </summary>
public static class LatentSamplerDevice
{
    /// <summary>v1 kernel: one thread per element i of the N·C·H·W latent. <paramref name="next"/> may alias <paramref name="x"/>.</summary>
    /// <param name="x">[N, C, H, W]</param>
    /// <param name="epsUncond">[N, C, H, W] or empty when not guided</param>
    /// <param name="epsCond">[N, C, H, W]</param>
    /// <param name="noise">[N, C, H, W] or empty when the step uses no noise</param>
    /// <param name="next">[N, C, H, W]</param>
    /// <param name="x0">[N, C, H, W]</param>
    public static void Kernel(Index1D i, ArrayView<float> x, ArrayView<float> epsUncond, ArrayView<float> epsCond, ArrayView<float> noise,
        ArrayView<float> next, ArrayView<float> x0, LatentSamplerStep step)
    {
        float eps = epsCond[i];
        if (step.Guided != 0)
        {
            float uncond = epsUncond[i];
            eps = uncond + step.GuidanceScale * (eps - uncond);
        }
        float xi = x[i];
        float predicted = step.X0FromX * xi + step.X0FromEps * eps;
        float value = step.NextFromX * xi + step.NextFromEps * eps;
        if (step.UsesNoise != 0)
            value += step.NextFromNoise * noise[i];
        x0[i] = predicted;
        next[i] = value;
    }
}

/// <summary>Loads <see cref="LatentSamplerDevice.Kernel"/> once for an accelerator and launches it on caller-owned views.</summary>
public sealed class LatentSamplerIlgpu
{
    private readonly Accelerator _accelerator;
    private readonly Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, LatentSamplerStep> _kernel;

    public LatentSamplerIlgpu(Accelerator accelerator)
    {
        _accelerator = accelerator;
        _kernel = accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, LatentSamplerStep>(LatentSamplerDevice.Kernel);
    }

    /// <summary>Enqueues one sampler step over the whole latent.</summary>
    /// <param name="x">[N, C, H, W]</param>
    /// <param name="epsUncond">[N, C, H, W]; ignored (may be empty) unless <paramref name="step"/> is guided</param>
    /// <param name="epsCond">[N, C, H, W]</param>
    /// <param name="noise">[N, C, H, W]; ignored (may be empty) unless the step uses noise</param>
    /// <param name="next">[N, C, H, W]; may be <paramref name="x"/> itself</param>
    /// <param name="x0">[N, C, H, W]</param>
    public void Launch(ArrayView<float> x, ArrayView<float> epsUncond, ArrayView<float> epsCond, ArrayView<float> noise,
        ArrayView<float> next, ArrayView<float> x0, LatentSamplerStep step, AcceleratorStream? stream = null)
    {
        long count = x.Length;
        LatentSamplerReference.CheckLengths(count, epsCond.Length, next.Length, x0.Length, epsUncond.Length, noise.Length, step);
        if (count > int.MaxValue)
            throw new ArgumentException($"latent of {count} elements exceeds the kernel's int index");
        if (count == 0)
            return;
        _kernel(stream ?? _accelerator.DefaultStream, (int)count, x, epsUncond, epsCond, noise, next, x0, step);
    }
}
