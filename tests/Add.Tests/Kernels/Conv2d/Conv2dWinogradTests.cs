using Add.Kernels;
using Add.Kernels.Cpu;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Add.Tests.Kernels.Conv2d;

/// <summary>The Winograd F(2×2, 3×3) path of the CPU conv (3×3, stride 1, padding 1, Ci ≥ 64, planes ≥ 32²) against
/// torch.nn.functional.conv2d on awkward shapes; its in-place residual; its batch invariance; and that these shapes take it.</summary>
[Trait("Category", "Kernels")]
public sealed class Conv2dWinogradTests(ITestOutputHelper log)
{
    // Sums of 9·Ci products of U(−1, 1) values, but through the transforms: V's entries are sums of up to four inputs
    // and U's of up to nine weights (halved twice), so each of the 16 GEMMs' terms is larger than a product of the
    // direct sum's, and four-term sums of M combine them: the error is a few times the direct sum's ~√K ulp (Lavin & Gray
    // 2016, §5: F(2×2, 3×3)'s fp32 error is close to direct convolution's). Measured max |err| (2026-12-03): 1.3-1.7e-5
    // at Ci 64-70 (inside the im2col GEMM's 3e-5 for K = 630), 4.6e-5 at Ci = 300 (K = 2,700); ~√K growth, 2× margin.
    private static readonly Tolerance Fp32Winograd = new(Atol: 1e-4, Rtol: 1e-5);

    public record Case(int N, int Ci, int H, int W, int Co, bool Bias, bool Residual)
    {
        public Conv2dShape Shape => new(N, Ci, H, W, Co, 3, 3, 1, 1, Bias);
        public override string ToString() => $"n{N} ci{Ci} {H}x{W} co{Co} bias={Bias} res={Residual}";
    }

