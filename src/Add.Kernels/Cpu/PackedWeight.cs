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
/// <para>The packing is a copy: writing into the original weight afterwards does not change it.</para>
/// </summary>
public sealed unsafe class PackedWeight
{
    private readonly float[]? _mrPanels, _nrPanels;

    /// <summary>Rows of W (output features or channels).</summary>
    public int Rows { get; }

    /// <summary>Columns of W (the GEMM's reduction length K).</summary>
    public int Cols { get; }

    /// <summary>The SIMD path whose register tile fixed the panel widths.</summary>
    public SimdPath Path { get; }

    /// <summary>True when packed by <see cref="ForConv"/> (panels for both GEMM sides).</summary>
    public bool ForConvolution => _mrPanels is not null;

    private PackedWeight(ReadOnlySpan<float> w, int rows, int cols, SimdPath path, bool asA)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(cols);
        KernelArgs.Length(nameof(w), w.Length, (long)rows * cols);
        Rows = rows;
        Cols = cols;
        Path = CpuSimd.Resolve(path);
        var (mr, nr) = GemmCpu.Tile(Path);
        _nrPanels = Pack(w, rows, cols, nr);
        if (asA)
            _mrPanels = mr == nr ? _nrPanels : Pack(w, rows, cols, mr);     // the scalar path's 4×4 tile: one packing serves both sides
    }

    /// <summary>Packs a linear weight W [N, K] for <see cref="LinearCpu.Forward"/>.</summary>
    public static PackedWeight ForLinear(ReadOnlySpan<float> w, int n, int k, SimdPath path = SimdPath.Auto) => new(w, n, k, path, asA: false);

    /// <summary>Packs a conv weight w [Co, Ci, kh, kw] (as [Co, Ci·kh·kw]) for <see cref="Conv2dCpu.Forward"/>.</summary>
    public static PackedWeight ForConv(ReadOnlySpan<float> w, int outChannels, int reductionLength, SimdPath path = SimdPath.Auto) =>
        new(w, outChannels, reductionLength, path, asA: true);

    private static float[] Pack(ReadOnlySpan<float> w, int rows, int cols, int width)
    {
        int padded = (rows + width - 1) / width * width;
        var panels = GC.AllocateUninitializedArray<float>(checked(padded * cols), pinned: true);
        fixed (float* src = w)
        {
            float* dst = Address(panels);
            var source = new StridedPanels(src, 1, cols);
            for (int pc = 0; pc < cols; pc += GemmCpu.KC)
                source.Panels(dst + (long)pc * padded, pc, Math.Min(GemmCpu.KC, cols - pc), 0, rows, width);
        }
        return panels;
    }

    private static float* Address(float[] pinned) => (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(pinned));

    /// <summary>Panels of the given width as a GEMM operand; throws when this weight was not packed for that role.</summary>
    internal PrepackedPanels Panels(int width)
    {
        var (mr, nr) = GemmCpu.Tile(Path);
        var panels = width == nr ? _nrPanels : width == mr ? _mrPanels : null;
        if (panels is null)
            throw new InvalidOperationException($"weight [{Rows}, {Cols}] has no panels of width {width} (packed for {Path}{(_mrPanels is null ? ", as a linear" : "")})");
        return new PrepackedPanels(Address(panels), (Rows + width - 1) / width * width);
    }

    /// <summary>Throws unless this packs a [rows, cols] weight for <paramref name="path"/>.</summary>
    internal void Check(int rows, int cols, SimdPath path)
    {
        if (Rows != rows || Cols != cols || Path != CpuSimd.Resolve(path))
            throw new ArgumentException($"packed weight is [{Rows}, {Cols}] for {Path}, the call needs [{rows}, {cols}] for {CpuSimd.Resolve(path)}");
    }
}
