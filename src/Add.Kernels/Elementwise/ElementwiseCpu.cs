using System.Runtime.CompilerServices;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace Add.Kernels.Cpu;

/// <summary>
/// The memory-bound ops between the big kernels, on the CPU. Formulas, shapes and references as
/// <see cref="ElementwiseReference"/> (reference loops <see cref="ElementwiseReference.Silu"/>, <see cref="ElementwiseReference.Gelu"/>,
/// <see cref="ElementwiseReference.Geglu"/>, <see cref="ElementwiseReference.Upsample2x"/>):
/// <list type="bullet">
/// <item>SiLU, GELU (erf form), QuickGELU x·σ(1.702·x), GEGLU y [M, F] = x[:, :F]·gelu(x[:, F:]) for x [M, 2F]: one pass at the chosen width
/// (<see cref="Activations"/>), parallel above 8k values per core; the tail of the flattened tensor goes through the
/// vector code zero-padded, so every value's result is the same wherever it sits (batch invariance).</item>
/// <item>ReLU max(x, 0) and the tanh clamp tanh(x/3)·3 (AutoencoderTiny): one pass at the chosen width like the activations
/// above; the clamp as 3·(1 − 2/(e^(2x/3) + 1)) with the vector exp. Affine a·x + b: TensorPrimitives.MultiplyAdd.</item>
/// <item>Residual add y = a + b: TensorPrimitives.Add.</item>
/// <item>Nearest 2× upsample x [N, C, H, W] → y [N, C, 2H, 2W]: each input row widened once (vector unpack of each value with
/// itself), the second output row a copy of the first.</item>
/// <item>Channel concat a [N, Ca, H, W], b [N, Cb, H, W] → y [N, Ca+Cb, H, W]: two block copies per image, y cut into equal ranges per core.</item>
/// </list>
/// </summary>
public static unsafe class ElementwiseCpu
{
    private const long MinFloatsPerThread = 1 << 13;     // ~6 µs of SiLU per core: the fork-join costs ~1 µs

    /// <summary>y = silu(x); y may be x.</summary>
    public static void Silu(ReadOnlySpan<float> x, Span<float> y, SimdPath path = SimdPath.Auto) => Unary<SiluOp>(x, y, path);

    /// <summary>y = gelu(x), erf form (torch's default F.gelu); y may be x.</summary>
    public static void Gelu(ReadOnlySpan<float> x, Span<float> y, SimdPath path = SimdPath.Auto) => Unary<GeluOp>(x, y, path);

    /// <summary>y = x·σ(1.702·x) (QuickGELU, CLIP's quick_gelu); y may be x.</summary>
    public static void QuickGelu(ReadOnlySpan<float> x, Span<float> y, SimdPath path = SimdPath.Auto) => Unary<QuickGeluOp>(x, y, path);

    /// <summary>y = max(x, 0); y may be x.</summary>
    public static void Relu(ReadOnlySpan<float> x, Span<float> y, SimdPath path = SimdPath.Auto) => Unary<ReluOp>(x, y, path);

    /// <summary>y = tanh(x/3)·3 (DecoderTiny's clamp); y may be x.</summary>
    public static void TanhClamp(ReadOnlySpan<float> x, Span<float> y, SimdPath path = SimdPath.Auto) => Unary<TanhClampOp>(x, y, path);

    /// <summary>y = a·x + b (scalars, one fused multiply-add per value); y may be x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Affine(ReadOnlySpan<float> x, Span<float> y, float scale, float shift, SimdPath path = SimdPath.Auto)
    {
        KernelArgs.Length(nameof(y), y.Length, x.Length);
        path = CpuSimd.Resolve(path);
        int i = 0, count = x.Length;
        fixed (float* px = x, py = y)
        {
            if (path == SimdPath.Vector512)
                for (; i <= count - 16; i += 16)
                    Vector512.FusedMultiplyAdd(Vector512.Load(px + i), Vector512.Create(scale), Vector512.Create(shift)).Store(py + i);
            if (path != SimdPath.Scalar)
                for (; i <= count - 8; i += 8)
                    Vector256.FusedMultiplyAdd(Vector256.Load(px + i), Vector256.Create(scale), Vector256.Create(shift)).Store(py + i);
            for (; i < count; i++)
                py[i] = MathF.FusedMultiplyAdd(px[i], scale, shift);
        }
    }

    private static void Unary<T>(ReadOnlySpan<float> x, Span<float> y, SimdPath path) where T : struct, IActivation
    {
        KernelArgs.Length(nameof(y), y.Length, x.Length);
        path = CpuSimd.Resolve(path);
        int count = x.Length;
        int workers = CpuSimd.Workers(count / 16 + 1, 16, MinFloatsPerThread);
        fixed (float* px = x, py = y)
        {
            if (workers == 1)
            {
                UnaryRange<T>(px, py, count, path);
                return;
            }
            nint ax = (nint)px, ay = (nint)py;
            int chunks = (count + 15) / 16;
            CpuWorkers.For(workers, t =>
            {
                int i0 = chunks * t / workers * 16, i1 = Math.Min(count, chunks * (t + 1) / workers * 16);
                UnaryRange<T>((float*)ax + i0, (float*)ay + i0, i1 - i0, path);
            });
        }
    }

