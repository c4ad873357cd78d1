using Add.Engine.Configs;
using Add.Train.Model;
using Add.Train.Training;
using static TorchSharp.torch;

namespace Add.Tests.Reference;

/// <summary>The LADD path of an ADD step (`--disc-features teacher`; Sauer et al. 2024): the teacher UNet's feature
/// maps, what one step may change, and the generator gradient through the frozen teacher.</summary>
public class LaddStepTests
{
    [Fact]
    public void TeacherFeaturesAreTheDownAndMidBlockOutputsAsTokens()
    {
        manual_seed(4);
        // Two levels at 8×8: block 0 (16 ch) downsamples to 4×4, block 1 (32 ch) keeps 4×4, the mid block 32 ch at 4×4.
        var config = UNet2DConditionConfig.Emoji32 with { BlockOutChannels = [16, 32], DownBlockTypes = ["CrossAttnDownBlock2D", "DownBlock2D"], UpBlockTypes = ["UpBlock2D", "CrossAttnUpBlock2D"], NormNumGroups = 8, AttentionHeadDim = 2, CrossAttentionDim = 16 };
        var unet = new UNet2DConditionModel(config);
        unet.eval();
        Assert.Equal([16, 32, 32], unet.FeatureChannels);
        using var features = NewDisposeScope();
        var maps = unet.Features(randn(3, 4, 8, 8), tensor(new long[] { 10, 500, 990 }), randn(3, 6, 16));
        Assert.Equal(new long[][] { [3, 16, 16], [3, 32, 16], [3, 32, 16] }, maps.Select(m => m.shape).ToArray());
        Assert.All(maps, m => Assert.True(isfinite(m).all().item<bool>()));
    }

    [Fact]
    public void OneLaddStepChangesTheStudentAndHeadsButNotTheTeacherTextEncoderOrVae()
    {
        var step = AddLossTests.TinyStep(new AddSettings { DiscFeatures = DiscFeatures.Teacher });
        Assert.Null(step.Features);
        var frozen = new (string, nn.Module)[] { ("teacher", step.Teacher), ("text encoder", step.TextEncoder), ("vae", step.Vae) };
        var before = frozen.ToDictionary(f => f.Item1, f => AddLossTests.Snapshot(f.Item2));
        var studentBefore = AddLossTests.Snapshot(step.Student);
        var headsBefore = AddLossTests.Snapshot(step.Heads);

        var metrics = step.Run(AddLossTests.TinyBatch(), new Random(1), new Generator(1));
        Assert.All(new[] { "adv_g", "adv_d", "distill", "r1", "d_real", "d_fake" }, k => Assert.True(double.IsFinite(metrics[k]), k));
        Assert.True(metrics["r1"] > 0, "R1 on the real teacher features is zero: the real inputs lost their gradient");

        foreach (var (name, module) in frozen)
            foreach (var (key, value) in AddLossTests.Snapshot(module))
                Assert.True(before[name][key].AsSpan().SequenceEqual(value), $"{name} weight {key} changed");
        Assert.Contains(AddLossTests.Snapshot(step.Student), kv => !studentBefore[kv.Key].AsSpan().SequenceEqual(kv.Value));
        Assert.Contains(AddLossTests.Snapshot(step.Heads).Where(kv => !kv.Key.EndsWith(".u")), kv => !headsBefore[kv.Key].AsSpan().SequenceEqual(kv.Value));
    }

    [Fact]
    public void TheAdversarialGradientReachesTheStudentThroughTheFrozenTeacher()
    {
        // Without L_distill the only path from the loss to the student is x̂θ → re-noise → teacher features → heads.
        var step = AddLossTests.TinyStep(new AddSettings { DiscFeatures = DiscFeatures.Teacher, Distill = false });
        var metrics = step.Run(AddLossTests.TinyBatch(), new Random(3), new Generator(3));
        Assert.False(metrics.ContainsKey("distill"));
        // The generator's gradient stays on the student's parameters after its optimiser step (only the heads' are zeroed later).
        Assert.Contains(step.Student.parameters(), p => p.grad is not null && p.grad.abs().sum().item<float>() > 0);
        Assert.All(step.Teacher.parameters(), p => Assert.True(p.grad is null, "a frozen teacher weight received a gradient"));
    }
}
