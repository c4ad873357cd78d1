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
/// accelerator's default stream. Tile sizes: 16×16 GEMM tiles, 64-row attention tiles and 256/128-thread norm groups
/// on CUDA; 8×8 GEMM tiles and 32-thread norm groups on the CPU accelerator (which emulates an NVIDIA device so groups
/// may exceed 16 threads).
/// </summary>
public sealed class IlgpuBackend : Backend
{
    private readonly Context _context;
    private readonly Accelerator _accelerator;
    private readonly Action<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int> _linear;
    private readonly Action<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, Conv2d.Shape> _conv;
    private readonly Action<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int, int, float, bool> _groupNorm;
    private readonly Action<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, float> _layerNorm;
    private readonly AttentionIlgpu<AttentionTileGpu> _attention;
    private readonly ElementwiseIlgpu _elementwise;
    private readonly LayoutIlgpu _layout;
    private readonly LatentSamplerIlgpu _sampler;

    private IlgpuBackend(Context context, Accelerator accelerator, bool gpu)
    {
        _context = context;
        _accelerator = accelerator;
        if (gpu) Bind<GemmTile16, Threads256, Threads128>(accelerator, out _linear, out _conv, out _groupNorm, out _layerNorm);
        else Bind<GemmTile8, Threads32, Threads32>(accelerator, out _linear, out _conv, out _groupNorm, out _layerNorm);
        _attention = new AttentionIlgpu<AttentionTileGpu>(accelerator);
        _elementwise = new ElementwiseIlgpu(accelerator);
        _layout = new LayoutIlgpu(accelerator);
        _sampler = new LatentSamplerIlgpu(accelerator);
        Name = $"{(gpu ? "cuda" : "ilgpu-cpu")} ({accelerator.Name})";
    }

