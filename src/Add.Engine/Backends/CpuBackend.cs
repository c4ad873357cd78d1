using System.Runtime.InteropServices;
using Add.Kernels;
using Add.Kernels.Cpu;

namespace Add.Engine.Backends;

/// <summary>
/// The default backend without a GPU: our SIMD kernels (Add.Kernels.Cpu: Vector512/Vector256/scalar, a fork-join over
/// the cores). Buffers are managed float arrays; ops run synchronously. GEMM and convolution use a packing workspace
/// that grows to the largest op seen and is then reused: one per generation context (<see cref="Backend.Scratch"/>),
/// so generations may run on several threads at once.
/// <para>GEMM weights loaded through <see cref="GemmWeight"/> (every linear and conv layer of the models) are packed at
/// load into the GEMM's panel layout (<see cref="PackedWeight"/>) and the panels are the only copy: the buffer holds no
/// plain floats (a download unpacks them; an upload into it is refused). Other <see cref="Constant"/> buffers that a
/// linear or a conv uses are packed the first time and kept beside the plain values; an upload into such a buffer
/// drops them. Activations are never packed ahead of time.</para>
/// </summary>
public sealed class CpuBackend(SimdPath path = SimdPath.Auto) : Backend
{
    private readonly Scratch _defaultScratch = new();
    private int _workspaceGrowths, _packedWeights;

    public SimdPath Path { get; } = CpuSimd.Resolve(path);

    public override string Name => $"cpu ({Path}, {CpuSimd.Threads} threads)";

    /// <summary>Concurrent generations: each runs its ops on its own thread with its own arena stack and workspace;
    /// the packed weights are shared (packed once under a lock); while two or more generations run, each runs its ops
    /// inline on its own thread (<see cref="CpuWorkers.Caller"/>; one alone uses the fork-join over all cores), which
    /// changes no value (every
    /// kernel's per-output order is independent of how its work is split).</summary>
    public override bool ConcurrentGenerations => true;

    /// <summary>1/8: a block's pages above what a generation writes stay unmapped (NativeMemory.AllocZeroed is calloc,
    /// which maps large blocks fresh and leaves their zero pages untouched), so the room costs address space, not memory,
    /// until a larger request uses it.</summary>
    public override double ArenaHeadroom => 0.125;

    /// <summary>Declares the generation to <see cref="CpuWorkers.Caller"/>: while two or more run, each runs its ops inline.</summary>
    public override IDisposable? BeginGeneration() => CpuWorkers.Caller();

    /// <summary>Times a packing workspace grew, over all generation contexts (stays flat once every shape has run in each).</summary>
    public int WorkspaceGrowths => Volatile.Read(ref _workspaceGrowths);

    /// <summary>Weights packed so far (each at most once; tests read it).</summary>
    public int PackedWeights => Volatile.Read(ref _packedWeights);

    /// <summary>Floats in native memory (zeroed at allocation), freed by <see cref="Dispose"/> (or the finalizer), not
    /// by the GC: the arena frees its first generation's buffers as they are released and then holds one block, and
    /// memory freed that way leaves the process at once, so the peak is the live activations, not the live ones plus
    /// the garbage a collection has not reached yet (managed arrays here held 8.4 GB at SD-Turbo's 512² for 6.1 GB live).</summary>
    private sealed unsafe class HostBuffer : DeviceBuffer
    {
        private nint _data;     // float*
        public bool IsConstant;
        public Dictionary<long, PackedWeight>? Packed;     // by view offset; read and written under lock (this)
        public readonly PackedWeight? Prepacked;           // a GemmWeight: the panels are the values, no floats here

        public HostBuffer(long length) : base(length)
        {
            if (length > Array.MaxLength) throw new ArgumentOutOfRangeException(nameof(length), length, $"a host buffer holds at most {Array.MaxLength} floats");
            _data = (nint)NativeMemory.AllocZeroed((nuint)Math.Max(length, 1), sizeof(float));
            if (length >= 1 << 20) GC.AddMemoryPressure(length * sizeof(float));
        }

        public HostBuffer(PackedWeight prepacked) : base((long)prepacked.Rows * prepacked.Cols)
        {
            IsConstant = true;
            Prepacked = prepacked;
        }

        /// <summary>Floats [offset, offset + length) of the buffer.</summary>
        public Span<float> Span(long offset, int length) =>
            _data != 0 ? new Span<float>((float*)_data + offset, length) : throw new ObjectDisposedException(nameof(HostBuffer), "a view of a disposed buffer (an arena view used after its release?)");

        public override void Dispose()
        {
            Free();
            GC.SuppressFinalize(this);
        }

        ~HostBuffer() => Free();

        private void Free()
        {
            var data = Interlocked.Exchange(ref _data, 0);
            if (data == 0) return;
            NativeMemory.Free((void*)data);
            if (Length >= 1 << 20) GC.RemoveMemoryPressure(Length * sizeof(float));
        }
    }

    public override DeviceBuffer Allocate(long length) => new HostBuffer(length);