    /// <summary>An activation at every width, as a type, so <see cref="UnaryRange{T}"/> compiles one loop per function
    /// instead of branching per vector.</summary>
    private interface IActivation
    {
        static abstract Vector512<float> Apply(Vector512<float> x);
        static abstract Vector256<float> Apply(Vector256<float> x);
        static abstract float Apply(float x);
    }

    private readonly struct SiluOp : IActivation
    {
        public static Vector512<float> Apply(Vector512<float> x) => Activations.Silu(x);
        public static Vector256<float> Apply(Vector256<float> x) => Activations.Silu(x);
        public static float Apply(float x) => Activations.Silu(x);
    }

    private readonly struct GeluOp : IActivation
    {
        public static Vector512<float> Apply(Vector512<float> x) => Activations.Gelu(x);
        public static Vector256<float> Apply(Vector256<float> x) => Activations.Gelu(x);
        public static float Apply(float x) => Activations.Gelu(x);
    }

    private readonly struct QuickGeluOp : IActivation
    {
        public static Vector512<float> Apply(Vector512<float> x) => Activations.QuickGelu(x);
        public static Vector256<float> Apply(Vector256<float> x) => Activations.QuickGelu(x);
        public static float Apply(float x) => Activations.QuickGelu(x);
    }

    private readonly struct ReluOp : IActivation
    {
        public static Vector512<float> Apply(Vector512<float> x) => Vector512.Max(x, Vector512<float>.Zero);
        public static Vector256<float> Apply(Vector256<float> x) => Vector256.Max(x, Vector256<float>.Zero);
        public static float Apply(float x) => x > 0f ? x : 0f;
    }

