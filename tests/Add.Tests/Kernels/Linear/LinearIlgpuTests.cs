using Add.Kernels;
using Add.Kernels.Ilgpu;
using Add.Tests.Kernels.Ilgpu;
using ILGPU;
using ILGPU.Runtime;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Add.Tests.Kernels.Linear;

/// <summary>Tiled linear (Y = X·Wᵀ + b) against torch.nn.functional.linear, for one backend and tile.</summary>
[Trait("Category", "Kernels")]
public abstract class LinearIlgpuSuite<TTile>(IlgpuFixture fixture, ITestOutputHelper log) where TTile : struct, IGemmTile
{
    // fp32 dot products of ≤ 70 terms of U(−1, 1) products, in a different order than libtorch's: ~√K ulp of the partial sums.
    private static readonly Tolerance Fp32Dot = new(Atol: 5e-6, Rtol: 5e-6);

    [SkippableTheory]
    [InlineData(37, 23, 29, true)]   // nothing a multiple of the tile
    [InlineData(37, 23, 29, false)]
    [InlineData(1, 5, 70, true)]     // one row (a pooled embedding), K spanning several tiles
    [InlineData(16, 16, 16, true)]   // exact tiles
    [InlineData(3, 40, 1, true)]     // K = 1
    [InlineData(70, 45, 33, true)]   // several register blocks each way (R·T = 32 on the CPU accelerator), partial at the edges
    public void MatchesTorchLinear(int m, int n, int k, bool hasBias)
    {
        var random = new Random(42);
        var x = Numerics.Uniform(random, m * k);
        var w = Numerics.Uniform(random, n * k);
        var b = hasBias ? Numerics.Uniform(random, n) : [];
        float[] expected;
        using (NewDisposeScope())
            expected = nn.functional.linear(tensor(x, [m, k]), tensor(w, [n, k]), hasBias ? tensor(b) : null).data<float>().ToArray();

        var accelerator = fixture.Require();
        var kernel = new LinearIlgpu<TTile>(accelerator);
        using var dx = accelerator.Allocate1D(x);                          // [M, K]
        using var dw = accelerator.Allocate1D(w);                          // [N, K]
        using var db = hasBias ? accelerator.Allocate1D(b) : null;         // [N] (ILGPU cannot allocate from an empty array)
        using var dy = accelerator.Allocate1D<float>(m * n);               // [M, N]
        GemmVersions.CheckBoth(accelerator, dy, blocked => kernel.Launch(dx.View, dw.View, db?.View ?? ArrayView<float>.Empty, dy.View, m, n, k, blocked: blocked),
            expected, Fp32Dot, $"ilgpu linear m{m} n{n} k{k} bias={hasBias}", log);

        var reference = new float[m * n];
        LinearReference.Forward(x, w, b, reference, m, n, k);
        Numerics.AssertClose(expected, reference, Fp32Dot, "reference loop", log);
    }
}

[Collection(IlgpuCpuCollection.Name)]
public sealed class LinearIlgpuTests(IlgpuCpuFixture fixture, ITestOutputHelper log) : LinearIlgpuSuite<GemmTile8>(fixture, log);

[Collection(IlgpuCudaCollection.Name)]
public sealed class LinearCudaTests(IlgpuCudaFixture fixture, ITestOutputHelper log) : LinearIlgpuSuite<GemmTile16>(fixture, log);
