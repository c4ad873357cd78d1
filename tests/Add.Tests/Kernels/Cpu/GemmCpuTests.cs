using Add.Kernels.Cpu;
using Add.Kernels.Ilgpu;
using Add.Tests.Kernels.Ilgpu;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Add.Tests.Kernels.Cpu;

/// <summary>CPU linear (Y = X·Wᵀ + b + R) and conv2d against torch.nn.functional.linear / conv2d, on every SIMD path.</summary>
[Trait("Category", "Kernels")]
public sealed class GemmCpuTests(ITestOutputHelper log)
{
    // fp32 sums of up to 300 U(−1, 1) products in a different order than libtorch's: ~√K ulp of partial sums of size ≤ 10.
    private static readonly Tolerance Fp32Dot = new(Atol: 2e-5, Rtol: 1e-5);
    // conv sums of up to 9·70 = 630 products of U(−1, 1) values: as above with a longer reduction.
    private static readonly Tolerance Fp32Conv = new(Atol: 3e-5, Rtol: 1e-5);

    public record LinearCase(int M, int N, int K, bool Bias, bool Residual)
    {
        public override string ToString() => $"m{M} n{N} k{K} bias={Bias} res={Residual}";
    }

    public static TheoryData<SimdPath, LinearCase> LinearCases => CpuPaths.With(
        new LinearCase(37, 23, 29, true, false),    // nothing a multiple of any tile
        new LinearCase(1, 5, 70, true, false),      // one row (the dot-product path)
        new LinearCase(2, 300, 257, true, true),    // two rows, dot path split over cores, odd K, residual in place
        new LinearCase(3, 40, 1, false, false),     // K = 1
        new LinearCase(130, 70, 300, true, true),   // M > MC, K > KC (two K blocks: the accumulate path), threads, residual
        new LinearCase(64, 530, 128, true, true),   // N > NC, split over N across cores
        new LinearCase(128, 1024, 128, true, false), // the UNet's GEGLU projection at CFG batch 2
        new LinearCase(200, 20, 100, true, true));   // one column panel (512 path): the work is split over M instead

    [Theory]
    [MemberData(nameof(LinearCases))]
    public void LinearMatchesTorch(SimdPath path, LinearCase c)
    {
        var random = new Random(42);
        var x = Numerics.Uniform(random, c.M * c.K);
        var w = Numerics.Uniform(random, c.N * c.K);
        var b = c.Bias ? Numerics.Uniform(random, c.N) : [];
        var r = c.Residual ? Numerics.Uniform(random, c.M * c.N) : [];
        float[] expected;
        using (NewDisposeScope())
        {
            var t = nn.functional.linear(tensor(x, [c.M, c.K]), tensor(w, [c.N, c.K]), c.Bias ? tensor(b) : null);
            if (c.Residual)
                t = t + tensor(r, [c.M, c.N]);
            expected = t.data<float>().ToArray();
        }
        var workspace = new float[LinearCpu.WorkspaceFloats(c.M, c.N, c.K)];
        // W packed per call, then packed once ahead of time (the engine's way): the same panels either way.
        foreach (var packed in new[] { null, PackedWeight.ForLinear(w, c.N, c.K, path) })
        {
            string how = packed is null ? "" : " prepacked";
            var y = new float[c.M * c.N];
            LinearCpu.Forward(x, w, b, r, y, c.M, c.N, c.K, workspace, path, packed);
            Numerics.AssertClose(expected, y, Fp32Dot, $"cpu linear{how} {path} {c}", log);

            // In place: y starts as the residual and receives X·Wᵀ + b + y.
            if (c.Residual)
            {
                var inPlace = (float[])r.Clone();
                LinearCpu.Forward(x, w, b, inPlace, inPlace, c.M, c.N, c.K, workspace, path, packed);
                Numerics.AssertClose(expected, inPlace, Fp32Dot, $"cpu linear{how} in place {path} {c}", log);
            }
        }
    }

    [Fact]
    public void AKernelLargerThanThePaddedInputIsRefused()
    {
        // (3 − 4)/2 + 1 truncates to an output of 1×1: the check must look at the padded input, not only the output size.
        var s = new Conv2d.Shape(1, 1, 3, 3, 1, 4, 4, 2, 0, false);
        var error = Assert.Throws<ArgumentException>(() => Conv2dCpu.Forward(new float[9], new float[16], [], [], new float[1], s,
            new float[Conv2dCpu.WorkspaceFloats(s)]));
        Assert.Contains("4x4", error.Message);
        Assert.Contains("3x3", error.Message);
    }

    [Fact]
    public void PackedWeightOfAnotherShapeOrPathIsRefused()
    {
        var w = new float[6 * 5];
        var packed = PackedWeight.ForLinear(w, 6, 5, SimdPath.Vector256);
        var x = new float[4 * 5];
        var y = new float[4 * 6];
        var workspace = new float[LinearCpu.WorkspaceFloats(4, 6, 5)];
        var wrongPath = Assert.Throws<ArgumentException>(() => LinearCpu.Forward(x, w, [], [], y, 4, 6, 5, workspace, SimdPath.Scalar, packed));
        Assert.Contains("Vector256", wrongPath.Message);
        var wrongShape = Assert.Throws<ArgumentException>(() => LinearCpu.Forward(new float[4 * 6], new float[5 * 6], [], [], new float[4 * 5], 4, 5, 6,
            new float[LinearCpu.WorkspaceFloats(4, 5, 6)], SimdPath.Vector256, packed));
        Assert.Contains("[6, 5]", wrongShape.Message);
        // A linear's packing has no conv (A-side) panels: a conv asking for them is told so, not given wrong data.
        var convShape = new Conv2d.Shape(1, 5, 6, 6, 6, 1, 1, 1, 0, false);
        Assert.Throws<InvalidOperationException>(() => Conv2dCpu.Forward(new float[5 * 36], w, [], [], new float[6 * 36], convShape,
            new float[Conv2dCpu.WorkspaceFloats(convShape)], SimdPath.Vector256, packed));
    }

