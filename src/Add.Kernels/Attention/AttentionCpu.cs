using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Add.Kernels.Cpu;

/// <summary>
/// Fused scaled dot-product attention on the CPU, flash style (Dao et al. 2022, Alg. 1; online softmax of Milakov &amp;
/// Gimelshein 2018): <c>O = softmax(Q Kᵀ/√D [+ causal mask]) V</c> per batch b and head h; no dropout.
/// <para>Legend: B batch, H heads, Lq / Lk query / key rows, D head dim. Q [B, H, Lq, D], K and V [B, H, Lk, D],
/// O [B, H, Lq, D], each with any batch/head/row strides (<see cref="AttentionStrides"/>: HeadsMajor is torch's
/// [B, H, L, D], TokensMajor the [B, L, H·D] a projection writes). Causal: key j is visible to query i when j ≤ i
/// (torch's is_causal, top-left aligned), as in the CLIP text encoder.</para>
/// <para>Versions: reference <see cref="AttentionReference.Forward"/> (double, full score rows, the same causal mask); <see cref="Forward"/>: one task
/// per (b, h, tile of 32 or 64 query rows: 64 where that leaves two tasks per core), tasks claimed by the cores. Per key block of BK = 64 rows the task transposes K into a
/// [D, BK] stack tile so the scores of one query row against W keys are D broadcast-FMAs (W = 16 / 8 / 1 by path, four
/// vectors in flight), scaled by 1/√D, masked (padding, causal) to −∞; then the running max m, sum l and the
/// unnormalised output row (kept in O) are rescaled by e^(m − m') and P·V is added (four accumulators over keys per W
/// columns of D). Scores live in a BK-float stack buffer only; O = acc / l at the end. On the Vector512 path with D a
/// multiple of 16, query rows go four at a time (<see cref="FourRows"/>): their scores share each load of Kᵀ and their
/// P·V updates each load of V, which doubled the speed at the UNet's L = 64, D = 16. Long sequences (Lq·Lk·D ≥ 300,000,
/// Lk ≥ 64, D ≥ 32: SD-Turbo's 256-4,096 tokens and its 77-key cross-attention; causal: 2^21 and Lk ≥ 128) take the blocked path instead (<see cref="ForwardBlocked"/>: both
/// products on the GEMM micro-kernels).</para>
/// </summary>
public static unsafe partial class AttentionCpu
{
    private const int MaxBlockQ = 64, MinBlockQ = 32, BlockK = 64, MaxHeadDim = 512;
    private const long MinFlopsPerThread = 1 << 17;

    /// <summary>O = softmax(Q Kᵀ/√D) V for contiguous [B, H, L, D] tensors.</summary>
    public static void Forward(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, Span<float> o,
        int batch, int heads, int queryLength, int keyLength, int headDim, bool causal = false, SimdPath path = SimdPath.Auto)
    {
        var qs = AttentionStrides.HeadsMajor(heads, queryLength, headDim);
        var kvs = AttentionStrides.HeadsMajor(heads, keyLength, headDim);
        Forward(q, k, v, o, batch, heads, queryLength, keyLength, headDim, qs, kvs, kvs, qs, causal, path);
    }

