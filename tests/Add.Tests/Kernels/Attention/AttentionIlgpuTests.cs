using Add.Kernels;
using Add.Kernels.Ilgpu;
using Add.Tests.Kernels.Ilgpu;
using ILGPU;
using ILGPU.Runtime;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Add.Tests.Kernels.Attention;

/// <summary>Fused flash-style attention against torch.nn.functional.scaled_dot_product_attention, for one backend and tile.</summary>
[Trait("Category", "Kernels")]
public abstract class AttentionIlgpuSuite<TTile>(IlgpuFixture fixture, ITestOutputHelper log) where TTile : struct, IAttentionTile
{
    // Outputs are convex combinations of V rows (|v| ≤ 1): fp32 dot products of ≤ 16 terms, exp2, sums of ≤ 37 terms (seen: 1.5e-7).
    private static readonly Tolerance Fp32 = new(Atol: 1e-6, Rtol: 1e-6);
    // Scores of order 1e3: one ulp of a score (6e-5) changes its softmax weight by 6e-5 relative (seen: 9.7e-6).
    private static readonly Tolerance LargeScores = new(Atol: 5e-5, Rtol: 5e-5);
    // GPU-scale shape: sums of 1024 fp32 terms and the GPU's ex2.approx (2 ulp); not yet measured on a device.
    private static readonly Tolerance GpuScale = new(Atol: 1e-5, Rtol: 1e-5);

    /// <summary>Whether this backend runs the GPU-scale shape (D = 64, L = 1024): far too slow on the CPU accelerator.</summary>
    protected abstract bool RunsGpuScale { get; }

    [SkippableTheory]
    [InlineData(2, 3, 37, 37, 16)]  // self-attention, batch 2, 3 heads, L not a multiple of the tiles
    [InlineData(1, 2, 20, 20, 12)]  // D = 12, not a power of two
    [InlineData(2, 2, 37, 16, 8)]   // cross-attention: 16 text tokens
    [InlineData(1, 1, 1, 37, 16)]   // one query row
    [InlineData(1, 2, 9, 5, 16)]    // fewer keys than one tile
    [InlineData(1, 1, 1, 1, 4)]     // Lq = Lk = 1
    public void MatchesTorch(int batch, int heads, int lq, int lk, int d)
    {
        var random = new Random(42);
        var q = Numerics.Uniform(random, batch * heads * lq * d);
        var k = Numerics.Uniform(random, batch * heads * lk * d);
        var v = Numerics.Uniform(random, batch * heads * lk * d);
        var expected = TorchAttention(q, k, v, batch, heads, lq, lk, d);
        var actual = Run(q, k, v, batch, heads, lq, lk, d);
        Numerics.AssertClose(expected, actual, Fp32, $"ilgpu attention b{batch} h{heads} lq{lq} lk{lk} d{d}", log);

        var reference = new float[expected.Length];
        var qs = AttentionStrides.HeadsMajor(heads, lq, d);
        var kvs = AttentionStrides.HeadsMajor(heads, lk, d);
        AttentionReference.Forward(q, k, v, reference, batch, heads, lq, lk, d, qs, kvs, kvs, qs);
        Numerics.AssertClose(expected, reference, Fp32, "reference loop", log);
    }

    [SkippableFact]
    public void SingleKeyReturnsValueExactly()
    {
        // Lq = Lk = 1: the one softmax weight is 2^0 = 1 and l = 1, so O = V bit for bit.
        var random = new Random(42);
        var q = Numerics.Normal(random, 2 * 3 * 5, std: 10f);
        var k = Numerics.Normal(random, 2 * 3 * 5, std: 10f);
        var v = Numerics.Normal(random, 2 * 3 * 5);
        Assert.Equal(v, Run(q, k, v, 2, 3, 1, 1, 5));
    }

