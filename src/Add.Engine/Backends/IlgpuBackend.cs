using Add.Kernels;
using Add.Kernels.Ilgpu;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;

namespace Add.Engine.Backends;

/// <summary>
/// Our ILGPU kernels (Add.Kernels.Ilgpu) on CUDA, or on ILGPU's CPU accelerator for debugging (hundreds of times slower
/// than <see cref="CpuBackend"/>; it exists to run the GPU kernels where there is no GPU). Ops are enqueued on the
/// accelerator's default stream. Tile sizes: 16×16 GEMM thread tiles (64×64 output blocks, 4×4 per thread, for products with at least a
/// block per multiprocessor; one output per thread below that), 64-row attention tiles and 256/128-thread norm groups
/// on CUDA; 8×8 GEMM tiles and 32-thread norm groups on the CPU accelerator (which emulates 64-thread groups, more than
/// ILGPU's default CPU device's 16).
/// </summary>
public sealed class IlgpuBackend : Backend
{
    private readonly Context _context;
    private readonly Accelerator _accelerator;
    private readonly Action<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int> _linear;
    private readonly Action<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, Conv2dShape> _conv;
    private readonly Action<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int, int, float, bool> _groupNorm;
    private readonly Action<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, float> _layerNorm;
    private readonly AttentionIlgpu<AttentionTileGpu> _attention;
    private readonly Lazy<AttentionIlgpu<AttentionTileWide>> _wideAttention;   // compiled on first use
    private readonly ElementwiseIlgpu _elementwise;
    private readonly TimestepEmbeddingIlgpu _timestep;
    private readonly LayoutIlgpu _layout;
    private readonly LatentSamplerIlgpu _sampler;

    private IlgpuBackend(Context context, Accelerator accelerator, bool gpu)
    {
        _context = context;
        _accelerator = accelerator;
        if (gpu) Bind<GemmTile16, Threads256, Threads128>(accelerator, out _linear, out _conv, out _groupNorm, out _layerNorm);
        else Bind<GemmTile8, Threads32, Threads32>(accelerator, out _linear, out _conv, out _groupNorm, out _layerNorm);
        _attention = new AttentionIlgpu<AttentionTileGpu>(accelerator);
        _wideAttention = new Lazy<AttentionIlgpu<AttentionTileWide>>(() => new AttentionIlgpu<AttentionTileWide>(accelerator));
        _elementwise = new ElementwiseIlgpu(accelerator);
        _timestep = new TimestepEmbeddingIlgpu(accelerator);
        _layout = new LayoutIlgpu(accelerator);
        _sampler = new LatentSamplerIlgpu(accelerator);
        Name = $"{(gpu ? "cuda" : "ilgpu-cpu")} ({accelerator.Name})";
    }

    /// <summary>Loads the tiled kernels with the tile and group sizes of this accelerator kind.</summary>
    private static void Bind<TTile, TGroupNorm, TLayerNorm>(Accelerator accelerator,
        out Action<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int> linear,
        out Action<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, Conv2dShape> conv,
        out Action<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int, int, float, bool> groupNorm,
        out Action<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, float> layerNorm)
        where TTile : struct, IGemmTile where TGroupNorm : struct, IGroupSize where TLayerNorm : struct, IGroupSize
    {
        var l = new LinearIlgpu<TTile>(accelerator);
        var c = new Conv2dIlgpu<TTile>(accelerator);
        var gn = new GroupNormIlgpu<TGroupNorm>(accelerator);
        var ln = new LayerNormIlgpu<TLayerNorm>(accelerator);
        linear = (x, w, b, y, m, n, k) => l.Launch(x, w, b, y, m, n, k);
        conv = (x, w, b, y, s) => c.Launch(x, w, b, y, s);
        groupNorm = (x, g, b, y, n, ch, h, w, groups, eps, silu) => gn.Launch(x, g, b, y, n, ch, h, w, groups, eps, silu);
        layerNorm = (x, g, b, y, m, d, eps) => ln.Launch(x, g, b, y, m, d, eps);
    }

