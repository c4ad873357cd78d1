using System.Diagnostics;
using Add.Kernels;

namespace Add.Engine.Backends;

/// <summary>
/// The ops the inference path needs, each one of our kernels (Add.Kernels): the model code (text encoder, UNet, VAE)
/// is written once against this class. Ops are enqueued in order; <see cref="Synchronize"/> waits for them (the CPU
/// backend runs them at once). Views may alias only where an op says so.
/// <para>Layouts: images NCHW, tokens [N, L, C], linear weights [out, in] (torch), conv weights [Co, Ci, kh, kw].</para>
/// </summary>
public abstract class Backend : IDisposable
{
    /// <summary>"cpu", "cuda" or "ilgpu-cpu", with the device in words.</summary>
    public abstract string Name { get; }

    /// <summary>When set, every op waits for its kernel and records its time here. Recording is thread-safe, but with
    /// concurrent generations the times overlap (each op's wall time includes the others'): profile one at a time.</summary>
    public KernelProfiler? Profiler { get; set; }

    /// <summary>Whether ops may be issued from several threads at once, each thread with its own arena stack and
    /// <see cref="Scratch"/> bound (the CPU backend). When false (ILGPU: one accelerator stream, a shared residual
    /// scratch), <see cref="Pipeline.DiffusionPipeline"/> runs one generation at a time.</summary>
    public virtual bool ConcurrentGenerations => false;

    /// <summary>How much larger than its high water a pipeline's arena block is made (<see cref="Arena"/>), as a fraction:
    /// 0 where memory is committed when allocated (a GPU's); the CPU backend's blocks are zeroed native allocations
    /// whose pages take no memory until written, so it asks for room.</summary>
    public virtual double ArenaHeadroom => 0;

    /// <summary>Host scratch memory of one generation context (the CPU backend's GEMM packing workspace), grown to
    /// the largest op it has served and reused. A thread's ops use the scratch it has bound (<see cref="Bind"/>),
    /// else the backend's default one (single-threaded callers).</summary>
    public sealed class Scratch
    {
        internal float[] Host = [];

        /// <summary>Floats held.</summary>
        public long Floats => Host.Length;
    }

    [ThreadStatic]
    private static Scratch? t_scratch;

    /// <summary>Sends this thread's ops' scratch needs to <paramref name="scratch"/> until the scope is disposed.</summary>
    public static IDisposable Bind(Scratch scratch)
    {
        var outer = t_scratch;
        t_scratch = scratch;
        return new ScratchScope(outer);
    }

    private sealed class ScratchScope(Scratch? outer) : IDisposable
    {
        public void Dispose() => t_scratch = outer;
    }

    /// <summary>Called as a generation starts, disposed as it ends (the CPU backend counts concurrent generations, to
    /// run their ops on their own threads instead of sharing the kernels' fork-join).</summary>
    public virtual IDisposable? BeginGeneration() => null;

    /// <summary>The scratch bound on this thread, or null.</summary>
    protected static Scratch? BoundScratch => t_scratch;

    public abstract DeviceBuffer Allocate(long length);

    /// <summary>Copies host floats into <paramref name="destination"/> (same length).</summary>
    public abstract void Upload(ReadOnlySpan<float> source, TensorView destination);

    /// <summary>Waits for pending ops, then copies <paramref name="source"/> to the host.</summary>
    public abstract void Download(TensorView source, Span<float> destination);

    /// <summary>Waits until every enqueued op has finished.</summary>
    public abstract void Synchronize();

    /// <summary>A new buffer holding <paramref name="values"/> (weights: uploaded once at load).</summary>
    public virtual DeviceBuffer Constant(ReadOnlySpan<float> values)
    {
        var b = Allocate(Math.Max(values.Length, 1));
        Upload(values, b.View.Slice(0, values.Length));
        return b;
    }

