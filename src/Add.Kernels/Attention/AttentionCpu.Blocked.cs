using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Add.Kernels.Cpu;

/// <summary>
/// The blocked path of <see cref="AttentionCpu"/> for long sequences (SD-Turbo's 1,024-4,096 tokens): the same online
/// softmax (Dao et al. 2022, Alg. 1; Milakov &amp; Gimelshein 2018), but both products are GEMMs on the
/// <see cref="GemmCpu"/> micro-kernels, one core per task, and the tile is kept transposed so the softmax runs down
/// columns with whole vectors of query rows and no horizontal reductions.
/// <para>Once per call K and V are packed, block by block, into the A panels of the two GEMMs (one copy of each, O(L·D)).
/// Per (b, h, tile of BQ query rows), Qᵀ is packed once into B panels; per key block of BK = KC rows:
/// <c>Sᵀ = K_blk · Q_tileᵀ</c> [BK, BQ], computed one NR-wide panel of query rows at a time straight into the B-panel
/// layout of the second GEMM ([BQ/NR][BK][NR]); per query column i: m' = max(m, max_j Sᵀ[j, i]/√D), α = e^(m − m'),
/// P = e^(Sᵀ/√D − m') (causal: 0 where key &gt; query), l = α·l + Σ_j P; <c>accᵀ = α ⊙ accᵀ + V_blkᵀ · Pᵀ</c> [D, BQ]
/// (the GEMM's residual epilogue adds to accᵀ in place); at the end O[i, :] = accᵀ[:, i] / l[i]. Nothing is packed
/// per key block: both GEMMs read their panels in place. Memory per core: Qᵀ BQ·D, Pᵀ BK·BQ, accᵀ D·BQ. Never an L×L matrix.</para>
/// </summary>
public static unsafe partial class AttentionCpu
{
    private const int BlockedMaxQ = 128, BlockedMinQ = 32;     // BQ: a multiple of every NR (never below NR: see ForwardBlocked)
    private const int BlockedK = 256;                           // BK: one K block of the P·V GEMM (≤ GemmCpu.KcMax), so Pᵀ and V are read in place
    private const int BlockedMinHeadDim = 32;
    // Lq·Lk·D from which the GEMMs pay for their packing. The UNet's cross-attention (77 keys) at 64², 32², 16², 8² ran
    // 1.0-2.1× faster blocked than per row (1.24-1.41× libtorch's time per row, 0.87-1.0× blocked); its
    // 8² self-attention (64·64·64) ties either way and stays per row with the emoji model's shapes.
    private const long BlockedMinWork = 300_000;

    [ThreadStatic]
    private static float[]? t_blocked;   // one core's workspace, grown on demand, pinned

    /// <summary>Whether a shape takes the blocked path: enough work, at least a quarter key block, and head dims that fill
    /// the GEMM's register tiles. The emoji model's shapes (D ≤ 16) stay on the per-row path.
    /// Causal attention keeps the older bar (Lk ≥ 128, Lq·Lk·D ≥ 2^21): the text encoder's 77 causal tokens ran 2.3×
    /// libtorch's time blocked (half of each score tile is masked) against 0.8-0.9× per row.</summary>
    public static bool UseBlocked(int queryLength, int keyLength, int headDim, bool causal = false) =>
        headDim >= BlockedMinHeadDim && (causal
            ? keyLength >= BlockedK / 2 && (long)queryLength * keyLength * headDim >= CausalBlockedMinWork
            : keyLength >= BlockedK / 4 && (long)queryLength * keyLength * headDim >= BlockedMinWork);

    private const long CausalBlockedMinWork = 1L << 21;

    /// <summary>Floats of the packed K, V copy <see cref="ForwardBlocked"/> needs (0 for the per-row path): per (b, h) and key
    /// block of BK rows, K as [D blocks of KC][BK/MR panels][kc][MR], then V as [D/MR panels][BK][MR].</summary>
    public static long WorkspaceFloats(int batch, int heads, int queryLength, int keyLength, int headDim, SimdPath path = SimdPath.Auto, bool causal = false)
    {
        if (!UseBlocked(queryLength, keyLength, headDim, causal))
            return 0;
        var (_, blockFloats) = PackedBlock(headDim, CpuSimd.Resolve(path));
        return (long)batch * heads * ((keyLength + BlockedK - 1) / BlockedK) * blockFloats;
    }

