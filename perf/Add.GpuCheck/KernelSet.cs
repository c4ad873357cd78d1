using Add.Kernels;
using Add.Kernels.Ilgpu;
using ILGPU;
using ILGPU.Runtime;

namespace Add.GpuCheck;

/// <summary>
/// Small attention tiles for trying the check on ILGPU's CPU accelerator: 16 query rows, 16 keys per step, D ≤ 64
/// (the library's <see cref="AttentionTileSmall"/> stops at D = 16, and the model's heads have D = 16, 32 and 64).
/// Shared memory 2·16·64·4 B = 8 KiB.
/// </summary>
public readonly struct AttentionTileCheck : IAttentionTile
{
    public int BlockQ => 16;
    public int BlockK => 16;
    public int MaxHeadDim => 64;
}

/// <summary>The host classes of every ILGPU kernel family, loaded once for one accelerator at one choice of tiles.</summary>
public interface IKernelSet
{
    /// <summary>The tiles, for the report: "GroupNorm T256, attention 64x32 (D<=128), GEMM 16x16".</summary>
    string Tiles { get; }

    void GroupNorm(AcceleratorStream s, ArrayView<float> x, ArrayView<float> gamma, ArrayView<float> beta, ArrayView<float> y,
        int n, int c, int h, int w, int groups, float epsilon, bool silu);

    void LayerNorm(AcceleratorStream s, ArrayView<float> x, ArrayView<float> gamma, ArrayView<float> beta, ArrayView<float> y,
        int m, int d, float epsilon);

    void Attention(AcceleratorStream s, ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, ArrayView<float> o,
        int batch, int heads, int queryLength, int keyLength, int headDim);

    void Linear(AcceleratorStream s, ArrayView<float> x, ArrayView<float> w, ArrayView<float> bias, ArrayView<float> y, int m, int n, int k);

    void Conv2d(AcceleratorStream s, ArrayView<float> x, ArrayView<float> w, ArrayView<float> bias, ArrayView<float> y, Conv2dShape shape);

    ElementwiseIlgpu Elementwise { get; }

    TimestepEmbeddingIlgpu TimestepEmbedding { get; }

    LatentSamplerIlgpu Sampler { get; }
}

/// <summary>
/// <see cref="IKernelSet"/> for compile-time tiles: <typeparamref name="TNorm"/> threads per norm group,
/// <typeparamref name="TAttention"/> attention tiles, <typeparamref name="TGemm"/> GEMM/conv tiles. Each host class is
/// created (its kernel compiled) on first use, so a filtered run compiles only what it launches.
/// </summary>
public sealed class KernelSet<TNorm, TAttention, TGemm>(Accelerator accelerator) : IKernelSet
    where TNorm : struct, IGroupSize
    where TAttention : struct, IAttentionTile
    where TGemm : struct, IGemmTile
{
    private GroupNormIlgpu<TNorm>? _groupNorm;
    private LayerNormIlgpu<TNorm>? _layerNorm;
    private AttentionIlgpu<TAttention>? _attention;
    private LinearIlgpu<TGemm>? _linear;
    private Conv2dIlgpu<TGemm>? _conv;
    private ElementwiseIlgpu? _elementwise;
    private TimestepEmbeddingIlgpu? _timestep;
    private LatentSamplerIlgpu? _sampler;

    public string Tiles
    {
        get
        {
            var a = default(TAttention);
            int g = default(TGemm).Size;
            return $"norms {default(TNorm).Threads} threads, attention {a.BlockQ}x{a.BlockK} (D <= {a.MaxHeadDim}), GEMM/conv {g}x{g}";
        }
    }

    public void GroupNorm(AcceleratorStream s, ArrayView<float> x, ArrayView<float> gamma, ArrayView<float> beta, ArrayView<float> y,
        int n, int c, int h, int w, int groups, float epsilon, bool silu) =>
        (_groupNorm ??= new(accelerator)).Launch(x, gamma, beta, y, n, c, h, w, groups, epsilon, silu, s);

    public void LayerNorm(AcceleratorStream s, ArrayView<float> x, ArrayView<float> gamma, ArrayView<float> beta, ArrayView<float> y,
        int m, int d, float epsilon) =>
        (_layerNorm ??= new(accelerator)).Launch(x, gamma, beta, y, m, d, epsilon, s);

    public void Attention(AcceleratorStream s, ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, ArrayView<float> o,
        int batch, int heads, int queryLength, int keyLength, int headDim) =>
        (_attention ??= new(accelerator)).Launch(q, k, v, o, batch, heads, queryLength, keyLength, headDim, s);

    public void Linear(AcceleratorStream s, ArrayView<float> x, ArrayView<float> w, ArrayView<float> bias, ArrayView<float> y, int m, int n, int k) =>
        (_linear ??= new(accelerator)).Launch(x, w, bias, y, m, n, k, s);

    public void Conv2d(AcceleratorStream s, ArrayView<float> x, ArrayView<float> w, ArrayView<float> bias, ArrayView<float> y, Conv2dShape shape) =>
        (_conv ??= new(accelerator)).Launch(x, w, bias, y, shape, s);

    public ElementwiseIlgpu Elementwise => _elementwise ??= new(accelerator);

    public TimestepEmbeddingIlgpu TimestepEmbedding => _timestep ??= new(accelerator);

    public LatentSamplerIlgpu Sampler => _sampler ??= new(accelerator);
}

/// <summary>The two tile choices: the GPU's (what the engine ships) and small ones for the CPU accelerator.</summary>
public static class KernelSets
{
    /// <summary>GPU tiles: 256-thread norm groups, attention 64×32 (D ≤ 128), 16×16 GEMM/conv tiles.</summary>
    public static IKernelSet Gpu(Accelerator accelerator) => new KernelSet<Threads256, AttentionTileGpu, GemmTile16>(accelerator);

    /// <summary>Small tiles, cheap on ILGPU's CPU accelerator (about 1.5 ms per barrier of a 256-thread group there).</summary>
    public static IKernelSet Small(Accelerator accelerator) => new KernelSet<Threads16, AttentionTileCheck, GemmTile4>(accelerator);
}