    /// <summary>Loads the tiled kernels with the tile and group sizes of this accelerator kind.</summary>
    private static void Bind<TTile, TGroupNorm, TLayerNorm>(Accelerator accelerator,
        out Action<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int> linear,
        out Action<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, Conv2d.Shape> conv,
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

    /// <summary>ILGPU's CPU accelerator emulating an NVIDIA device (debugging only: very slow).</summary>
    public static IlgpuBackend CreateCpuAccelerator()
    {
        var context = Context.Create(b => b.CPU(CPUDevice.Nvidia).EnableAlgorithms());
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

    public override void Linear(TensorView x, TensorView w, TensorView bias, TensorView residual, TensorView y, int m, int n, int k)
    {
        using var _ = Profile("linear", 2.0 * m * n * k, Bytes(x.Length, w.Length, y.Length, residual.Length));
        var target = Target(y, residual);
        _linear(V(x), V(w), V(bias), target, m, n, k);
        if (!residual.IsEmpty) _elementwise.Add(target, V(residual), V(y));
    }

    public override void Conv2d(TensorView x, TensorView w, TensorView bias, TensorView residual, TensorView y, Conv2d.Shape s)
    {
        using var _ = Profile(s.KernelH == 1 ? "conv2d 1x1" : "conv2d 3x3", 2.0 * s.Batch * s.OutChannels * s.OutHeight * s.OutWidth * s.ReductionLength,
            Bytes(x.Length, w.Length, y.Length, residual.Length));
        var target = Target(y, residual);
        _conv(V(x), V(w), V(bias), target, s);
        if (!residual.IsEmpty) _elementwise.Add(target, V(residual), V(y));
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

    public override void GroupNorm(TensorView x, TensorView gamma, TensorView beta, TensorView y, int n, int c, int spatial, int groups, float epsilon, bool silu)
    {
        using var _ = Profile(silu ? "group_norm+silu" : "group_norm", 0, Bytes(x.Length, y.Length));
        _groupNorm(V(x), V(gamma), V(beta), V(y), n, c, 1, spatial, groups, epsilon, silu);
    }

    public override void LayerNorm(TensorView x, TensorView gamma, TensorView beta, TensorView y, int m, int d, float epsilon)
    {
        using var _ = Profile("layer_norm", 0, Bytes(x.Length, y.Length));
        _layerNorm(V(x), V(gamma), V(beta), V(y), m, d, epsilon);
    }

    public override void Attention(TensorView q, TensorView k, TensorView v, TensorView o, int batch, int heads, int queryLength, int keyLength, int headDim,
        AttentionStrides qs, AttentionStrides ks, AttentionStrides vs, AttentionStrides os, bool causal)
    {
        using var _ = Profile("attention", 4.0 * batch * heads * queryLength * keyLength * headDim, Bytes(q.Length, k.Length, v.Length, o.Length));
        _attention.Launch(V(q), V(k), V(v), V(o), batch, heads, queryLength, keyLength, headDim, qs, ks, vs, os, null, causal);
    }

    public override void Silu(TensorView x, TensorView y)
    {
        using var _ = Profile("silu", 0, Bytes(x.Length, y.Length));
        _elementwise.Silu(V(x), V(y));
    }

    public override void Gelu(TensorView x, TensorView y)
    {
        using var _ = Profile("gelu", 0, Bytes(x.Length, y.Length));
        _elementwise.Gelu(V(x), V(y));
    }

    public override void Geglu(TensorView x, TensorView y, int m, int f)
    {
        using var _ = Profile("geglu", 0, Bytes(x.Length, y.Length));
        _elementwise.Geglu(V(x), V(y), m, f);
    }

    public override void Add(TensorView a, TensorView b, TensorView y)
    {
        using var _ = Profile("add", 0, Bytes(a.Length, b.Length, y.Length));
        _elementwise.Add(V(a), V(b), V(y));
    }

    public override void Upsample2x(TensorView x, TensorView y, int n, int c, int h, int w)
    {
        using var _ = Profile("upsample2x", 0, Bytes(x.Length, y.Length));
        _elementwise.Upsample2x(V(x), V(y), n, c, h, w);
    }

    public override void ConcatChannels(TensorView a, TensorView b, TensorView y, int n, int ca, int cb, int h, int w)
    {
        using var _ = Profile("concat", 0, Bytes(a.Length, b.Length, y.Length));
        _elementwise.ConcatChannels(V(a), V(b), V(y), n, ca, cb, h, w);
    }

    public override void TimestepEmbedding(TensorView t, TensorView y, Elementwise.TimestepShape shape)
    {
        using var _ = Profile("timestep_embed", 0, Bytes(t.Length, y.Length));
        _elementwise.TimestepEmbedding(V(t), V(y), shape);
    }

    public override void SamplerStep(TensorView x, TensorView epsUncond, TensorView epsCond, TensorView noise, TensorView next, TensorView x0, Kernels.Ilgpu.SamplerStep step)
    {
        using var _ = Profile("sampler", 0, Bytes(x.Length, epsUncond.Length + epsCond.Length, noise.Length, next.Length + x0.Length));
        _sampler.Launch(V(x), V(epsUncond), V(epsCond), V(noise), V(next), V(x0), step);
    }

    public override void Transpose(TensorView x, TensorView residual, TensorView y, int batch, int rows, int cols)
    {
        using var _ = Profile("transpose", 0, Bytes(x.Length, residual.Length, y.Length));
        _layout.Transpose(V(x), V(residual), V(y), batch, rows, cols);
    }

    public override void ChannelBias(TensorView x, TensorView bias, TensorView y, int n, int c, int spatial)
    {
        using var _ = Profile("channel_bias", 0, Bytes(x.Length, bias.Length, y.Length));
        _layout.ChannelBias(V(x), V(bias), V(y), n, c, spatial);
    }

    public override void ZeroPad(TensorView x, TensorView y, int planes, int h, int w, int padBottom, int padRight)
    {
        using var _ = Profile("zero_pad", 0, Bytes(x.Length, y.Length));
        _layout.ZeroPad(V(x), V(y), planes, h, w, padBottom, padRight);
    }

    public override void Dispose()
    {
        _scratch?.Dispose();
        _accelerator.Dispose();
        _context.Dispose();
    }
}
