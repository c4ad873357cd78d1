using Add.Engine.Configs;
using Add.Train.Model;
using Add.Train.Pipeline;
using Add.Train.Training;
using static TorchSharp.torch;

namespace Add.Tests.Reference;

/// <summary>ADD's losses against hand-computed values, R1 against finite differences, and what one step may change.</summary>
public class AddLossTests
{
    [Fact]
    public void HingeLossMatchesHandComputedValues()
    {
        // Head 1: real logits [2, 0.5] → relu(1−·) = [0, 0.5] mean 0.25; fake [−3, 0] → relu(1+·) = [0, 1] mean 0.5.
        // Head 2: real [−1] → 2; fake [0.5] → 1.5. Total 0.25 + 0.5 + 2 + 1.5 = 4.25.
        var real = new List<Tensor> { tensor(new float[] { 2f, 0.5f }), tensor(new float[] { -1f }) };
        var fake = new List<Tensor> { tensor(new float[] { -3f, 0f }), tensor(new float[] { 0.5f }) };
        Assert.Equal(4.25f, AddLosses.HingeDiscriminator(real, fake).item<float>(), 6);
        // Generator: −(mean(fake₁) + mean(fake₂)) = −(−1.5 + 0.5) = 1.
        Assert.Equal(1f, AddLosses.AdversarialGenerator(fake).item<float>(), 6);
    }

    [Fact]
    public void DistillWeightingsMatchHandComputedValues()
    {
        const double AlphaBar = 0.36;            // α = 0.6, σ = 0.8
        Assert.Equal(0.36, AddLosses.Weight(DistillWeighting.Exp, AlphaBar), 12);
        Assert.Equal(0.6 * 0.8 / 2, AddLosses.Weight(DistillWeighting.Sds, AlphaBar), 12);   // w(t)·α/(2σ) with w = σ²
        // The SDS weighting makes 2·c(t)·(σ/α) equal w(t) = σ², the identity the derivation relies on.
        Assert.Equal(0.64, 2 * AddLosses.Weight(DistillWeighting.Sds, AlphaBar) * (0.8 / 0.6), 12);
    }

    [Fact]
    public void R1EqualsAFiniteDifferenceEstimateOnAToyHead()
    {
        manual_seed(3);
        var head = new DiscriminatorHead(channels: 6, conditionDim: 5);
        head.eval();                                            // freeze the spectral-norm power iteration
        var features = randn(2, 6, 12, dtype: ScalarType.Float64).to_type(ScalarType.Float32).requires_grad_(true);
        var condition = randn(2, 5);
        var logits = head.forward(features, condition);
        double r1 = AddLosses.R1([logits], [features]).item<float>();

        // R1 = mean_n ‖∂(Σ_l D(f)_{n,l})/∂f_n‖²; estimate each partial derivative by central differences.
        const float H = 1e-2f;
        var f0 = features.detach().clone();
        var flat = f0.data<float>().ToArray();
        double[] perSample = new double[2];
        using (no_grad())
        {
            for (int i = 0; i < flat.Length; i++)
            {
                var plus = (float[])flat.Clone(); plus[i] += H;
                var minus = (float[])flat.Clone(); minus[i] -= H;
                var dp = head.forward(tensor(plus, f0.shape), condition).sum(1);
                var dm = head.forward(tensor(minus, f0.shape), condition).sum(1);
                int n = i / (6 * 12);
                double g = (dp[n].item<float>() - dm[n].item<float>()) / (2 * H);
                perSample[n] += g * g;
            }
        }
        double estimate = perSample.Average();
        const double FiniteDifferenceTolerance = 2e-2;   // relative: fp32 central differences with h = 1e-2 through LeakyReLU kinks
        Assert.True(Math.Abs(r1 - estimate) <= FiniteDifferenceTolerance * Math.Abs(estimate), $"R1 {r1} vs finite differences {estimate}");
    }

