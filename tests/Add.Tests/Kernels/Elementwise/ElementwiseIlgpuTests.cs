using Add.Kernels;
using Add.Kernels.Ilgpu;
using Add.Tests.Kernels.Ilgpu;
using ILGPU;
using ILGPU.Runtime;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Add.Tests.Kernels.Elementwise;

/// <summary>SiLU, GELU, QuickGELU, GEGLU, residual add, nearest upsample and channel concat against TorchSharp.</summary>
[Trait("Category", "Kernels")]
public abstract class ElementwiseIlgpuSuite(IlgpuFixture fixture, ITestOutputHelper log)
{
    // One or two fp32 roundings of exp and a division: a few ulp.
    private static readonly Tolerance Activation = new(Atol: 1e-6, Rtol: 1e-6);
    // erf by A&S 7.1.26 (≤ 1.5e-7) evaluated in fp32: its alternating polynomial and e^(−z²) add a few ulp, times |x|/2 ≤ 2 (seen: 9.8e-7).
    private static readonly Tolerance Gelu = new(Atol: 2e-6, Rtol: 1e-6);

    [SkippableFact]
    public void SiluMatchesTorch()
    {
        var x = Numerics.Uniform(new Random(42), 1001, -12f, 12f);
        float[] expected;
        using (NewDisposeScope())
            expected = nn.functional.silu(tensor(x)).data<float>().ToArray();
        Numerics.AssertClose(expected, Unary(x, (k, a, b) => k.Silu(a, b)), Activation, "silu", log);
        var reference = new float[x.Length];
        ElementwiseReference.Silu(x, reference);
        Numerics.AssertClose(expected, reference, Activation, "silu reference loop", log);
    }

    /// <summary>QuickGELU x·σ(1.702x) (CLIP's quick_gelu) against torch's x·sigmoid(1.702x), as transformers computes it.</summary>
    [SkippableFact]
    public void QuickGeluMatchesTorch()
    {
        var x = Numerics.Uniform(new Random(42), 1001, -12f, 12f);
        float[] expected;
        using (NewDisposeScope())
        {
            var t = tensor(x);
            expected = (t * nn.functional.sigmoid(1.702f * t)).data<float>().ToArray();
        }
        Numerics.AssertClose(expected, Unary(x, (k, a, b) => k.QuickGelu(a, b)), Activation, "quick_gelu", log);
        var reference = new float[x.Length];
        ElementwiseReference.QuickGelu(x, reference);
        Numerics.AssertClose(expected, reference, Activation, "quick_gelu reference loop", log);
    }

    [SkippableFact]
    public void GeluMatchesTorch()
    {
        var x = Numerics.Uniform(new Random(42), 1001, -4f, 4f);
        float[] expected;
        using (NewDisposeScope())
            expected = nn.functional.gelu(tensor(x)).data<float>().ToArray();
        Numerics.AssertClose(expected, Unary(x, (k, a, b) => k.Gelu(a, b)), Gelu, "gelu", log);
        var reference = new float[x.Length];
        ElementwiseReference.Gelu(x, reference);
        Numerics.AssertClose(expected, reference, Gelu, "gelu reference loop", log);
    }

    [SkippableFact]
    public void GegluMatchesTorch()
    {
        const int m = 7, f = 13;
        var x = Numerics.Uniform(new Random(42), m * 2 * f, -3f, 3f);
        float[] expected;
        using (NewDisposeScope())
        {
            var parts = tensor(x, [m, 2 * f]).chunk(2, -1);
            expected = (parts[0] * nn.functional.gelu(parts[1])).contiguous().data<float>().ToArray();
        }
        var accelerator = fixture.Require();
        var kernels = new ElementwiseIlgpu(accelerator);
        using var dx = accelerator.Allocate1D(x);            // [M, 2F]
        using var dy = accelerator.Allocate1D<float>(m * f); // [M, F]
        kernels.Geglu(dx.View, dy.View, m, f);
        accelerator.Synchronize();
        Numerics.AssertClose(expected, dy.GetAsArray1D(), Gelu, "geglu", log);
        var reference = new float[m * f];
        ElementwiseReference.Geglu(x, reference, m, f);
        Numerics.AssertClose(expected, reference, Gelu, "geglu reference loop", log);
    }