    private static (long KFloats, long BlockFloats) PackedBlock(int d, SimdPath path)
    {
        int mr = GemmCpu.Tile(path).Mr;
        long kFloats = (long)RoundUp(BlockedK, mr) * d;
        return (kFloats, kFloats + (long)RoundUp(d, mr) * BlockedK);
    }

    /// <summary>The blocked path; <paramref name="workspace"/> holds <see cref="WorkspaceFloats"/>, or is null (then the
    /// packed copy is rented from the shared array pool for the call).</summary>
    private static void ForwardBlocked(float* q, float* k, float* v, float* o, AttentionShape s, bool causal, SimdPath path, float* workspace)
    {
        int d = s.HeadDim, mr = GemmCpu.Tile(path).Mr;
        int nr = GemmCpu.Tile(path).Nr, blockQ = RoundUp(BlockedMaxQ, nr);
        while (blockQ > Math.Max(BlockedMinQ, nr) && (long)s.Batch * s.Heads * ((s.QueryLength + blockQ - 1) / blockQ) < 3 * CpuSimd.Threads)
            blockQ = RoundUp(blockQ / 2, nr);
        int queryTiles = (s.QueryLength + blockQ - 1) / blockQ, keyBlocks = (s.KeyLength + BlockedK - 1) / BlockedK;
        var (kFloats, blockFloats) = PackedBlock(d, path);
        long headFloats = keyBlocks * blockFloats, packedFloats = s.Batch * s.Heads * headFloats;
        float[]? rented = null;
        if (workspace == null)
        {
            if (packedFloats > Array.MaxLength)
                throw new ArgumentException($"attention K, V of [{s.Batch}, {s.Heads}, {s.KeyLength}, {d}] are too large for one packed copy");
            rented = ArrayPool<float>.Shared.Rent((int)packedFloats);
        }
        try
        {
            fixed (float* pooled = rented)
            {
                float* kvp = workspace != null ? workspace : pooled;
                nint ak = (nint)k, av = (nint)v, akv = (nint)kvp;
                CpuWorkers.For(s.Batch * s.Heads * keyBlocks, t =>
                {
                    int bh = t / keyBlocks, b = bh / s.Heads, h = bh % s.Heads, key0 = t % keyBlocks * BlockedK;
                    int keys = Math.Min(BlockedK, s.KeyLength - key0);
                    float* dst = (float*)akv + bh * headFloats + key0 / BlockedK * blockFloats;
                    var kRows = new StridedPanels((float*)ak + s.K.Offset(b, h, key0), 1, s.K.Row);     // A of K·Qᵀ: keys × D
                    for (int pc = 0, kb = GemmCpu.KBlock(d); pc < d; pc += kb)
                        kRows.Panels(dst + (long)pc * RoundUp(keys, mr), pc, Math.Min(kb, d - pc), 0, keys, mr);
                    var vColumns = new StridedPanels((float*)av + s.V.Offset(b, h, key0), s.V.Row, 1);  // A of Vᵀ·Pᵀ: D × keys
                    vColumns.Panels(dst + kFloats, 0, keys, 0, d, mr);
                });
                nint aq = (nint)q, ao = (nint)o;
                CpuWorkers.For(s.Batch * s.Heads * queryTiles, task =>
                {
                    int bh = task / queryTiles, row0 = task % queryTiles * blockQ;
                    var tile = new BlockedTile(bh / s.Heads, bh % s.Heads, row0, Math.Min(blockQ, s.QueryLength - row0), blockQ);
                    TileBlocked(tile, (float*)aq, (float*)akv + bh * headFloats, kFloats, blockFloats, (float*)ao, s, causal, path);
                });
            }
        }
        finally
        {
            if (rented is not null)
                ArrayPool<float>.Shared.Return(rented);
        }
    }

    private readonly record struct BlockedTile(int B, int H, int Row0, int Rows, int Ld);

    private static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;

