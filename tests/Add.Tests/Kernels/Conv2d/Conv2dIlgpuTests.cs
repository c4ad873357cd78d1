using Add.Kernels;
using Add.Kernels.Ilgpu;
using Add.Tests.Kernels.Ilgpu;
using ILGPU;
using ILGPU.Runtime;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Add.Tests.Kernels.Conv2d;

/// <summary>Implicit-GEMM conv2d against torch.nn.functional.conv2d, for one backend and tile.</summary>
[Trait("Category", "Kernels")]
public abstract class Conv2dIlgpuSuite<TTile>(IlgpuFixture fixture, ITestOutputHelper log) where TTile : struct, IGemmTile
{
    // fp32 sums of ≤ 63 products of U(−1, 1) values in a different order than libtorch's.
    private static readonly Tolerance Fp32Dot = new(Atol: 5e-6, Rtol: 5e-6);

    [SkippableTheory]
    [InlineData(2, 5, 9, 7, 6, 3, 1, 1, true)]    // 3×3 pad 1, batch 2, odd sizes
    [InlineData(1, 7, 8, 8, 3, 3, 1, 1, false)]   // 3×3 pad 1 without bias, K = 63
    [InlineData(2, 5, 9, 7, 4, 1, 1, 0, true)]    // 1×1
    [InlineData(2, 3, 9, 7, 5, 3, 2, 1, true)]    // 3×3 stride 2 pad 1 (downsample), odd input → Ho 5, Wo 4
    [InlineData(1, 4, 8, 8, 4, 3, 2, 1, true)]    // downsample of an even latent: 8×8 → 4×4
    [InlineData(2, 6, 9, 11, 37, 3, 1, 1, true)]  // Co 37, P 198: several register blocks each way, partial ones at both edges
    public void MatchesTorchConv2d(int n, int ci, int h, int w, int co, int k, int stride, int pad, bool hasBias)
    {
        var shape = new Conv2dShape(n, ci, h, w, co, k, k, stride, pad, hasBias);
        var random = new Random(42);
        var x = Numerics.Uniform(random, n * ci * h * w);
        var weight = Numerics.Uniform(random, co * ci * k * k);
        var b = hasBias ? Numerics.Uniform(random, co) : [];
        float[] expected;
        using (NewDisposeScope())
        {
            var y = nn.functional.conv2d(tensor(x, [n, ci, h, w]), tensor(weight, [co, ci, k, k]), hasBias ? tensor(b) : null,
                strides: [stride, stride], padding: [pad, pad]);
            Assert.Equal(new long[] { n, co, shape.OutHeight, shape.OutWidth }, y.shape);
            expected = y.data<float>().ToArray();
        }

        var accelerator = fixture.Require();
        var kernel = new Conv2dIlgpu<TTile>(accelerator);
        using var dx = accelerator.Allocate1D(x);                          // [N, Ci, H, W]
        using var dw = accelerator.Allocate1D(weight);                     // [Co, Ci, kh, kw]
        using var db = hasBias ? accelerator.Allocate1D(b) : null;         // [Co]
        using var dy = accelerator.Allocate1D<float>(expected.Length);     // [N, Co, Ho, Wo]
        GemmVersions.CheckBoth(accelerator, dy, blocked => kernel.Launch(dx.View, dw.View, db?.View ?? ArrayView<float>.Empty, dy.View, shape, blocked: blocked),
            expected, Fp32Dot, $"ilgpu conv2d n{n} ci{ci} {h}x{w} co{co} k{k} s{stride} p{pad}", log);

        var reference = new float[expected.Length];
        Conv2dReference.Forward(x, weight, b, reference, shape);
        Numerics.AssertClose(expected, reference, Fp32Dot, "reference loop", log);
    }
}

[Collection(IlgpuCpuCollection.Name)]
public sealed class Conv2dIlgpuTests(IlgpuCpuFixture fixture, ITestOutputHelper log) : Conv2dIlgpuSuite<GemmTile8>(fixture, log);

[Collection(IlgpuCudaCollection.Name)]
public sealed class Conv2dCudaTests(IlgpuCudaFixture fixture, ITestOutputHelper log) : Conv2dIlgpuSuite<GemmTile16>(fixture, log);
