namespace Add.Kernels;

/// <summary>
/// Per-step scalar coefficients of the fused latent sampler (<see cref="LatentSamplerReference"/>): one linear recipe
/// that every supported sampler reduces to, so the kernels have a single branch-free path.
/// <code>
/// ε̂  = ε̂u + w·(ε̂c − ε̂u)          if guided (classifier-free guidance, Ho &amp; Salimans 2022 Eq. 6), else ε̂c
/// x̂0 = X0FromX·x + X0FromEps·ε̂
/// x' = NextFromX·x + NextFromEps·ε̂ + NextFromNoise·noise
/// </code>
/// The kernels only evaluate these coefficients; the engine (Add.Engine.Sampling.SamplerStep.Create) is the one place that
/// derives them from a schedule and a sampler (DDIM, Euler, Euler ancestral, the ADD student), in double, and rounds them
/// to float once here. Tests build steps from plain coefficients.
/// </summary>
public readonly struct LatentSamplerStep
{
    public readonly float X0FromX, X0FromEps;
    public readonly float NextFromX, NextFromEps, NextFromNoise;
    public readonly float GuidanceScale;  // w
    public readonly int Guided;           // 1: combine ε̂u and ε̂c; 0: ε̂ = ε̂c, ε̂u is not read
    public readonly int UsesNoise;        // 1: noise is read; 0: it is not (the view may be empty)

    /// <summary>An unguided step x' = nextFromX·x + nextFromEps·ε̂ + nextFromNoise·noise, x̂0 = x0FromX·x + x0FromEps·ε̂;
    /// noise is read only when nextFromNoise ≠ 0.</summary>
    public LatentSamplerStep(float nextFromX, float nextFromEps, float nextFromNoise, float x0FromX, float x0FromEps)
        : this(nextFromX, nextFromEps, nextFromNoise, x0FromX, x0FromEps, 0f, 0)
    {
    }

    private LatentSamplerStep(float nextFromX, float nextFromEps, float nextFromNoise, float x0FromX, float x0FromEps, float guidanceScale, int guided)
    {
        X0FromX = x0FromX;
        X0FromEps = x0FromEps;
        NextFromX = nextFromX;
        NextFromEps = nextFromEps;
        NextFromNoise = nextFromNoise;
        GuidanceScale = guidanceScale;
        Guided = guided;
        UsesNoise = nextFromNoise != 0f ? 1 : 0;
    }

    /// <summary>The same step with classifier-free guidance of scale w: ε̂ = ε̂u + w·(ε̂c − ε̂u).</summary>
    public LatentSamplerStep WithGuidance(float scale) =>
        new(NextFromX, NextFromEps, NextFromNoise, X0FromX, X0FromEps, scale, 1);
}

/// <summary>
/// The fused latent sampler: classifier-free guidance, x̂0 from the ε-prediction and the sampler update in one
/// elementwise pass over the latent (DESIGN §5). Coefficients and conventions: <see cref="LatentSamplerStep"/>.
/// <para>
/// Legend: N batch, C latent channels, H, W latent size; every buffer is [N, C, H, W], processed as N·C·H·W
/// independent elements. For CFG the UNet usually runs on a batch [uncond; cond]: pass the two halves as views.
/// </para>
/// <para>
/// Versions: <see cref="Step"/> here (plain loop), the slow clear one. Beside it <see cref="Cpu.LatentSamplerCpu"/> (SIMD)
/// and <see cref="Ilgpu.LatentSamplerDevice"/> (ILGPU), each documenting what it changes.
/// </para>
/// </summary>
public static class LatentSamplerReference
{
    /// <summary>The slow clear version of the step.</summary>
    /// <param name="x">[N, C, H, W] current latent x_t</param>
    /// <param name="epsUncond">[N, C, H, W] unconditional ε̂u; read only when guided</param>
    /// <param name="epsCond">[N, C, H, W] conditional (or only) ε̂c</param>
    /// <param name="noise">[N, C, H, W] fresh N(0, 1) noise; read only when the step uses noise</param>
    /// <param name="next">[N, C, H, W] x'</param>
    /// <param name="x0">[N, C, H, W] x̂0</param>
    public static void Step(ReadOnlySpan<float> x, ReadOnlySpan<float> epsUncond, ReadOnlySpan<float> epsCond, ReadOnlySpan<float> noise,
        Span<float> next, Span<float> x0, LatentSamplerStep step)
    {
        for (int i = 0; i < x.Length; i++)
        {
            float eps = step.Guided != 0 ? epsUncond[i] + step.GuidanceScale * (epsCond[i] - epsUncond[i]) : epsCond[i];
            float predicted = step.X0FromX * x[i] + step.X0FromEps * eps;
            float z = step.UsesNoise != 0 ? noise[i] : 0f;
            x0[i] = predicted;
            next[i] = step.NextFromX * x[i] + step.NextFromEps * eps + step.NextFromNoise * z;
        }
    }

    /// <summary>Throws unless every buffer the step reads or writes has the length of x.</summary>
    public static void CheckLengths(long count, long epsCond, long next, long x0, long epsUncond, long noise, LatentSamplerStep step)
    {
        KernelArgs.Length(nameof(epsCond), epsCond, count);
        KernelArgs.Length(nameof(next), next, count);
        KernelArgs.Length(nameof(x0), x0, count);
        if (step.Guided != 0)
            KernelArgs.Length(nameof(epsUncond), epsUncond, count);
        if (step.UsesNoise != 0)
            KernelArgs.Length(nameof(noise), noise, count);
    }
}
