using Add.Kernels;
using Add.Engine.Configs;
using Add.Engine.Sampling;
using Add.Kernels.Ilgpu;
using ILGPU;
using ILGPU.Runtime;

namespace Add.GpuCheck.Families;

/// <summary>
/// The fused latent sampler: CFG combine, x̂0 and the update x' = A·x + B·ε̂ + C·noise, with the engine's coefficients
/// (<see cref="Add.Engine.Sampling.SamplerStep.Create"/> on SD's scaled_linear schedule, as our emoji models use). Every buffer [N, C, H, W].
/// </summary>
public static class SamplerCheck
{
    public const string Kernel = "latent_sampler";

    /// <summary>
    /// Seeded x_t, ε̂c (and ε̂u when <paramref name="guidance"/> ≠ 0, noise when the step draws it) ~ N(0, 1); the step
    /// t → tNext of <paramref name="kind"/>; x' and x̂0 from <see cref="LatentSamplerReference.Step"/>.
    /// </summary>
    public static CheckCase Make(string name, string where, int seed, int n, int c, int h, int w, SamplerKind kind, int t, int tNext, float guidance)
    {
        var engine = SamplerStep.Create(kind, new NoiseSchedule(SchedulerConfig.EmojiTeacher), t, tNext);
        var parameters = new Dictionary<string, double>
        {
            ["A"] = engine.A, ["B"] = engine.B, ["C"] = engine.C, ["x0_from_x"] = engine.X0FromX, ["x0_from_eps"] = engine.X0FromEps,
            ["guidance"] = guidance, ["t"] = t, ["t_next"] = tNext,
        };
        var step = Step(parameters);
        var random = new Random(Seeded.For(seed, name));
        long count = (long)n * c * h * w;
        long[] shape = [n, c, h, w];
        var x = Seeded.Normal(random, count);
        var epsCond = Seeded.Normal(random, count);
        var epsUncond = step.Guided != 0 ? Seeded.Normal(random, count) : [];
        var noise = step.UsesNoise != 0 ? Seeded.Normal(random, count) : [];
        var next = new float[count];
        var x0 = new float[count];
        LatentSamplerReference.Step(x, epsUncond, epsCond, noise, next, x0, step);

        var inputs = new List<CaseTensor> { CheckCase.T("x", x, shape), CheckCase.T("eps_cond", epsCond, shape) };
        if (step.Guided != 0)
            inputs.Add(CheckCase.T("eps_uncond", epsUncond, shape));
        if (step.UsesNoise != 0)
            inputs.Add(CheckCase.T("noise", noise, shape));
        return CheckCase.Create(name, Kernel, where,
            $"x {CheckCase.Dims(shape)}, {kind} t {t}->{tNext}{(guidance != 0 ? $", guidance {CheckCase.Num(guidance)}" : "")}",
            parameters, [.. inputs], [CheckCase.T("next", next, shape), CheckCase.T("x0", x0, shape)],
            Tolerances.Sampler, flops: 12.0 * count, metric: "bytes");
    }

    public static Action<AcceleratorStream> Bind(CheckCase c, DeviceTensors t, IKernelSet k)
    {
        var step = Step(c.Params);
        var epsUncond = step.Guided != 0 ? t["eps_uncond"] : ArrayView<float>.Empty;
        var noise = step.UsesNoise != 0 ? t["noise"] : ArrayView<float>.Empty;
        var (x, epsCond, next, x0) = (t["x"], t["eps_cond"], t["next"], t["x0"]);
        return s => k.Sampler.Launch(x, epsUncond, epsCond, noise, next, x0, step, s);
    }

    /// <summary>The kernel's step from the manifest's coefficients (the same doubles both times, so prepare and run agree).</summary>
    private static LatentSamplerStep Step(Dictionary<string, double> p)
    {
        var step = new SamplerStep(p["A"], p["B"], p["C"], p["x0_from_x"], p["x0_from_eps"]).ToKernelStep();
        return p["guidance"] != 0 ? step.WithGuidance((float)p["guidance"]) : step;
    }
}
