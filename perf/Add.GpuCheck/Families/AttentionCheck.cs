using Add.Kernels;
using Add.Kernels.Ilgpu;
using ILGPU.Runtime;

namespace Add.GpuCheck.Families;

/// <summary>Fused attention O = softmax(Q Kᵀ/√D) V, contiguous [B, H, L, D] tensors (no mask).</summary>
public static class AttentionCheck
{
    public const string Kernel = "attention";

    /// <summary>
    /// Seeded Q, K, V ~ U(−1, 1); O from <see cref="AttentionReference.Forward"/>, one (b, h) slice per parallel task (the
    /// large case is ~1 G multiply-adds in double).
    /// </summary>
    public static CheckCase Make(string name, string where, int seed, int batch, int heads, int queryLength, int keyLength, int headDim)
    {
        var random = new Random(Seeded.For(seed, name));
        long qCount = (long)batch * heads * queryLength * headDim, kCount = (long)batch * heads * keyLength * headDim;
        var q = Seeded.Uniform(random, qCount);
        var k = Seeded.Uniform(random, kCount);
        var v = Seeded.Uniform(random, kCount);
        var o = new float[qCount];
        int qSlice = queryLength * headDim, kSlice = keyLength * headDim;
        var qs = AttentionStrides.HeadsMajor(1, queryLength, headDim);
        var ks = AttentionStrides.HeadsMajor(1, keyLength, headDim);
        Parallel.For(0, batch * heads, bh =>
            AttentionReference.Forward(q.AsSpan(bh * qSlice, qSlice), k.AsSpan(bh * kSlice, kSlice), v.AsSpan(bh * kSlice, kSlice),
                o.AsSpan(bh * qSlice, qSlice), 1, 1, queryLength, keyLength, headDim, qs, ks, ks, qs));
        return CheckCase.Create(name, Kernel, where,
            $"Q {CheckCase.Dims(batch, heads, queryLength, headDim)}, K/V {CheckCase.Dims(batch, heads, keyLength, headDim)}",
            new() { ["B"] = batch, ["H"] = heads, ["Lq"] = queryLength, ["Lk"] = keyLength, ["D"] = headDim },
            [CheckCase.T("q", q, batch, heads, queryLength, headDim), CheckCase.T("k", k, batch, heads, keyLength, headDim),
             CheckCase.T("v", v, batch, heads, keyLength, headDim)],
            [CheckCase.T("o", o, batch, heads, queryLength, headDim)],
            Tolerances.Attention, flops: 4.0 * batch * heads * queryLength * keyLength * headDim, metric: "flops");
    }

    public static Action<AcceleratorStream> Bind(CheckCase c, DeviceTensors t, IKernelSet k)
    {
        int b = c.IntParam("B"), h = c.IntParam("H"), lq = c.IntParam("Lq"), lk = c.IntParam("Lk"), d = c.IntParam("D");
        var (q, key, v, o) = (t["q"], t["k"], t["v"], t["o"]);
        return s => k.Attention(s, q, key, v, o, b, h, lq, lk, d);
    }
}