    /// <summary>A tiny ADD step; with <see cref="DiscFeatures.Teacher"/> the heads sit on the teacher's feature maps and
    /// no ViT is given (the LADD path must not need one).</summary>
    internal static AddStep TinyStep(AddSettings settings)
    {
        manual_seed(0);
        var unetConfig = UNet2DConditionConfig.Emoji32 with { BlockOutChannels = [16, 16], DownBlockTypes = ["CrossAttnDownBlock2D", "DownBlock2D"], UpBlockTypes = ["UpBlock2D", "CrossAttnUpBlock2D"], NormNumGroups = 8, AttentionHeadDim = 2, CrossAttentionDim = 16 };
        var teacher = new UNet2DConditionModel(unetConfig);
        var student = new UNet2DConditionModel(unetConfig);
        Ema.Copy(student, teacher);
        var text = new CLIPTextModel(CLIPTextConfig.Emoji32(20) with { HiddenSize = 16, IntermediateSize = 32, NumHiddenLayers = 1, NumAttentionHeads = 2, MaxPositionEmbeddings = 6 });
        var vae = new AutoencoderKL(AutoencoderKLConfig.Emoji32.WithLevels(8, 8, 8) with { NormNumGroups = 4 });
        var vit = new VisionTransformer(new ViTConfig { HiddenSize = 16, NumHiddenLayers = 2, NumAttentionHeads = 2, IntermediateSize = 32, PatchSize = 8, NumLabels = 3 });
        bool vitFeatures = settings.DiscFeatures == DiscFeatures.Vit;
        var heads = vitFeatures ? new Discriminator(3, 16, 32) : new Discriminator(teacher.FeatureChannels, 16 + AddStep.NoiseEmbeddingDim);
        var step = new AddStep
        {
            Student = student, Teacher = teacher, TextEncoder = text, Vae = vae, Features = vitFeatures ? vit : null, Heads = heads,
            StudentOptimizer = optim.AdamW(student.parameters(), lr: 1e-3), HeadsOptimizer = optim.AdamW(heads.parameters(), lr: 1e-3),
            Schedule = new ReferenceSchedule(SchedulerConfig.EmojiTeacher), Settings = settings,
        };
        step.Freeze();
        return step;
    }

    internal static AddStep.Batch TinyBatch() => new(rand(2, 3, 32, 32) * 2 - 1, randn(2, 4, 8, 8), tensor(new long[] { 1, 5, 6, 2, 0, 0, 1, 7, 2, 0, 0, 0 }, [2, 6]));

    internal static Dictionary<string, float[]> Snapshot(nn.Module m) => m.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone().data<float>().ToArray());

    [Fact]
    public void OneAddStepChangesTheStudentAndHeadsButNotTheTeacherFeaturesTextEncoderOrVae()
    {
        var step = TinyStep(new AddSettings());
        var frozen = new (string, nn.Module)[] { ("teacher", step.Teacher), ("features", step.Features!), ("text encoder", step.TextEncoder), ("vae", step.Vae) };
        var before = frozen.ToDictionary(f => f.Item1, f => Snapshot(f.Item2));
        var studentBefore = Snapshot(step.Student);
        var headsBefore = Snapshot(step.Heads);

        var metrics = step.Run(TinyBatch(), new Random(1), new Generator(1));
        Assert.All(new[] { "adv_g", "adv_d", "distill", "r1", "d_real", "d_fake" }, k => Assert.True(double.IsFinite(metrics[k]), k));

        foreach (var (name, module) in frozen)
            foreach (var (key, value) in Snapshot(module))
                Assert.True(before[name][key].AsSpan().SequenceEqual(value), $"{name} weight {key} changed");
        Assert.Contains(Snapshot(step.Student), kv => !studentBefore[kv.Key].AsSpan().SequenceEqual(kv.Value));
        Assert.Contains(Snapshot(step.Heads).Where(kv => !kv.Key.EndsWith(".u")), kv => !headsBefore[kv.Key].AsSpan().SequenceEqual(kv.Value));
    }

    [Fact]
    public void DistillGradientReachesTheStudentAndNotTheTeacher()
    {
        var step = TinyStep(new AddSettings { Adversarial = false });
        foreach (var p in step.Teacher.parameters()) p.requires_grad = true;      // would receive gradient without the stop-gradient
        var batch = TinyBatch();
        var context = step.TextEncoder.forward(batch.Ids);
        var s = tensor(new long[] { 999, 499 });
        var xs = batch.Latents;
        var x0 = step.PredictX0(step.Student, xs, s, context.detach());
        var loss = step.DistillLoss(x0, context.detach(), new Random(2), new Generator(2));
        loss.backward();
        Assert.Contains(step.Student.parameters(), p => p.grad is not null && p.grad.abs().sum().item<float>() > 0);
        Assert.All(step.Teacher.parameters(), p => Assert.True(p.grad is null || p.grad.abs().sum().item<float>() == 0));
    }
}
