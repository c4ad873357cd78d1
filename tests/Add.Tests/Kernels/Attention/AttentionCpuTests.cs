using Add.Kernels;
using Add.Kernels.Cpu;
using Add.Tests.Kernels.Cpu;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Add.Tests.Kernels.Attention;

/// <summary>CPU fused attention against torch.nn.functional.scaled_dot_product_attention, on every SIMD path.</summary>
[Trait("Category", "Kernels")]
public sealed class AttentionCpuTests(ITestOutputHelper log)
{
    // Outputs are convex combinations of V rows (|v| ≤ 1): fp32 dots of ≤ 64 terms, vector exp, sums of ≤ 130 weights;
    // on the blocked path dots of ≤ 512 terms and sums of ≤ 517 weights still leave errors ≤ 1.5e-7 (measured).
    private static readonly Tolerance Fp32 = new(Atol: 2e-6, Rtol: 2e-6);

    public record Case(int B, int H, int Lq, int Lk, int D, bool Causal, bool TokensMajor)
    {
        public override string ToString() => $"b{B} h{H} lq{Lq} lk{Lk} d{D} causal={Causal} tokens={TokensMajor}";
    }

    public static TheoryData<SimdPath, Case> Cases => CpuPaths.With(
        new Case(2, 3, 37, 19, 24, false, false),   // D = 16 + 8, keys fewer than one block and not a multiple of 16
        new Case(1, 2, 70, 70, 16, true, false),    // causal self-attention over two key blocks and three query tiles
        new Case(2, 4, 64, 16, 32, false, true),    // the UNet's cross-attention at CFG batch 2, [B, L, H·D] layout
        new Case(1, 1, 64, 64, 64, false, false),   // the VAE mid-block attention: one head, D = 64
        new Case(2, 2, 5, 130, 8, false, true),     // Lk over two blocks + 2, D = 8 (no 512 column step)
        new Case(2, 4, 16, 16, 32, true, true),     // the text encoder: causal, 16 tokens
        new Case(1, 2, 77, 77, 64, true, true),     // SD-Turbo's text encoder: causal, 77 tokens (per row, not blocked)
        new Case(1, 1, 3, 7, 21, false, false));    // D = 21 = 16 + 5

    /// <summary>Shapes that take the blocked GEMM path (<see cref="AttentionCpu.UseBlocked"/>), with awkward edges.</summary>
    public static TheoryData<SimdPath, Case> BlockedCases => CpuPaths.With(
        new Case(1, 1, 300, 517, 40, false, false),     // D = 40 (no whole 16-wide tile), key blocks 256 + 256 + 5, query tiles of 64 (Vector512) or 32
        new Case(1, 1, 130, 513, 64, false, true),      // a tail key block of 1 row, a tail query tile of 2 rows, [B, L, H·D]
        new Case(1, 2, 517, 300, 64, true, true),       // causal, more queries than keys: rows 300+ see every key
        new Case(1, 1, 260, 260, 40, true, false),      // causal self-attention: the diagonal crosses key blocks
        new Case(1, 1, 96, 290, 512, false, false),     // the VAE mid-block's head dim 512: one K block (KcMax) in Q·Kᵀ
        new Case(2, 3, 70, 77, 64, false, true));       // the UNet's cross-attention: 77 text keys, one partial key block

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesTorch(SimdPath path, Case c)
    {
        Assert.False(AttentionCpu.UseBlocked(c.Lq, c.Lk, c.D, c.Causal), $"{c} should take the per-row path");
        Check(path, c, Fp32, withReference: !c.Causal);
    }

    [Theory]
    [MemberData(nameof(BlockedCases))]
    public void BlockedMatchesTorch(SimdPath path, Case c)
    {
        Assert.True(AttentionCpu.UseBlocked(c.Lq, c.Lk, c.D, c.Causal), $"{c} should take the blocked path");
        Check(path, c, Fp32, withReference: false);
    }