    [SkippableFact]
    public void AddUpsampleConcatAreExact()
    {
        const int n = 2, ca = 3, cb = 5, h = 3, w = 5;
        var random = new Random(42);
        var a = Numerics.Normal(random, n * ca * h * w);
        var b = Numerics.Normal(random, n * cb * h * w);
        var r = Numerics.Normal(random, n * ca * h * w);
        float[] sum, up, cat;
        using (NewDisposeScope())
        {
            var ta = tensor(a, [n, ca, h, w]);
            sum = (ta + tensor(r, [n, ca, h, w])).data<float>().ToArray();
            up = nn.functional.interpolate(ta, scale_factor: [2.0, 2.0], mode: InterpolationMode.Nearest).data<float>().ToArray();
            cat = TorchSharp.torch.cat([ta, tensor(b, [n, cb, h, w])], 1).data<float>().ToArray();
        }

        var accelerator = fixture.Require();
        var kernels = new ElementwiseIlgpu(accelerator);
        using var da = accelerator.Allocate1D(a);                        // [N, Ca, H, W]
        using var db = accelerator.Allocate1D(b);                        // [N, Cb, H, W]
        using var dr = accelerator.Allocate1D(r);                        // [N, Ca, H, W]
        using var dSum = accelerator.Allocate1D<float>(a.Length);        // [N, Ca, H, W]
        using var dUp = accelerator.Allocate1D<float>(4 * a.Length);     // [N, Ca, 2H, 2W]
        using var dCat = accelerator.Allocate1D<float>(a.Length + b.Length); // [N, Ca+Cb, H, W]
        kernels.Add(da.View, dr.View, dSum.View);
        kernels.Upsample2x(da.View, dUp.View, n, ca, h, w);
        kernels.ConcatChannels(da.View, db.View, dCat.View, n, ca, cb, h, w);
        accelerator.Synchronize();
        Assert.Equal(sum, dSum.GetAsArray1D());
        Assert.Equal(up, dUp.GetAsArray1D());
        Assert.Equal(cat, dCat.GetAsArray1D());
        var reference = new float[up.Length];
        ElementwiseReference.Upsample2x(a, reference, n, ca, h, w);
        Assert.Equal(up, reference);
    }

    /// <summary>AutoencoderTiny's ReLU (exact), tanh(x/3)·3 clamp (with ±90 and ±1e4, where e^(2x/3) is 0 or +∞) and the
    /// encoder's affine (x + 1)/2, against torch and the reference loops.</summary>
    [SkippableFact]
    public void ReluTanhClampAndAffineMatchTorch()
    {
        var x = Numerics.Uniform(new Random(42), 1001, -12f, 12f);
        (x[0], x[1], x[2], x[3]) = (-90f, 90f, -1e4f, 1e4f);
        float[] relu, clamp, affine;
        using (NewDisposeScope())
        {
            var t = tensor(x);
            relu = nn.functional.relu(t).data<float>().ToArray();
            clamp = (TorchSharp.torch.tanh(t / 3) * 3).data<float>().ToArray();
            affine = t.add(1).div(2).data<float>().ToArray();
        }
        Assert.Equal(relu, Unary(x, (k, a, b) => k.Relu(a, b)));
        Numerics.AssertClose(clamp, Unary(x, (k, a, b) => k.TanhClamp(a, b)), TanhClamp, "tanh clamp", log);
        Numerics.AssertClose(affine, Unary(x, (k, a, b) => k.Affine(a, b, 0.5f, 0.5f)), Affine, "affine", log);
        var reference = new float[x.Length];
        ElementwiseReference.Relu(x, reference);
        Assert.Equal(relu, reference);
        ElementwiseReference.TanhClamp(x, reference);
        Numerics.AssertClose(clamp, reference, TanhClamp, "tanh clamp reference loop", log);
        ElementwiseReference.Affine(x, reference, 0.5f, 0.5f);
        Numerics.AssertClose(affine, reference, Affine, "affine reference loop", log);
    }

    // 3·(1 − 2/(e^(2x/3) + 1)): the exp's and the division's roundings, times 3, against libtorch's tanh: a few ulp of 3.
    private static readonly Tolerance TanhClamp = new(Atol: 2e-6, Rtol: 1e-6);
    // One FMA against torch's add then div (two roundings): 1 ulp of |y| ≤ 6.5.
    private static readonly Tolerance Affine = new(Atol: 1e-6, Rtol: 1e-6);

    private float[] Unary(float[] x, Action<ElementwiseIlgpu, ArrayView<float>, ArrayView<float>> op)
    {
        var accelerator = fixture.Require();
        var kernels = new ElementwiseIlgpu(accelerator);
        using var dx = accelerator.Allocate1D(x);              // [L]
        using var dy = accelerator.Allocate1D<float>(x.Length); // [L]
        op(kernels, dx.View, dy.View);
        accelerator.Synchronize();
        return dy.GetAsArray1D();
    }
}

[Collection(IlgpuCpuCollection.Name)]
public sealed class ElementwiseIlgpuTests(IlgpuCpuFixture fixture, ITestOutputHelper log) : ElementwiseIlgpuSuite(fixture, log);

[Collection(IlgpuCudaCollection.Name)]
public sealed class ElementwiseCudaTests(IlgpuCudaFixture fixture, ITestOutputHelper log) : ElementwiseIlgpuSuite(fixture, log);
