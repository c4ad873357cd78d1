using Add.Kernels;
using Add.Kernels.Ilgpu;
using ILGPU.Runtime;

namespace Add.GpuCheck.Families;

/// <summary>Group norm (+ optional fused SiLU): x [N, C, H, W], γ, β [C] → y [N, C, H, W]; G groups.</summary>
public static class GroupNormCheck
{
    public const string Kernel = "group_norm";

    /// <summary>Seeded x ~ N(mean, std²), γ ~ U(0.5, 1.5), β ~ U(−0.5, 0.5); y from <see cref="GroupNormReference.Forward"/>.</summary>
    public static CheckCase Make(string name, string where, int seed, int n, int c, int h, int w, int groups, bool silu, float epsilon,
        float mean = 0f, float std = 1f)
    {
        var random = new Random(Seeded.For(seed, name));
        var x = Seeded.Normal(random, (long)n * c * h * w, mean, std);
        var gamma = Seeded.Uniform(random, c, 0.5f, 1.5f);
        var beta = Seeded.Uniform(random, c, -0.5f, 0.5f);
        var y = new float[x.Length];
        GroupNormReference.Forward(x, gamma, beta, y, n, c, h, w, groups, epsilon, silu);
        return CheckCase.Create(name, Kernel, where,
            $"x {CheckCase.Dims(n, c, h, w)}, G {groups}{(silu ? ", SiLU" : "")}",
            new() { ["N"] = n, ["C"] = c, ["H"] = h, ["W"] = w, ["G"] = groups, ["silu"] = silu ? 1 : 0, ["eps"] = epsilon },
            [CheckCase.T("x", x, n, c, h, w), CheckCase.T("gamma", gamma, c), CheckCase.T("beta", beta, c)],
            [CheckCase.T("y", y, n, c, h, w)],
            silu ? Tolerances.NormSilu : Tolerances.Norm,
            flops: (silu ? 11.0 : 7.0) * x.Length, metric: "bytes");
    }

    public static Action<AcceleratorStream> Bind(CheckCase c, DeviceTensors t, IKernelSet k)
    {
        int n = c.IntParam("N"), ch = c.IntParam("C"), h = c.IntParam("H"), w = c.IntParam("W"), g = c.IntParam("G");
        float eps = (float)c.DoubleParam("eps");
        bool silu = c.Flag("silu");
        var (x, gamma, beta, y) = (t["x"], t["gamma"], t["beta"], t["y"]);
        return s => k.GroupNorm(s, x, gamma, beta, y, n, ch, h, w, g, eps, silu);
    }
}
