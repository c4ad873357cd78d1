using System.Diagnostics;
using Add.Kernels.Ilgpu;

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

    /// <summary>When set, every op waits for its kernel and records its time here.</summary>
    public KernelProfiler? Profiler { get; set; }

    public abstract DeviceBuffer Allocate(long length);

    /// <summary>Copies host floats into <paramref name="destination"/> (same length).</summary>
    public abstract void Upload(ReadOnlySpan<float> source, TensorView destination);

    /// <summary>Waits for pending ops, then copies <paramref name="source"/> to the host.</summary>
    public abstract void Download(TensorView source, Span<float> destination);

    /// <summary>Waits until every enqueued op has finished.</summary>
    public abstract void Synchronize();

    /// <summary>A new buffer holding <paramref name="values"/> (weights: uploaded once at load).</summary>
    public DeviceBuffer Constant(ReadOnlySpan<float> values)
    {
        var b = Allocate(Math.Max(values.Length, 1));
        Upload(values, b.View.Slice(0, values.Length));
        return b;
    }

    // ---- ops -------------------------------------------------------------------------------------------------------

    /// <summary>y [M, N] = x [M, K]·wᵀ (w [N, K]) + bias [N] (or Empty) + residual [M, N] (or Empty; may be y).</summary>
    public abstract void Linear(TensorView x, TensorView w, TensorView bias, TensorView residual, TensorView y, int m, int n, int k);

    /// <summary>y = conv2d(x, w) + bias + residual (residual of y's shape, or Empty); shapes in <paramref name="s"/>.</summary>
    public abstract void Conv2d(TensorView x, TensorView w, TensorView bias, TensorView residual, TensorView y, Conv2d.Shape s);

    /// <summary>y [N, C, S] = group_norm(x) (fp32 statistics, two passes), then SiLU when <paramref name="silu"/>.</summary>
    public abstract void GroupNorm(TensorView x, TensorView gamma, TensorView beta, TensorView y, int n, int c, int spatial, int groups, float epsilon, bool silu);

    /// <summary>y [M, D] = layer_norm(x [M, D]) over D.</summary>
    public abstract void LayerNorm(TensorView x, TensorView gamma, TensorView beta, TensorView y, int m, int d, float epsilon);

    /// <summary>o = softmax(q·kᵀ/√D)·v per (batch, head), any strides (the fused flash kernel); causal masks keys j &gt; i.</summary>
    public abstract void Attention(TensorView q, TensorView k, TensorView v, TensorView o, int batch, int heads, int queryLength, int keyLength, int headDim,
        AttentionStrides qs, AttentionStrides ks, AttentionStrides vs, AttentionStrides os, bool causal);

    /// <summary>y = silu(x); y may be x.</summary>
    public abstract void Silu(TensorView x, TensorView y);

    /// <summary>y = gelu(x) (erf form); y may be x.</summary>
    public abstract void Gelu(TensorView x, TensorView y);

    /// <summary>y [M, F] = x[:, :F]·gelu(x[:, F:]) for x [M, 2F].</summary>
    public abstract void Geglu(TensorView x, TensorView y, int m, int f);

    /// <summary>y = a + b; y may be a or b.</summary>
    public abstract void Add(TensorView a, TensorView b, TensorView y);

    /// <summary>Nearest 2× upsample x [N, C, H, W] → y [N, C, 2H, 2W].</summary>
    public abstract void Upsample2x(TensorView x, TensorView y, int n, int c, int h, int w);

    /// <summary>y [N, Ca+Cb, H, W] = cat(a, b, dim 1).</summary>
    public abstract void ConcatChannels(TensorView a, TensorView b, TensorView y, int n, int ca, int cb, int h, int w);

    /// <summary>Sinusoidal embedding of t [B] into y [B, D].</summary>
    public abstract void TimestepEmbedding(TensorView t, TensorView y, Elementwise.TimestepShape shape);

    /// <summary>One fused sampler update (guidance, x̂0, next latent); <paramref name="next"/> may be x.</summary>
    public abstract void SamplerStep(TensorView x, TensorView epsUncond, TensorView epsCond, TensorView noise, TensorView next, TensorView x0, Kernels.Ilgpu.SamplerStep step);

    /// <summary>y [B, C, R] = x [B, R, C]ᵀ (+ residual [B, C, R], or Empty; residual may be y).</summary>
    public abstract void Transpose(TensorView x, TensorView residual, TensorView y, int batch, int rows, int cols);

    /// <summary>y [N, C, S] = x + bias [N, C]; y may be x.</summary>
    public abstract void ChannelBias(TensorView x, TensorView bias, TensorView y, int n, int c, int spatial);

    /// <summary>y [P, H+pb, W+pr] = x [P, H, W] zero-padded bottom and right.</summary>
    public abstract void ZeroPad(TensorView x, TensorView y, int planes, int h, int w, int padBottom, int padRight);

    public abstract void Dispose();

    // ---- profiling -------------------------------------------------------------------------------------------------

    /// <summary>Times one op when a profiler is attached: <c>using var _ = Profile("conv2d", flops, bytes);</c>.</summary>
    protected ProfileScope Profile(string kernel, double flops, double bytes) => new(this, kernel, flops, bytes);

    protected readonly struct ProfileScope : IDisposable
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
    protected static double Bytes(long a, long b = 0, long c = 0, long d = 0) => 4.0 * (a + b + c + d);
}
