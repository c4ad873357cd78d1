using Add.Kernels;
using Add.Kernels.Ilgpu;
using ILGPU;
using ILGPU.Runtime;

namespace Add.GpuCheck.Families;

/// <summary>Linear layer Y = X·Wᵀ (+ b): X [M, K], W [N, K], b [N], Y [M, N].</summary>
public static class LinearCheck
{
    public const string Kernel = "linear";

    /// <summary>Seeded X ~ U(−1, 1), W and b ~ U(±1/√K) (torch's init); Y from <see cref="LinearReference.Forward"/>.</summary>
    public static CheckCase Make(string name, string where, int seed, int m, int n, int k, bool bias = true)
    {
        var random = new Random(Seeded.For(seed, name));
        var x = Seeded.Uniform(random, (long)m * k);
        var w = Seeded.FanIn(random, (long)n * k, k);
        var b = bias ? Seeded.FanIn(random, n, k) : [];
        var y = new float[(long)m * n];
        LinearReference.Forward(x, w, b, y, m, n, k);
        CaseTensor[] inputs = bias
            ? [CheckCase.T("x", x, m, k), CheckCase.T("w", w, n, k), CheckCase.T("bias", b, n)]
            : [CheckCase.T("x", x, m, k), CheckCase.T("w", w, n, k)];
        return CheckCase.Create(name, Kernel, where, $"X {CheckCase.Dims(m, k)}, W {CheckCase.Dims(n, k)}{(bias ? ", bias" : "")}",
            new() { ["M"] = m, ["N"] = n, ["K"] = k, ["bias"] = bias ? 1 : 0 },
            inputs, [CheckCase.T("y", y, m, n)],
            Tolerances.Dot, flops: 2.0 * m * n * k, metric: "flops");
    }

    public static Action<AcceleratorStream> Bind(CheckCase c, DeviceTensors t, IKernelSet k)
    {
        int m = c.IntParam("M"), n = c.IntParam("N"), kk = c.IntParam("K");
        var bias = c.Flag("bias") ? t["bias"] : ArrayView<float>.Empty;
        var (x, w, y) = (t["x"], t["w"], t["y"]);
        return s => k.Linear(s, x, w, bias, y, m, n, kk);
    }
}
