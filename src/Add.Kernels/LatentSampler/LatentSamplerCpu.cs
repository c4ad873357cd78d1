using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Add.Kernels.Cpu;

/// <summary>
/// The fused latent sampler on the CPU: classifier-free guidance, x̂0 from ε̂ and the sampler update in one pass over the
/// latent (DESIGN §5), with the coefficients of <see cref="LatentSamplerStep"/> (the engine's x' = A·x + B·ε̂ + C·noise,
/// x̂0 = X0FromX·x + X0FromEps·ε̂, rounded to float by Add.Engine.Sampling.SamplerStep.ToKernelStep):
/// <code>
/// ε̂  = ε̂u + w·(ε̂c − ε̂u)   (guided; Ho &amp; Salimans 2022 Eq. 6), else ε̂c
/// x̂0 = X0FromX·x + X0FromEps·ε̂
/// x' = NextFromX·x + NextFromEps·ε̂ + NextFromNoise·noise
/// </code>
/// <para>Legend: N batch, C latent channels, H W latent size; every buffer [N, C, H, W], treated as N·C·H·W elements.</para>
/// <para>Versions: reference <see cref="LatentSamplerReference.Step"/>; <see cref="Step"/>: one pass at the chosen width, reading
/// x, ε̂c, [ε̂u], [noise] once and writing x' and x̂0 once (a latent is 256-512 floats: one core, no fork-join); the guidance
/// combination is one FMA.</para>
/// </summary>
public static unsafe class LatentSamplerCpu
{
    /// <summary>One sampler step over the whole latent.</summary>
    /// <param name="x">[N, C, H, W]</param>
    /// <param name="epsUncond">[N, C, H, W]; ignored (may be empty) unless <paramref name="step"/> is guided</param>
    /// <param name="epsCond">[N, C, H, W]</param>
    /// <param name="noise">[N, C, H, W]; ignored (may be empty) unless the step uses noise</param>
    /// <param name="next">[N, C, H, W]; may be x</param>
    /// <param name="x0">[N, C, H, W]</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Step(ReadOnlySpan<float> x, ReadOnlySpan<float> epsUncond, ReadOnlySpan<float> epsCond, ReadOnlySpan<float> noise,
        Span<float> next, Span<float> x0, LatentSamplerStep step, SimdPath path = SimdPath.Auto)
    {
        int count = x.Length;
        LatentSamplerReference.CheckLengths(count, epsCond.Length, next.Length, x0.Length, epsUncond.Length, noise.Length, step);
        bool guided = step.Guided != 0, noisy = step.UsesNoise != 0;
        path = CpuSimd.Resolve(path);
        // Without guidance ε̂u is ε̂c with w = 1 (ε̂c + 1·0); without noise its coefficient is 0: read ε̂c there instead.
        float w = guided ? step.GuidanceScale : 1f, cn = noisy ? step.NextFromNoise : 0f;
        fixed (float* px = x, pu = guided ? epsUncond : epsCond, pc = epsCond, pz = noisy ? noise : epsCond, pn = next, p0 = x0)
        {
            int i = 0;
            if (path == SimdPath.Vector512)
            {
                Vector512<float> vw = Vector512.Create(w), ax = Vector512.Create(step.X0FromX), ae = Vector512.Create(step.X0FromEps);
                Vector512<float> nx = Vector512.Create(step.NextFromX), ne = Vector512.Create(step.NextFromEps), nz = Vector512.Create(cn);
                for (; i <= count - 16; i += 16)
                {
                    var u = Vector512.Load(pu + i);
                    var eps = Vector512.FusedMultiplyAdd(vw, Vector512.Load(pc + i) - u, u);
                    var xi = Vector512.Load(px + i);
                    var pred = ax * xi + ae * eps;
                    var value = nx * xi + ne * eps + nz * Vector512.Load(pz + i);
                    pred.Store(p0 + i);
                    value.Store(pn + i);
                }
            }
            if (path != SimdPath.Scalar)
            {
                Vector256<float> vw = Vector256.Create(w), ax = Vector256.Create(step.X0FromX), ae = Vector256.Create(step.X0FromEps);
                Vector256<float> nx = Vector256.Create(step.NextFromX), ne = Vector256.Create(step.NextFromEps), nz = Vector256.Create(cn);
                for (; i <= count - 8; i += 8)
                {
                    var u = Vector256.Load(pu + i);
                    var eps = Vector256.FusedMultiplyAdd(vw, Vector256.Load(pc + i) - u, u);
                    var xi = Vector256.Load(px + i);
                    var pred = ax * xi + ae * eps;
                    var value = nx * xi + ne * eps + nz * Vector256.Load(pz + i);
                    pred.Store(p0 + i);
                    value.Store(pn + i);
                }
            }
            for (; i < count; i++)
            {
                float u = pu[i];
                float eps = MathF.FusedMultiplyAdd(w, pc[i] - u, u);
                float xi = px[i];
                float pred = step.X0FromX * xi + step.X0FromEps * eps;
                p0[i] = pred;
                pn[i] = step.NextFromX * xi + step.NextFromEps * eps + cn * pz[i];
            }
        }
    }
}