    /// <summary>Panels packed ahead of time, starting <paramref name="first"/> indices in: K block k0 at k0·padded, then
    /// index start at (first + start)·kc (one NR panel of Qᵀ as the whole B of a GEMM).</summary>
    private readonly struct PanelsFrom(float* panels, int padded, int first) : IPanelSource
    {
        public bool Prepacked => true;

        public float* InPlace(int k0, int start, out int stride) { stride = 0; return null; }

        public float* Runs(int k0, int kc, int start, int count, out long runStride, out int lines, out int runs) { runStride = 0; lines = runs = 0; return null; }

        public bool Halves(int k0, int kc, int* offsets) => false;

        public float* HalfAt(int start) => null;

        public float* Panels(float* scratch, int k0, int kc, int start, int count, int width) =>
            panels + (long)k0 * padded + (long)(first + start) * kc;
    }

    /// <summary>One (b, h, query tile) over all its key blocks; <paramref name="kv"/> holds this head's packed K, V blocks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TileBlocked(BlockedTile t, float* q, float* kv, long kFloats, long blockFloats, float* o, AttentionShape s, bool causal, SimdPath path)
    {
        int d = s.HeadDim, ld = t.Ld, rows = t.Rows;
        var (mr, nr) = GemmCpu.Tile(path);
        int paddedQ = RoundUp(rows, nr), panels = paddedQ / nr;
        long need = (long)ld * d + (long)BlockedK * ld + (long)d * ld + 3L * ld;
        if (t_blocked is null || t_blocked.Length < need)
            t_blocked = GC.AllocateArray<float>((int)need, pinned: true);    // zeroed: Pᵀ columns past the rows stay finite
        fixed (float* w = t_blocked)
        {
            float* qT = w;                          // Qᵀ as B panels: [D blocks of KBlock(D)][paddedQ/NR panels][kc][NR]
            float* pT = qT + (long)ld * d;          // Sᵀ, then Pᵀ, as B panels: [paddedQ/NR][keys][NR]
            float* accT = pT + (long)BlockedK * ld; // [D, ld]: unnormalised Oᵀ
            float* m = accT + (long)d * ld, l = m + ld, alpha = l + ld;   // [ld] each: running max (scaled), sum, rescale
            var qSource = new StridedPanels(q + s.Q.Offset(t.B, t.H, t.Row0), 1, s.Q.Row);
            for (int pc = 0, kb = GemmCpu.KBlock(d); pc < d; pc += kb)
                qSource.Panels(qT + (long)pc * paddedQ, pc, Math.Min(kb, d - pc), 0, rows, nr);
            for (int i = 0; i < ld; i++)
            {
                m[i] = float.NegativeInfinity;
                l[i] = 0f;
            }
            new Span<float>(accT, d * ld).Clear();
            float scale = 1f / MathF.Sqrt(d);
            int keyEnd = causal ? Math.Min(s.KeyLength, t.Row0 + rows) : s.KeyLength;  // no row of the tile sees keys past its last row
            for (int key0 = 0; key0 < keyEnd; key0 += BlockedK)
            {
                // The whole packed block, also where causal masks its last keys for every row: V's panels are [keys][MR].
                int keys = Math.Min(BlockedK, s.KeyLength - key0);
                float* block = kv + key0 / BlockedK * blockFloats;
                var kSource = new PrepackedPanels(block, RoundUp(keys, mr));
                for (int p = 0; p < panels; p++)
                    GemmCpu.RunSingle(keys, Math.Min(nr, rows - p * nr), d, kSource, new PanelsFrom(qT, paddedQ, p * nr),
                        pT + (long)p * keys * nr, nr, default, null, path);
                // Keys past a query row (causal) only in the block that crosses the tile's diagonal.
                bool diagonal = causal && key0 + keys - 1 > t.Row0;
                if (diagonal)
                    MaskCausal(pT, nr, keys, rows, key0 - t.Row0, float.NegativeInfinity);
                for (int p = 0; p < panels; p++)
                    SoftmaxPanel(pT + (long)p * keys * nr, nr, keys, scale, m + p * nr, l + p * nr, alpha + p * nr, path);
                if (diagonal)
                    MaskCausal(pT, nr, keys, rows, key0 - t.Row0, 0f);   // e^(−∞) is clamped to ~1e-38, not 0
                for (int c = 0; c < d; c++)
                    ScaleColumns(accT + (long)c * ld, alpha, rows, path);
                GemmCpu.RunSingle(d, rows, keys, new PrepackedPanels(block + kFloats, 0), new PanelsFrom(pT, 0, 0), accT, ld,
                    new GemmEpilogue(null, false, accT, ld), null, path);
            }
            for (int i = 0; i < rows; i++)
                alpha[i] = 1f / l[i];
            for (int i = 0; i < rows; i++)
            {
                float* orow = o + s.O.Offset(t.B, t.H, t.Row0 + i);
                float inv = alpha[i];
                for (int c = 0; c < d; c++)
                    orow[c] = accT[(long)c * ld + i] * inv;
            }
        }
    }

