using Add.Kernels.Cpu;
using Add.Kernels.Ilgpu;

namespace Add.Engine.Backends;

/// <summary>
/// The default backend without a GPU: our SIMD kernels (Add.Kernels.Cpu: Vector512/Vector256/scalar, Parallel.For over
/// the cores). Buffers are managed float arrays; ops run synchronously. GEMM and convolution share one packing
/// workspace that grows to the largest op seen and is then reused.
/// </summary>
public sealed class CpuBackend(SimdPath path = SimdPath.Auto) : Backend
{
    private float[] _workspace = [];

    public SimdPath Path { get; } = CpuSimd.Resolve(path);

    public override string Name => $"cpu ({Path}, {CpuSimd.Threads} threads)";

    /// <summary>Times the packing workspace grew (stays flat once every shape has run).</summary>
    public int WorkspaceGrowths { get; private set; }

    private sealed class HostBuffer(long length) : DeviceBuffer(length)
    {
        public readonly float[] Data = new float[checked((int)length)];
        public override void Dispose() { }
    }

    public override DeviceBuffer Allocate(long length) => new HostBuffer(length);

    private static Span<float> S(TensorView v) => v.IsEmpty ? Span<float>.Empty : ((HostBuffer)v.Buffer!).Data.AsSpan((int)v.Offset, (int)v.Length);

    public override void Upload(ReadOnlySpan<float> source, TensorView destination)
    {
        if (source.Length != destination.Length) throw new ArgumentException($"upload of {source.Length} floats into a view of {destination.Length}");
        source.CopyTo(S(destination));
    }

    public override void Download(TensorView source, Span<float> destination)
    {
        if (source.Length != destination.Length) throw new ArgumentException($"download of a view of {source.Length} floats into {destination.Length}");
        S(source).CopyTo(destination);
    }

    public override void Synchronize() { }

    private Span<float> Workspace(long floats)
    {
        if (_workspace.Length < floats)
        {
            _workspace = new float[checked((int)floats)];
            WorkspaceGrowths++;
        }
        return _workspace;
    }

    public override void Linear(TensorView x, TensorView w, TensorView bias, TensorView residual, TensorView y, int m, int n, int k)
    {
        using var _ = Profile("linear", 2.0 * m * n * k, Bytes(x.Length, w.Length, y.Length, residual.Length));
        LinearCpu.Forward(S(x), S(w), S(bias), S(residual), S(y), m, n, k, Workspace(LinearCpu.WorkspaceFloats(m, n, k)), Path);
    }

    public override void Conv2d(TensorView x, TensorView w, TensorView bias, TensorView residual, TensorView y, Conv2d.Shape s)
    {
        using var _ = Profile(s.KernelH == 1 ? "conv2d 1x1" : "conv2d 3x3", 2.0 * s.Batch * s.OutChannels * s.OutHeight * s.OutWidth * s.ReductionLength,
            Bytes(x.Length, w.Length, y.Length, residual.Length));
        Conv2dCpu.Forward(S(x), S(w), S(bias), S(residual), S(y), s, Workspace(Conv2dCpu.WorkspaceFloats(s)), Path);
    }

    public override void GroupNorm(TensorView x, TensorView gamma, TensorView beta, TensorView y, int n, int c, int spatial, int groups, float epsilon, bool silu)
    {
        using var _ = Profile(silu ? "group_norm+silu" : "group_norm", 0, Bytes(x.Length, y.Length));
        GroupNormCpu.Forward(S(x), S(gamma), S(beta), S(y), n, c, 1, spatial, groups, epsilon, silu, Path);
    }

    public override void LayerNorm(TensorView x, TensorView gamma, TensorView beta, TensorView y, int m, int d, float epsilon)
    {
        using var _ = Profile("layer_norm", 0, Bytes(x.Length, y.Length));
        LayerNormCpu.Forward(S(x), S(gamma), S(beta), S(y), m, d, epsilon, Path);
    }

