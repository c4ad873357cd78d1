using System.Text.Json.Serialization;
using Add.Engine.Configs;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Add.Train.Model;

#pragma warning disable IDE1006 // field names are state-dict keys

/// <summary>config.json of the evaluator: a small residual CNN, deliberately unlike the discriminator's ViT.</summary>
public sealed record EvaluatorConfig : ConfigBase
{
    [JsonPropertyName("channels")] public int[] Channels { get; init; } = [32, 64, 128];
    [JsonPropertyName("norm_num_groups")] public int NormNumGroups { get; init; } = 8;
    [JsonPropertyName("num_labels")] public int NumLabels { get; init; } = 99;

    [System.Text.Json.Serialization.JsonIgnore] public int FeatureDim => Channels[^1];

    public override void Validate()
    {
        ConfigJson.Require(Channels.Length >= 1 && Channels.All(c => c > 0 && c % NormNumGroups == 0), $"channels must be positive multiples of norm_num_groups {NormNumGroups}");
        ConfigJson.Require(NumLabels >= 1, "num_labels must be positive");
    }
}

/// <summary>Conv–GroupNorm–SiLU twice with a residual; the first conv may halve the resolution (stride 2).</summary>
public sealed class EvaluatorBlock : Module<Tensor, Tensor>
{
    readonly Conv2d conv1, conv2;
    readonly GroupNorm norm1, norm2;
    readonly Conv2d? shortcut;

    public EvaluatorBlock(int inCh, int outCh, int stride, int groups) : base(nameof(EvaluatorBlock))
    {
        conv1 = Conv2d(inCh, outCh, 3, stride: stride, padding: 1);
        norm1 = GroupNorm(groups, outCh);
        conv2 = Conv2d(outCh, outCh, 3, padding: 1);
        norm2 = GroupNorm(groups, outCh);
        if (inCh != outCh || stride != 1) shortcut = Conv2d(inCh, outCh, 1, stride: stride);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = functional.silu(norm1.call(conv1.call(x)));
        h = norm2.call(conv2.call(h));
        var s = shortcut is null ? x : shortcut.call(x);
        return functional.silu(h + s).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// The evaluator classifier (never used by any training loss): stem conv, one block per stage (stride 2 after the
/// first), global average pooling to the penultimate features (N, FeatureDim) used by FID-emoji and diversity, and a
/// linear classifier over the 99 subcategories used for prompt adherence. Pixels (N, 3, 32, 32) in [-1, 1].
/// </summary>
public sealed class EvaluatorNet : Module<Tensor, Tensor>
{
    readonly Conv2d stem;
    readonly ModuleList<EvaluatorBlock> blocks;
    readonly Linear classifier;

    public EvaluatorConfig Config { get; }

    public EvaluatorNet(EvaluatorConfig c) : base(nameof(EvaluatorNet))
    {
        c.Validate();
        Config = c;
        stem = Conv2d(3, c.Channels[0], 3, padding: 1);
        blocks = new ModuleList<EvaluatorBlock>(Enumerable.Range(0, c.Channels.Length)
            .Select(i => new EvaluatorBlock(i == 0 ? c.Channels[0] : c.Channels[i - 1], c.Channels[i], i == 0 ? 1 : 2, c.NormNumGroups)).ToArray());
        classifier = Linear(c.FeatureDim, c.NumLabels);
        RegisterComponents();
        NormInit.Apply(this);
    }

    /// <summary>Penultimate features (N, FeatureDim).</summary>
    public Tensor Features(Tensor pixels)
    {
        using var scope = NewDisposeScope();
        var x = stem.call(pixels);
        foreach (var b in blocks) x = b.call(x);
        return x.mean([2L, 3L]).MoveToOuterDisposeScope();
    }

    /// <summary>Class logits (N, num_labels).</summary>
    public override Tensor forward(Tensor pixels)
    {
        using var f = Features(pixels);
        return classifier.call(f);
    }
}