    /// <summary>Packs W at once (panels for a linear, or for a conv) and keeps only the panels.</summary>
    public override DeviceBuffer GemmWeight(ReadOnlySpan<float> values, int rows, int cols, bool conv)
    {
        var packed = conv ? PackedWeight.ForConv(values, rows, cols, Path) : PackedWeight.ForLinear(values, rows, cols, Path);
        Interlocked.Increment(ref _packedWeights);
        return new HostBuffer(packed);
    }

    public override DeviceBuffer Constant(ReadOnlySpan<float> values)
    {
        var buffer = (HostBuffer)base.Constant(values);
        buffer.IsConstant = true;
        return buffer;
    }

    /// <summary>The packed form of weight view <paramref name="w"/> [rows, cols], made on first use (once, under the
    /// buffer's lock: concurrent generations share it); null for a non-constant buffer.</summary>
    private PackedWeight? Packed(TensorView w, int rows, int cols, bool conv)
    {
        var buffer = (HostBuffer)w.Buffer!;
        if (buffer.Prepacked is { } prepacked)
            return prepacked;
        if (!buffer.IsConstant)
            return null;
        lock (buffer)
        {
            buffer.Packed ??= [];
            if (!buffer.Packed.TryGetValue(w.Offset, out var packed) || packed.Rows != rows || packed.Cols != cols)
            {
                packed = conv ? PackedWeight.ForConv(S(w), rows, cols, Path) : PackedWeight.ForLinear(S(w), rows, cols, Path);
                buffer.Packed[w.Offset] = packed;
                Interlocked.Increment(ref _packedWeights);
            }
            return packed;
        }
    }

    private static Span<float> S(TensorView v)
    {
        if (v.IsEmpty)
            return Span<float>.Empty;
        var buffer = (HostBuffer)v.Buffer!;
        if (buffer.Prepacked is { } p)
            throw new InvalidOperationException($"weight [{p.Rows}, {p.Cols}] is held only as GEMM panels (CpuBackend.GemmWeight): only a linear or a conv can read it");
        return buffer.Span(v.Offset, (int)v.Length);
    }

    /// <summary>A GEMM operand: the plain floats, or none when the buffer is a packed-at-load weight.</summary>
    private static Span<float> Weight(TensorView w) => ((HostBuffer)w.Buffer!).Prepacked is null ? S(w) : Span<float>.Empty;

    public override void Upload(ReadOnlySpan<float> source, TensorView destination)
    {
        if (source.Length != destination.Length) throw new ArgumentException($"upload of {source.Length} floats into a view of {destination.Length}");
        if (((HostBuffer)destination.Buffer!).Prepacked is not null)
            throw new InvalidOperationException("a weight packed at load (CpuBackend.GemmWeight) cannot be overwritten: load it again");
        source.CopyTo(S(destination));
        var buffer = (HostBuffer)destination.Buffer!;
        if (buffer.IsConstant)
            lock (buffer) buffer.Packed = null;     // packed weights of the old values are stale
    }

    public override void Download(TensorView source, Span<float> destination)
    {
        if (source.Length != destination.Length) throw new ArgumentException($"download of a view of {source.Length} floats into {destination.Length}");
        if (((HostBuffer)source.Buffer!).Prepacked is { } packed && source.Offset == 0 && source.Length == packed.Rows * (long)packed.Cols)
            packed.CopyTo(destination);     // the whole weight, unpacked
        else
            S(source).CopyTo(destination);
    }

    public override void Synchronize() { }

    /// <summary>The packing workspace of this thread's generation context (<see cref="Backend.Bind"/>), else the default.</summary>
    private Span<float> Workspace(long floats)
    {
        var scratch = BoundScratch ?? _defaultScratch;
        if (scratch.Host.Length < floats)
        {
            scratch.Host = new float[checked((int)floats)];
            Interlocked.Increment(ref _workspaceGrowths);
        }
        return scratch.Host;
    }

    protected override void LinearCore(TensorView x, TensorView w, TensorView bias, TensorView residual, TensorView y, int m, int n, int k)
    {
        var packed = Packed(w, n, k, conv: false);
        LinearCpu.Forward(S(x), Weight(w), S(bias), S(residual), S(y), m, n, k, Workspace(LinearCpu.WorkspaceFloats(m, n, k)), Path, packed);
    }

    /// <summary>Workspaces above this many floats (4 MB: the GEMMs' are under 1.3 MB) are not kept between ops: they come from the free part of the
    /// generation's arena block, else from a buffer freed when the op ends. Winograd convs ask for that much (all of U
    /// is 16·Co·Ci floats: 105 MB at 1280 → 1280), and blocked attention's packed K, V (42 MB at SD-Turbo's 64², batch 4);
    /// kept, such a workspace would add to the process's peak for good.</summary>
    public const long LargeWorkspaceFloats = 1 << 20;

