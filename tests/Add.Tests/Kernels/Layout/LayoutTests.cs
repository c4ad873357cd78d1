using Add.Kernels;
using Add.Kernels.Cpu;
using Add.Kernels.Ilgpu;
using Add.Tests.Kernels.Ilgpu;
using ILGPU;
using ILGPU.Runtime;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Add.Tests.Kernels.Layout;

/// <summary>Transpose (+ residual), per-sample channel bias and zero pad against TorchSharp: the CPU kernels, the ILGPU
/// kernels (CPU accelerator; CUDA when present) and the reference loops.</summary>
[Trait("Category", "Kernels")]
public abstract class LayoutTests(IlgpuFixture fixture, ITestOutputHelper log)
{
    // Copies are exact; the one fp32 add per element is the same IEEE operation as torch's: bit-equal.
    private static readonly Tolerance Exact = new(Atol: 0, Rtol: 0);

    // (batch, rows, cols): odd sizes, a single row, rows/cols straddling the CPU's 8×8 blocks
    public static TheoryData<int, int, int> TransposeShapes => new() { { 1, 1, 1 }, { 2, 13, 7 }, { 3, 64, 24 }, { 1, 9, 130 } };

    [SkippableTheory]
    [MemberData(nameof(TransposeShapes))]
    public void TransposeWithResidualMatchesTorch(int batch, int rows, int cols)
    {
        var accelerator = fixture.Require();
        var rng = new Random(rows * 31 + cols);
        var x = Numerics.Uniform(rng, batch * rows * cols);
        var r = Numerics.Uniform(rng, batch * rows * cols);
        float[] plain, withResidual;
        using (NewDisposeScope())
        {
            var t = tensor(x, [batch, rows, cols]).transpose(1, 2).contiguous();
            plain = t.data<float>().ToArray();
            withResidual = (t + tensor(r, [batch, cols, rows])).data<float>().ToArray();
        }
        var y = new float[x.Length];
        LayoutCpu.Transpose(x, [], y, batch, rows, cols);
        Numerics.AssertClose(plain, y, Exact, "cpu transpose", log);
        LayoutCpu.Transpose(x, r, y, batch, rows, cols);
        Numerics.AssertClose(withResidual, y, Exact, "cpu transpose + residual", log);
        LayoutReference.Transpose(x, r, y, batch, rows, cols);
        Numerics.AssertClose(withResidual, y, Exact, "reference transpose + residual", log);

        var kernels = new LayoutIlgpu(accelerator);
        using var dx = accelerator.Allocate1D(x);
        using var dr = accelerator.Allocate1D(r);
        using var dy = accelerator.Allocate1D<float>(x.Length);
        kernels.Transpose(dx.View, ArrayView<float>.Empty, dy.View, batch, rows, cols);
        Numerics.AssertClose(plain, dy.GetAsArray1D(), Exact, "ilgpu transpose", log);
        kernels.Transpose(dx.View, dr.View, dr.View, batch, rows, cols);   // residual aliased by the output
        Numerics.AssertClose(withResidual, dr.GetAsArray1D(), Exact, "ilgpu transpose + residual in place", log);
    }

    [SkippableTheory]
    [InlineData(1, 1, 1)]
    [InlineData(3, 5, 17)]
    [InlineData(2, 48, 64)]
    public void ChannelBiasMatchesTorch(int n, int c, int spatial)
    {
        var accelerator = fixture.Require();
        var rng = new Random(n + c + spatial);
        var x = Numerics.Uniform(rng, n * c * spatial);
        var b = Numerics.Uniform(rng, n * c);
        float[] expected;
        using (NewDisposeScope())
            expected = (tensor(x, [n, c, spatial]) + tensor(b, [n, c, 1])).data<float>().ToArray();
        var y = new float[x.Length];
        LayoutCpu.ChannelBias(x, b, y, n, c, spatial);
        Numerics.AssertClose(expected, y, Exact, "cpu channel bias", log);
        LayoutReference.ChannelBias(x, b, y, n, c, spatial);
        Numerics.AssertClose(expected, y, Exact, "reference channel bias", log);
        var kernels = new LayoutIlgpu(accelerator);
        using var dx = accelerator.Allocate1D(x);
        using var db = accelerator.Allocate1D(b);
        kernels.ChannelBias(dx.View, db.View, dx.View, n, c, spatial);     // in place, as the ResnetBlock uses it
        Numerics.AssertClose(expected, dx.GetAsArray1D(), Exact, "ilgpu channel bias", log);
    }

    [SkippableTheory]
    [InlineData(1, 1, 1, 1, 1)]
    [InlineData(6, 7, 5, 1, 1)]
    [InlineData(2, 16, 16, 0, 3)]
    public void ZeroPadMatchesTorch(int planes, int h, int w, int padBottom, int padRight)
    {
        var accelerator = fixture.Require();
        var x = Numerics.Uniform(new Random(h * w), planes * h * w);
        float[] expected;
        using (NewDisposeScope())
            expected = nn.functional.pad(tensor(x, [planes, h, w]), [0, padRight, 0, padBottom]).data<float>().ToArray();
        var y = new float[expected.Length];
        LayoutCpu.ZeroPad(x, y, planes, h, w, padBottom, padRight);
        Numerics.AssertClose(expected, y, Exact, "cpu zero pad", log);
        LayoutReference.ZeroPad(x, y, planes, h, w, padBottom, padRight);
        Numerics.AssertClose(expected, y, Exact, "reference zero pad", log);
        var kernels = new LayoutIlgpu(accelerator);
        using var dx = accelerator.Allocate1D(x);
        using var dy = accelerator.Allocate1D<float>(expected.Length);
        kernels.ZeroPad(dx.View, dy.View, planes, h, w, padBottom, padRight);
        Numerics.AssertClose(expected, dy.GetAsArray1D(), Exact, "ilgpu zero pad", log);
    }
}

[Collection(IlgpuCpuCollection.Name)]
public sealed class LayoutIlgpuTests(IlgpuCpuFixture fixture, ITestOutputHelper log) : LayoutTests(fixture, log);

[Collection(IlgpuCudaCollection.Name)]
public sealed class LayoutCudaTests(IlgpuCudaFixture fixture, ITestOutputHelper log) : LayoutTests(fixture, log);
