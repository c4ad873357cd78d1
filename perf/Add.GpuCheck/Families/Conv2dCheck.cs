using Add.Kernels;
using Add.Kernels.Ilgpu;
using ILGPU.Runtime;

namespace Add.GpuCheck.Families;

/// <summary>2-D convolution (implicit GEMM): x [N, Ci, H, W], w [Co, Ci, kh, kw], b [Co] → y [N, Co, Ho, Wo].</summary>
public static class Conv2dCheck
{
    public const string Kernel = "conv2d";

    /// <summary>Seeded x ~ U(−1, 1), w and b ~ U(±1/√(Ci·kh·kw)); y from <see cref="Conv2dReference.Forward"/>. Square kernels.</summary>
    public static CheckCase Make(string name, string where, int seed, int n, int ci, int h, int w, int co, int kernel, int stride, int padding)
    {
        var shape = new Conv2dShape(n, ci, h, w, co, kernel, kernel, stride, padding, hasBias: true);
        var random = new Random(Seeded.For(seed, name));
        int fanIn = shape.ReductionLength;
        var x = Seeded.Uniform(random, (long)n * ci * h * w);
        var weight = Seeded.FanIn(random, (long)co * fanIn, fanIn);
        var bias = Seeded.FanIn(random, co, fanIn);
        var y = new float[(long)n * co * shape.OutHeight * shape.OutWidth];
        Conv2dReference.Forward(x, weight, bias, y, shape);
        return CheckCase.Create(name, Kernel, where,
            $"x {CheckCase.Dims(n, ci, h, w)}, w {CheckCase.Dims(co, ci, kernel, kernel)}, stride {stride}, pad {padding}",
            new() { ["N"] = n, ["Ci"] = ci, ["H"] = h, ["W"] = w, ["Co"] = co, ["k"] = kernel, ["stride"] = stride, ["pad"] = padding },
            [CheckCase.T("x", x, n, ci, h, w), CheckCase.T("w", weight, co, ci, kernel, kernel), CheckCase.T("bias", bias, co)],
            [CheckCase.T("y", y, n, co, shape.OutHeight, shape.OutWidth)],
            Tolerances.Dot, flops: 2.0 * co * shape.Columns * fanIn, metric: "flops");
    }

    public static Action<AcceleratorStream> Bind(CheckCase c, DeviceTensors t, IKernelSet k)
    {
        int kernel = c.IntParam("k");
        var shape = new Conv2dShape(c.IntParam("N"), c.IntParam("Ci"), c.IntParam("H"), c.IntParam("W"), c.IntParam("Co"), kernel, kernel, c.IntParam("stride"), c.IntParam("pad"), hasBias: true);
        var (x, w, bias, y) = (t["x"], t["w"], t["bias"], t["y"]);
        return s => k.Conv2d(s, x, w, bias, y, shape);
    }
}