    private void Check(SimdPath path, Case c, Tolerance tolerance, bool withReference)
    {
        var random = new Random(42);
        var q = Numerics.Uniform(random, c.B * c.H * c.Lq * c.D);
        var k = Numerics.Uniform(random, c.B * c.H * c.Lk * c.D);
        var v = Numerics.Uniform(random, c.B * c.H * c.Lk * c.D);
        float[] expected;
        using (NewDisposeScope())
        {
            Tensor Heads(float[] x, int l) => c.TokensMajor ? tensor(x, [c.B, l, c.H, c.D]).permute(0, 2, 1, 3) : tensor(x, [c.B, c.H, l, c.D]);
            var o = nn.functional.scaled_dot_product_attention(Heads(q, c.Lq), Heads(k, c.Lk), Heads(v, c.Lk), null, 0.0, c.Causal);
            expected = (c.TokensMajor ? o.permute(0, 2, 1, 3) : o).contiguous().data<float>().ToArray();
        }
        var qs = c.TokensMajor ? AttentionStrides.TokensMajor(c.H, c.Lq, c.D) : AttentionStrides.HeadsMajor(c.H, c.Lq, c.D);
        var kvs = c.TokensMajor ? AttentionStrides.TokensMajor(c.H, c.Lk, c.D) : AttentionStrides.HeadsMajor(c.H, c.Lk, c.D);
        var actual = new float[expected.Length];
        AttentionCpu.Forward(q, k, v, actual, c.B, c.H, c.Lq, c.Lk, c.D, qs, kvs, kvs, qs, c.Causal, path);
        Numerics.AssertClose(expected, actual, tolerance, $"cpu attention {path} {c}", log);

        if (withReference)
        {
            var reference = new float[expected.Length];
            AttentionReference.Forward(q, k, v, reference, c.B, c.H, c.Lq, c.Lk, c.D, qs, kvs, kvs, qs);
            Numerics.AssertClose(expected, reference, Fp32, "reference loop", log);
        }
    }

    [Theory]
    [InlineData(SimdPath.Vector512, 3, 100, 16, 64, 2.5f)]      // per-row path: key blocks of 64
    [InlineData(SimdPath.Vector256, 3, 100, 16, 64, 2.5f)]
    [InlineData(SimdPath.Scalar, 3, 100, 16, 64, 2.5f)]
    [InlineData(SimdPath.Vector512, 64, 600, 64, 256, 6f)]      // blocked path: key blocks of BlockedK = 256
    [InlineData(SimdPath.Vector256, 64, 600, 64, 256, 6f)]
    [InlineData(SimdPath.Scalar, 64, 600, 64, 256, 6f)]
    public void LaterLargerScoresRescaleEarlierBlocks(SimdPath path, int lq, int lk, int d, int firstBlock, float factor)
    {
        // Key block 0 scores about −40, the later blocks about +40: the running max jumps and α ≈ e^−80 must wipe block 0's weights.
        var random = new Random(42);
        var q = Numerics.Uniform(random, lq * d, 0.9f, 1f);
        var k = Numerics.Uniform(random, lk * d, 0.9f, 1f);
        for (int j = 0; j < firstBlock * d; j++)
            k[j] = -k[j] * factor;
        for (int j = firstBlock * d; j < lk * d; j++)
            k[j] *= factor;
        var v = Numerics.Uniform(random, lk * d);
        float[] expected;
        using (NewDisposeScope())
            expected = nn.functional.scaled_dot_product_attention(tensor(q, [1, 1, lq, d]), tensor(k, [1, 1, lk, d]), tensor(v, [1, 1, lk, d])).data<float>().ToArray();
        var actual = new float[expected.Length];
        AttentionCpu.Forward(q, k, v, actual, 1, 1, lq, lk, d, path: path);
        Numerics.AssertClose(expected, actual, Fp32, $"cpu attention {path} lq{lq} lk{lk} d{d}, max jumps between key blocks", log);
    }
}