    protected override void Conv2dCore(TensorView x, TensorView w, TensorView bias, TensorView residual, TensorView y, Conv2dShape s, bool relu)
    {
        var packed = Packed(w, s.OutChannels, s.ReductionLength, conv: true);
        var workspace = OpWorkspace(Conv2dCpu.WorkspaceFloats(s), out var transient);
        using (transient)
            Conv2dCpu.Forward(S(x), Weight(w), S(bias), S(residual), S(y), s, workspace, Path, packed, relu);
    }

    /// <summary>The kept workspace up to <see cref="LargeWorkspaceFloats"/>; above it the arena block's spare floats, else
    /// <paramref name="transient"/>, a buffer the caller disposes when the op ends.</summary>
    private Span<float> OpWorkspace(long floats, out DeviceBuffer? transient)
    {
        transient = null;
        if (floats <= LargeWorkspaceFloats)
            return Workspace(floats);
        if (Arena.BoundSpare(this, floats) is { } spare)
            return S(spare);
        transient = Allocate(floats);
        return S(transient.View);
    }

    protected override void GroupNormCore(TensorView x, TensorView gamma, TensorView beta, TensorView y, int n, int c, int spatial, int groups, float epsilon, bool silu)
    {
        GroupNormCpu.Forward(S(x), S(gamma), S(beta), S(y), n, c, 1, spatial, groups, epsilon, silu, Path);
    }

    protected override void LayerNormCore(TensorView x, TensorView gamma, TensorView beta, TensorView y, int m, int d, float epsilon)
    {
        LayerNormCpu.Forward(S(x), S(gamma), S(beta), S(y), m, d, epsilon, Path);
    }

    protected override void AttentionCore(TensorView q, TensorView k, TensorView v, TensorView o, int batch, int heads, int queryLength, int keyLength, int headDim,
        AttentionStrides qs, AttentionStrides ks, AttentionStrides vs, AttentionStrides os, bool causal)
    {
        var workspace = OpWorkspace(AttentionCpu.WorkspaceFloats(batch, heads, queryLength, keyLength, headDim, Path, causal), out var transient);
        using (transient)
            AttentionCpu.Forward(S(q), S(k), S(v), S(o), batch, heads, queryLength, keyLength, headDim, qs, ks, vs, os, causal, Path, workspace);
    }

    protected override void SiluCore(TensorView x, TensorView y)
    {
        ElementwiseCpu.Silu(S(x), S(y), Path);
    }

    protected override void GeluCore(TensorView x, TensorView y)
    {
        ElementwiseCpu.Gelu(S(x), S(y), Path);
    }

    protected override void QuickGeluCore(TensorView x, TensorView y)
    {
        ElementwiseCpu.QuickGelu(S(x), S(y), Path);
    }

    protected override void ReluCore(TensorView x, TensorView y)
    {
        ElementwiseCpu.Relu(S(x), S(y), Path);
    }

    protected override void TanhClampCore(TensorView x, TensorView y)
    {
        ElementwiseCpu.TanhClamp(S(x), S(y), Path);
    }

    protected override void AffineCore(TensorView x, TensorView y, float scale, float shift)
    {
        ElementwiseCpu.Affine(S(x), S(y), scale, shift, Path);
    }

    protected override void GegluCore(TensorView x, TensorView y, int m, int f)
    {
        ElementwiseCpu.Geglu(S(x), S(y), m, f, Path);
    }

    protected override void AddCore(TensorView a, TensorView b, TensorView y)
    {
        ElementwiseCpu.Add(S(a), S(b), S(y));
    }

    protected override void Upsample2xCore(TensorView x, TensorView y, int n, int c, int h, int w)
    {
        ElementwiseCpu.Upsample2x(S(x), S(y), n, c, h, w, Path);
    }

    protected override void ConcatChannelsCore(TensorView a, TensorView b, TensorView y, int n, int ca, int cb, int h, int w)
    {
        ElementwiseCpu.ConcatChannels(S(a), S(b), S(y), n, ca, cb, h, w);
    }

    protected override void TimestepEmbeddingCore(TensorView t, TensorView y, TimestepEmbeddingShape shape)
    {
        TimestepEmbeddingCpu.Forward(S(t), S(y), shape);
    }

    protected override void SamplerStepCore(TensorView x, TensorView epsUncond, TensorView epsCond, TensorView noise, TensorView next, TensorView x0, LatentSamplerStep step)
    {
        LatentSamplerCpu.Step(S(x), S(epsUncond), S(epsCond), S(noise), S(next), S(x0), step, Path);
    }

    protected override void TransposeCore(TensorView x, TensorView residual, TensorView y, int batch, int rows, int cols)
    {
        LayoutCpu.Transpose(S(x), S(residual), S(y), batch, rows, cols);
    }

    protected override void ChannelBiasCore(TensorView x, TensorView bias, TensorView y, int n, int c, int spatial)
    {
        LayoutCpu.ChannelBias(S(x), S(bias), S(y), n, c, spatial);
    }

    protected override void ZeroPadCore(TensorView x, TensorView y, int planes, int h, int w, int padBottom, int padRight)
    {
        LayoutCpu.ZeroPad(S(x), S(y), planes, h, w, padBottom, padRight);
    }

    public override void Dispose() { }
}
