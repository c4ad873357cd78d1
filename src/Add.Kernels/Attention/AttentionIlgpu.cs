using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace Add.Kernels.Ilgpu;

/// <summary>Compile-time tile sizes of <see cref="AttentionDevice.Kernel{TTile}"/>.</summary>
public interface IAttentionTile
{
    /// <summary>Query rows per group = threads per group (one thread per query row).</summary>
    int BlockQ { get; }

    /// <summary>Key/value rows staged in shared memory per step.</summary>
    int BlockK { get; }

    /// <summary>Largest head dim D the kernel accepts (sizes the per-thread arrays and the shared tiles).</summary>
    int MaxHeadDim { get; }
}

/// <summary>GPU tiles: 64 query rows per group, 32 keys per step, D ≤ 128. Shared memory 2·32·128·4 B = 32 KiB.</summary>
public readonly struct AttentionTileGpu : IAttentionTile
{
    public int BlockQ => 64;
    public int BlockK => 32;
    public int MaxHeadDim => 128;
}

/// <summary>
/// Tiles for heads wider than <see cref="AttentionTileGpu"/> takes: 32 query rows, 8 keys per step, D ≤ 512 (the SD VAE's
/// mid-block attention is one head of 512 channels). Shared memory 2·8·512·4 B = 32 KiB; the per-thread q and
/// accumulator rows (2·512 floats) live in local memory: correct at any D ≤ 512, not tuned.
/// </summary>
public readonly struct AttentionTileWide : IAttentionTile
{
    public int BlockQ => 32;
    public int BlockK => 8;
    public int MaxHeadDim => 512;
}

/// <summary>Small tiles for ILGPU's CPU accelerator in tests: 8 query rows, 8 keys per step, D ≤ 16.</summary>
public readonly struct AttentionTileSmall : IAttentionTile
{
    public int BlockQ => 8;
    public int BlockK => 8;
    public int MaxHeadDim => 16;
}

