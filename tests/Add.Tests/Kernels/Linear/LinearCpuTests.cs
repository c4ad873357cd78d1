using Add.Kernels;
using Add.Kernels.Cpu;
using Add.Tests.Kernels.Cpu;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Add.Tests.Kernels.Linear;

/// <summary>CPU linear (Y = X·Wᵀ + b + R) against torch.nn.functional.linear, on every SIMD path; prepacked weights.</summary>
[Trait("Category", "Kernels")]
public sealed class LinearCpuTests(ITestOutputHelper log)
{
    // fp32 sums of up to 300 U(−1, 1) products in a different order than libtorch's: ~√K ulp of partial sums of size ≤ 10.
    private static readonly Tolerance Fp32Dot = new(Atol: 2e-5, Rtol: 1e-5);

    public record LinearCase(int M, int N, int K, bool Bias, bool Residual)
    {
        public override string ToString() => $"m{M} n{N} k{K} bias={Bias} res={Residual}";
    }

    public static TheoryData<SimdPath, LinearCase> LinearCases => CpuPaths.With(
        new LinearCase(37, 23, 29, true, false),    // nothing a multiple of any tile
        new LinearCase(1, 5, 70, true, false),      // one row (the dot-product path)
        new LinearCase(1, 200, 300, true, true),    // one row over three whole 64-column panels and an edge, one K block, residual
        new LinearCase(2, 300, 257, true, true),    // two rows, dot path split over cores, odd K, residual in place
        new LinearCase(3, 40, 1, false, false),     // K = 1
        new LinearCase(130, 70, 300, true, true),   // M > MC, one K block, threads, residual
        new LinearCase(130, 70, 1100, true, true),  // K > KcMax (three K blocks of 367: the accumulate path), the residual after them
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

    /// <summary>A one-row GEMM (the Vector512 path's row kernel) gives the bytes of the same row inside a batch (the 6×64
    /// tile): the time embedding's linears run at M = 1 at batch 1 and at M = batch otherwise.</summary>
    public static TheoryData<SimdPath> Paths => new(CpuPaths.All);

    [Theory]
    [MemberData(nameof(Paths))]
    public void OneRowEqualsItsRowInABatch(SimdPath path)
    {
        const int m = 7, n = 200, k = 300, row = 3;
        var random = new Random(7);
        var x = Numerics.Uniform(random, m * k);
        var w = Numerics.Uniform(random, n * k);
        var b = Numerics.Uniform(random, n);
        var packed = PackedWeight.ForLinear(w, n, k, path);
        var all = new float[m * n];
        LinearCpu.Forward(x, default, b, default, all, m, n, k, new float[LinearCpu.WorkspaceFloats(m, n, k)], path, packed);
        var one = new float[n];
        LinearCpu.Forward(x.AsSpan(row * k, k), default, b, default, one, 1, n, k, new float[LinearCpu.WorkspaceFloats(1, n, k)], path, packed);
        Assert.Equal(all.AsSpan(row * n, n).ToArray(), one);
    }

    /// <summary>Packing is a copy: every value of W comes back from the panels, for panel widths 4, 6, 16 and 64 (the
    /// paths' MR and NR) and lengths around the transposing packer's 8×8 blocks (kc 1, 7, 8, 9, 17, 300, and 1,100: three K blocks).</summary>
    [Theory]
    [MemberData(nameof(PackingCases))]
    public void PackingRoundTripsEveryValue(SimdPath path, int rows, int cols, bool asConv)
    {
        var random = new Random(rows * 1000 + cols);
        var w = Numerics.Uniform(random, rows * cols);
        var packed = asConv ? PackedWeight.ForConv(w, rows, cols, path) : PackedWeight.ForLinear(w, rows, cols, path);
        var back = new float[rows * cols];
        packed.CopyTo(back);
        Assert.Equal(w, back);
    }

    public static TheoryData<SimdPath, int, int, bool> PackingCases()
    {
        var data = new TheoryData<SimdPath, int, int, bool>();
        foreach (var path in CpuPaths.All)
            foreach (var (rows, cols) in new[] { (1, 1), (5, 7), (6, 8), (7, 9), (13, 17), (70, 300), (65, 8), (7, 1100) })
                foreach (bool asConv in new[] { false, true })
                    data.Add(path, rows, cols, asConv);
        return data;
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
    }

    [Fact]
    public void LinearPackingServesAConvThroughDerivedPanels()
    {
        // A linear's packing holds B-side (NR) panels only; a conv asking for A-side (MR) panels gets them derived from
        // those, the same values as packing the plain weight: the same bytes out.
        var random = new Random(8);
        var w = Enumerable.Range(0, 6 * 5).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
        var x = Enumerable.Range(0, 5 * 36).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
        var convShape = new Conv2dShape(1, 5, 6, 6, 6, 1, 1, 1, 0, false);
        var workspace = new float[Conv2dCpu.WorkspaceFloats(convShape)];
        var packed = PackedWeight.ForLinear(w, 6, 5, SimdPath.Vector256);
        long before = packed.Floats;
        var expected = new float[6 * 36];
        var actual = new float[6 * 36];
        Conv2dCpu.Forward(x, w, [], [], expected, convShape, workspace, SimdPath.Vector256);
        Conv2dCpu.Forward(x, [], [], [], actual, convShape, workspace, SimdPath.Vector256, packed);
        Assert.Equal(expected, actual);
        Assert.True(packed.Floats > before, "the A-side panels were made on first use");
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
        LinearReference.Forward(x, w, b, reference, m, n, k);
        Numerics.AssertClose(expected, reference, Fp32Dot, "linear reference loop", log);
    }
}
