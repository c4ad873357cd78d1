using Add.Engine.Backends;

namespace Add.Engine.Models;

/// <summary>
/// diffusers BasicTransformerBlock (pre-norm): s += attn1(norm1(s)); s += attn2(norm2(s), context); s += ff(norm3(s)),
/// ff = Linear(GEGLU(Linear(x))) with GEGLU(h) = h[:, :F]·gelu(h[:, F:]) fused into one kernel.
/// </summary>
public sealed class BasicTransformerBlock
{
    private readonly Runtime _rt;
    private readonly LayerNorm _norm1, _norm2, _norm3;
    private readonly Attention _attn1, _attn2;
    private readonly Linear _ffIn, _ffOut;
    private readonly int _dim;

    public BasicTransformerBlock(Runtime rt, Weights w, string prefix, int dim, int heads, int contextDim)
    {
        _rt = rt;
        _dim = dim;
        _norm1 = LayerNorm.Load(w, prefix + ".norm1", dim);
        _attn1 = new Attention(rt, w, prefix + ".attn1", dim, dim, heads, bias: false, causal: false, Attention.Diffusers);
        _norm2 = LayerNorm.Load(w, prefix + ".norm2", dim);
        _attn2 = new Attention(rt, w, prefix + ".attn2", dim, contextDim, heads, bias: false, causal: false, Attention.Diffusers);
        _norm3 = LayerNorm.Load(w, prefix + ".norm3", dim);
        _ffIn = Linear.Load(w, prefix + ".ff.net.0.proj", dim, dim * 8);   // GEGLU: 2 × inner (inner = 4·dim)
        _ffOut = Linear.Load(w, prefix + ".ff.net.2", dim * 4, dim);
    }

    /// <summary>s [N, L, C] updated in place; context [N, Lk, Cctx].</summary>
    public void Forward(TensorView s, TensorView context, int n, int length, int contextLength)
    {
        var (b, a) = (_rt.Backend, _rt.Arena);
        int mark = a.Mark(), m = n * length;
        var normed = a.Take((long)m * _dim);
        _norm1.Forward(b, s, normed, m);
        _attn1.Forward(normed, normed, s, s, n, length, length);
        _norm2.Forward(b, s, normed, m);
        _attn2.Forward(normed, context, s, s, n, length, contextLength);
        _norm3.Forward(b, s, normed, m);
        // The feed-forward a chunk of tokens at a time (diffusers' enable_forward_chunking): its hidden state is 12·C floats
        // per token, at 64² [4096, 3840] per image (63 MB; 252 MB at batch 4 before the images went in groups); per row
        // nothing changes (each row of a linear is its own sums), so the bytes are those of one pass.
        int chunk = Math.Min(m, FeedForwardChunkRows);
        var h = a.Take((long)chunk * _dim * 8);
        var g = a.Take((long)chunk * _dim * 4);
        for (int r0 = 0; r0 < m; r0 += chunk)
        {
            int rows = Math.Min(chunk, m - r0);
            var x = normed.Slice((long)r0 * _dim, (long)rows * _dim);
            var y = s.Slice((long)r0 * _dim, (long)rows * _dim);
            var hr = h.Slice(0, (long)rows * _dim * 8);
            var gr = g.Slice(0, (long)rows * _dim * 4);
            _ffIn.Forward(b, x, hr, rows);
            b.Geglu(hr, gr, rows, _dim * 4);
            _ffOut.Forward(b, gr, y, rows, residual: y);
        }
        a.Release(mark);
    }

    /// <summary>Tokens per feed-forward chunk: half of one 64² image's (SD-Turbo's largest level at 512²); the GEMMs run
    /// as fast at 2,048 rows as at 4,096, and the hidden state takes 31 MB instead of 63.</summary>
    public const int FeedForwardChunkRows = 2048;
}