/// <summary>
/// Fused scaled dot-product attention, flash style (Dao et al. 2022, "FlashAttention", Alg. 1; online softmax of
/// Milakov &amp; Gimelshein 2018): <c>O = softmax(Q Kᵀ / √D) V</c>, per batch b and head h, optionally with a causal
/// mask (<see cref="AttentionShape.Causal"/>: key j visible to query i when j ≤ i), no dropout.
/// <para>
/// Legend: B batch, H heads, Lq query rows, Lk key rows, D head dim. Tensors are [B, H, L, D] with any
/// batch/head/row strides (<see cref="AttentionStrides"/>): Q [B, H, Lq, D], K [B, H, Lk, D], V [B, H, Lk, D],
/// O [B, H, Lq, D]. Self-attention has Lq = Lk (up to 4096 on a GPU); cross-attention a short Lk (e.g. 16 text tokens).
/// </para>
/// <para>
/// Versions:
/// <list type="bullet">
/// <item><see cref="AttentionReference.Forward"/>: plain loops; for each query row the full score row in double, max-subtracted softmax.</item>
/// <item><see cref="Kernel{TTile}"/> (v1): one group of BlockQ threads per (b, h, query tile); thread t owns query row t
/// of the tile, keeping q (pre-multiplied by log2(e)/√D), the output accumulator and BlockK scores in per-thread arrays.
/// K and V tiles of BlockK rows are staged in shared memory by the whole group; each thread computes its BlockK scores,
/// then updates the running max m and sum l (base 2): m' = max(m, max_j s_j), α = 2^(m − m'), l' = α·l + Σ_j 2^(s_j − m'),
/// acc' = α·acc + Σ_j 2^(s_j − m')·V_j. O = acc / l after the last tile. Scores never leave the thread; global memory
/// sees Q, K, V once per query tile and O once. Barriers: 2 per key tile. Query rows past Lq still load tiles and
/// meet barriers but compute nothing; key rows past Lk are never scored.</item>
/// </list>
/// </para>
/// </summary>
public static class AttentionDevice
{
    /// <summary>
    /// v1 kernel. Grid: B·H·⌈Lq/BlockQ⌉ groups, group index = (b·H + h)·⌈Lq/BlockQ⌉ + query tile; BlockQ threads each.
    /// </summary>
    /// <param name="q">[B, H, Lq, D]</param>
    /// <param name="k">[B, H, Lk, D]</param>
    /// <param name="v">[B, H, Lk, D]</param>
    /// <param name="o">[B, H, Lq, D]; may not alias q, k or v</param>
    public static void Kernel<TTile>(ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, ArrayView<float> o, AttentionShape shape)
        where TTile : struct, IAttentionTile
    {
        int blockQ = default(TTile).BlockQ;
        int blockK = default(TTile).BlockK;
        var kTile = SharedMemory.Allocate<float>(default(TTile).BlockK * default(TTile).MaxHeadDim); // [BlockK, D], row stride D
        var vTile = SharedMemory.Allocate<float>(default(TTile).BlockK * default(TTile).MaxHeadDim); // [BlockK, D], row stride D
        var qRow = LocalMemory.Allocate<float>(default(TTile).MaxHeadDim);  // [D] this thread's query, scaled
        var acc = LocalMemory.Allocate<float>(default(TTile).MaxHeadDim);   // [D] unnormalised output
        var s = LocalMemory.Allocate<float>(default(TTile).BlockK);         // [BlockK] this tile's base-2 scores

        int d = shape.HeadDim;
        int t = Group.IdxX;
        int bh = Grid.IdxX / shape.QueryTiles;
        int b = bh / shape.Heads, h = bh % shape.Heads;
        int row = (Grid.IdxX % shape.QueryTiles) * blockQ + t;
        bool active = row < shape.QueryLength;

        if (active)
        {
            long qOffset = shape.Q.Offset(b, h, row);
            for (int c = 0; c < d; c++)
            {
                qRow[c] = q[qOffset + c] * shape.ScaleLog2;
                acc[c] = 0f;
            }
        }
        float m = float.NegativeInfinity;  // running max of base-2 scores
        float l = 0f;                      // running sum of 2^(s − m)

        for (int key0 = 0; key0 < shape.KeyLength; key0 += blockK)
        {
            int keys = XMath.Min(blockK, shape.KeyLength - key0);
            // Stage K and V rows key0 .. key0+keys−1, all threads striding over keys·D elements.
            for (int e = t; e < keys * d; e += blockQ)
            {
                int j = e / d, c = e - j * d;
                kTile[e] = k[shape.K.Offset(b, h, key0 + j) + c];
                vTile[e] = v[shape.V.Offset(b, h, key0 + j) + c];
            }
            Group.Barrier();

            if (active)
            {
                float tileMax = float.NegativeInfinity;
                for (int j = 0; j < keys; j++)
                {
                    float dot = 0f;
                    int kRow = j * d;
                    for (int c = 0; c < d; c++)
                        dot += qRow[c] * kTile[kRow + c];
                    // Causal: a masked key scores −∞ (weight 0). Key 0 is never masked, so m is finite after the first
                    // tile and a fully masked later tile leaves m, l and acc unchanged (α = 1, every p = 0).
                    if (shape.Causal != 0 && key0 + j > row)
                        dot = float.NegativeInfinity;
                    s[j] = dot;
                    tileMax = XMath.Max(tileMax, dot);
                }
                float mNew = XMath.Max(m, tileMax);
                float alpha = XMath.Exp2(m - mNew);  // 0 on the first tile (m = −∞)
                float tileSum = 0f;
                for (int j = 0; j < keys; j++)
                {
                    float p = XMath.Exp2(s[j] - mNew);
                    s[j] = p;
                    tileSum += p;
                }
                l = alpha * l + tileSum;
                m = mNew;
                for (int c = 0; c < d; c++)
                {
                    float sum = 0f;
                    for (int j = 0; j < keys; j++)
                        sum += s[j] * vTile[j * d + c];
                    acc[c] = alpha * acc[c] + sum;
                }
            }
            Group.Barrier();  // the next tile overwrites kTile / vTile
        }

        if (active)
        {
            float inv = 1f / l;
            long oOffset = shape.O.Offset(b, h, row);
            for (int c = 0; c < d; c++)
                o[oOffset + c] = acc[c] * inv;
        }
    }
}

