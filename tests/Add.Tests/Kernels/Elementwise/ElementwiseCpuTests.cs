using Add.Kernels;
using Add.Kernels.Cpu;
using Add.Tests.Kernels.Cpu;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Add.Tests.Kernels.Elementwise;

/// <summary>CPU SiLU, GELU, QuickGELU, GEGLU, add, upsample and concat against TorchSharp, on every SIMD path.</summary>
[Trait("Category", "Kernels")]
public sealed class ElementwiseCpuTests(ITestOutputHelper log)
{
    // Vector / MathF exp (≤ 1-2 ulp) and one division against libtorch's sigmoid: a few ulp of |y| ≤ 4.
    private static readonly Tolerance Activation = new(Atol: 1e-6, Rtol: 1e-6);
    // A&S 7.1.26 erf has |error| ≤ 1.5e-7, scaled by x/2 with |x| ≤ 4 (as the ILGPU GELU test).
    private static readonly Tolerance Gelu = new(Atol: 2e-6, Rtol: 1e-6);

    // 1 (scalar only), 15 (256 step + tail), 37 (2·16 + 5), 1013, 70001 (split over cores)
    public static TheoryData<SimdPath, int> Lengths => CpuPaths.With(1, 15, 37, 1013, 70001);

    [Theory]
    [MemberData(nameof(Lengths))]
    public void SiluGeluAndQuickGeluMatchTorch(SimdPath path, int length)
    {
        var x = Numerics.Uniform(new Random(42), length, -4f, 4f);
        x[0] = -90f;  // e^90 overflows fp32: silu must still give −0, gelu 0
        if (length > 3)
        {
            x[1] = -88.5f;   // e^88.5 is above the vector exp's clamp (88.376): finite, not +∞
            x[2] = 88.5f;
            x[3] = -100f;
        }
        float[] silu, gelu, quick;
        using (NewDisposeScope())
        {
            silu = nn.functional.silu(tensor(x)).data<float>().ToArray();
            gelu = nn.functional.gelu(tensor(x)).data<float>().ToArray();
            quick = (tensor(x) * nn.functional.sigmoid(1.702f * tensor(x))).data<float>().ToArray();   // transformers' QuickGELUActivation
        }
        var y = new float[length];
        ElementwiseCpu.Silu(x, y, path);
        Numerics.AssertClose(silu, y, Activation, $"cpu silu {path} L={length}", log);
        ElementwiseCpu.Gelu(x, y, path);
        Numerics.AssertClose(gelu, y, Gelu, $"cpu gelu {path} L={length}", log);
        ElementwiseCpu.QuickGelu(x, y, path);
        Numerics.AssertClose(quick, y, Activation, $"cpu quick_gelu {path} L={length}", log);
        var reference = new float[length];
        ElementwiseReference.QuickGelu(x, reference);
        Numerics.AssertClose(quick, reference, Activation, $"quick_gelu reference loop L={length}", log);
    }

    // 3·(1 − 2/(e^(2x/3) + 1)) with the vector exp (≤ 1-2 ulp) and a division, times 3, against libtorch's tanh: a few ulp of 3.
    private static readonly Tolerance TanhClamp = new(Atol: 2e-6, Rtol: 1e-6);
    // One FMA against torch's add then div (two roundings): 1 ulp of |y| ≤ 6.5.
    private static readonly Tolerance Affine = new(Atol: 1e-6, Rtol: 1e-6);