    /// <summary>The first CUDA device, or null when there is none (or no driver).</summary>
    public static IlgpuBackend? TryCreateCuda()
    {
        Context? context = null;
        try
        {
            context = Context.Create(b => b.Cuda().EnableAlgorithms());
            if (context.GetCudaDevices().Count == 0) { context.Dispose(); return null; }
            return new IlgpuBackend(context, context.CreateCudaAccelerator(0), gpu: true);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            context?.Dispose();
            return null;
        }
    }

    /// <summary>ILGPU's CPU accelerator emulating NVIDIA-like groups (debugging only: very slow): warps of 32, groups of up
    /// to 64 threads (the largest this backend launches: 8×8 GEMM tiles, 64-row attention tiles), two multiprocessors.
    /// Its threads spin in sched_yield at every group barrier, so fewer of them is faster on a few cores: 128 here instead
    /// of the 1,024 of <c>CPUDevice.Nvidia</c> (a tiny batch-invariance test: 208 → 168 s on 2 cores).</summary>
    public static IlgpuBackend CreateCpuAccelerator()
    {
        var context = Context.Create(b => b.CPU(new CPUDevice(32, 2, 2)).EnableAlgorithms());
        return new IlgpuBackend(context, context.CreateCPUAccelerator(0), gpu: false);
    }

    public override string Name { get; }

    private sealed class GpuBuffer(Accelerator accelerator, long length) : DeviceBuffer(length)
    {
        public readonly MemoryBuffer1D<float, Stride1D.Dense> Memory = accelerator.Allocate1D<float>(length);
        public override void Dispose() => Memory.Dispose();
    }

    public override DeviceBuffer Allocate(long length) => new GpuBuffer(_accelerator, length);

    private static ArrayView<float> V(TensorView v) =>
        v.IsEmpty ? ArrayView<float>.Empty : ((GpuBuffer)v.Buffer!).Memory.View.SubView(v.Offset, v.Length);

    public override void Upload(ReadOnlySpan<float> source, TensorView destination)
    {
        if (source.Length != destination.Length) throw new ArgumentException($"upload of {source.Length} floats into a view of {destination.Length}");
        if (source.Length > 0) V(destination).CopyFromCPU(_accelerator.DefaultStream, source);
    }

    public override void Download(TensorView source, Span<float> destination)
    {
        if (source.Length != destination.Length) throw new ArgumentException($"download of a view of {source.Length} floats into {destination.Length}");
        _accelerator.Synchronize();
        if (source.Length > 0) V(source).CopyToCPU(_accelerator.DefaultStream, destination);
        _accelerator.Synchronize();
    }

    public override void Synchronize() => _accelerator.Synchronize();

    protected override void LinearCore(TensorView x, TensorView w, TensorView bias, TensorView residual, TensorView y, int m, int n, int k)
    {
        var target = Target(y, residual);
        _linear(V(x), V(w), V(bias), target, m, n, k);
        if (!residual.IsEmpty) _elementwise.Add(target, V(residual), V(y));
    }

    protected override void Conv2dCore(TensorView x, TensorView w, TensorView bias, TensorView residual, TensorView y, Conv2dShape s, bool relu)
    {
        var target = Target(y, residual);
        _conv(V(x), V(w), V(bias), target, s);
        if (!residual.IsEmpty) _elementwise.Add(target, V(residual), V(y));
        if (relu) _elementwise.Relu(V(y), V(y));      // not fused on ILGPU: a pass after the conv
    }

    private MemoryBuffer1D<float, Stride1D.Dense>? _scratch;

    /// <summary>Where a GEMM-shaped kernel writes before the residual add: y itself, or scratch when the residual
    /// shares y's buffer (the kernels write y before the epilogue add could read it).</summary>
    private ArrayView<float> Target(TensorView y, TensorView residual)
    {
        if (residual.IsEmpty || !ReferenceEquals(residual.Buffer, y.Buffer)) return V(y);
        if (_scratch is null || _scratch.Length < y.Length)
        {
            _scratch?.Dispose();
            _scratch = _accelerator.Allocate1D<float>(y.Length);
        }
        return _scratch.View.SubView(0, y.Length);
    }

