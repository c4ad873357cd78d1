using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Add.Kernels.Cpu;

/// <summary>The register tiles of <see cref="GemmCpu"/>, one per <see cref="SimdPath"/>, and their stores (the epilogue).</summary>
public static unsafe partial class GemmCpu
{
    /// <summary>
    /// One MR×NR tile: C[i, j] (=, or += when not <paramref name="first"/>) Σ_k a[k·MR + i]·b[k·NR + j]; when first,
    /// plus the epilogue's bias and residual at global row i0 + i, column j0 + j. <paramref name="prefetch"/>, when not null:
    /// kc lines from there are asked into L2, one per k (Vector512 only; see Tiles). <paramref name="aRow"/> &gt; 0
    /// (Vector512 only): A is not a packed panel but MR rows read in place, a[i·aRow + k].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]     // a call level less per tile: perf put ~4 % of a 1×1 conv's samples in it
    private static void MicroKernel(SimdPath path, int kc, float* a, float* b, float* c, int ldc, bool first, bool last, int i0, int j0, GemmEpilogue e,
        float* prefetch, int aRow = 0, int* bOffsets = null, float* bHigh = null)
    {
        // ReLU only on the last K block's store.
        var relu = last && e.Relu;
        switch (path)
        {
            case SimdPath.Vector512:
                // A packed panel is a[k·6 + i]; rows in place are a[i·aRow + k].
                int row = aRow > 0 ? aRow : 1, step = aRow > 0 ? 1 : 6;
                if (bHigh != null) Kernel6x64<NotPrefetching, InPlace>(kc, a, row, step, b, c, ldc, first, relu, i0, j0, e, null, bOffsets, bHigh);
                else if (prefetch != null) Kernel6x64<Prefetching, NotInPlace>(kc, a, row, step, b, c, ldc, first, relu, i0, j0, e, prefetch, null, null);
                else Kernel6x64<NotPrefetching, NotInPlace>(kc, a, row, step, b, c, ldc, first, relu, i0, j0, e, null, null, null);
                break;
            case SimdPath.Vector256: Kernel6x16(kc, a, b, c, ldc, first, relu, i0, j0, e); break;
            default: Kernel4x4(kc, a, b, c, ldc, first, relu, i0, j0, e); break;
        }
    }

    /// <summary>A compile-time switch: the JIT compiles a generic method once per value-type argument, dropping the dead branch.</summary>
    private interface IFlag { static abstract bool On { get; } }
    private readonly struct Prefetching : IFlag { public static bool On => true; }
    private readonly struct NotPrefetching : IFlag { public static bool On => false; }
    private readonly struct InPlace : IFlag { public static bool On => true; }