    [SkippableTheory]
    [InlineData(0)]  // the very negative tile comes first: m jumps up later and α = 0 wipes its weights
    [InlineData(2)]  // a middle tile
    [InlineData(4)]  // the last, partial tile (keys 32..36)
    public void KeyTileWithVeryNegativeScores(int tile)
    {
        const int batch = 1, heads = 2, lq = 11, lk = 37, d = 16;
        int blockK = default(TTile).BlockK;
        var random = new Random(42);
        var q = Numerics.Uniform(random, batch * heads * lq * d, 0.5f, 1f);  // positive queries ...
        var k = Numerics.Uniform(random, batch * heads * lk * d);
        var v = Numerics.Uniform(random, batch * heads * lk * d);
        int first = Math.Min(tile * blockK, lk - 1), last = Math.Min(first + blockK, lk);
        for (int h = 0; h < heads; h++)
            for (int j = first; j < last; j++)
                for (int c = 0; c < d; c++)
                    k[(h * lk + j) * d + c] = -1e4f * (0.5f + 0.5f * random.NextSingle());  // ... so these scores are ≈ −2e4: weight exactly 0
        var expected = TorchAttention(q, k, v, batch, heads, lq, lk, d);
        var actual = Run(q, k, v, batch, heads, lq, lk, d);
        Numerics.AssertClose(expected, actual, Fp32, $"very negative scores in key tile {tile} (keys {first}..{last - 1})", log);
    }

    [SkippableFact]
    public void AllScoresLarge()
    {
        // Every score is of order ±1e3: exp without the running max would overflow or underflow everywhere.
        const int batch = 2, heads = 1, lq = 13, lk = 29, d = 8;
        var random = new Random(42);
        var q = Numerics.Uniform(random, batch * heads * lq * d, -30f, 30f);
        var k = Numerics.Uniform(random, batch * heads * lk * d, -30f, 30f);
        var v = Numerics.Uniform(random, batch * heads * lk * d);
        var expected = TorchAttention(q, k, v, batch, heads, lq, lk, d);
        Numerics.AssertClose(expected, Run(q, k, v, batch, heads, lq, lk, d), LargeScores, "scores of order 1e3", log);
    }

    [SkippableFact]
    public void TokensMajorLayoutMatchesTorch()
    {
        // Q, K, V, O as [B, L, H·D] (a linear layer's output) addressed through strides, no transposes.
        const int batch = 2, heads = 3, lq = 19, lk = 10, d = 8;
        var random = new Random(42);
        var q = Numerics.Uniform(random, batch * lq * heads * d);
        var k = Numerics.Uniform(random, batch * lk * heads * d);
        var v = Numerics.Uniform(random, batch * lk * heads * d);

        float[] expected;
        using (NewDisposeScope())
        {
            Tensor Heads(float[] x, int l) => tensor(x, [batch, l, heads, d]).permute(0, 2, 1, 3);
            var o = nn.functional.scaled_dot_product_attention(Heads(q, lq), Heads(k, lk), Heads(v, lk));
            expected = o.permute(0, 2, 1, 3).contiguous().data<float>().ToArray();  // [B, Lq, H, D]
        }

        var accelerator = fixture.Require();
        var kernel = new AttentionIlgpu<TTile>(accelerator);
        using var dq = accelerator.Allocate1D(q);  // [B, Lq, H, D]
        using var dk = accelerator.Allocate1D(k);  // [B, Lk, H, D]
        using var dv = accelerator.Allocate1D(v);  // [B, Lk, H, D]
        using var dout = accelerator.Allocate1D<float>(q.Length);  // [B, Lq, H, D]
        var qs = AttentionStrides.TokensMajor(heads, lq, d);
        var kvs = AttentionStrides.TokensMajor(heads, lk, d);
        kernel.Launch(dq.View, dk.View, dv.View, dout.View, batch, heads, lq, lk, d, qs, kvs, kvs, qs);
        accelerator.Synchronize();
        Numerics.AssertClose(expected, dout.GetAsArray1D(), Fp32, "tokens-major [B, L, H, D]", log);
    }