    [Fact]
    public void ReferenceLoopMatchesTorch()
    {
        var random = new Random(42);
        const int m = 9, n = 7, k = 33;
        var x = Numerics.Uniform(random, m * k);
        var w = Numerics.Uniform(random, n * k);
        var b = Numerics.Uniform(random, n);
        float[] expected;
        using (NewDisposeScope())
            expected = nn.functional.linear(tensor(x, [m, k]), tensor(w, [n, k]), tensor(b)).data<float>().ToArray();
        var reference = new float[m * n];
        Gemm.Reference(x, w, b, reference, m, n, k);
        Numerics.AssertClose(expected, reference, Fp32Dot, "linear reference loop", log);
    }

    public record ConvCase(int N, int Ci, int H, int W, int Co, int Kernel, int Stride, int Pad, bool Bias, bool Residual)
    {
        public override string ToString() => $"n{N} ci{Ci} {H}x{W} co{Co} k{Kernel} s{Stride} p{Pad} bias={Bias} res={Residual}";
    }

    public static TheoryData<SimdPath, ConvCase> ConvCases => CpuPaths.With(
        new ConvCase(2, 5, 7, 9, 11, 3, 1, 1, true, false),      // odd everything, batch 2
        new ConvCase(1, 3, 10, 13, 6, 3, 2, 1, true, false),     // stride 2 (downsample), odd width
        new ConvCase(2, 7, 5, 6, 9, 1, 1, 0, false, true),       // 1×1 (read as B directly), residual
        new ConvCase(1, 70, 8, 8, 37, 3, 1, 1, true, true),      // K = 630 > KC, Co not a multiple of any MR
        new ConvCase(1, 9, 33, 35, 17, 3, 1, 1, true, false),    // P = 1155 > NC: several column blocks, rows spanning panels
        new ConvCase(2, 64, 4, 4, 128, 3, 1, 1, true, true),     // the UNet's 4×4 level: batched GEMM (N = 2·16), residual
        new ConvCase(3, 6, 5, 7, 10, 3, 2, 1, true, true),       // batched, stride 2: image boundaries inside a panel
        new ConvCase(2, 4, 17, 16, 5, 3, 1, 1, false, false),    // plane 272 ≥ the batching limit: one GEMM per image
        new ConvCase(1, 20, 3, 3, 40, 3, 1, 1, true, true),      // 3×3 plane: transposed (pixels as rows of the tile), residual
        new ConvCase(3, 9, 4, 4, 40, 3, 2, 1, true, true),       // batched 2×2 planes, stride 2: transposed across images
        new ConvCase(1, 256, 2, 2, 128, 3, 1, 1, true, false),   // the UNet's 2×2 resnet conv (K = 2304: nine K blocks)
        new ConvCase(2, 3, 6, 7, 5, 3, 1, 0, true, true));       // 3×3 without padding: im2col reads x itself, not a padded copy

    [Theory]
    [MemberData(nameof(ConvCases))]
    public void Conv2dMatchesTorch(SimdPath path, ConvCase c)
    {
        var random = new Random(42);
        var s = new Conv2d.Shape(c.N, c.Ci, c.H, c.W, c.Co, c.Kernel, c.Kernel, c.Stride, c.Pad, c.Bias);
        var x = Numerics.Uniform(random, c.N * c.Ci * c.H * c.W);
        var w = Numerics.Uniform(random, c.Co * c.Ci * c.Kernel * c.Kernel);
        var b = c.Bias ? Numerics.Uniform(random, c.Co) : [];
        int outCount = c.N * c.Co * s.OutHeight * s.OutWidth;
        var r = c.Residual ? Numerics.Uniform(random, outCount) : [];
        float[] expected;
        using (NewDisposeScope())
        {
            var t = nn.functional.conv2d(tensor(x, [c.N, c.Ci, c.H, c.W]), tensor(w, [c.Co, c.Ci, c.Kernel, c.Kernel]),
                c.Bias ? tensor(b) : null, strides: [c.Stride, c.Stride], padding: [c.Pad, c.Pad]);
            if (c.Residual)
                t = t + tensor(r, [c.N, c.Co, s.OutHeight, s.OutWidth]);
            expected = t.data<float>().ToArray();
        }
        foreach (var packed in new[] { null, PackedWeight.ForConv(w, c.Co, s.ReductionLength, path) })
        {
            var y = new float[outCount];
            Conv2dCpu.Forward(x, w, b, r, y, s, new float[Conv2dCpu.WorkspaceFloats(s)], path, packed);
            Numerics.AssertClose(expected, y, Fp32Conv, $"cpu conv2d{(packed is null ? "" : " prepacked")} {path} {c}", log);
        }
    }
}