/// <summary>
/// diffusers Transformer2DModel: y = x + toImage(proj_out(blocks(proj_in(toTokens(norm(x)))))), where toTokens/toImage
/// are the [N, C, HW] ↔ [N, HW, C] transposes (the last one adds the residual x). With use_linear_projection,
/// proj_in/proj_out are Linear [C, C]; without, 1×1 Conv2d [C, C, 1, 1] applied before toTokens / after toImage: the
/// same per-pixel matrix product (diffusers transformer_2d.py), so both run as a GEMM on the tokens.
/// </summary>
public sealed class Transformer2DModel
{
    private readonly Runtime _rt;
    private readonly GroupNorm _norm;
    private readonly Linear _projIn, _projOut;
    private readonly BasicTransformerBlock[] _blocks;
    private readonly int _channels;

    public Transformer2DModel(Runtime rt, Weights w, string prefix, int channels, int heads, int contextDim, int groups, int layers, bool linearProjection)
    {
        _rt = rt;
        _channels = channels;
        _norm = GroupNorm.Load(w, prefix + ".norm", channels, groups, 1e-6);
        _projIn = Projection(w, prefix + ".proj_in", channels, linearProjection);
        _blocks = Enumerable.Range(0, layers).Select(i => new BasicTransformerBlock(rt, w, $"{prefix}.transformer_blocks.{i}", channels, heads, contextDim)).ToArray();
        _projOut = Projection(w, prefix + ".proj_out", channels, linearProjection);
    }

    /// <summary>proj_in / proj_out: weight [C, C] (Linear) or [C, C, 1, 1] (1×1 conv), the same [out, in] layout; bias [C].</summary>
    private static Linear Projection(Weights w, string prefix, int channels, bool linear) => linear
        ? Linear.Load(w, prefix, channels, channels)
        : new Linear(Linear.LoadWeight(w, prefix + ".weight", [channels, channels, 1, 1], channels, channels), w.Device(prefix + ".bias", channels), channels, channels);

    /// <summary>x [N, C, H, W] → y [N, C, H, W]; context [N, Lk, Cctx]. Images go through in groups of at most
    /// <see cref="GroupTokens"/> tokens (at least one image): every op works per image or per token, so the bytes are those
    /// of one pass, and the transformer's buffers (its tokens, their norm, q, k, v, the attention's output: ~10 of
    /// [N·H·W, C]) are one group's: at SD-Turbo batch 4 and 64², 5 MB each instead of 21 (the UNet's highest point).</summary>
    public void Forward(TensorView x, TensorView y, TensorView context, int n, int h, int w, int contextLength)
    {
        int l = h * w, group = Math.Max(1, GroupTokens / l);
        long image = (long)_channels * l, contextRow = context.Length / n;
        for (int i = 0; i < n; i += group)
        {
            int count = Math.Min(group, n - i);
            ForwardGroup(x.Slice(i * image, count * image), y.Slice(i * image, count * image),
                context.Slice(i * contextRow, count * contextRow), count, h, w, contextLength);
        }
    }

    /// <summary>Tokens per group of images: one 64² image's (SD-Turbo's largest level at 512²), so batch 1 runs in one pass.</summary>
    public const int GroupTokens = 4096;

    private void ForwardGroup(TensorView x, TensorView y, TensorView context, int n, int h, int w, int contextLength)
    {
        var (b, a) = (_rt.Backend, _rt.Arena);
        int mark = a.Mark(), l = h * w, c = _channels;
        long size = (long)n * c * l;
        var t0 = a.Take(size);
        var t1 = a.Take(size);
        _norm.Forward(b, x, t0, n, l, silu: false);
        b.Transpose(t0, TensorView.Empty, t1, n, c, l);       // [N, C, L] → [N, L, C]
        _projIn.Forward(b, t1, t0, n * l);                    // s = t0
        foreach (var block in _blocks) block.Forward(t0, context, n, l, contextLength);
        _projOut.Forward(b, t0, t1, n * l);
        b.Transpose(t1, x, y, n, l, c);                       // [N, L, C] → [N, C, L], + x
        a.Release(mark);
    }
}