    /// <summary>O = softmax(Q Kᵀ/√D) V for [B, H, L, D] tensors with the given strides.</summary>
    /// <param name="q">[B, H, Lq, D] with strides <paramref name="qs"/></param>
    /// <param name="k">[B, H, Lk, D] with strides <paramref name="ks"/></param>
    /// <param name="v">[B, H, Lk, D] with strides <paramref name="vs"/></param>
    /// <param name="o">[B, H, Lq, D] with strides <paramref name="os"/>; may not overlap q, k or v</param>
    /// <param name="workspace">empty, or at least <see cref="WorkspaceFloats"/> floats, contents ignored: the blocked path's
    /// packed K, V (else rented from the shared array pool per call, which keeps the array afterwards)</param>
    public static void Forward(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, Span<float> o,
        int batch, int heads, int queryLength, int keyLength, int headDim,
        AttentionStrides qs, AttentionStrides ks, AttentionStrides vs, AttentionStrides os, bool causal = false, SimdPath path = SimdPath.Auto,
        Span<float> workspace = default)
    {
        if (!AttentionReference.Check(q.Length, k.Length, v.Length, o.Length, batch, heads, queryLength, keyLength, headDim, qs, ks, vs, os, MaxHeadDim, ""))
            return;
        path = CpuSimd.Resolve(path);
        if (UseBlocked(queryLength, keyLength, headDim, causal))
        {
            long need = WorkspaceFloats(batch, heads, queryLength, keyLength, headDim, path, causal);
            if (!workspace.IsEmpty && workspace.Length < need)
                throw new ArgumentException($"workspace has {workspace.Length} floats, attention [{batch}, {heads}, {keyLength}, {headDim}] needs {need} (AttentionCpu.WorkspaceFloats)", nameof(workspace));
            fixed (float* pq = q, pk = k, pv = v, po = o, pw = workspace)
                ForwardBlocked(pq, pk, pv, po, new AttentionShape(batch, heads, queryLength, keyLength, headDim, 0, qs, ks, vs, os), causal, path, pw);
            return;
        }
        // Query tiles as large as leaves two tasks per core: each task transposes its K blocks once, so larger tiles
        // transpose less, but a head of 64 rows cut in 64-row tiles is a single task.
        int blockQ = MaxBlockQ;
        while (blockQ > MinBlockQ && (long)batch * heads * ((queryLength + blockQ - 1) / blockQ) < 2 * CpuSimd.Threads)
            blockQ /= 2;
        var shape = new AttentionShape(batch, heads, queryLength, keyLength, headDim, (queryLength + blockQ - 1) / blockQ, qs, ks, vs, os);
        int tasks = batch * heads * shape.QueryTiles;
        int workers = CpuSimd.Workers(tasks, 4L * Math.Min(blockQ, queryLength) * keyLength * headDim, MinFlopsPerThread);
        fixed (float* pq = q, pk = k, pv = v, po = o)
        {
            if (workers == 1)
            {
                for (int task = 0; task < tasks; task++)
                    Tile(task, blockQ, pq, pk, pv, po, shape, causal, path);
                return;
            }
            nint aq = (nint)pq, ak = (nint)pk, av = (nint)pv, ao = (nint)po;
            CpuWorkers.For(tasks, task => Tile(task, blockQ, (float*)aq, (float*)ak, (float*)av, (float*)ao, shape, causal, path));
        }
    }

    /// <summary>One (b, h, query tile): online softmax over key blocks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    [SkipLocalsInit]
    private static void Tile(int task, int blockQ, float* q, float* k, float* v, float* o, AttentionShape s, bool causal, SimdPath path)
    {
        int d = s.HeadDim;
        int width = path switch { SimdPath.Vector512 => 16, SimdPath.Vector256 => 8, _ => 1 };
        int bh = task / s.QueryTiles, b = bh / s.Heads, h = bh % s.Heads;
        int row0 = (task % s.QueryTiles) * blockQ, rows = Math.Min(blockQ, s.QueryLength - row0);
        float scale = 1f / MathF.Sqrt(d);
        float* kt = stackalloc float[d * BlockK];   // [D, BK]: K block transposed
        float* scores = stackalloc float[BlockK];   // [BK]
        float* scores4 = stackalloc float[4 * BlockK];  // [4, BK]: four query rows at once (Vector512, D a multiple of 16)
        float* m = stackalloc float[MaxBlockQ];     // running max per query row
        float* l = stackalloc float[MaxBlockQ];     // running sum per query row
        for (int i = 0; i < rows; i++)
        {
            m[i] = float.NegativeInfinity;
            l[i] = 0f;
            new Span<float>(o + s.O.Offset(b, h, row0 + i), d).Clear();
        }
        int keyEnd = causal ? Math.Min(s.KeyLength, row0 + rows) : s.KeyLength;  // no row of the tile sees keys past its last row
        for (int key0 = 0; key0 < keyEnd; key0 += BlockK)
        {
            int keys = Math.Min(BlockK, keyEnd - key0);
            int padded = (keys + width - 1) / width * width;
            for (int j = 0; j < keys; j++)
            {
                float* kr = k + s.K.Offset(b, h, key0 + j);
                for (int c = 0; c < d; c++)
                    kt[c * BlockK + j] = kr[c];
            }
            for (int j = keys; j < padded; j++)
                for (int c = 0; c < d; c++)
                    kt[c * BlockK + j] = 0f;

            int i = 0;
            if (path == SimdPath.Vector512 && d % 16 == 0)
                for (; i + 4 <= rows; i += 4)
                    FourRows(q, v, o, s, b, h, row0 + i, key0, keys, padded, causal, kt, scores4, m + i, l + i, scale);
            for (; i < rows; i++)
            {
                int row = row0 + i;
                int visible = causal ? Math.Min(keys, row - key0 + 1) : keys;  // keys 0..visible−1 of this block
                if (visible <= 0)
                    continue;
                float* qr = q + s.Q.Offset(b, h, row);
                Scores(qr, kt, scores, d, padded, scale, path);
                float mNew = MathF.Max(m[i], Max(scores, visible, path));
                float alpha = MathF.Exp(m[i] - mNew);  // 0 on the first block (m = −∞)
                float sum = Exponentiate(scores, visible, mNew, path);
                l[i] = alpha * l[i] + sum;
                m[i] = mNew;
                float* orow = o + s.O.Offset(b, h, row);
                AccumulateValues(orow, scores, visible, alpha, v + s.V.Offset(b, h, key0), s.V.Row, d, path);
            }
        }
        for (int i = 0; i < rows; i++)
        {
            float* orow = o + s.O.Offset(b, h, row0 + i);
            GroupNormCpu.ScaleShift(orow, d, 1f / l[i], 0f, false, path);
        }
    }

