using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Add.Kernels.Cpu;

/// <summary>The three transforms of F(2×2, 3×3) (Lavin &amp; Gray 2016, §4.1's matrices):
/// <code>
/// G  = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1]          U = G g Gᵀ   (weight, 3×3 → 4×4)
/// Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1]   V = Bᵀ d B   (input patch, 4×4 → 4×4)
/// Aᵀ = [1 1 1 0; 0 1 −1 −1]                    Y = Aᵀ M A   (4×4 → output tile, 2×2)
/// </code>
/// each applied to rows, then to columns. The input and output ones run on 16 tiles of a row at once (Vector512 lanes,
/// the strided inputs split by a two-source permute), and on single tiles at block edges with the same expressions.</summary>
internal static unsafe partial class Conv2dWinograd
{
    /// <summary>U_ξ (co, ci) for every ξ, from the packed weight's panels (row co, k = ci·9 + ky·3 + kx), into a.U.</summary>
    private static void TransformWeights(float* panels, Args a)
    {
        int count = a.PaddedCo / 6, chunks = Math.Min(count, 4 * CpuSimd.Threads);
        nint w = (nint)panels;
        CpuWorkers.For(chunks, c =>
        {
            for (int p = count * c / chunks; p < count * (c + 1) / chunks; p++)
                WeightPanel((float*)w, p, a);
        });
    }