    /// <summary>B in place: the k whose lines the kernel asks for into L1 while it computes k (IPanelSource.Halves' offsets
    /// are repeated this far past kc).</summary>
    internal const int InPlaceAhead = 12;
    private readonly struct NotInPlace : IFlag { public static bool On => false; }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store512(float* c, Vector512<float> v, bool first, bool relu, int i, int j, GemmEpilogue e)
    {
        if (!first)
            v += Vector512.Load(c);
        else
        {
            if (e.Bias != null)
                v += e.BiasPerRow ? Vector512.Create(e.Bias[i]) : Vector512.Load(e.Bias + j);
            if (e.Residual != null)
                v += Vector512.Load(e.Residual + (long)i * e.ResidualStride + j);
        }
        if (relu)
            v = Vector512.ConditionalSelect(Vector512.GreaterThan(v, Vector512<float>.Zero), v, Vector512<float>.Zero);     // NaN → 0, as the scalar store
        v.Store(c);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store256(float* c, Vector256<float> v, bool first, bool relu, int i, int j, GemmEpilogue e)
    {
        if (!first)
            v += Vector256.Load(c);
        else
        {
            if (e.Bias != null)
                v += e.BiasPerRow ? Vector256.Create(e.Bias[i]) : Vector256.Load(e.Bias + j);
            if (e.Residual != null)
                v += Vector256.Load(e.Residual + (long)i * e.ResidualStride + j);
        }
        if (relu)
            v = Vector256.ConditionalSelect(Vector256.GreaterThan(v, Vector256<float>.Zero), v, Vector256<float>.Zero);
        v.Store(c);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel6x64<TPrefetch, TInPlace>(int kc, float* a, int aRow, int aStep, float* b, float* c, int ldc, bool first, bool relu, int i0, int j0,
        GemmEpilogue e, float* prefetch, int* bOffsets, float* bHigh) where TPrefetch : struct, IFlag where TInPlace : struct, IFlag
    {
        // B's value (k, j) at b[64k + j] (a packed panel), or, TInPlace, read where it lies in two halves (IPanelSource.Halves):
        // b[bOffsets[k] + j] for j < 32, bHigh[bOffsets[k] + j − 32] for the rest.
        // A's value (i, k) at a[i·aRow] after k steps of aStep: a packed panel (1, 6) or rows read in place (row stride, 1).
        // In place saves the linear order its per-call packing of the tokens, ~10 % of a 4096×320·320×320 linear's
        // samples on an AMD EPYC (perf, 2026-12-04), where the kernel itself runs at 96-99 % of the FMA peak (gemmlab).
        // Rows 3-5 from a second base, so the six rows take four registers (a, a3, r1, r2), not six: with r3-r5 the JIT
        // reloaded three offsets from the stack on every k.
        nint r1 = aRow, r2 = 2 * r1;
        float* a3 = a + 3 * r1;
        Vector512<float> c00 = default, c01 = default, c02 = default, c03 = default;
        Vector512<float> c10 = default, c11 = default, c12 = default, c13 = default;
        Vector512<float> c20 = default, c21 = default, c22 = default, c23 = default;
        Vector512<float> c30 = default, c31 = default, c32 = default, c33 = default;
        Vector512<float> c40 = default, c41 = default, c42 = default, c43 = default;
        Vector512<float> c50 = default, c51 = default, c52 = default, c53 = default;
        // C's tile is read (or its residual) only after the K loop: ask for its 24 lines now, so that they arrive during
        // the loop's ~3,000 cycles instead of stalling the stores (C rows live in L3 between K blocks). Asking for the
        // residual's lines too measured 0-5 % slower (perf/logs/gemm-rows-2026-12-04), though perf puts ~10 % of this
        // kernel's samples of a linear with a residual right after its loads.
        for (int i = 0; i < 6 && Sse.IsSupported; i++)
        {
            float* row = c + (long)i * ldc;
            Sse.Prefetch0(row); Sse.Prefetch0(row + 16); Sse.Prefetch0(row + 32); Sse.Prefetch0(row + 48);
        }
        for (int p = 0; p < kc; p++)
        {
            if (TPrefetch.On)
            {
                Sse.Prefetch1(prefetch);        // one line of the next B panel into L2 per k (see Tiles)
                prefetch += 16;
            }
            Vector512<float> b0, b1, b2, b3;
            if (TInPlace.On)
            {
                // A half's first and last lines (an unaligned half spans three: asking for the middle one too measured
                // 2-13 % slower on the 64² downsample, one thread: perf/logs/strided-conv-2026-12-04).
                nint o = bOffsets[p], ahead = bOffsets[p + InPlaceAhead];
                Sse.Prefetch0(b + ahead); Sse.Prefetch0(b + ahead + 31);
                Sse.Prefetch0(bHigh + ahead); Sse.Prefetch0(bHigh + ahead + 31);
                b0 = Vector512.Load(b + o);
                b1 = Vector512.Load(b + o + 16);
                b2 = Vector512.Load(bHigh + o);
                b3 = Vector512.Load(bHigh + o + 16);
            }
            else
            {
                b0 = Vector512.Load(b);
                b1 = Vector512.Load(b + 16);
                b2 = Vector512.Load(b + 32);
                b3 = Vector512.Load(b + 48);
            }
            var x = Vector512.Create(a[0]);
            c00 = Vector512.FusedMultiplyAdd(x, b0, c00); c01 = Vector512.FusedMultiplyAdd(x, b1, c01);
            c02 = Vector512.FusedMultiplyAdd(x, b2, c02); c03 = Vector512.FusedMultiplyAdd(x, b3, c03);
            x = Vector512.Create(a[r1]);
            c10 = Vector512.FusedMultiplyAdd(x, b0, c10); c11 = Vector512.FusedMultiplyAdd(x, b1, c11);
            c12 = Vector512.FusedMultiplyAdd(x, b2, c12); c13 = Vector512.FusedMultiplyAdd(x, b3, c13);
            x = Vector512.Create(a[r2]);
            c20 = Vector512.FusedMultiplyAdd(x, b0, c20); c21 = Vector512.FusedMultiplyAdd(x, b1, c21);
            c22 = Vector512.FusedMultiplyAdd(x, b2, c22); c23 = Vector512.FusedMultiplyAdd(x, b3, c23);
            x = Vector512.Create(a3[0]);
            c30 = Vector512.FusedMultiplyAdd(x, b0, c30); c31 = Vector512.FusedMultiplyAdd(x, b1, c31);
            c32 = Vector512.FusedMultiplyAdd(x, b2, c32); c33 = Vector512.FusedMultiplyAdd(x, b3, c33);
            x = Vector512.Create(a3[r1]);
            c40 = Vector512.FusedMultiplyAdd(x, b0, c40); c41 = Vector512.FusedMultiplyAdd(x, b1, c41);
            c42 = Vector512.FusedMultiplyAdd(x, b2, c42); c43 = Vector512.FusedMultiplyAdd(x, b3, c43);
            x = Vector512.Create(a3[r2]);
            c50 = Vector512.FusedMultiplyAdd(x, b0, c50); c51 = Vector512.FusedMultiplyAdd(x, b1, c51);
            c52 = Vector512.FusedMultiplyAdd(x, b2, c52); c53 = Vector512.FusedMultiplyAdd(x, b3, c53);
            a += aStep;
            a3 += aStep;
            if (!TInPlace.On)
                b += 64;
        }
        Store512(c, c00, first, relu, i0, j0, e); Store512(c + 16, c01, first, relu, i0, j0 + 16, e);
        Store512(c + 32, c02, first, relu, i0, j0 + 32, e); Store512(c + 48, c03, first, relu, i0, j0 + 48, e); c += ldc;
        Store512(c, c10, first, relu, i0 + 1, j0, e); Store512(c + 16, c11, first, relu, i0 + 1, j0 + 16, e);
        Store512(c + 32, c12, first, relu, i0 + 1, j0 + 32, e); Store512(c + 48, c13, first, relu, i0 + 1, j0 + 48, e); c += ldc;
        Store512(c, c20, first, relu, i0 + 2, j0, e); Store512(c + 16, c21, first, relu, i0 + 2, j0 + 16, e);
        Store512(c + 32, c22, first, relu, i0 + 2, j0 + 32, e); Store512(c + 48, c23, first, relu, i0 + 2, j0 + 48, e); c += ldc;
        Store512(c, c30, first, relu, i0 + 3, j0, e); Store512(c + 16, c31, first, relu, i0 + 3, j0 + 16, e);
        Store512(c + 32, c32, first, relu, i0 + 3, j0 + 32, e); Store512(c + 48, c33, first, relu, i0 + 3, j0 + 48, e); c += ldc;
        Store512(c, c40, first, relu, i0 + 4, j0, e); Store512(c + 16, c41, first, relu, i0 + 4, j0 + 16, e);
        Store512(c + 32, c42, first, relu, i0 + 4, j0 + 32, e); Store512(c + 48, c43, first, relu, i0 + 4, j0 + 48, e); c += ldc;
        Store512(c, c50, first, relu, i0 + 5, j0, e); Store512(c + 16, c51, first, relu, i0 + 5, j0 + 16, e);
        Store512(c + 32, c52, first, relu, i0 + 5, j0 + 32, e); Store512(c + 48, c53, first, relu, i0 + 5, j0 + 48, e);
    }

    /// <summary>
    /// One row of C against a whole 64-wide B panel (a GEMV, M = 1: the UNet's time-embedding linears at batch 1): the 6×64
    /// tile would spend five of its six rows on padding. Each output keeps the 6×64 kernel's single FMA chain over k in
    /// the same order, so its bytes are those of the same row in a batch (batch invariance); four chains, so the FMA
    /// latency, not the FMA count, bounds it: about 4 cycles per k against the tile's 12. A's values are
    /// <paramref name="mr"/> apart (a packed panel). <paramref name="next"/>, when not null: the next B panel, prefetched into
    /// L2 whole (this row is its only user), 4 lines per k.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void KernelRow64(int kc, float* a, int mr, float* b, float* c, bool first, bool relu, int i0, int j0, GemmEpilogue e, float* next)
    {
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default;
        if (!first || e.Residual != null)
            for (int j = 0; j < 64 && Sse.IsSupported; j += 16)
                Sse.Prefetch0((first ? e.Residual + (long)i0 * e.ResidualStride + j0 : c) + j);
        for (int p = 0; p < kc; p++)
        {
            if (next != null && Sse.IsSupported)
            {
                Sse.Prefetch1(next); Sse.Prefetch1(next + 16); Sse.Prefetch1(next + 32); Sse.Prefetch1(next + 48);
                next += 64;
            }
            var x = Vector512.Create(*a);
            c0 = Vector512.FusedMultiplyAdd(x, Vector512.Load(b), c0);
            c1 = Vector512.FusedMultiplyAdd(x, Vector512.Load(b + 16), c1);
            c2 = Vector512.FusedMultiplyAdd(x, Vector512.Load(b + 32), c2);
            c3 = Vector512.FusedMultiplyAdd(x, Vector512.Load(b + 48), c3);
            a += mr;
            b += 64;
        }
        Store512(c, c0, first, relu, i0, j0, e); Store512(c + 16, c1, first, relu, i0, j0 + 16, e);
        Store512(c + 32, c2, first, relu, i0, j0 + 32, e); Store512(c + 48, c3, first, relu, i0, j0 + 48, e);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel6x16(int kc, float* a, float* b, float* c, int ldc, bool first, bool relu, int i0, int j0, GemmEpilogue e)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            var x = Vector256.Create(a[0]);
            c00 = Vector256.FusedMultiplyAdd(x, b0, c00); c01 = Vector256.FusedMultiplyAdd(x, b1, c01);
            x = Vector256.Create(a[1]);
            c10 = Vector256.FusedMultiplyAdd(x, b0, c10); c11 = Vector256.FusedMultiplyAdd(x, b1, c11);
            x = Vector256.Create(a[2]);
            c20 = Vector256.FusedMultiplyAdd(x, b0, c20); c21 = Vector256.FusedMultiplyAdd(x, b1, c21);
            x = Vector256.Create(a[3]);
            c30 = Vector256.FusedMultiplyAdd(x, b0, c30); c31 = Vector256.FusedMultiplyAdd(x, b1, c31);
            x = Vector256.Create(a[4]);
            c40 = Vector256.FusedMultiplyAdd(x, b0, c40); c41 = Vector256.FusedMultiplyAdd(x, b1, c41);
            x = Vector256.Create(a[5]);
            c50 = Vector256.FusedMultiplyAdd(x, b0, c50); c51 = Vector256.FusedMultiplyAdd(x, b1, c51);
            a += 6;
            b += 16;
        }
        Store256(c, c00, first, relu, i0, j0, e); Store256(c + 8, c01, first, relu, i0, j0 + 8, e); c += ldc;
        Store256(c, c10, first, relu, i0 + 1, j0, e); Store256(c + 8, c11, first, relu, i0 + 1, j0 + 8, e); c += ldc;
        Store256(c, c20, first, relu, i0 + 2, j0, e); Store256(c + 8, c21, first, relu, i0 + 2, j0 + 8, e); c += ldc;
        Store256(c, c30, first, relu, i0 + 3, j0, e); Store256(c + 8, c31, first, relu, i0 + 3, j0 + 8, e); c += ldc;
        Store256(c, c40, first, relu, i0 + 4, j0, e); Store256(c + 8, c41, first, relu, i0 + 4, j0 + 8, e); c += ldc;
        Store256(c, c50, first, relu, i0 + 5, j0, e); Store256(c + 8, c51, first, relu, i0 + 5, j0 + 8, e);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel4x4(int kc, float* a, float* b, float* c, int ldc, bool first, bool relu, int i0, int j0, GemmEpilogue e)
    {
        float c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
        float c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
        for (int p = 0; p < kc; p++)
        {
            float b0 = b[0], b1 = b[1], b2 = b[2], b3 = b[3];
            float x = a[0];
            c00 += x * b0; c01 += x * b1; c02 += x * b2; c03 += x * b3;
            x = a[1];
            c10 += x * b0; c11 += x * b1; c12 += x * b2; c13 += x * b3;
            x = a[2];
            c20 += x * b0; c21 += x * b1; c22 += x * b2; c23 += x * b3;
            x = a[3];
            c30 += x * b0; c31 += x * b1; c32 += x * b2; c33 += x * b3;
            a += 4;
            b += 4;
        }
        float* t = stackalloc float[16] { c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33 };
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++)
            {
                float* dst = c + (long)i * ldc + j;
                float v = first ? Epilogue(t[i * 4 + j], i0 + i, j0 + j, e) : *dst + t[i * 4 + j];
                *dst = relu && !(v > 0f) ? 0f : v;
            }
    }
}