    /// <summary>AutoencoderTiny's ReLU (exact), tanh(x/3)·3 clamp (±90 and ±1e4 push the vector exp to its clamps) and the
    /// encoder's affine (x + 1)/2 on every SIMD path and length.</summary>
    [Theory]
    [MemberData(nameof(Lengths))]
    public void ReluTanhClampAndAffineMatchTorch(SimdPath path, int length)
    {
        var x = Numerics.Uniform(new Random(42), length, -12f, 12f);
        float[] extremes = [-90f, 90f, -1e4f, 1e4f];
        for (int i = 0; i < Math.Min(length, extremes.Length); i++) x[i] = extremes[i];
        float[] relu, clamp, affine;
        using (NewDisposeScope())
        {
            var t = tensor(x);
            relu = nn.functional.relu(t).data<float>().ToArray();
            clamp = (TorchSharp.torch.tanh(t / 3) * 3).data<float>().ToArray();
            affine = t.add(1).div(2).data<float>().ToArray();
        }
        var y = new float[length];
        ElementwiseCpu.Relu(x, y, path);
        Assert.Equal(relu, y);
        ElementwiseCpu.TanhClamp(x, y, path);
        Numerics.AssertClose(clamp, y, TanhClamp, $"cpu tanh clamp {path} L={length}", log);
        ElementwiseCpu.Affine(x, y, 0.5f, 0.5f, path);
        Numerics.AssertClose(affine, y, Affine, $"cpu affine {path} L={length}", log);
        var inPlace = (float[])x.Clone();
        ElementwiseCpu.TanhClamp(inPlace, inPlace, path);
        Numerics.AssertClose(clamp, inPlace, TanhClamp, $"cpu tanh clamp in place {path} L={length}", log);
        var reference = new float[length];
        ElementwiseReference.TanhClamp(x, reference);
        Numerics.AssertClose(clamp, reference, TanhClamp, $"tanh clamp reference loop L={length}", log);
    }

    public static TheoryData<SimdPath, (int M, int F)> GegluShapes => CpuPaths.With((3, 37), (2, 25), (128, 512));

    [Theory]
    [MemberData(nameof(GegluShapes))]
    public void GegluMatchesTorch(SimdPath path, (int M, int F) shape)
    {
        var (m, f) = shape;
        var x = Numerics.Uniform(new Random(42), m * 2 * f, -4f, 4f);
        float[] expected;
        using (NewDisposeScope())
        {
            var parts = tensor(x, [m, 2 * f]).chunk(2, -1);
            expected = (parts[0] * nn.functional.gelu(parts[1])).contiguous().data<float>().ToArray();
        }
        var y = new float[m * f];
        ElementwiseCpu.Geglu(x, y, m, f, path);
        Numerics.AssertClose(expected, y, Gelu, $"cpu geglu {path} m{m} f{f}", log);
    }

    public static TheoryData<SimdPath, (int N, int C, int H, int W)> CopyShapes => CpuPaths.With((2, 3, 5, 7), (1, 3, 4, 29), (2, 128, 4, 4),
        (3, 70, 17, 19));    // 72,675 floats of concat: two cores' ranges, split inside image 1's first piece

    [Theory]
    [MemberData(nameof(CopyShapes))]
    public void AddUpsampleConcatMatchTorchExactly(SimdPath path, (int N, int C, int H, int W) shape)
    {
        var (n, c, h, w) = shape;
        const int cb = 5;
        var random = new Random(42);
        var a = Numerics.Uniform(random, n * c * h * w);
        var b = Numerics.Uniform(random, n * cb * h * w);
        var r = Numerics.Uniform(random, a.Length);
        float[] sum, up, cat;
        using (NewDisposeScope())
        {
            var ta = tensor(a, [n, c, h, w]);
            sum = (ta + tensor(r, [n, c, h, w])).data<float>().ToArray();
            up = nn.functional.interpolate(ta, scale_factor: [2.0, 2.0], mode: InterpolationMode.Nearest).data<float>().ToArray();
            cat = TorchSharp.torch.cat([ta, tensor(b, [n, cb, h, w])], 1).data<float>().ToArray();
        }
        var ySum = new float[a.Length];
        var yUp = new float[4 * a.Length];
        var yCat = new float[a.Length + b.Length];
        ElementwiseCpu.Add(a, r, ySum);
        ElementwiseCpu.Upsample2x(a, yUp, n, c, h, w, path);
        ElementwiseCpu.ConcatChannels(a, b, yCat, n, c, cb, h, w);
        Assert.Equal(sum, ySum);
        Assert.Equal(up, yUp);
        Assert.Equal(cat, yCat);
    }
}