    [SkippableTheory]
    [InlineData(2, 2, 13, 13, 8)]   // the text encoder's case: Lq = Lk, spans two key tiles of the small tile
    [InlineData(1, 3, 5, 21, 4)]    // Lk > Lq: rows see keys 0..i only, later key tiles are fully masked
    public void CausalMaskMatchesTorch(int batch, int heads, int lq, int lk, int d)
    {
        var random = new Random(42);
        var q = Numerics.Uniform(random, batch * heads * lq * d);
        var k = Numerics.Uniform(random, batch * heads * lk * d);
        var v = Numerics.Uniform(random, batch * heads * lk * d);
        float[] expected;
        using (NewDisposeScope())
        {
            var mask = ones(lq, lk, dtype: ScalarType.Bool).tril();   // top-left aligned, as is_causal for Lq = Lk
            expected = nn.functional.scaled_dot_product_attention(tensor(q, [batch, heads, lq, d]), tensor(k, [batch, heads, lk, d]),
                tensor(v, [batch, heads, lk, d]), attn_mask: mask).data<float>().ToArray();
        }
        var accelerator = fixture.Require();
        var kernel = new AttentionIlgpu<TTile>(accelerator);
        using var dq = accelerator.Allocate1D(q);  // [B, H, Lq, D]
        using var dk = accelerator.Allocate1D(k);  // [B, H, Lk, D]
        using var dv = accelerator.Allocate1D(v);  // [B, H, Lk, D]
        using var dout = accelerator.Allocate1D<float>(q.Length);
        var qs = AttentionStrides.HeadsMajor(heads, lq, d);
        var kvs = AttentionStrides.HeadsMajor(heads, lk, d);
        kernel.Launch(dq.View, dk.View, dv.View, dout.View, batch, heads, lq, lk, d, qs, kvs, kvs, qs, causal: true);
        accelerator.Synchronize();
        Numerics.AssertClose(expected, dout.GetAsArray1D(), Fp32, $"causal b{batch} h{heads} lq{lq} lk{lk} d{d}", log);

        var reference = new float[expected.Length];
        AttentionReference.Forward(q, k, v, reference, batch, heads, lq, lk, d, qs, kvs, kvs, qs, causal: true);
        Numerics.AssertClose(expected, reference, Fp32, "causal reference loop", log);
    }

    [SkippableFact]
    public void SelfAttentionAtGpuScale()
    {
        Skip.IfNot(RunsGpuScale, "GPU-scale shape runs on CUDA only (the CPU accelerator would need minutes)");
        const int batch = 2, heads = 4, l = 1024, d = 64;
        var random = new Random(42);
        var q = Numerics.Uniform(random, batch * heads * l * d);
        var k = Numerics.Uniform(random, batch * heads * l * d);
        var v = Numerics.Uniform(random, batch * heads * l * d);
        var expected = TorchAttention(q, k, v, batch, heads, l, l, d);
        Numerics.AssertClose(expected, Run(q, k, v, batch, heads, l, l, d), GpuScale, "b2 h4 L1024 D64", log);
    }

    private float[] Run(float[] q, float[] k, float[] v, int batch, int heads, int lq, int lk, int d)
    {
        var accelerator = fixture.Require();
        var kernel = new AttentionIlgpu<TTile>(accelerator);
        using var dq = accelerator.Allocate1D(q);  // [B, H, Lq, D]
        using var dk = accelerator.Allocate1D(k);  // [B, H, Lk, D]
        using var dv = accelerator.Allocate1D(v);  // [B, H, Lk, D]
        using var dout = accelerator.Allocate1D<float>(q.Length);  // [B, H, Lq, D]
        kernel.Launch(dq.View, dk.View, dv.View, dout.View, batch, heads, lq, lk, d);
        accelerator.Synchronize();
        return dout.GetAsArray1D();
    }

    private static float[] TorchAttention(float[] q, float[] k, float[] v, int batch, int heads, int lq, int lk, int d)
    {
        using var scope = NewDisposeScope();
        var o = nn.functional.scaled_dot_product_attention(tensor(q, [batch, heads, lq, d]), tensor(k, [batch, heads, lk, d]), tensor(v, [batch, heads, lk, d]));
        return o.data<float>().ToArray();
    }
}

/// <summary>The wide tile (D ≤ 512) on the CPU accelerator: the whole suite, plus the SD VAE's head of 512 channels.</summary>
[Collection(IlgpuCpuCollection.Name)]
public sealed class AttentionIlgpuWideTests(IlgpuCpuFixture fixture, ITestOutputHelper log) : AttentionIlgpuSuite<AttentionTileWide>(fixture, log)
{
    protected override bool RunsGpuScale => false;

    [SkippableFact]
    public void OneHeadOf512Channels() => MatchesTorch(1, 1, 37, 37, 512);
}

[Collection(IlgpuCpuCollection.Name)]
public sealed class AttentionIlgpuTests(IlgpuCpuFixture fixture, ITestOutputHelper log) : AttentionIlgpuSuite<AttentionTileSmall>(fixture, log)
{
    protected override bool RunsGpuScale => false;
}

[Collection(IlgpuCudaCollection.Name)]
public sealed class AttentionCudaTests(IlgpuCudaFixture fixture, ITestOutputHelper log) : AttentionIlgpuSuite<AttentionTileGpu>(fixture, log)
{
    protected override bool RunsGpuScale => true;
}