    /// <summary>max_{j &lt; count} scores[j].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Max(float* scores, int count, SimdPath path)
    {
        int j = 0;
        float max = float.NegativeInfinity;
        if (path == SimdPath.Vector512 && count >= 16)
        {
            var acc = Vector512.Load(scores);
            for (j = 16; j <= count - 16; j += 16)
                acc = Vector512.Max(acc, Vector512.Load(scores + j));
            max = MaxOf(Vector256.Max(acc.GetLower(), acc.GetUpper()));
        }
        else if (path != SimdPath.Scalar && count >= 8)
        {
            var acc = Vector256.Load(scores);
            for (j = 8; j <= count - 8; j += 8)
                acc = Vector256.Max(acc, Vector256.Load(scores + j));
            max = MaxOf(acc);
        }
        for (; j < count; j++)
            max = MathF.Max(max, scores[j]);
        return max;
    }

    private static float MaxOf(Vector256<float> v)
    {
        var m = Vector128.Max(v.GetLower(), v.GetUpper());
        return MathF.Max(MathF.Max(m[0], m[1]), MathF.Max(m[2], m[3]));
    }

    /// <summary>scores[j] = scale·Σ_c q[c]·kt[c·BK + j] for j &lt; padded (a multiple of the path's width).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Scores(float* q, float* kt, float* scores, int d, int padded, float scale, SimdPath path)
    {
        int j = 0;
        if (path == SimdPath.Vector512)
        {
            for (; j + 64 <= padded; j += 64)
            {
                Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
                for (int c = 0; c < d; c++)
                {
                    var x = Vector512.Create(q[c]);
                    float* kp = kt + c * BlockK + j;
                    a0 = Vector512.FusedMultiplyAdd(x, Vector512.Load(kp), a0);
                    a1 = Vector512.FusedMultiplyAdd(x, Vector512.Load(kp + 16), a1);
                    a2 = Vector512.FusedMultiplyAdd(x, Vector512.Load(kp + 32), a2);
                    a3 = Vector512.FusedMultiplyAdd(x, Vector512.Load(kp + 48), a3);
                }
                (a0 * scale).Store(scores + j);
                (a1 * scale).Store(scores + j + 16);
                (a2 * scale).Store(scores + j + 32);
                (a3 * scale).Store(scores + j + 48);
            }
            for (; j + 16 <= padded; j += 16)
            {
                Vector512<float> a0 = default;
                for (int c = 0; c < d; c++)
                    a0 = Vector512.FusedMultiplyAdd(Vector512.Create(q[c]), Vector512.Load(kt + c * BlockK + j), a0);
                (a0 * scale).Store(scores + j);
            }
        }
        if (path != SimdPath.Scalar)
        {
            for (; j + 32 <= padded; j += 32)
            {
                Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
                for (int c = 0; c < d; c++)
                {
                    var x = Vector256.Create(q[c]);
                    float* kp = kt + c * BlockK + j;
                    a0 = Vector256.FusedMultiplyAdd(x, Vector256.Load(kp), a0);
                    a1 = Vector256.FusedMultiplyAdd(x, Vector256.Load(kp + 8), a1);
                    a2 = Vector256.FusedMultiplyAdd(x, Vector256.Load(kp + 16), a2);
                    a3 = Vector256.FusedMultiplyAdd(x, Vector256.Load(kp + 24), a3);
                }
                (a0 * scale).Store(scores + j);
                (a1 * scale).Store(scores + j + 8);
                (a2 * scale).Store(scores + j + 16);
                (a3 * scale).Store(scores + j + 24);
            }
            for (; j + 8 <= padded; j += 8)
            {
                Vector256<float> a0 = default;
                for (int c = 0; c < d; c++)
                    a0 = Vector256.FusedMultiplyAdd(Vector256.Create(q[c]), Vector256.Load(kt + c * BlockK + j), a0);
                (a0 * scale).Store(scores + j);
            }
        }
        for (; j < padded; j++)
        {
            float dot = 0f;
            for (int c = 0; c < d; c++)
                dot = MathF.FusedMultiplyAdd(q[c], kt[c * BlockK + j], dot);
            scores[j] = dot * scale;
        }
    }