    /// <summary>Pᵀ[j, i] ← value where key key0 + j lies past query row row0 + i, i.e. i &lt; j + offset (offset = key0 − row0);
    /// Pᵀ in B panels [rows/NR][keys][NR].</summary>
    private static void MaskCausal(float* pT, int nr, int keys, int rows, int offset, float value)
    {
        for (int j = 0; j < keys; j++)
        {
            int masked = Math.Min(rows, Math.Max(0, j + offset));   // query rows row0 .. key0 + j − 1 do not see key key0 + j
            for (int i = 0; i < masked; i++)
                pT[(long)i / nr * keys * nr + (long)j * nr + i % nr] = value;
        }
    }

    /// <summary>x[i] ← x[i]·α[i] for i &lt; count.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ScaleColumns(float* x, float* alpha, int count, SimdPath path)
    {
        int i = 0;
        if (path == SimdPath.Vector512)
            for (; i <= count - 16; i += 16)
                (Vector512.Load(x + i) * Vector512.Load(alpha + i)).Store(x + i);
        if (path != SimdPath.Scalar)
            for (; i <= count - 8; i += 8)
                (Vector256.Load(x + i) * Vector256.Load(alpha + i)).Store(x + i);
        for (; i < count; i++)
            x[i] *= alpha[i];
    }

    /// <summary>
    /// Online softmax down the NR columns of one panel of Sᵀ [keys][NR] (column i = one query row):
    /// m' = max(m, scale·max_j Sᵀ[j, i]), α = e^(m − m'), Sᵀ[j, i] ← e^(scale·Sᵀ[j, i] − m'), l ← α·l + Σ_j; m ← m'.
    /// Every real column has a finite m' (key 0 is in the first block and visible to every row), so no e^(−∞ + ∞);
    /// columns past the tile's rows hold finite leftovers and are never read back.
    /// </summary>
    private static void SoftmaxPanel(float* panel, int nr, int keys, float scale, float* m, float* l, float* alpha, SimdPath path)
    {
        int group = path == SimdPath.Vector512 && nr % 32 == 0 ? 32 : path != SimdPath.Scalar && nr % 16 == 0 ? 16 : 1;
        for (int c = 0; c < nr; c += group)
            SoftmaxColumns(panel + c, nr, group, keys, scale, m + c, l + c, alpha + c);
    }

