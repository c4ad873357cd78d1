using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Add.Kernels.Cpu;

/// <summary>
/// A weight matrix W [Rows, Cols] (a linear's [out, in], a conv's [Co, Ci·kh·kw]) packed once, when a model loads,
/// into <see cref="GemmCpu"/>'s micro-panel layout, so that no call packs it again (packing a 128×2304 conv weight is a
/// 1.2 MB transpose: more than the 2×2 conv that uses it). A linear uses Wᵀ as B (panels of NR rows of W); a conv uses W
/// as A (panels of MR rows), or Wᵀ as B when it runs transposed (planes smaller than NR pixels).
/// <para>Layout for panel width w: per K block pc (<see cref="GemmCpu.KC"/> values of k), the ⌈Rows/w⌉ panels of w
/// rows, each [kc][w] (row r of the panel at k·w + r, zero past Rows); block pc starts at pc·⌈Rows/w⌉·w. Arrays are
/// pinned, so the GEMM takes their address once.</para>
/// <para>Memory: only the panels of the role the weight was packed for (NR for a linear, MR for a conv) are made up
/// front; they hold every value of W, so the caller may drop the plain weight (the CPU backend keeps no other copy).
/// The other width is derived from them the first time a call asks for it (a conv that runs transposed, a 1×1 conv
/// weight used as a linear), once, under a lock; the panels are the same values in the same places as packing W
/// directly, so results do not depend on which way they were made. On the scalar path MR = NR: one array serves both.</para>
/// <para>The packing is a copy: writing into the original weight afterwards does not change it.</para>
/// </summary>
public sealed unsafe class PackedWeight
{
    private readonly float[] _panels;       // width _width
    private readonly int _width;
    private float[]? _other;                // width _otherWidth, made on first use
    private readonly int _otherWidth;
    private readonly Lock _lock = new();

    /// <summary>Rows of W (output features or channels).</summary>
    public int Rows { get; }

    /// <summary>Columns of W (the GEMM's reduction length K).</summary>
    public int Cols { get; }

    /// <summary>The SIMD path whose register tile fixed the panel widths.</summary>
    public SimdPath Path { get; }

    /// <summary>True when packed by <see cref="ForConv"/> (MR panels up front).</summary>
    public bool ForConvolution { get; }

    /// <summary>Floats held (the panels made so far, row padding included): what this weight costs in memory.</summary>
    public long Floats => _panels.LongLength + (Volatile.Read(ref _other) is { } o && !ReferenceEquals(o, _panels) ? o.LongLength : 0);

    private PackedWeight(ReadOnlySpan<float> w, int rows, int cols, SimdPath path, bool asA)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(cols);
        KernelArgs.Length(nameof(w), w.Length, (long)rows * cols);
        Rows = rows;
        Cols = cols;
        Path = CpuSimd.Resolve(path);
        ForConvolution = asA;
        var (mr, nr) = GemmCpu.Tile(Path);
        (_width, _otherWidth) = asA ? (mr, nr) : (nr, mr);
        _panels = Pack(w, rows, cols, _width);
        if (mr == nr)
            _other = _panels;     // the scalar path's 4×4 tile: one packing serves both sides
    }

    /// <summary>Packs a linear weight W [N, K] for <see cref="LinearCpu.Forward"/>.</summary>
    public static PackedWeight ForLinear(ReadOnlySpan<float> w, int n, int k, SimdPath path = SimdPath.Auto) => new(w, n, k, path, asA: false);

    /// <summary>Packs a conv weight w [Co, Ci, kh, kw] (as [Co, Ci·kh·kw]) for <see cref="Conv2dCpu.Forward"/>.</summary>
    public static PackedWeight ForConv(ReadOnlySpan<float> w, int outChannels, int reductionLength, SimdPath path = SimdPath.Auto) =>
        new(w, outChannels, reductionLength, path, asA: true);

    private static int Padded(int rows, int width) => (rows + width - 1) / width * width;

    private static float[] Pack(ReadOnlySpan<float> w, int rows, int cols, int width)
    {
        int padded = Padded(rows, width);
        var panels = GC.AllocateUninitializedArray<float>(checked(padded * cols), pinned: true);
        fixed (float* src = w)
        {
            float* dst = Address(panels);
            var source = new StridedPanels(src, 1, cols);
            int kb = GemmCpu.KBlock(cols);
            for (int pc = 0; pc < cols; pc += kb)
                source.Panels(dst + (long)pc * padded, pc, Math.Min(kb, cols - pc), 0, rows, width);
        }
        return panels;
    }

    /// <summary>W [Rows, Cols] row-major, read back from the panels (the inverse of <see cref="Pack"/>).</summary>
    public void CopyTo(Span<float> w)
    {
        KernelArgs.Length(nameof(w), w.Length, (long)Rows * Cols);
        int padded = Padded(Rows, _width);
        int kb = GemmCpu.KBlock(Cols);
        for (int pc = 0; pc < Cols; pc += kb)
        {
            int kc = Math.Min(kb, Cols - pc);
            for (int r = 0; r < Rows; r++)
            {
                long panel = (long)pc * padded + (long)(r / _width) * _width * kc + r % _width;
                var row = w.Slice(r * Cols + pc, kc);
                for (int k = 0; k < kc; k++)
                    row[k] = _panels[panel + (long)k * _width];
            }
        }
    }

    private static float* Address(float[] pinned) => (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(pinned));

    /// <summary>Panels of the given width as a GEMM operand (the other tile width is made on first use); throws for a
    /// width that is neither of this path's.</summary>
    internal PrepackedPanels Panels(int width)
    {
        float[] panels;
        if (width == _width)
            panels = _panels;
        else if (width == _otherWidth)
            panels = Volatile.Read(ref _other) ?? Derive();
        else
            throw new InvalidOperationException($"weight [{Rows}, {Cols}] has no panels of width {width} (packed for {Path}{(ForConvolution ? "" : ", as a linear")})");
        return new PrepackedPanels(Address(panels), Padded(Rows, width));
    }

    /// <summary>The panels of the other width, from these (once; concurrent callers wait for the first).</summary>
    private float[] Derive()
    {
        lock (_lock)
        {
            if (_other is { } made)
                return made;
            var w = GC.AllocateUninitializedArray<float>(checked(Rows * Cols));
            CopyTo(w);
            var other = Pack(w, Rows, Cols, _otherWidth);
            Volatile.Write(ref _other, other);
            return other;
        }
    }

    /// <summary>Throws unless this packs a [rows, cols] weight for <paramref name="path"/>.</summary>
    internal void Check(int rows, int cols, SimdPath path)
    {
        if (Rows != rows || Cols != cols || Path != CpuSimd.Resolve(path))
            throw new ArgumentException($"packed weight is [{Rows}, {Cols}] for {Path}, the call needs [{rows}, {cols}] for {CpuSimd.Resolve(path)}");
    }
}