    /// <summary>A GEMM weight W [<paramref name="rows"/>, <paramref name="cols"/>] (a linear's [out, in], or a conv's
    /// [Co, Ci·kh·kw] when <paramref name="conv"/>), uploaded once, that only <see cref="Linear"/> (conv false) or
    /// <see cref="Conv2d"/> (conv true) reads. The CPU backend keeps it only as the GEMM's packed panels (no plain copy);
    /// others keep the plain values (<see cref="Constant"/>).</summary>
    public virtual DeviceBuffer GemmWeight(ReadOnlySpan<float> values, int rows, int cols, bool conv) => Constant(values);

    // ---- ops: each public op times itself (when profiled) and runs the backend's kernel --------------------------

    /// <summary>y [M, N] = x [M, K]·wᵀ (w [N, K]) + bias [N] (or Empty) + residual [M, N] (or Empty; may be y).</summary>
    public void Linear(TensorView x, TensorView w, TensorView bias, TensorView residual, TensorView y, int m, int n, int k)
    {
        using var _ = Profile("linear", 2.0 * m * n * k, Bytes(x.Length, w.Length, y.Length, residual.Length));
        LinearCore(x, w, bias, residual, y, m, n, k);
    }

    /// <summary>y = conv2d(x, w) + bias + residual (residual of y's shape, or Empty), then max(·, 0) when
    /// <paramref name="relu"/>; shapes in <paramref name="s"/>.</summary>
    public void Conv2d(TensorView x, TensorView w, TensorView bias, TensorView residual, TensorView y, Conv2dShape s, bool relu = false)
    {
        using var _ = Profile(s.KernelH == 1 ? "conv2d 1x1" : relu ? "conv2d 3x3+relu" : "conv2d 3x3", 2.0 * s.Batch * s.OutChannels * s.OutHeight * s.OutWidth * s.ReductionLength,
            Bytes(x.Length, w.Length, y.Length, residual.Length));
        Conv2dCore(x, w, bias, residual, y, s, relu);
    }

    /// <summary>y [N, C, S] = group_norm(x) (fp32 statistics, two passes), then SiLU when <paramref name="silu"/>.</summary>
    public void GroupNorm(TensorView x, TensorView gamma, TensorView beta, TensorView y, int n, int c, int spatial, int groups, float epsilon, bool silu)
    {
        using var _ = Profile(silu ? "group_norm+silu" : "group_norm", 0, Bytes(x.Length, y.Length));
        GroupNormCore(x, gamma, beta, y, n, c, spatial, groups, epsilon, silu);
    }

    /// <summary>y [M, D] = layer_norm(x [M, D]) over D.</summary>
    public void LayerNorm(TensorView x, TensorView gamma, TensorView beta, TensorView y, int m, int d, float epsilon)
    {
        using var _ = Profile("layer_norm", 0, Bytes(x.Length, y.Length));
        LayerNormCore(x, gamma, beta, y, m, d, epsilon);
    }

    /// <summary>o = softmax(q·kᵀ/√D)·v per (batch, head), any strides (the fused flash kernel); causal masks keys j &gt; i.</summary>
    public void Attention(TensorView q, TensorView k, TensorView v, TensorView o, int batch, int heads, int queryLength, int keyLength, int headDim,
        AttentionStrides qs, AttentionStrides ks, AttentionStrides vs, AttentionStrides os, bool causal)
    {
        using var _ = Profile("attention", 4.0 * batch * heads * queryLength * keyLength * headDim, Bytes(q.Length, k.Length, v.Length, o.Length));
        AttentionCore(q, k, v, o, batch, heads, queryLength, keyLength, headDim, qs, ks, vs, os, causal);
    }

    /// <summary>y = silu(x); y may be x.</summary>
    public void Silu(TensorView x, TensorView y)
    {
        using var _ = Profile("silu", 0, Bytes(x.Length, y.Length));
        SiluCore(x, y);
    }

    /// <summary>y = gelu(x) (erf form); y may be x.</summary>
    public void Gelu(TensorView x, TensorView y)
    {
        using var _ = Profile("gelu", 0, Bytes(x.Length, y.Length));
        GeluCore(x, y);
    }

    /// <summary>y = x·σ(1.702·x) (QuickGELU, CLIP's quick_gelu); y may be x.</summary>
    public void QuickGelu(TensorView x, TensorView y)
    {
        using var _ = Profile("quick_gelu", 0, Bytes(x.Length, y.Length));
        QuickGeluCore(x, y);
    }