    /// <summary><see cref="SoftmaxPanel"/> for columns 0 .. width−1 of a panel whose rows are <paramref name="nr"/> floats apart
    /// (width 32: two Vector512 per key; 16: two Vector256; 1: scalar).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SoftmaxColumns(float* panel, int nr, int width, int keys, float scale, float* m, float* l, float* alpha)
    {
        if (width == 32)
        {
            // Two vectors per key, keys two at a time: four max chains, four sum chains.
            var a0 = Vector512.Load(panel);
            var a1 = Vector512.Load(panel + 16);
            var b0 = a0;
            var b1 = a1;
            int j = 1;
            for (; j + 2 <= keys; j += 2)
            {
                float* x = panel + (long)j * nr;
                a0 = Vector512.Max(a0, Vector512.Load(x));
                a1 = Vector512.Max(a1, Vector512.Load(x + 16));
                b0 = Vector512.Max(b0, Vector512.Load(x + nr));
                b1 = Vector512.Max(b1, Vector512.Load(x + nr + 16));
            }
            if (j < keys)
            {
                a0 = Vector512.Max(a0, Vector512.Load(panel + (long)j * nr));
                a1 = Vector512.Max(a1, Vector512.Load(panel + (long)j * nr + 16));
            }
            var sc = Vector512.Create(scale);
            var mOld0 = Vector512.Load(m);
            var mOld1 = Vector512.Load(m + 16);
            var mNew0 = Vector512.Max(mOld0, Vector512.Max(a0, b0) * sc);
            var mNew1 = Vector512.Max(mOld1, Vector512.Max(a1, b1) * sc);
            Vector512<float> s0 = default, s1 = default, t0 = default, t1 = default;
            j = 0;
            for (; j + 2 <= keys; j += 2)
            {
                float* x = panel + (long)j * nr;
                var p0 = Activations.Exp(Vector512.FusedMultiplyAdd(Vector512.Load(x), sc, -mNew0));
                var p1 = Activations.Exp(Vector512.FusedMultiplyAdd(Vector512.Load(x + 16), sc, -mNew1));
                var p2 = Activations.Exp(Vector512.FusedMultiplyAdd(Vector512.Load(x + nr), sc, -mNew0));
                var p3 = Activations.Exp(Vector512.FusedMultiplyAdd(Vector512.Load(x + nr + 16), sc, -mNew1));
                p0.Store(x);
                p1.Store(x + 16);
                p2.Store(x + nr);
                p3.Store(x + nr + 16);
                s0 += p0;
                s1 += p1;
                t0 += p2;
                t1 += p3;
            }
            if (j < keys)
            {
                float* x = panel + (long)j * nr;
                var p0 = Activations.Exp(Vector512.FusedMultiplyAdd(Vector512.Load(x), sc, -mNew0));
                var p1 = Activations.Exp(Vector512.FusedMultiplyAdd(Vector512.Load(x + 16), sc, -mNew1));
                p0.Store(x);
                p1.Store(x + 16);
                s0 += p0;
                s1 += p1;
            }
            var al0 = Activations.Exp(mOld0 - mNew0);   // 0 on the first block (m = −∞: clamped to ~1e-38, times l = 0)
            var al1 = Activations.Exp(mOld1 - mNew1);
            al0.Store(alpha);
            al1.Store(alpha + 16);
            Vector512.FusedMultiplyAdd(Vector512.Load(l), al0, s0 + t0).Store(l);
            Vector512.FusedMultiplyAdd(Vector512.Load(l + 16), al1, s1 + t1).Store(l + 16);
            mNew0.Store(m);
            mNew1.Store(m + 16);
            return;
        }
        if (width == 16)
        {
            var a0 = Vector256.Load(panel);
            var a1 = Vector256.Load(panel + 8);
            for (int j = 1; j < keys; j++)
            {
                a0 = Vector256.Max(a0, Vector256.Load(panel + (long)j * nr));
                a1 = Vector256.Max(a1, Vector256.Load(panel + (long)j * nr + 8));
            }
            var sc = Vector256.Create(scale);
            var mOld0 = Vector256.Load(m);
            var mOld1 = Vector256.Load(m + 8);
            var mNew0 = Vector256.Max(mOld0, a0 * sc);
            var mNew1 = Vector256.Max(mOld1, a1 * sc);
            Vector256<float> s0 = default, s1 = default;
            for (int j = 0; j < keys; j++)
            {
                float* x = panel + (long)j * nr;
                var p0 = Activations.Exp(Vector256.FusedMultiplyAdd(Vector256.Load(x), sc, -mNew0));
                var p1 = Activations.Exp(Vector256.FusedMultiplyAdd(Vector256.Load(x + 8), sc, -mNew1));
                p0.Store(x);
                p1.Store(x + 8);
                s0 += p0;
                s1 += p1;
            }
            var al0 = Activations.Exp(mOld0 - mNew0);
            var al1 = Activations.Exp(mOld1 - mNew1);
            al0.Store(alpha);
            al1.Store(alpha + 8);
            Vector256.FusedMultiplyAdd(Vector256.Load(l), al0, s0).Store(l);
            Vector256.FusedMultiplyAdd(Vector256.Load(l + 8), al1, s1).Store(l + 8);
            mNew0.Store(m);
            mNew1.Store(m + 8);
            return;
        }
        {
            float max = float.NegativeInfinity;
            for (int j = 0; j < keys; j++)
                max = MathF.Max(max, panel[(long)j * nr]);
            float mNew = MathF.Max(m[0], max * scale), sum = 0f;
            for (int j = 0; j < keys; j++)
            {
                float* x = panel + (long)j * nr;
                float p = MathF.Exp(MathF.FusedMultiplyAdd(*x, scale, -mNew));
                *x = p;
                sum += p;
            }
            alpha[0] = MathF.Exp(m[0] - mNew);
            l[0] = alpha[0] * l[0] + sum;
            m[0] = mNew;
        }
    }
}