    /// <summary>U for the 6 rows of panel p (rows past Co are the packing's zeros, and give zeros).</summary>
    private static void WeightPanel(float* panels, int p, Args a)
    {
        var s = a.S;
        int k = s.ReductionLength, co = a.PaddedCo, ci = s.InChannels, kbU = GemmCpu.KBlock(ci), kbW = GemmCpu.KBlock(k);
        float** taps = stackalloc float*[9];
        for (int c = 0; c < ci; c++)
        {
            int pc = c / kbU * kbU, kc = Math.Min(kbU, ci - pc);
            float* u = a.U + (long)pc * co + (long)p * 6 * kc + (c - pc) * 6;
            for (int t = 0; t < 9; t++)
            {
                // tap t of input channel c: k = 9c + t, in the weight's K block pk (its kc may be short: the last block)
                int kk = c * 9 + t, pk = kk / kbW * kbW, kck = Math.Min(kbW, k - pk);
                taps[t] = panels + (long)pk * co + (long)p * 6 * kck + (kk - pk) * 6;
            }
            for (int i = 0; i < 6; i++)
            {
                float g0 = taps[0][i], g1 = taps[1][i], g2 = taps[2][i], g3 = taps[3][i], g4 = taps[4][i];
                float g5 = taps[5][i], g6 = taps[6][i], g7 = taps[7][i], g8 = taps[8][i];
                // rows: h = G g (4×3)
                float h10 = ((g0 + g3) + g6) * 0.5f, h11 = ((g1 + g4) + g7) * 0.5f, h12 = ((g2 + g5) + g8) * 0.5f;
                float h20 = ((g0 - g3) + g6) * 0.5f, h21 = ((g1 - g4) + g7) * 0.5f, h22 = ((g2 - g5) + g8) * 0.5f;
                // columns: U = h Gᵀ (4×4), U_ξ at ξ = 4r + c
                Put(u + i, a.USize, 0, g0, g1, g2);
                Put(u + i, a.USize, 4, h10, h11, h12);
                Put(u + i, a.USize, 8, h20, h21, h22);
                Put(u + i, a.USize, 12, g6, g7, g8);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put(float* u, long stride, int xi, float h0, float h1, float h2)
    {
        u[xi * stride] = h0;
        u[(xi + 1) * stride] = ((h0 + h1) + h2) * 0.5f;
        u[(xi + 2) * stride] = ((h0 - h1) + h2) * 0.5f;
        u[(xi + 3) * stride] = h2;
    }

    private static readonly Vector512<int> Even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    private static readonly Vector512<int> Odd = Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    private static readonly Vector512<int> InterleaveLow = Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    private static readonly Vector512<int> InterleaveHigh = Vector512.Create(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);

    /// <summary>V_ξ (ci, j) = (Bᵀ d B)_ξ of tile t0 + j for j &lt; count, zero for count ≤ j &lt; Tb; as B panels.</summary>
    private static void TransformInput(int n, int t0, int count, Args a, float* v, float* lines)
    {
        var s = a.S;
        int tw = a.TW, tb = a.Tb, stride = LineStride(tb), kb = GemmCpu.KBlock(s.InChannels);
        for (int t = t0; t < t0 + count;)
        {
            int ty = t / tw, tx0 = t - ty * tw, len = Math.Min(tw - tx0, t0 + count - t), j0 = t - t0;
            for (int c = 0; c < s.InChannels; c++)
            {
                Stage(n, c, ty, tx0, len, a, lines, stride);
                int pc = c / kb * kb, kc = Math.Min(kb, s.InChannels - pc);
                float* column = v + (long)pc * tb + (c - pc) * 64;     // + (j/64)·64·kc + j%64 for column j
                int u = 0;
                for (; u < len && (j0 + u) % 16 != 0; u++)
                    InputTile(lines, stride, u, column + Offset(j0 + u, kc), a.VSize);
                for (; u + 16 <= len; u += 16)
                    InputTiles16(lines, stride, u, column + Offset(j0 + u, kc), a.VSize);
                for (; u < len; u++)
                    InputTile(lines, stride, u, column + Offset(j0 + u, kc), a.VSize);
            }
            t += len;
        }
        for (int c = 0; c < s.InChannels; c++)
        {
            int pc = c / kb * kb, kc = Math.Min(kb, s.InChannels - pc);
            float* column = v + (long)pc * tb + (c - pc) * 64;
            for (int j = count; j < tb; j++)
                for (int xi = 0; xi < Xi; xi++)
                    column[Offset(j, kc) + xi * a.VSize] = 0f;
        }
    }

    /// <summary>Where column j of a B panel block sits: panel j/64 ([kc][64] each), lane j%64.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static long Offset(int j, int kc) => (long)(j >> 6) * 64 * kc + (j & 63);

    /// <summary>lines[r·stride + i] = x[n, c, 2ty − 1 + r, 2tx0 − 1 + i] for i &lt; 2·len + 2 (the inputs of tiles tx0 ..
    /// tx0+len−1 of tile row ty), zero outside the image.</summary>
    private static void Stage(int n, int c, int ty, int tx0, int len, Args a, float* lines, int stride)
    {
        var s = a.S;
        int width = 2 * len + 2, x0 = 2 * tx0 - 1;
        int from = Math.Max(0, -x0), to = Math.Min(width, s.Width - x0);     // inside the image: i in [from, to)
        float* channel = a.X + ((long)n * s.InChannels + c) * s.Height * s.Width;
        for (int r = 0; r < 4; r++)
            Conv2dDirect.StageLine(lines + r * stride, channel, 2 * ty - 1 + r, x0, from, to, width, s);
    }

    /// <summary>One tile's V (the staged inputs at 2u .. 2u+3 of the four lines) to dst + ξ·stride.</summary>
    private static void InputTile(float* lines, int lineStride, int u, float* dst, long stride)
    {
        float* l0 = lines + 2 * u, l1 = l0 + lineStride, l2 = l1 + lineStride, l3 = l2 + lineStride;
        // rows: e = Bᵀ d, for each column c
        float e00 = l0[0] - l2[0], e01 = l0[1] - l2[1], e02 = l0[2] - l2[2], e03 = l0[3] - l2[3];
        float e10 = l1[0] + l2[0], e11 = l1[1] + l2[1], e12 = l1[2] + l2[2], e13 = l1[3] + l2[3];
        float e20 = l2[0] - l1[0], e21 = l2[1] - l1[1], e22 = l2[2] - l1[2], e23 = l2[3] - l1[3];
        float e30 = l1[0] - l3[0], e31 = l1[1] - l3[1], e32 = l1[2] - l3[2], e33 = l1[3] - l3[3];
        InputRow(dst, stride, 0, e00, e01, e02, e03);
        InputRow(dst, stride, 1, e10, e11, e12, e13);
        InputRow(dst, stride, 2, e20, e21, e22, e23);
        InputRow(dst, stride, 3, e30, e31, e32, e33);
    }

    /// <summary>Columns: V[r][·] = e[r][·] B, to dst + (4r + c)·stride.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void InputRow(float* dst, long stride, int r, float e0, float e1, float e2, float e3)
    {
        dst += 4 * r * stride;
        dst[0] = e0 - e2;
        dst[stride] = e1 + e2;
        dst[2 * stride] = e2 - e1;
        dst[3 * stride] = e1 - e3;
    }

    /// <summary><see cref="InputTile"/> for tiles u .. u+15: the same expressions on vectors, lane l = tile u + l.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void InputTiles16(float* lines, int lineStride, int u, float* dst, long stride)
    {
        float* l0 = lines + 2 * u, l1 = l0 + lineStride, l2 = l1 + lineStride, l3 = l2 + lineStride;
        Split(l0, out var d00, out var d01, out var d02, out var d03);
        Split(l1, out var d10, out var d11, out var d12, out var d13);
        Split(l2, out var d20, out var d21, out var d22, out var d23);
        Split(l3, out var d30, out var d31, out var d32, out var d33);
        InputRow16(dst, stride, 0, d00 - d20, d01 - d21, d02 - d22, d03 - d23);
        InputRow16(dst, stride, 1, d10 + d20, d11 + d21, d12 + d22, d13 + d23);
        InputRow16(dst, stride, 2, d20 - d10, d21 - d11, d22 - d12, d23 - d13);
        InputRow16(dst, stride, 3, d10 - d30, d11 - d31, d12 - d32, d13 - d33);
    }

    /// <summary>The four inputs of 16 tiles along a staged line (tile l reads line[2l .. 2l+3]): even and odd floats of
    /// line[0 .. 32) and of line[2 .. 34).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Split(float* line, out Vector512<float> d0, out Vector512<float> d1, out Vector512<float> d2, out Vector512<float> d3)
    {
        var lo = Vector512.Load(line);
        var hi = Vector512.Load(line + 16);
        var lo2 = Vector512.Load(line + 2);
        var hi2 = Vector512.Load(line + 18);
        d0 = Avx512F.PermuteVar16x32x2(lo, Even, hi);
        d1 = Avx512F.PermuteVar16x32x2(lo, Odd, hi);
        d2 = Avx512F.PermuteVar16x32x2(lo2, Even, hi2);
        d3 = Avx512F.PermuteVar16x32x2(lo2, Odd, hi2);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void InputRow16(float* dst, long stride, int r, Vector512<float> e0, Vector512<float> e1, Vector512<float> e2, Vector512<float> e3)
    {
        dst += 4 * r * stride;
        (e0 - e2).Store(dst);
        (e1 + e2).Store(dst + stride);
        (e2 - e1).Store(dst + 2 * stride);
        (e1 - e3).Store(dst + 3 * stride);
    }

    /// <summary>y[n, co, 2ty + r, 2tx + c] = ReLU?((Aᵀ M A)[r][c] + b[co] (+ R)) for tiles t0 .. t0+count−1 (M_ξ [Co, Tb]
    /// at m + ξ·MSize), inside the image.</summary>
    private static void TransformOutput(int n, int t0, int count, Args a, float* m)
    {
        var s = a.S;
        int tw = a.TW, tb = a.Tb;
        long plane = (long)s.OutHeight * s.OutWidth;
        for (int t = t0; t < t0 + count;)
        {
            int ty = t / tw, tx0 = t - ty * tw, len = Math.Min(tw - tx0, t0 + count - t), j0 = t - t0;
            bool twoRows = 2 * ty + 1 < s.OutHeight;
            for (int co = 0; co < s.OutChannels; co++)
            {
                float* src = m + (long)co * tb + j0;
                long at = ((long)n * s.OutChannels + co) * plane + 2L * ty * s.OutWidth + 2 * tx0;
                float bias = a.Bias != null ? a.Bias[co] : 0f;
                int u = 0;
                if (twoRows)
                    for (; u + 16 <= len && 2 * (tx0 + u) + 32 <= s.OutWidth; u += 16)
                        OutputTiles16(src + u, a.MSize, at + 2 * u, bias, a);
                for (; u < len; u++)
                    OutputTile(src + u, a.MSize, at + 2 * u, 2 * ty, 2 * (tx0 + u), bias, a);
            }
            t += len;
        }
    }

    /// <summary>One tile: M_ξ at src + ξ·stride; outputs at y[at + r·Wo + c] where row oy + r and column ox + c are inside.</summary>
    private static void OutputTile(float* src, long stride, long at, int oy, int ox, float bias, Args a)
    {
        // rows: f = Aᵀ M (2×4)
        float m00 = src[0], m01 = src[stride], m02 = src[2 * stride], m03 = src[3 * stride];
        float m10 = src[4 * stride], m11 = src[5 * stride], m12 = src[6 * stride], m13 = src[7 * stride];
        float m20 = src[8 * stride], m21 = src[9 * stride], m22 = src[10 * stride], m23 = src[11 * stride];
        float m30 = src[12 * stride], m31 = src[13 * stride], m32 = src[14 * stride], m33 = src[15 * stride];
        float f00 = (m00 + m10) + m20, f01 = (m01 + m11) + m21, f02 = (m02 + m12) + m22, f03 = (m03 + m13) + m23;
        float f10 = (m10 - m20) - m30, f11 = (m11 - m21) - m31, f12 = (m12 - m22) - m32, f13 = (m13 - m23) - m33;
        // columns: Y = f A (2×2)
        int wo = a.S.OutWidth;
        bool right = ox + 1 < wo, below = oy + 1 < a.S.OutHeight;
        Output(at, (f00 + f01) + f02, bias, a);
        if (right)
            Output(at + 1, (f01 - f02) - f03, bias, a);
        if (below)
        {
            Output(at + wo, (f10 + f11) + f12, bias, a);
            if (right)
                Output(at + wo + 1, (f11 - f12) - f13, bias, a);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Output(long at, float v, float bias, Args a)
    {
        v += bias;
        if (a.Residual != null)
            v += a.Residual[at];
        a.Y[at] = a.Relu && !(v > 0f) ? 0f : v;
    }

    /// <summary><see cref="OutputTile"/> for 16 tiles whose 2×32 outputs are all inside: the same expressions on vectors,
    /// then each output row's two columns interleaved into 32 consecutive floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void OutputTiles16(float* src, long stride, long at, float bias, Args a)
    {
        var m00 = Vector512.Load(src); var m01 = Vector512.Load(src + stride);
        var m02 = Vector512.Load(src + 2 * stride); var m03 = Vector512.Load(src + 3 * stride);
        var m10 = Vector512.Load(src + 4 * stride); var m11 = Vector512.Load(src + 5 * stride);
        var m12 = Vector512.Load(src + 6 * stride); var m13 = Vector512.Load(src + 7 * stride);
        var m20 = Vector512.Load(src + 8 * stride); var m21 = Vector512.Load(src + 9 * stride);
        var m22 = Vector512.Load(src + 10 * stride); var m23 = Vector512.Load(src + 11 * stride);
        var m30 = Vector512.Load(src + 12 * stride); var m31 = Vector512.Load(src + 13 * stride);
        var m32 = Vector512.Load(src + 14 * stride); var m33 = Vector512.Load(src + 15 * stride);
        var f00 = (m00 + m10) + m20; var f01 = (m01 + m11) + m21; var f02 = (m02 + m12) + m22; var f03 = (m03 + m13) + m23;
        var f10 = (m10 - m20) - m30; var f11 = (m11 - m21) - m31; var f12 = (m12 - m22) - m32; var f13 = (m13 - m23) - m33;
        OutputRow16(at, (f00 + f01) + f02, (f01 - f02) - f03, bias, a);
        OutputRow16(at + a.S.OutWidth, (f10 + f11) + f12, (f11 - f12) - f13, bias, a);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void OutputRow16(long at, Vector512<float> left, Vector512<float> right, float bias, Args a)
    {
        var b = Vector512.Create(bias);
        var v0 = Avx512F.PermuteVar16x32x2(left, InterleaveLow, right) + b;
        var v1 = Avx512F.PermuteVar16x32x2(left, InterleaveHigh, right) + b;
        if (a.Residual != null)
        {
            v0 += Vector512.Load(a.Residual + at);
            v1 += Vector512.Load(a.Residual + at + 16);
        }
        if (a.Relu)
        {
            v0 = Vector512.ConditionalSelect(Vector512.GreaterThan(v0, Vector512<float>.Zero), v0, Vector512<float>.Zero);
            v1 = Vector512.ConditionalSelect(Vector512.GreaterThan(v1, Vector512<float>.Zero), v1, Vector512<float>.Zero);
        }
        v0.Store(a.Y + at);
        v1.Store(a.Y + at + 16);
    }
}
