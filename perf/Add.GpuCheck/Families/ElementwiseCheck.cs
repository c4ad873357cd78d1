using Add.Kernels;
using Add.Kernels.Ilgpu;
using ILGPU.Runtime;

namespace Add.GpuCheck.Families;

/// <summary>The memory-bound ops of <see cref="Elementwise"/>, one kernel name each (SiLU, GELU, GEGLU, add, upsample, concat, timestep).</summary>
public static class ElementwiseCheck
{
    public const string Silu = "silu", Gelu = "gelu", Geglu = "geglu", Add = "add", Upsample = "upsample2x", Concat = "concat", Timestep = "timestep_embedding";

    /// <summary>SiLU on x ~ N(0, 2²) of any shape (given as dims).</summary>
    public static CheckCase MakeSilu(string name, string where, int seed, params long[] shape)
    {
        var x = Seeded.Normal(new Random(Seeded.For(seed, name)), shape.Aggregate(1L, (a, b) => a * b), std: 2f);
        var y = new float[x.Length];
        ElementwiseReference.Silu(x, y);
        return Unary(name, Silu, where, shape, x, y, flopsPerElement: 4);
    }

    /// <summary>GELU (erf form) on x ~ N(0, 2²).</summary>
    public static CheckCase MakeGelu(string name, string where, int seed, params long[] shape)
    {
        var x = Seeded.Normal(new Random(Seeded.For(seed, name)), shape.Aggregate(1L, (a, b) => a * b), std: 2f);
        var y = new float[x.Length];
        ElementwiseReference.Gelu(x, y);
        return Unary(name, Gelu, where, shape, x, y, flopsPerElement: 12);
    }

    private static CheckCase Unary(string name, string kernel, string where, long[] shape, float[] x, float[] y, double flopsPerElement) =>
        CheckCase.Create(name, kernel, where, $"x {CheckCase.Dims(shape)}", new(),
            [CheckCase.T("x", x, shape)], [CheckCase.T("y", y, shape)], Tolerances.Activation, flopsPerElement * x.Length, "bytes");

    /// <summary>GEGLU: x [M, 2F] ~ N(0, 2²) → y [M, F] = x[:, :F]·gelu(x[:, F:]).</summary>
    public static CheckCase MakeGeglu(string name, string where, int seed, int m, int f)
    {
        var x = Seeded.Normal(new Random(Seeded.For(seed, name)), 2L * m * f, std: 2f);
        var y = new float[(long)m * f];
        ElementwiseReference.Geglu(x, y, m, f);
        return CheckCase.Create(name, Geglu, where, $"x {CheckCase.Dims(m, 2 * f)} -> y {CheckCase.Dims(m, f)}",
            new() { ["M"] = m, ["F"] = f },
            [CheckCase.T("x", x, m, 2 * f)], [CheckCase.T("y", y, m, f)], Tolerances.Activation, 13.0 * y.Length, "bytes");
    }

    /// <summary>Residual add y = a + b, a and b ~ N(0, 1).</summary>
    public static CheckCase MakeAdd(string name, string where, int seed, params long[] shape)
    {
        var random = new Random(Seeded.For(seed, name));
        long count = shape.Aggregate(1L, (x, y) => x * y);
        var a = Seeded.Normal(random, count);
        var b = Seeded.Normal(random, count);
        var y = new float[count];
        for (long i = 0; i < count; i++)
            y[i] = a[i] + b[i];
        return CheckCase.Create(name, Add, where, $"a, b {CheckCase.Dims(shape)}", new(),
            [CheckCase.T("a", a, shape), CheckCase.T("b", b, shape)], [CheckCase.T("y", y, shape)], Tolerances.Exact, count, "bytes");
    }

    /// <summary>Nearest 2× upsample x [N, C, H, W] → y [N, C, 2H, 2W].</summary>
    public static CheckCase MakeUpsample(string name, string where, int seed, int n, int c, int h, int w)
    {
        var x = Seeded.Normal(new Random(Seeded.For(seed, name)), (long)n * c * h * w);
        var y = new float[4L * x.Length];
        ElementwiseReference.Upsample2x(x, y, n, c, h, w);
        return CheckCase.Create(name, Upsample, where, $"x {CheckCase.Dims(n, c, h, w)} -> {CheckCase.Dims(n, c, 2 * h, 2 * w)}",
            new() { ["N"] = n, ["C"] = c, ["H"] = h, ["W"] = w },
            [CheckCase.T("x", x, n, c, h, w)], [CheckCase.T("y", y, n, c, 2 * h, 2 * w)], Tolerances.Exact, 0, "bytes");
    }

