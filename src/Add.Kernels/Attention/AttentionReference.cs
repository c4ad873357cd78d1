namespace Add.Kernels;

/// <summary>Element strides of one [B, H, L, D] tensor (D is always contiguous).</summary>
public readonly struct AttentionStrides
{
    public readonly int Batch;  // elements between b and b+1
    public readonly int Head;   // elements between h and h+1
    public readonly int Row;    // elements between l and l+1

    public AttentionStrides(int batch, int head, int row)
    {
        Batch = batch;
        Head = head;
        Row = row;
    }

    /// <summary>Contiguous [B, H, L, D], the layout torch's scaled_dot_product_attention takes.</summary>
    public static AttentionStrides HeadsMajor(int heads, int length, int headDim) => new(heads * length * headDim, length * headDim, headDim);

    /// <summary>Contiguous [B, L, H, D] = [B, L, H·D], what a linear projection of tokens writes; no transpose needed.</summary>
    public static AttentionStrides TokensMajor(int heads, int length, int headDim) => new(length * heads * headDim, headDim, heads * headDim);

    internal long Offset(int b, int h, int l) => (long)b * Batch + (long)h * Head + (long)l * Row;

    /// <summary>Throws unless buffer <paramref name="name"/> of <paramref name="length"/> elements holds [B, H, rows, D] at these strides.</summary>
    public void CheckExtent(string name, long length, int batch, int heads, int rows, int headDim)
    {
        long last = Offset(batch - 1, heads - 1, rows - 1) + headDim;  // one past the last element addressed
        if (last > length)
            throw new ArgumentException($"{name} has {length} elements but [{batch}, {heads}, {rows}, {headDim}] with strides ({Batch}, {Head}, {Row}, 1) reaches {last}");
    }
}

/// <summary>Shape, strides and scale of one attention launch, passed by value to the kernels (CPU tasks, ILGPU groups).</summary>
public readonly struct AttentionShape
{
    public readonly int Batch, Heads, QueryLength, KeyLength, HeadDim;  // B, H, Lq, Lk, D
    public readonly int QueryTiles;                                     // ⌈Lq / BlockQ⌉
    public readonly float ScaleLog2;                                    // log2(e) / √D: scores in base 2
    public readonly AttentionStrides Q, K, V, O;
    public readonly int Causal;                                         // 1: key j is masked for query row i when j > i

    public AttentionShape(int batch, int heads, int queryLength, int keyLength, int headDim, int queryTiles,
        AttentionStrides q, AttentionStrides k, AttentionStrides v, AttentionStrides o, bool causal = false)
    {
        Causal = causal ? 1 : 0;
        Batch = batch;
        Heads = heads;
        QueryLength = queryLength;
        KeyLength = keyLength;
        HeadDim = headDim;
        QueryTiles = queryTiles;
        ScaleLog2 = (float)(1.0 / Math.Sqrt(headDim) / Math.Log(2.0));
        Q = q;
        K = k;
        V = v;
        O = o;
    }
}

/// <summary>
/// Fused scaled dot-product attention, flash style (Dao et al. 2022, "FlashAttention", Alg. 1; online softmax of
/// Milakov &amp; Gimelshein 2018): <c>O = softmax(Q Kᵀ / √D) V</c>, per batch b and head h, optionally with a causal
/// mask (key j visible to query i when j ≤ i, torch's is_causal, top-left aligned), no dropout.
/// <para>
/// Legend: B batch, H heads, Lq query rows, Lk key rows, D head dim. Tensors are [B, H, L, D] with any
/// batch/head/row strides (<see cref="AttentionStrides"/>): Q [B, H, Lq, D], K [B, H, Lk, D], V [B, H, Lk, D],
/// O [B, H, Lq, D]. Self-attention has Lq = Lk (up to 4096 on a GPU); cross-attention a short Lk (e.g. 16 text tokens).
/// </para>
/// <para>
/// Versions: <see cref="Forward"/> here, the slow clear one: plain loops; for each query row the full score row in
/// double, max-subtracted softmax. Beside it <see cref="Cpu.AttentionCpu"/> (SIMD) and <see cref="Ilgpu.AttentionDevice"/>
/// (ILGPU), each documenting what it changes.
/// </para>
/// </summary>
public static class AttentionReference
{
    /// <summary>
    /// The argument checks every version runs: head dim in 1..<paramref name="maxHeadDim"/> (the version's limit, named by
    /// <paramref name="version"/>), at least one key, and each view long enough for its strides. False when there is
    /// nothing to compute (a zero batch, head or query count).
    /// </summary>
    public static bool Check(long qLength, long kLength, long vLength, long oLength, int batch, int heads, int queryLength, int keyLength,
        int headDim, AttentionStrides qs, AttentionStrides ks, AttentionStrides vs, AttentionStrides os, int maxHeadDim, string version)
    {
        if (headDim < 1 || headDim > maxHeadDim)
            throw new ArgumentException($"head dim {headDim} outside 1..{maxHeadDim}{version}");
        if (keyLength < 1)
            throw new ArgumentException($"key length {keyLength}: attention needs at least one key");
        if (batch == 0 || heads == 0 || queryLength == 0)
            return false;
        qs.CheckExtent("q", qLength, batch, heads, queryLength, headDim);
        ks.CheckExtent("k", kLength, batch, heads, keyLength, headDim);
        vs.CheckExtent("v", vLength, batch, heads, keyLength, headDim);
        os.CheckExtent("o", oLength, batch, heads, queryLength, headDim);
        return true;
    }

    /// <summary>The slow clear version: softmax(q·kᵀ/√D) per query row, in double; <paramref name="causal"/> masks keys j &gt; i
    /// (torch's is_causal, top-left aligned; the CLIP text encoder needs it).</summary>
    /// <param name="q">[B, H, Lq, D] with strides <paramref name="qs"/></param>
    /// <param name="k">[B, H, Lk, D] with strides <paramref name="ks"/></param>
    /// <param name="v">[B, H, Lk, D] with strides <paramref name="vs"/></param>
    /// <param name="o">[B, H, Lq, D] with strides <paramref name="os"/></param>
    public static void Forward(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, Span<float> o,
        int batch, int heads, int queryLength, int keyLength, int headDim,
        AttentionStrides qs, AttentionStrides ks, AttentionStrides vs, AttentionStrides os, bool causal = false)
    {
        double scale = 1.0 / Math.Sqrt(headDim);
        var scores = new double[keyLength];
        for (int b = 0; b < batch; b++)
        for (int h = 0; h < heads; h++)
        for (int i = 0; i < queryLength; i++)
        {
            long qi = qs.Offset(b, h, i);
            double max = double.NegativeInfinity;
            for (int j = 0; j < keyLength; j++)
            {
                long kj = ks.Offset(b, h, j);
                double dot = 0;
                for (int d = 0; d < headDim; d++)
                    dot += (double)q[(int)(qi + d)] * k[(int)(kj + d)];
                scores[j] = causal && j > i ? double.NegativeInfinity : dot * scale;
                max = Math.Max(max, scores[j]);
            }
            double sum = 0;
            for (int j = 0; j < keyLength; j++)
            {
                scores[j] = Math.Exp(scores[j] - max);
                sum += scores[j];
            }
            long oi = os.Offset(b, h, i);
            for (int d = 0; d < headDim; d++)
            {
                double acc = 0;
                for (int j = 0; j < keyLength; j++)
                    acc += scores[j] * v[(int)(vs.Offset(b, h, j) + d)];
                o[(int)(oi + d)] = (float)(acc / sum);
            }
        }
    }
}
