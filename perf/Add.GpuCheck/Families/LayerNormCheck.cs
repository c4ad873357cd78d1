using Add.Kernels;
using Add.Kernels.Ilgpu;
using ILGPU.Runtime;

namespace Add.GpuCheck.Families;

/// <summary>Layer norm over the last dim: x [M, D], γ, β [D] → y [M, D].</summary>
public static class LayerNormCheck
{
    public const string Kernel = "layer_norm";

    /// <summary>Seeded x ~ N(0, 1), γ ~ U(0.5, 1.5), β ~ U(−0.5, 0.5); y from <see cref="LayerNormReference.Forward"/>.</summary>
    public static CheckCase Make(string name, string where, int seed, int m, int d, float epsilon)
    {
        var random = new Random(Seeded.For(seed, name));
        var x = Seeded.Normal(random, (long)m * d);
        var gamma = Seeded.Uniform(random, d, 0.5f, 1.5f);
        var beta = Seeded.Uniform(random, d, -0.5f, 0.5f);
        var y = new float[x.Length];
        LayerNormReference.Forward(x, gamma, beta, y, m, d, epsilon);
        return CheckCase.Create(name, Kernel, where, $"x {CheckCase.Dims(m, d)}",
            new() { ["M"] = m, ["D"] = d, ["eps"] = epsilon },
            [CheckCase.T("x", x, m, d), CheckCase.T("gamma", gamma, d), CheckCase.T("beta", beta, d)],
            [CheckCase.T("y", y, m, d)],
            Tolerances.Norm, flops: 7.0 * x.Length, metric: "bytes");
    }

    public static Action<AcceleratorStream> Bind(CheckCase c, DeviceTensors t, IKernelSet k)
    {
        int m = c.IntParam("M"), d = c.IntParam("D");
        float eps = (float)c.DoubleParam("eps");
        var (x, gamma, beta, y) = (t["x"], t["gamma"], t["beta"], t["y"]);
        return s => k.LayerNorm(s, x, gamma, beta, y, m, d, eps);
    }
}
