using Add.Engine.Backends;
using Add.Kernels;

namespace Add.Tests.Engine;

/// <summary>
/// Weights packed at load (<see cref="Backend.GemmWeight"/>: on the CPU backend the GEMM panels are the only copy)
/// give byte for byte what a plain constant weight gives (packed on first use, as before), for linears and for convs in
/// each of the conv kernel's arrangements (per image, batched, transposed: the last needs the panels of the other
/// width, derived from the packed ones), and read back as the plain values.
/// </summary>
public sealed class PackedAtLoadTests
{
    private static float[] Values(Random random, int count) =>
        Enumerable.Range(0, count).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();

    private static float[] Run(CpuBackend backend, Action<TensorView> op, long outputLength)
    {
        var y = backend.Allocate(outputLength);
        op(y.View);
        var result = new float[outputLength];
        backend.Download(y.View, result);
        return result;
    }

    [Theory]
    [InlineData(1, 40, 24)]
    [InlineData(7, 33, 300)]     // K over one 256-wide block, N not a multiple of the panel width
    public void LinearWeightPackedAtLoadGivesTheSameBytes(int m, int n, int k)
    {
        using var backend = new CpuBackend();
        var random = new Random(11);
        var w = Values(random, n * k);
        var bias = backend.Constant(Values(random, n));
        var x = backend.Constant(Values(random, m * k));
        var plain = backend.Constant(w);
        var packed = backend.GemmWeight(w, n, k, conv: false);

        var expected = Run(backend, y => backend.Linear(x.View, plain.View, bias.View, default, y, m, n, k), (long)m * n);
        var actual = Run(backend, y => backend.Linear(x.View, packed.View, bias.View, default, y, m, n, k), (long)m * n);

        Assert.Equal(expected, actual);
        var back = new float[w.Length];
        backend.Download(packed.View, back);
        Assert.Equal(w, back);
    }

    [Theory]
    [InlineData(1, 5, 9, 20, 20, 3)]     // a 20×20 plane: per image
    [InlineData(3, 6, 8, 8, 8, 3)]       // 8×8 planes of a batch: batched
    [InlineData(2, 7, 40, 2, 2, 3)]      // 2×2 planes: transposed (channels as the NR side)
    [InlineData(2, 16, 24, 4, 4, 1)]     // 1×1 on 4×4 planes
    public void ConvWeightPackedAtLoadGivesTheSameBytes(int batch, int ci, int co, int h, int w, int kernel)
    {
        using var backend = new CpuBackend();
        var random = new Random(12);
        var s = new Conv2dShape(batch, ci, h, w, co, kernel, kernel, 1, kernel / 2, hasBias: true);
        var weights = Values(random, co * s.ReductionLength);
        var bias = backend.Constant(Values(random, co));
        var x = backend.Constant(Values(random, batch * ci * h * w));
        var plain = backend.Constant(weights);
        var packed = backend.GemmWeight(weights, co, s.ReductionLength, conv: true);
        long outLength = (long)batch * co * s.OutHeight * s.OutWidth;

        var expected = Run(backend, y => backend.Conv2d(x.View, plain.View, bias.View, default, y, s), outLength);
        var actual = Run(backend, y => backend.Conv2d(x.View, packed.View, bias.View, default, y, s), outLength);

        Assert.Equal(expected, actual);
        var back = new float[weights.Length];
        backend.Download(packed.View, back);
        Assert.Equal(weights, back);
    }

    [Fact]
    public void APackedAtLoadWeightHoldsNoPlainCopyAndRefusesOtherUses()
    {
        using var backend = new CpuBackend();
        var random = new Random(13);
        const int n = 32, k = 64;
        var packed = backend.GemmWeight(Values(random, n * k), n, k, conv: false);
        Assert.Equal(1, backend.PackedWeights);
        Assert.Throws<InvalidOperationException>(() => backend.Upload(new float[n * k], packed.View));
        var y = backend.Allocate(n * k);
        var error = Assert.Throws<InvalidOperationException>(() => backend.Silu(packed.View, y.View));
        Assert.Contains("GEMM panels", error.Message);
    }
}
