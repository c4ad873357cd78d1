using Add.Engine.Backends;

namespace Add.Engine.Models;

/// <summary>
/// diffusers ResnetBlock2D: y = shortcut(x) + conv2(silu(norm2(conv1(silu(norm1(x))) + time_emb_proj(silu(temb))))).
/// The group norms fuse their SiLU; the time embedding enters as a per-sample channel bias; the shortcut (x, or a
/// 1×1 conv when channels change) is added in conv2's epilogue.
/// </summary>
public sealed class ResnetBlock2D
{
    private readonly Runtime _rt;
    private readonly GroupNorm _norm1, _norm2;
    private readonly Conv2d _conv1, _conv2;
    private readonly Linear? _timeEmbProj;
    private readonly Conv2d? _convShortcut;

    public int In { get; }
    public int Out { get; }

    public ResnetBlock2D(Runtime rt, Weights w, string prefix, int inChannels, int outChannels, int groups, double eps, int? tembChannels)
    {
        _rt = rt;
        In = inChannels;
        Out = outChannels;
        _norm1 = GroupNorm.Load(w, prefix + ".norm1", inChannels, groups, eps);
        _conv1 = Conv2d.Load(w, prefix + ".conv1", inChannels, outChannels, 3);
        if (tembChannels is int t) _timeEmbProj = Linear.Load(w, prefix + ".time_emb_proj", t, outChannels);
        _norm2 = GroupNorm.Load(w, prefix + ".norm2", outChannels, groups, eps);
        _conv2 = Conv2d.Load(w, prefix + ".conv2", outChannels, outChannels, 3);
        if (inChannels != outChannels) _convShortcut = Conv2d.Load(w, prefix + ".conv_shortcut", inChannels, outChannels, 1);
    }

    /// <summary>x [N, In, H, W] → y [N, Out, H, W]. <paramref name="tembSilu"/>: silu(temb) [N, T], or Empty (VAE).
    /// <paramref name="spare"/>: memory the caller does not need during the call (overlapping neither x nor y), used for
    /// conv1's output [N, Out, H, W] when it is large enough instead of a new arena view (the VAE decoder passes the
    /// unused tail of its output buffer).</summary>
    public void Forward(TensorView x, TensorView y, int n, int h, int w, TensorView tembSilu, TensorView spare = default)
    {
        var (b, a) = (_rt.Backend, _rt.Arena);
        int mark = a.Mark(), hw = h * w;
        var t = a.Take((long)n * Math.Max(In, Out) * hw);
        var t1 = t.Slice(0, (long)n * In * hw);
        _norm1.Forward(b, x, t1, n, hw, silu: true);
        long hiddenLength = (long)n * Out * hw;
        var hidden = spare.Length >= hiddenLength ? spare.Slice(0, hiddenLength) : a.Take(hiddenLength);
        _conv1.Forward(b, t1, hidden, n, h, w);
        if (_timeEmbProj is not null && !tembSilu.IsEmpty)
        {
            var bias = a.Take((long)n * Out);
            _timeEmbProj.Forward(b, tembSilu, bias, n);
            b.ChannelBias(hidden, bias, hidden, n, Out, hw);
        }
        var t2 = t.Slice(0, (long)n * Out * hw);
        _norm2.Forward(b, hidden, t2, n, hw, silu: true);
        var shortcut = x;
        if (_convShortcut is not null)
        {
            shortcut = hidden;  // conv1's output is no longer needed
            _convShortcut.Forward(b, x, shortcut, n, h, w);
        }
        _conv2.Forward(b, t2, y, n, h, w, residual: shortcut);
        a.Release(mark);
    }
}