    private readonly struct TanhClampOp : IActivation
    {
        public static Vector512<float> Apply(Vector512<float> x) => Activations.TanhClamp(x);
        public static Vector256<float> Apply(Vector256<float> x) => Activations.TanhClamp(x);
        public static float Apply(float x) => Activations.TanhClamp(x);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void UnaryRange<T>(float* x, float* y, int count, SimdPath path) where T : struct, IActivation
    {
        int i = 0;
        if (path == SimdPath.Vector512)
            for (; i <= count - 16; i += 16)
                T.Apply(Vector512.Load(x + i)).Store(y + i);
        if (path == SimdPath.Scalar)
        {
            for (; i < count; i++)
                y[i] = T.Apply(x[i]);
            return;
        }
        for (; i <= count - 8; i += 8)
            T.Apply(Vector256.Load(x + i)).Store(y + i);
        if (i < count)
        {
            // The last count mod 8 values through the same vector code, zero-padded (not the scalar MathF.Exp form): a
            // value's result must not depend on where the flattened tensor ends, which moves with the batch size.
            Span<float> tail = stackalloc float[8];
            tail.Clear();
            new ReadOnlySpan<float>(x + i, count - i).CopyTo(tail);
            T.Apply(Vector256.Create<float>(tail)).CopyTo(tail);
            tail[..(count - i)].CopyTo(new Span<float>(y + i, count - i));
        }
    }

    /// <summary>GEGLU: y [M, F] = x[:, :F]·gelu(x[:, F:]) for x [M, 2F] (the projection output of diffusers' GEGLU).</summary>
    public static void Geglu(ReadOnlySpan<float> x, Span<float> y, int m, int f, SimdPath path = SimdPath.Auto)
    {
        KernelArgs.Length(nameof(x), x.Length, 2L * m * f);
        KernelArgs.Length(nameof(y), y.Length, (long)m * f);
        path = CpuSimd.Resolve(path);
        int workers = CpuSimd.Workers(m, 2L * f, MinFloatsPerThread);
        fixed (float* px = x, py = y)
        {
            if (workers == 1)
            {
                GegluRows(px, py, 0, m, f, path);
                return;
            }
            nint ax = (nint)px, ay = (nint)py;
            CpuWorkers.For(workers, t => GegluRows((float*)ax, (float*)ay, m * t / workers, m * (t + 1) / workers, f, path));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GegluRows(float* x, float* y, int first, int last, int f, SimdPath path)
    {
        for (int r = first; r < last; r++)
        {
            float* h = x + (long)r * 2 * f, g = h + f, o = y + (long)r * f;
            int i = 0;
            if (path == SimdPath.Vector512)
                for (; i <= f - 16; i += 16)
                    (Vector512.Load(h + i) * Activations.Gelu(Vector512.Load(g + i))).Store(o + i);
            if (path != SimdPath.Scalar)
                for (; i <= f - 8; i += 8)
                    (Vector256.Load(h + i) * Activations.Gelu(Vector256.Load(g + i))).Store(o + i);
            for (; i < f; i++)
                o[i] = h[i] * Activations.Gelu(g[i]);
        }
    }

    /// <summary>y = a + b (TensorPrimitives.Add); y may be a or b.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Add(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y)
    {
        KernelArgs.Length(nameof(b), b.Length, a.Length);
        KernelArgs.Length(nameof(y), y.Length, a.Length);
        TensorPrimitives.Add(a, b, y);
    }

    /// <summary>Nearest 2× upsample: x [N, C, H, W] → y [N, C, 2H, 2W].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Upsample2x(ReadOnlySpan<float> x, Span<float> y, int n, int c, int h, int w, SimdPath path = SimdPath.Auto)
    {
        KernelArgs.Length(nameof(x), x.Length, (long)n * c * h * w);
        KernelArgs.Length(nameof(y), y.Length, 4L * n * c * h * w);
        path = CpuSimd.Resolve(path);
        int rows = n * c * h, w2 = 2 * w;
        fixed (float* px = x, py = y)
        {
            for (int r = 0; r < rows; r++)
            {
                float* src = px + (long)r * w, dst = py + (long)r * 2 * w2;
                int i = 0;
                if (path == SimdPath.Vector512)
                    for (; i <= w - 16; i += 16)
                    {
                        var v = Vector512.Load(src + i);
                        // Literal indices: the JIT makes a constant shuffle one instruction (a static readonly vector,
                        // not a constant under AggressiveOptimization, fell back to element-by-element code).
                        var lo = Vector512.Shuffle(v, Vector512.Create(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7));
                        var hi = Vector512.Shuffle(v, Vector512.Create(8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15));
                        lo.Store(dst + 2 * i);
                        hi.Store(dst + 2 * i + 16);
                    }
                if (path != SimdPath.Scalar)
                    for (; i <= w - 8; i += 8)
                    {
                        var v = Vector256.Load(src + i);
                        Vector256.Shuffle(v, Vector256.Create(0, 0, 1, 1, 2, 2, 3, 3)).Store(dst + 2 * i);
                        Vector256.Shuffle(v, Vector256.Create(4, 4, 5, 5, 6, 6, 7, 7)).Store(dst + 2 * i + 8);
                    }
                for (; i < w; i++)
                    dst[2 * i] = dst[2 * i + 1] = src[i];
                new ReadOnlySpan<float>(dst, w2).CopyTo(new Span<float>(dst + w2, w2));
            }
        }
    }

    /// <summary>y [N, Ca+Cb, H, W] = cat(a [N, Ca, H, W], b [N, Cb, H, W], dim 1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ConcatChannels(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y, int n, int ca, int cb, int h, int w)
    {
        long plane = (long)h * w, sa = ca * plane, sb = cb * plane;
        KernelArgs.Length(nameof(a), a.Length, n * sa);
        KernelArgs.Length(nameof(b), b.Length, n * sb);
        KernelArgs.Length(nameof(y), y.Length, n * (sa + sb));
        long total = n * (sa + sb);
        int workers = CpuSimd.Workers(total / 16 + 1, 16, MinCopyFloatsPerThread);
        fixed (float* pa = a, pb = b, py = y)
        {
            if (workers == 1)
            {
                ConcatRange(pa, pb, py, 0, total, sa, sb);
                return;
            }
            // Equal ranges of y per core, each copied from wherever its floats come from: one core's memmove left half
            // the memory bandwidth unused (the UNet's skip concatenations, 0.03-2 MB, ran 1.1-2.2× libtorch's cat; now
            // 0.46-0.89×: perf/logs/concat-2026-12-04).
            nint ax = (nint)pa, bx = (nint)pb, yx = (nint)py;
            CpuWorkers.For(workers, t => ConcatRange((float*)ax, (float*)bx, (float*)yx, total * t / workers, total * (t + 1) / workers, sa, sb));
        }
    }

    private const long MinCopyFloatsPerThread = 1 << 15;     // 128 KB: several µs of copying per core against ~1 µs to fork

    /// <summary>y[o0 .. o1) of the concatenation, image by image, each piece one block copy from a or b.</summary>
    private static void ConcatRange(float* a, float* b, float* y, long o0, long o1, long sa, long sb)
    {
        long image = sa + sb;
        while (o0 < o1)
        {
            long i = o0 / image, r = o0 - i * image;
            bool fromA = r < sa;
            long end = Math.Min(o1, i * image + (fromA ? sa : image));
            float* src = fromA ? a + i * sa + r : b + i * sb + (r - sa);
            Buffer.MemoryCopy(src, y + o0, (end - o0) * sizeof(float), (end - o0) * sizeof(float));
            o0 = end;
        }
    }
}