    protected override void GroupNormCore(TensorView x, TensorView gamma, TensorView beta, TensorView y, int n, int c, int spatial, int groups, float epsilon, bool silu)
    {
        _groupNorm(V(x), V(gamma), V(beta), V(y), n, c, 1, spatial, groups, epsilon, silu);
    }

    protected override void LayerNormCore(TensorView x, TensorView gamma, TensorView beta, TensorView y, int m, int d, float epsilon)
    {
        _layerNorm(V(x), V(gamma), V(beta), V(y), m, d, epsilon);
    }

    protected override void AttentionCore(TensorView q, TensorView k, TensorView v, TensorView o, int batch, int heads, int queryLength, int keyLength, int headDim,
        AttentionStrides qs, AttentionStrides ks, AttentionStrides vs, AttentionStrides os, bool causal)
    {
        if (headDim > default(AttentionTileGpu).MaxHeadDim)   // e.g. the SD VAE's one head of 512 channels
            _wideAttention.Value.Launch(V(q), V(k), V(v), V(o), batch, heads, queryLength, keyLength, headDim, qs, ks, vs, os, null, causal);
        else
            _attention.Launch(V(q), V(k), V(v), V(o), batch, heads, queryLength, keyLength, headDim, qs, ks, vs, os, null, causal);
    }

    protected override void SiluCore(TensorView x, TensorView y)
    {
        _elementwise.Silu(V(x), V(y));
    }

    protected override void GeluCore(TensorView x, TensorView y)
    {
        _elementwise.Gelu(V(x), V(y));
    }

    protected override void QuickGeluCore(TensorView x, TensorView y)
    {
        _elementwise.QuickGelu(V(x), V(y));
    }

    protected override void ReluCore(TensorView x, TensorView y)
    {
        _elementwise.Relu(V(x), V(y));
    }

    protected override void TanhClampCore(TensorView x, TensorView y)
    {
        _elementwise.TanhClamp(V(x), V(y));
    }

    protected override void AffineCore(TensorView x, TensorView y, float scale, float shift)
    {
        _elementwise.Affine(V(x), V(y), scale, shift);
    }

    protected override void GegluCore(TensorView x, TensorView y, int m, int f)
    {
        _elementwise.Geglu(V(x), V(y), m, f);
    }

    protected override void AddCore(TensorView a, TensorView b, TensorView y)
    {
        _elementwise.Add(V(a), V(b), V(y));
    }

    protected override void Upsample2xCore(TensorView x, TensorView y, int n, int c, int h, int w)
    {
        _elementwise.Upsample2x(V(x), V(y), n, c, h, w);
    }

    protected override void ConcatChannelsCore(TensorView a, TensorView b, TensorView y, int n, int ca, int cb, int h, int w)
    {
        _elementwise.ConcatChannels(V(a), V(b), V(y), n, ca, cb, h, w);
    }

    protected override void TimestepEmbeddingCore(TensorView t, TensorView y, TimestepEmbeddingShape shape)
    {
        _timestep.Launch(V(t), V(y), shape);
    }

    protected override void SamplerStepCore(TensorView x, TensorView epsUncond, TensorView epsCond, TensorView noise, TensorView next, TensorView x0, LatentSamplerStep step)
    {
        _sampler.Launch(V(x), V(epsUncond), V(epsCond), V(noise), V(next), V(x0), step);
    }

    protected override void TransposeCore(TensorView x, TensorView residual, TensorView y, int batch, int rows, int cols)
    {
        _layout.Transpose(V(x), V(residual), V(y), batch, rows, cols);
    }

    protected override void ChannelBiasCore(TensorView x, TensorView bias, TensorView y, int n, int c, int spatial)
    {
        _layout.ChannelBias(V(x), V(bias), V(y), n, c, spatial);
    }

    protected override void ZeroPadCore(TensorView x, TensorView y, int planes, int h, int w, int padBottom, int padRight)
    {
        _layout.ZeroPad(V(x), V(y), planes, h, w, padBottom, padRight);
    }

    public override void Dispose()
    {
        _scratch?.Dispose();
        _accelerator.Dispose();
        _context.Dispose();
    }
}