    /// <summary>y = max(x, 0); y may be x.</summary>
    public void Relu(TensorView x, TensorView y)
    {
        using var _ = Profile("relu", 0, Bytes(x.Length, y.Length));
        ReluCore(x, y);
    }

    /// <summary>y = tanh(x/3)·3 (AutoencoderTiny's latent clamp); y may be x.</summary>
    public void TanhClamp(TensorView x, TensorView y)
    {
        using var _ = Profile("tanh_clamp", 0, Bytes(x.Length, y.Length));
        TanhClampCore(x, y);
    }

    /// <summary>y = scale·x + shift; y may be x.</summary>
    public void Affine(TensorView x, TensorView y, float scale, float shift)
    {
        using var _ = Profile("affine", 0, Bytes(x.Length, y.Length));
        AffineCore(x, y, scale, shift);
    }

    /// <summary>y [M, F] = x[:, :F]·gelu(x[:, F:]) for x [M, 2F].</summary>
    public void Geglu(TensorView x, TensorView y, int m, int f)
    {
        using var _ = Profile("geglu", 0, Bytes(x.Length, y.Length));
        GegluCore(x, y, m, f);
    }

    /// <summary>y = a + b; y may be a or b.</summary>
    public void Add(TensorView a, TensorView b, TensorView y)
    {
        using var _ = Profile("add", 0, Bytes(a.Length, b.Length, y.Length));
        AddCore(a, b, y);
    }

    /// <summary>Nearest 2× upsample x [N, C, H, W] → y [N, C, 2H, 2W].</summary>
    public void Upsample2x(TensorView x, TensorView y, int n, int c, int h, int w)
    {
        using var _ = Profile("upsample2x", 0, Bytes(x.Length, y.Length));
        Upsample2xCore(x, y, n, c, h, w);
    }

    /// <summary>y [N, Ca+Cb, H, W] = cat(a, b, dim 1).</summary>
    public void ConcatChannels(TensorView a, TensorView b, TensorView y, int n, int ca, int cb, int h, int w)
    {
        using var _ = Profile("concat", 0, Bytes(a.Length, b.Length, y.Length));
        ConcatChannelsCore(a, b, y, n, ca, cb, h, w);
    }

    /// <summary>Sinusoidal embedding of t [B] into y [B, D].</summary>
    public void TimestepEmbedding(TensorView t, TensorView y, TimestepEmbeddingShape shape)
    {
        using var _ = Profile("timestep_embed", 0, Bytes(t.Length, y.Length));
        TimestepEmbeddingCore(t, y, shape);
    }

    /// <summary>One fused sampler update (guidance, x̂0, next latent); <paramref name="next"/> may be x.</summary>
    public void SamplerStep(TensorView x, TensorView epsUncond, TensorView epsCond, TensorView noise, TensorView next, TensorView x0, LatentSamplerStep step)
    {
        using var _ = Profile("sampler", 0, Bytes(x.Length, epsUncond.Length + epsCond.Length, noise.Length, next.Length + x0.Length));
        SamplerStepCore(x, epsUncond, epsCond, noise, next, x0, step);
    }

    /// <summary>y [B, C, R] = x [B, R, C]ᵀ (+ residual [B, C, R], or Empty; residual may be y).</summary>
    public void Transpose(TensorView x, TensorView residual, TensorView y, int batch, int rows, int cols)
    {
        using var _ = Profile("transpose", 0, Bytes(x.Length, residual.Length, y.Length));
        TransposeCore(x, residual, y, batch, rows, cols);
    }

    /// <summary>y [N, C, S] = x + bias [N, C]; y may be x.</summary>
    public void ChannelBias(TensorView x, TensorView bias, TensorView y, int n, int c, int spatial)
    {
        using var _ = Profile("channel_bias", 0, Bytes(x.Length, bias.Length, y.Length));
        ChannelBiasCore(x, bias, y, n, c, spatial);
    }