    public static TheoryData<Case> Cases => new()
    {
        new Case(2, 64, 32, 32, 64, true, true),       // the smallest plane and Ci that take the path: 256 tiles, four blocks of 64
        new Case(1, 70, 33, 35, 37, true, true),       // odd sizes: the last tile row and column half outside; blocks start mid-row; Co not a multiple of 6
        new Case(1, 600, 32, 34, 13, false, false),    // Ci = 600 > KcMax: each GEMM over two K blocks of 300; rows of 17 tiles (vector groups cross blocks)
        new Case(1, 64, 90, 92, 7, true, false),       // 2,070 tiles, rows of 46 (a vector group, then single tiles)
        new Case(1, 64, 32, 36, 100, true, true),      // Co 100: 17 panels of 6, the last with 4 rows (two of the packing's zero rows)
        new Case(3, 65, 40, 64, 20, true, true),       // batch 3, rows of 32 tiles: every group in the vector paths
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesTorch(Case c)
    {
        var s = c.Shape;
        Assert.True(Conv2dCpu.IsWinograd(s, SimdPath.Vector512), $"{c} should take the Winograd path");
        var random = new Random(11);
        var x = Numerics.Uniform(random, c.N * c.Ci * c.H * c.W);
        var w = Numerics.Uniform(random, c.Co * c.Ci * 9);
        var b = c.Bias ? Numerics.Uniform(random, c.Co) : [];
        int outCount = c.N * c.Co * c.H * c.W;
        var r = c.Residual ? Numerics.Uniform(random, outCount) : [];
        float[] expected;
        using (NewDisposeScope())
        {
            var t = nn.functional.conv2d(tensor(x, [c.N, c.Ci, c.H, c.W]), tensor(w, [c.Co, c.Ci, 3, 3]),
                c.Bias ? tensor(b) : null, strides: [1, 1], padding: [1, 1]);
            if (c.Residual)
                t = t + tensor(r, [c.N, c.Co, c.H, c.W]);
            expected = t.data<float>().ToArray();
        }
        var expectedRelu = expected.Select(v => Math.Max(v, 0f)).ToArray();
        foreach (var packed in new[] { null, PackedWeight.ForConv(w, c.Co, s.ReductionLength, SimdPath.Vector512) })
            foreach (bool relu in new[] { false, true })
            {
                var y = new float[outCount];
                Conv2dCpu.Forward(x, w, b, r, y, s, new float[Conv2dCpu.WorkspaceFloats(s)], SimdPath.Vector512, packed, relu);
                Numerics.AssertClose(relu ? expectedRelu : expected, y, Fp32Winograd,
                    $"winograd conv2d{(relu ? "+relu" : "")}{(packed is null ? "" : " prepacked")} {c}", log);
            }
    }

    /// <summary>R = y (the resnets add in place): each output reads its residual just before it is written.</summary>
    [Fact]
    public void ResidualInPlace()
    {
        var c = new Case(1, 64, 33, 70, 9, true, true);
        var s = c.Shape;
        var random = new Random(3);
        var x = Numerics.Uniform(random, c.Ci * c.H * c.W);
        var w = Numerics.Uniform(random, c.Co * c.Ci * 9);
        var b = Numerics.Uniform(random, c.Co);
        var r = Numerics.Uniform(random, c.Co * c.H * c.W);
        var ws = new float[Conv2dCpu.WorkspaceFloats(s)];
        var separate = new float[r.Length];
        Conv2dCpu.Forward(x, w, b, r, separate, s, ws, SimdPath.Vector512);
        var inPlace = (float[])r.Clone();
        Conv2dCpu.Forward(x, w, b, inPlace, inPlace, s, ws, SimdPath.Vector512);
        Assert.Equal(separate, inPlace);
    }

    /// <summary>Image i of a batch of 3 equals that image alone, bit for bit (its tiles fall in other blocks and lanes).</summary>
    [Fact]
    public void BatchInvariant()
    {
        var c = new Case(3, 70, 33, 35, 37, true, true);
        var s = c.Shape;
        var one = new Conv2dShape(1, c.Ci, c.H, c.W, c.Co, 3, 3, 1, 1, true);
        int inImage = c.Ci * c.H * c.W, outImage = c.Co * c.H * c.W;
        var random = new Random(5);
        var x = Numerics.Uniform(random, c.N * inImage);
        var w = Numerics.Uniform(random, c.Co * s.ReductionLength);
        var b = Numerics.Uniform(random, c.Co);
        var r = Numerics.Uniform(random, c.N * outImage);
        var packed = PackedWeight.ForConv(w, c.Co, s.ReductionLength, SimdPath.Vector512);
        var batch = new float[c.N * outImage];
        Conv2dCpu.Forward(x, w, b, r, batch, s, new float[Conv2dCpu.WorkspaceFloats(s)], SimdPath.Vector512, packed, relu: true);
        Assert.Contains(batch, v => v == 0f);
        for (int i = 0; i < c.N; i++)
        {
            var single = new float[outImage];
            Conv2dCpu.Forward(x.AsSpan(i * inImage, inImage), w, b, r.AsSpan(i * outImage, outImage), single, one,
                new float[Conv2dCpu.WorkspaceFloats(one)], SimdPath.Vector512, packed, relu: true);
            Assert.True(single.AsSpan().SequenceEqual(batch.AsSpan(i * outImage, outImage)), $"image {i} of {c} differs alone");
        }
    }

    /// <summary>Shapes just outside the path keep the im2col GEMM or the direct kernels.</summary>
    [Theory]
    [InlineData(1, 63, 32, 32, 64, 3, 1, 1)]       // Ci below 64
    [InlineData(1, 64, 31, 32, 64, 3, 1, 1)]       // plane below 32²
    [InlineData(1, 64, 32, 32, 64, 3, 2, 1)]       // stride 2
    [InlineData(1, 64, 32, 32, 64, 3, 1, 0)]       // no padding
    [InlineData(1, 64, 32, 32, 64, 1, 1, 0)]       // 1×1
    [InlineData(1, 64, 32, 32, 4, 3, 1, 1)]        // four outputs: Conv2dFewOutputs
    public void OtherShapesDoNotTakeIt(int n, int ci, int h, int w, int co, int k, int stride, int pad)
    {
        var s = new Conv2dShape(n, ci, h, w, co, k, k, stride, pad, true);
        Assert.False(Conv2dCpu.IsWinograd(s, SimdPath.Vector512));
    }

    /// <summary>The transforms are Vector512 code: other paths keep the im2col GEMM for every shape.</summary>
    [Fact]
    public void OtherPathsDoNotTakeIt() =>
        Assert.False(Conv2dCpu.IsWinograd(new Conv2dShape(1, 64, 32, 32, 64, 3, 3, 1, 1, true), SimdPath.Vector256));
}