    /// <summary>scores[j] ← e^(scores[j] − max) for j &lt; count; returns their sum.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]     // called per row of 16-64 keys: its vector constants must be hoisted into the caller's loop
    private static float Exponentiate(float* scores, int count, float max, SimdPath path)
    {
        int j = 0;
        float sum = 0f;
        if (path == SimdPath.Vector512)
        {
            var mv = Vector512.Create(max);
            var acc = Vector512<float>.Zero;
            for (; j <= count - 16; j += 16)
            {
                var p = Activations.Exp(Vector512.Load(scores + j) - mv);
                p.Store(scores + j);
                acc += p;
            }
            sum += CpuSimd.Sum(acc);
        }
        if (path != SimdPath.Scalar)
        {
            var mv = Vector256.Create(max);
            var acc = Vector256<float>.Zero;
            for (; j <= count - 8; j += 8)
            {
                var p = Activations.Exp(Vector256.Load(scores + j) - mv);
                p.Store(scores + j);
                acc += p;
            }
            sum += CpuSimd.Sum(acc);
        }
        for (; j < count; j++)
        {
            float p = MathF.Exp(scores[j] - max);
            scores[j] = p;
            sum += p;
        }
        return sum;
    }

    /// <summary>o[c] ← α·o[c] + Σ_{j &lt; count} p[j]·V[j, c], V rows <paramref name="vRow"/> floats apart.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AccumulateValues(float* o, float* p, int count, float alpha, float* v, int vRow, int d, SimdPath path)
    {
        int c = 0;
        if (path == SimdPath.Vector512)
            for (; c <= d - 16; c += 16)
            {
                Vector512<float> a0 = Vector512.Load(o + c) * alpha, a1 = default, a2 = default, a3 = default;
                int j = 0;
                for (; j + 4 <= count; j += 4)
                {
                    float* vr = v + (long)j * vRow + c;
                    a0 = Vector512.FusedMultiplyAdd(Vector512.Create(p[j]), Vector512.Load(vr), a0);
                    a1 = Vector512.FusedMultiplyAdd(Vector512.Create(p[j + 1]), Vector512.Load(vr + vRow), a1);
                    a2 = Vector512.FusedMultiplyAdd(Vector512.Create(p[j + 2]), Vector512.Load(vr + 2 * vRow), a2);
                    a3 = Vector512.FusedMultiplyAdd(Vector512.Create(p[j + 3]), Vector512.Load(vr + 3 * vRow), a3);
                }
                for (; j < count; j++)
                    a0 = Vector512.FusedMultiplyAdd(Vector512.Create(p[j]), Vector512.Load(v + (long)j * vRow + c), a0);
                ((a0 + a1) + (a2 + a3)).Store(o + c);
            }
        if (path != SimdPath.Scalar)
            for (; c <= d - 8; c += 8)
            {
                Vector256<float> a0 = Vector256.Load(o + c) * alpha, a1 = default, a2 = default, a3 = default;
                int j = 0;
                for (; j + 4 <= count; j += 4)
                {
                    float* vr = v + (long)j * vRow + c;
                    a0 = Vector256.FusedMultiplyAdd(Vector256.Create(p[j]), Vector256.Load(vr), a0);
                    a1 = Vector256.FusedMultiplyAdd(Vector256.Create(p[j + 1]), Vector256.Load(vr + vRow), a1);
                    a2 = Vector256.FusedMultiplyAdd(Vector256.Create(p[j + 2]), Vector256.Load(vr + 2 * vRow), a2);
                    a3 = Vector256.FusedMultiplyAdd(Vector256.Create(p[j + 3]), Vector256.Load(vr + 3 * vRow), a3);
                }
                for (; j < count; j++)
                    a0 = Vector256.FusedMultiplyAdd(Vector256.Create(p[j]), Vector256.Load(v + (long)j * vRow + c), a0);
                ((a0 + a1) + (a2 + a3)).Store(o + c);
            }
        for (; c < d; c++)
        {
            float acc = o[c] * alpha;
            for (int j = 0; j < count; j++)
                acc = MathF.FusedMultiplyAdd(p[j], v[(long)j * vRow + c], acc);
            o[c] = acc;
        }
    }
}