/// <summary>
/// Loads <see cref="AttentionDevice.Kernel{TTile}"/> once for an accelerator and launches it on caller-owned views.
/// The accelerator's context must be built with <c>EnableAlgorithms()</c> (XMath on GPUs).
/// </summary>
public sealed class AttentionIlgpu<TTile> where TTile : struct, IAttentionTile
{
    /// <summary>Shared memory ILGPU allows per group.</summary>
    public const int MaxSharedBytes = 48 * 1024;

    private readonly Accelerator _accelerator;
    private readonly Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AttentionShape> _kernel;

    public AttentionIlgpu(Accelerator accelerator)
    {
        var tile = default(TTile);
        int sharedBytes = 2 * tile.BlockK * tile.MaxHeadDim * sizeof(float);
        if (sharedBytes > MaxSharedBytes)
            throw new ArgumentException($"tile {typeof(TTile).Name} needs {sharedBytes} B of shared memory, more than {MaxSharedBytes}");
        if (tile.BlockQ > accelerator.MaxNumThreadsPerGroup)
            throw new ArgumentException($"BlockQ {tile.BlockQ} exceeds the accelerator's group limit {accelerator.MaxNumThreadsPerGroup}");
        _accelerator = accelerator;
        _kernel = accelerator.LoadKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AttentionShape>(AttentionDevice.Kernel<TTile>);
    }

    /// <summary>Enqueues O = softmax(Q Kᵀ/√D) V for contiguous [B, H, L, D] tensors.</summary>
    /// <param name="q">[B, H, Lq, D]</param>
    /// <param name="k">[B, H, Lk, D]</param>
    /// <param name="v">[B, H, Lk, D]</param>
    /// <param name="o">[B, H, Lq, D]</param>
    public void Launch(ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, ArrayView<float> o,
        int batch, int heads, int queryLength, int keyLength, int headDim, AcceleratorStream? stream = null)
    {
        var qs = AttentionStrides.HeadsMajor(heads, queryLength, headDim);
        var kvs = AttentionStrides.HeadsMajor(heads, keyLength, headDim);
        Launch(q, k, v, o, batch, heads, queryLength, keyLength, headDim, qs, kvs, kvs, qs, stream);
    }

    /// <summary>Enqueues O = softmax(Q Kᵀ/√D) V for [B, H, L, D] tensors with the given strides.</summary>
    /// <param name="q">[B, H, Lq, D] with strides <paramref name="qs"/></param>
    /// <param name="k">[B, H, Lk, D] with strides <paramref name="ks"/></param>
    /// <param name="v">[B, H, Lk, D] with strides <paramref name="vs"/></param>
    /// <param name="o">[B, H, Lq, D] with strides <paramref name="os"/></param>
    /// <param name="causal">mask keys j &gt; i (top-left aligned, as torch's is_causal)</param>
    public void Launch(ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, ArrayView<float> o,
        int batch, int heads, int queryLength, int keyLength, int headDim,
        AttentionStrides qs, AttentionStrides ks, AttentionStrides vs, AttentionStrides os, AcceleratorStream? stream = null, bool causal = false)
    {
        var tile = default(TTile);
        if (!AttentionReference.Check(q.Length, k.Length, v.Length, o.Length, batch, heads, queryLength, keyLength, headDim, qs, ks, vs, os,
                tile.MaxHeadDim, $" of tile {typeof(TTile).Name}"))
            return;
        int queryTiles = (queryLength + tile.BlockQ - 1) / tile.BlockQ;
        var shape = new AttentionShape(batch, heads, queryLength, keyLength, headDim, queryTiles, qs, ks, vs, os, causal);
        _kernel(stream ?? _accelerator.DefaultStream, new KernelConfig(batch * heads * queryTiles, tile.BlockQ), q, k, v, o, shape);
    }
}
