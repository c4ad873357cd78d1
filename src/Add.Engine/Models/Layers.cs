using Add.Engine.Backends;
using Add.Kernels;

namespace Add.Engine.Models;

/// <summary>What every model part runs on: the backend and the activation arena of the pipeline that owns it.</summary>
public sealed record Runtime(Backend Backend, Arena Arena);

/// <summary>torch.nn.Linear: y [M, out] = x [M, in]·Wᵀ + b (+ residual). Keys PREFIX.weight [out, in], PREFIX.bias [out].</summary>
public sealed class Linear(TensorView weight, TensorView bias, int inFeatures, int outFeatures)
{
    public int In { get; } = inFeatures;
    public int Out { get; } = outFeatures;

    public static Linear Load(Weights w, string prefix, int inFeatures, int outFeatures, bool bias = true) =>
        new(LoadWeight(w, prefix + ".weight", [outFeatures, inFeatures], inFeatures, outFeatures), bias ? w.Device(prefix + ".bias", outFeatures) : TensorView.Empty, inFeatures, outFeatures);

    /// <summary>A linear layer stored either as Linear [out, in] or as a 1×1 Conv2d [out, in, 1, 1] (the same [out, in] layout
    /// and arithmetic on tokens): the shape the file holds decides; any other shape names both accepted ones.</summary>
    public static Linear LoadPointwise(Weights w, string prefix, int inFeatures, int outFeatures, bool bias = true)
    {
        bool conv = w.ShapeOf(prefix + ".weight") is { Length: 4 } s && s[2] == 1 && s[3] == 1;
        var weight = LoadWeight(w, prefix + ".weight", conv ? [outFeatures, inFeatures, 1, 1] : [outFeatures, inFeatures], inFeatures, outFeatures);
        return new(weight, bias ? w.Device(prefix + ".bias", outFeatures) : TensorView.Empty, inFeatures, outFeatures);
    }

    /// <summary>The weight <paramref name="key"/> of the file's <paramref name="shape"/> ([out, in] or [out, in, 1, 1]),
    /// loaded for this op only (<see cref="Weights.GemmWeight"/>: on the CPU, packed panels and no plain copy).</summary>
    public static TensorView LoadWeight(Weights w, string key, int[] shape, int inFeatures, int outFeatures, Action<float[]>? transform = null) =>
        w.GemmWeight(key, shape, outFeatures, inFeatures, conv: false, transform);

    /// <summary>x [M, In] → y [M, Out]; residual [M, Out] or Empty (may be y).</summary>
    public void Forward(Backend b, TensorView x, TensorView y, int m, TensorView residual = default) =>
        b.Linear(x, weight, bias, residual, y, m, Out, In);
}

/// <summary>torch.nn.Conv2d (dilation 1, groups 1). Keys PREFIX.weight [Co, Ci, k, k], PREFIX.bias [Co] (none when bias is Empty).</summary>
public sealed class Conv2d(TensorView weight, TensorView bias, int inChannels, int outChannels, int kernel, int stride, int padding)
{
    public int In { get; } = inChannels;
    public int Out { get; } = outChannels;
    public int Stride { get; } = stride;

    public static Conv2d Load(Weights w, string prefix, int inChannels, int outChannels, int kernel, int stride = 1, int padding = -1, bool bias = true) =>
        new(LoadWeight(w, prefix + ".weight", inChannels, outChannels, kernel), bias ? w.Device(prefix + ".bias", outChannels) : TensorView.Empty,
            inChannels, outChannels, kernel, stride, padding < 0 ? kernel / 2 : padding);

    /// <summary>The weight <paramref name="key"/> [Co, Ci, k, k] (after an optional host-side <paramref name="transform"/>),
    /// loaded for this op only (<see cref="Weights.GemmWeight"/>: on the CPU, packed panels and no plain copy).</summary>
    public static TensorView LoadWeight(Weights w, string key, int inChannels, int outChannels, int kernel, Action<float[]>? transform = null) =>
        w.GemmWeight(key, [outChannels, inChannels, kernel, kernel], outChannels, inChannels * kernel * kernel, conv: true, transform);

    /// <summary>Host weights w [Co, Ci, k, k] uploaded for this op only (a weight with a scale folded in on the host).</summary>
    public static TensorView UploadWeight(Weights w, ReadOnlySpan<float> values, int inChannels, int outChannels, int kernel) =>
        w.UploadGemmWeight(values, outChannels, inChannels * kernel * kernel, conv: true);

    public Conv2dShape Shape(int n, int h, int w) => new(n, In, h, w, Out, kernel, kernel, Stride, padding, hasBias: !bias.IsEmpty);

    /// <summary>x [N, In, H, W] → y [N, Out, Ho, Wo]; residual of y's shape or Empty; ReLU after (fused) when <paramref name="relu"/>.</summary>
    public void Forward(Backend b, TensorView x, TensorView y, int n, int h, int w, TensorView residual = default, bool relu = false) =>
        b.Conv2d(x, weight, bias, residual, y, Shape(n, h, w), relu);
}

/// <summary>torch.nn.GroupNorm. Keys PREFIX.weight [C], PREFIX.bias [C].</summary>
public sealed class GroupNorm(TensorView gamma, TensorView beta, int channels, int groups, float epsilon)
{
    public static GroupNorm Load(Weights w, string prefix, int channels, int groups, double epsilon)
    {
        if (groups <= 0 || channels % groups != 0)
            throw new InvalidDataException($"{w.FileName}: {prefix} has {channels} channels, not a multiple of {groups} groups");
        return new(w.Device(prefix + ".weight", channels), w.Device(prefix + ".bias", channels), channels, groups, (float)epsilon);
    }

    /// <summary>x [N, C, S] → y [N, C, S], then SiLU when <paramref name="silu"/> (fused).</summary>
    public void Forward(Backend b, TensorView x, TensorView y, int n, int spatial, bool silu) =>
        b.GroupNorm(x, gamma, beta, y, n, channels, spatial, groups, epsilon, silu);
}

/// <summary>torch.nn.LayerNorm over the last dim. Keys PREFIX.weight [D], PREFIX.bias [D].</summary>
public sealed class LayerNorm(TensorView gamma, TensorView beta, int dim, float epsilon)
{
    public static LayerNorm Load(Weights w, string prefix, int dim, double epsilon = 1e-5) =>
        new(w.Device(prefix + ".weight", dim), w.Device(prefix + ".bias", dim), dim, (float)epsilon);

    /// <summary>x [M, D] → y [M, D].</summary>
    public void Forward(Backend b, TensorView x, TensorView y, int m) => b.LayerNorm(x, gamma, beta, y, m, dim, epsilon);
}
