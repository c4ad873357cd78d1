using Add.Kernels;
using Add.Kernels.Ilgpu;
using ILGPU.Runtime;

namespace Add.GpuCheck.Families;

/// <summary>The elementwise kernels AutoencoderTiny (TAESD) added to <see cref="Elementwise"/>: ReLU, the latent clamp
/// tanh(x/3)·3 and the affine map a·x + b (the encoder's [-1, 1] → [0, 1]), checked against their double-precision
/// reference loops (<see cref="ElementwiseReference"/>).</summary>
public static class TinyDecoderCheck
{
    public const string Relu = "relu", TanhClamp = "tanh_clamp", Affine = "affine";

    /// <summary>ReLU on x ~ N(0, 1) (half the values clipped): exact.</summary>
    public static CheckCase MakeRelu(string name, string where, int seed, params long[] shape)
    {
        var x = Seeded.Normal(new Random(Seeded.For(seed, name)), Count(shape));
        var y = new float[x.Length];
        ElementwiseReference.Relu(x, y);
        return Unary(name, Relu, where, shape, x, y, Tolerances.Exact, new(), flopsPerElement: 1);
    }

    /// <summary>tanh(x/3)·3 on x ~ N(0, 4²), so the clamp bends (|x| beyond 3) for a third of the values.</summary>
    public static CheckCase MakeTanhClamp(string name, string where, int seed, params long[] shape)
    {
        var x = Seeded.Normal(new Random(Seeded.For(seed, name)), Count(shape), std: 4f);
        var y = new float[x.Length];
        ElementwiseReference.TanhClamp(x, y);
        return Unary(name, TanhClamp, where, shape, x, y, Tolerances.Activation, new(), flopsPerElement: 6);
    }

    /// <summary>y = scale·x + shift on x ~ N(0, 1).</summary>
    public static CheckCase MakeAffine(string name, string where, int seed, float scale, float shift, params long[] shape)
    {
        var x = Seeded.Normal(new Random(Seeded.For(seed, name)), Count(shape));
        var y = new float[x.Length];
        ElementwiseReference.Affine(x, y, scale, shift);
        return Unary(name, Affine, where, shape, x, y, Tolerances.Activation, new() { ["scale"] = scale, ["shift"] = shift }, flopsPerElement: 2);
    }

    private static long Count(long[] shape) => shape.Aggregate(1L, (a, b) => a * b);

    private static CheckCase Unary(string name, string kernel, string where, long[] shape, float[] x, float[] y, Tolerance tolerance,
        Dictionary<string, double> parameters, double flopsPerElement) =>
        CheckCase.Create(name, kernel, where, $"x {CheckCase.Dims(shape)}", parameters,
            [CheckCase.T("x", x, shape)], [CheckCase.T("y", y, shape)], tolerance, flopsPerElement * x.Length, "bytes");

    public static Action<AcceleratorStream> BindRelu(CheckCase c, DeviceTensors t, IKernelSet k)
    {
        var (x, y) = (t["x"], t["y"]);
        return s => k.Elementwise.Relu(x, y, s);
    }

    public static Action<AcceleratorStream> BindTanhClamp(CheckCase c, DeviceTensors t, IKernelSet k)
    {
        var (x, y) = (t["x"], t["y"]);
        return s => k.Elementwise.TanhClamp(x, y, s);
    }

    public static Action<AcceleratorStream> BindAffine(CheckCase c, DeviceTensors t, IKernelSet k)
    {
        float scale = (float)c.DoubleParam("scale"), shift = (float)c.DoubleParam("shift");
        var (x, y) = (t["x"], t["y"]);
        return s => k.Elementwise.Affine(x, y, scale, shift, s);
    }
}
