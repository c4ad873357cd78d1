using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Add.Kernels.Cpu;

/// <summary>The four-row 512-bit path of <see cref="AttentionCpu"/> (Vector512, D a multiple of 16).</summary>
public static unsafe partial class AttentionCpu
{
    /// <summary>
    /// Rows row0 .. row0+3 against one key block, register-blocked: the four rows' scores share every load of Kᵀ, and
    /// their P·V updates share every load of V (eight FMA chains in flight instead of one row's four). Per row as in
    /// <see cref="Tile"/>: max, e^(s − m'), rescale by e^(m − m'); a row that sees no key of the block (causal) keeps its state.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FourRows(float* q, float* v, float* o, AttentionShape s, int b, int h, int row0, int key0, int keys, int padded,
        bool causal, float* kt, float* p, float* m, float* l, float scale)
    {
        int d = s.HeadDim;
        float* q0 = q + s.Q.Offset(b, h, row0), q1 = q + s.Q.Offset(b, h, row0 + 1), q2 = q + s.Q.Offset(b, h, row0 + 2), q3 = q + s.Q.Offset(b, h, row0 + 3);
        for (int j = 0; j < padded; j += 16)
        {
            // Even and odd c in separate accumulators: eight FMA chains, enough to hide the FMA latency at D = 16.
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, b0 = default, b1 = default, b2 = default, b3 = default;
            float* kp = kt + j;
            for (int c = 0; c < d; c += 2, kp += 2 * BlockK)
            {
                var kv = Vector512.Load(kp);
                var kw = Vector512.Load(kp + BlockK);
                a0 = Vector512.FusedMultiplyAdd(Vector512.Create(q0[c]), kv, a0);
                a1 = Vector512.FusedMultiplyAdd(Vector512.Create(q1[c]), kv, a1);
                a2 = Vector512.FusedMultiplyAdd(Vector512.Create(q2[c]), kv, a2);
                a3 = Vector512.FusedMultiplyAdd(Vector512.Create(q3[c]), kv, a3);
                b0 = Vector512.FusedMultiplyAdd(Vector512.Create(q0[c + 1]), kw, b0);
                b1 = Vector512.FusedMultiplyAdd(Vector512.Create(q1[c + 1]), kw, b1);
                b2 = Vector512.FusedMultiplyAdd(Vector512.Create(q2[c + 1]), kw, b2);
                b3 = Vector512.FusedMultiplyAdd(Vector512.Create(q3[c + 1]), kw, b3);
            }
            ((a0 + b0) * scale).Store(p + j);
            ((a1 + b1) * scale).Store(p + BlockK + j);
            ((a2 + b2) * scale).Store(p + 2 * BlockK + j);
            ((a3 + b3) * scale).Store(p + 3 * BlockK + j);
        }
        float* alpha = stackalloc float[4];
        int count = 0;                       // keys any of the four rows sees
        for (int r = 0; r < 4; r++)
        {
            int visible = causal ? Math.Min(keys, row0 + r - key0 + 1) : keys;
            float* pr = p + r * BlockK;
            if (visible <= 0)
            {
                alpha[r] = 1f;
                new Span<float>(pr, keys).Clear();
                continue;
            }
            float mNew = MathF.Max(m[r], Max(pr, visible, SimdPath.Vector512));
            alpha[r] = MathF.Exp(m[r] - mNew);
            l[r] = alpha[r] * l[r] + Exponentiate(pr, visible, mNew, SimdPath.Vector512);
            m[r] = mNew;
            new Span<float>(pr + visible, keys - visible).Clear();
            count = Math.Max(count, visible);
        }
        float* o0 = o + s.O.Offset(b, h, row0), o1 = o + s.O.Offset(b, h, row0 + 1), o2 = o + s.O.Offset(b, h, row0 + 2), o3 = o + s.O.Offset(b, h, row0 + 3);
        float* vb = v + s.V.Offset(b, h, key0);
        int vRow = s.V.Row;
        for (int c = 0; c < d; c += 16)
        {
            var a0 = Vector512.Load(o0 + c) * alpha[0];
            var a1 = Vector512.Load(o1 + c) * alpha[1];
            var a2 = Vector512.Load(o2 + c) * alpha[2];
            var a3 = Vector512.Load(o3 + c) * alpha[3];
            Vector512<float> b0 = default, b1 = default, b2 = default, b3 = default;
            int j = 0;
            for (; j + 2 <= count; j += 2)
            {
                float* vr = vb + (long)j * vRow + c;
                var v0 = Vector512.Load(vr);
                var v1 = Vector512.Load(vr + vRow);
                a0 = Vector512.FusedMultiplyAdd(Vector512.Create(p[j]), v0, a0);
                a1 = Vector512.FusedMultiplyAdd(Vector512.Create(p[BlockK + j]), v0, a1);
                a2 = Vector512.FusedMultiplyAdd(Vector512.Create(p[2 * BlockK + j]), v0, a2);
                a3 = Vector512.FusedMultiplyAdd(Vector512.Create(p[3 * BlockK + j]), v0, a3);
                b0 = Vector512.FusedMultiplyAdd(Vector512.Create(p[j + 1]), v1, b0);
                b1 = Vector512.FusedMultiplyAdd(Vector512.Create(p[BlockK + j + 1]), v1, b1);
                b2 = Vector512.FusedMultiplyAdd(Vector512.Create(p[2 * BlockK + j + 1]), v1, b2);
                b3 = Vector512.FusedMultiplyAdd(Vector512.Create(p[3 * BlockK + j + 1]), v1, b3);
            }
            if (j < count)
            {
                var v0 = Vector512.Load(vb + (long)j * vRow + c);
                a0 = Vector512.FusedMultiplyAdd(Vector512.Create(p[j]), v0, a0);
                a1 = Vector512.FusedMultiplyAdd(Vector512.Create(p[BlockK + j]), v0, a1);
                a2 = Vector512.FusedMultiplyAdd(Vector512.Create(p[2 * BlockK + j]), v0, a2);
                a3 = Vector512.FusedMultiplyAdd(Vector512.Create(p[3 * BlockK + j]), v0, a3);
            }
            (a0 + b0).Store(o0 + c);
            (a1 + b1).Store(o1 + c);
            (a2 + b2).Store(o2 + c);
            (a3 + b3).Store(o3 + c);
        }
    }
}