    public override void Attention(TensorView q, TensorView k, TensorView v, TensorView o, int batch, int heads, int queryLength, int keyLength, int headDim,
        AttentionStrides qs, AttentionStrides ks, AttentionStrides vs, AttentionStrides os, bool causal)
    {
        using var _ = Profile("attention", 4.0 * batch * heads * queryLength * keyLength * headDim, Bytes(q.Length, k.Length, v.Length, o.Length));
        AttentionCpu.Forward(S(q), S(k), S(v), S(o), batch, heads, queryLength, keyLength, headDim, qs, ks, vs, os, causal, Path);
    }

    public override void Silu(TensorView x, TensorView y)
    {
        using var _ = Profile("silu", 0, Bytes(x.Length, y.Length));
        ElementwiseCpu.Silu(S(x), S(y), Path);
    }

    public override void Gelu(TensorView x, TensorView y)
    {
        using var _ = Profile("gelu", 0, Bytes(x.Length, y.Length));
        ElementwiseCpu.Gelu(S(x), S(y), Path);
    }

    public override void Geglu(TensorView x, TensorView y, int m, int f)
    {
        using var _ = Profile("geglu", 0, Bytes(x.Length, y.Length));
        ElementwiseCpu.Geglu(S(x), S(y), m, f, Path);
    }

    public override void Add(TensorView a, TensorView b, TensorView y)
    {
        using var _ = Profile("add", 0, Bytes(a.Length, b.Length, y.Length));
        ElementwiseCpu.Add(S(a), S(b), S(y));
    }

    public override void Upsample2x(TensorView x, TensorView y, int n, int c, int h, int w)
    {
        using var _ = Profile("upsample2x", 0, Bytes(x.Length, y.Length));
        ElementwiseCpu.Upsample2x(S(x), S(y), n, c, h, w, Path);
    }

    public override void ConcatChannels(TensorView a, TensorView b, TensorView y, int n, int ca, int cb, int h, int w)
    {
        using var _ = Profile("concat", 0, Bytes(a.Length, b.Length, y.Length));
        ElementwiseCpu.ConcatChannels(S(a), S(b), S(y), n, ca, cb, h, w);
    }

    public override void TimestepEmbedding(TensorView t, TensorView y, Elementwise.TimestepShape shape)
    {
        using var _ = Profile("timestep_embed", 0, Bytes(t.Length, y.Length));
        ElementwiseCpu.TimestepEmbedding(S(t), S(y), shape);
    }

    public override void SamplerStep(TensorView x, TensorView epsUncond, TensorView epsCond, TensorView noise, TensorView next, TensorView x0, Kernels.Ilgpu.SamplerStep step)
    {
        using var _ = Profile("sampler", 0, Bytes(x.Length, epsUncond.Length + epsCond.Length, noise.Length, next.Length + x0.Length));
        LatentSamplerCpu.Step(S(x), S(epsUncond), S(epsCond), S(noise), S(next), S(x0), step, Path);
    }

    public override void Transpose(TensorView x, TensorView residual, TensorView y, int batch, int rows, int cols)
    {
        using var _ = Profile("transpose", 0, Bytes(x.Length, residual.Length, y.Length));
        LayoutCpu.Transpose(S(x), S(residual), S(y), batch, rows, cols);
    }

    public override void ChannelBias(TensorView x, TensorView bias, TensorView y, int n, int c, int spatial)
    {
        using var _ = Profile("channel_bias", 0, Bytes(x.Length, bias.Length, y.Length));
        LayoutCpu.ChannelBias(S(x), S(bias), S(y), n, c, spatial);
    }

    public override void ZeroPad(TensorView x, TensorView y, int planes, int h, int w, int padBottom, int padRight)
    {
        using var _ = Profile("zero_pad", 0, Bytes(x.Length, y.Length));
        LayoutCpu.ZeroPad(S(x), S(y), planes, h, w, padBottom, padRight);
    }

    public override void Dispose() { }
}