    /// <summary>y [P, H+pb, W+pr] = x [P, H, W] zero-padded bottom and right.</summary>
    public void ZeroPad(TensorView x, TensorView y, int planes, int h, int w, int padBottom, int padRight)
    {
        using var _ = Profile("zero_pad", 0, Bytes(x.Length, y.Length));
        ZeroPadCore(x, y, planes, h, w, padBottom, padRight);
    }

    // ---- what a backend implements: the kernels behind the ops above (contracts as there) --------------------------

    protected abstract void LinearCore(TensorView x, TensorView w, TensorView bias, TensorView residual, TensorView y, int m, int n, int k);
    protected abstract void Conv2dCore(TensorView x, TensorView w, TensorView bias, TensorView residual, TensorView y, Conv2dShape s, bool relu);
    protected abstract void GroupNormCore(TensorView x, TensorView gamma, TensorView beta, TensorView y, int n, int c, int spatial, int groups, float epsilon, bool silu);
    protected abstract void LayerNormCore(TensorView x, TensorView gamma, TensorView beta, TensorView y, int m, int d, float epsilon);
    protected abstract void AttentionCore(TensorView q, TensorView k, TensorView v, TensorView o, int batch, int heads, int queryLength, int keyLength, int headDim,
        AttentionStrides qs, AttentionStrides ks, AttentionStrides vs, AttentionStrides os, bool causal);
    protected abstract void SiluCore(TensorView x, TensorView y);
    protected abstract void GeluCore(TensorView x, TensorView y);
    protected abstract void QuickGeluCore(TensorView x, TensorView y);
    protected abstract void ReluCore(TensorView x, TensorView y);
    protected abstract void TanhClampCore(TensorView x, TensorView y);
    protected abstract void AffineCore(TensorView x, TensorView y, float scale, float shift);
    protected abstract void GegluCore(TensorView x, TensorView y, int m, int f);
    protected abstract void AddCore(TensorView a, TensorView b, TensorView y);
    protected abstract void Upsample2xCore(TensorView x, TensorView y, int n, int c, int h, int w);
    protected abstract void ConcatChannelsCore(TensorView a, TensorView b, TensorView y, int n, int ca, int cb, int h, int w);
    protected abstract void TimestepEmbeddingCore(TensorView t, TensorView y, TimestepEmbeddingShape shape);
    protected abstract void SamplerStepCore(TensorView x, TensorView epsUncond, TensorView epsCond, TensorView noise, TensorView next, TensorView x0, LatentSamplerStep step);
    protected abstract void TransposeCore(TensorView x, TensorView residual, TensorView y, int batch, int rows, int cols);
    protected abstract void ChannelBiasCore(TensorView x, TensorView bias, TensorView y, int n, int c, int spatial);
    protected abstract void ZeroPadCore(TensorView x, TensorView y, int planes, int h, int w, int padBottom, int padRight);

    public abstract void Dispose();

    // ---- profiling -------------------------------------------------------------------------------------------------

    /// <summary>Times one op when a profiler is attached: <c>using var _ = Profile("conv2d", flops, bytes);</c>.</summary>
    private ProfileScope Profile(string kernel, double flops, double bytes) => new(this, kernel, flops, bytes);

    private readonly struct ProfileScope : IDisposable
    {
        private readonly Backend? _backend;
        private readonly string _kernel;
        private readonly double _flops, _bytes;
        private readonly long _start;

        public ProfileScope(Backend backend, string kernel, double flops, double bytes)
        {
            _backend = backend.Profiler is null ? null : backend;
            _kernel = kernel;
            _flops = flops;
            _bytes = bytes;
            _start = _backend is null ? 0 : Stopwatch.GetTimestamp();
        }

        public void Dispose()
        {
            if (_backend?.Profiler is not { } p) return;
            _backend.Synchronize();
            p.Record(_kernel, Stopwatch.GetTimestamp() - _start, _flops, _bytes);
        }
    }

    /// <summary>Bytes of fp32 tensors of these element counts.</summary>
    private static double Bytes(long a, long b = 0, long c = 0, long d = 0) => 4.0 * (a + b + c + d);
}