    /// <summary>Channel concat a [N, Ca, H, W], b [N, Cb, H, W] → y [N, Ca + Cb, H, W] (the expected output by block copies).</summary>
    public static CheckCase MakeConcat(string name, string where, int seed, int n, int ca, int cb, int h, int w)
    {
        var random = new Random(Seeded.For(seed, name));
        int plane = h * w;
        var a = Seeded.Normal(random, (long)n * ca * plane);
        var b = Seeded.Normal(random, (long)n * cb * plane);
        var y = new float[(long)n * (ca + cb) * plane];
        for (int i = 0; i < n; i++)
        {
            a.AsSpan(i * ca * plane, ca * plane).CopyTo(y.AsSpan(i * (ca + cb) * plane));
            b.AsSpan(i * cb * plane, cb * plane).CopyTo(y.AsSpan((i * (ca + cb) + ca) * plane));
        }
        return CheckCase.Create(name, Concat, where, $"a {CheckCase.Dims(n, ca, h, w)}, b {CheckCase.Dims(n, cb, h, w)}",
            new() { ["N"] = n, ["Ca"] = ca, ["Cb"] = cb, ["H"] = h, ["W"] = w },
            [CheckCase.T("a", a, n, ca, h, w), CheckCase.T("b", b, n, cb, h, w)], [CheckCase.T("y", y, n, ca + cb, h, w)],
            Tolerances.Exact, 0, "bytes");
    }

    /// <summary>Sinusoidal embedding of timesteps t [B] into y [B, D] (SD's UNet: flip_sin_to_cos, shift 0).</summary>
    public static CheckCase MakeTimestep(string name, string where, float[] timesteps, int dim, bool flipSinToCos, float freqShift)
    {
        var y = new float[(long)timesteps.Length * dim];
        TimestepEmbeddingReference.Forward(timesteps, y, dim, flipSinToCos, freqShift);
        return CheckCase.Create(name, Timestep, where, $"t [{timesteps.Length}] -> y {CheckCase.Dims(timesteps.Length, dim)}",
            new() { ["D"] = dim, ["flip"] = flipSinToCos ? 1 : 0, ["shift"] = freqShift },
            [CheckCase.T("t", timesteps, timesteps.Length)], [CheckCase.T("y", y, timesteps.Length, dim)],
            Tolerances.Timestep, 0, "bytes");
    }

    public static Action<AcceleratorStream> BindSilu(CheckCase c, DeviceTensors t, IKernelSet k)
    {
        var (x, y) = (t["x"], t["y"]);
        return s => k.Elementwise.Silu(x, y, s);
    }

    public static Action<AcceleratorStream> BindGelu(CheckCase c, DeviceTensors t, IKernelSet k)
    {
        var (x, y) = (t["x"], t["y"]);
        return s => k.Elementwise.Gelu(x, y, s);
    }

    public static Action<AcceleratorStream> BindGeglu(CheckCase c, DeviceTensors t, IKernelSet k)
    {
        int m = c.IntParam("M"), f = c.IntParam("F");
        var (x, y) = (t["x"], t["y"]);
        return s => k.Elementwise.Geglu(x, y, m, f, s);
    }

    public static Action<AcceleratorStream> BindAdd(CheckCase c, DeviceTensors t, IKernelSet k)
    {
        var (a, b, y) = (t["a"], t["b"], t["y"]);
        return s => k.Elementwise.Add(a, b, y, s);
    }

    public static Action<AcceleratorStream> BindUpsample(CheckCase c, DeviceTensors t, IKernelSet k)
    {
        int n = c.IntParam("N"), ch = c.IntParam("C"), h = c.IntParam("H"), w = c.IntParam("W");
        var (x, y) = (t["x"], t["y"]);
        return s => k.Elementwise.Upsample2x(x, y, n, ch, h, w, s);
    }

    public static Action<AcceleratorStream> BindConcat(CheckCase c, DeviceTensors t, IKernelSet k)
    {
        int n = c.IntParam("N"), ca = c.IntParam("Ca"), cb = c.IntParam("Cb"), h = c.IntParam("H"), w = c.IntParam("W");
        var (a, b, y) = (t["a"], t["b"], t["y"]);
        return s => k.Elementwise.ConcatChannels(a, b, y, n, ca, cb, h, w, s);
    }

    public static Action<AcceleratorStream> BindTimestep(CheckCase c, DeviceTensors t, IKernelSet k)
    {
        var shape = new TimestepEmbeddingShape(c.IntParam("D"), c.Flag("flip"), (float)c.DoubleParam("shift"));
        var (ts, y) = (t["t"], t["y"]);
        return s => k.TimestepEmbedding.Launch(ts, y, shape, s);
    }
}
