using Add.Engine.Backends;
using Add.Engine.Configs;
using Add.Engine.Imaging;
using Add.Engine.Pipeline;
using Add.Engine.Sampling;
using Add.Tests.Engine;

namespace Add.Tests.Pipeline;

/// <summary>How a request resolves to a plan: defaults, the init image's strength, guidance's batch layout.</summary>
[Collection(TinyPipelineCollection.Name)]
public sealed class GenerationPlannerTests(TinyPipelines tiny)
{
    private static readonly SchedulerConfig Student = SchedulerConfig.EmojiStudent;
    private static readonly SchedulerConfig Teacher = SchedulerConfig.EmojiTeacher;
    private static readonly RgbImage Init = new(8, 8);

    private static GenerationPlan Plan(SchedulerConfig scheduler, GenerationRequest request, Action<string>? warn = null) =>
        GenerationPlanner.Plan(request, scheduler, new NoiseSchedule(scheduler), warn);

    private static GenerationRequest Request(int? steps = null, RgbImage? init = null, double strength = 1.0) =>
        new() { Prompts = ["grinning face"], Steps = steps, InitImage = init, Strength = strength };

    [Fact]
    public void DefaultsOfStudentAndTeacher()
    {
        var student = Plan(Student, Request());
        Assert.Equal((SamplerKind.StudentRenoise, 0.0), (student.Kind, student.Guidance));
        Assert.Equal([999.0], student.Timesteps);
        Assert.Equal(1.0, student.Schedule.InitialNoiseScale);       // DDIM config: x_T = noise, as before the move
        var teacher = Plan(Teacher, Request());
        Assert.Equal((SamplerKind.Ddim, 50, 4.0), (teacher.Kind, teacher.Timesteps.Length, teacher.Guidance));
        Assert.Equal(Enumerable.Range(0, 50).Select(i => 999.0 - 20 * i), teacher.Timesteps);
    }

    /// <summary>The student's 1, 2 and 4 steps run its training timesteps (trailing spacing).</summary>
    [Theory]
    [InlineData(1, new double[] { 999 })]
    [InlineData(2, new double[] { 999, 499 })]
    [InlineData(4, new double[] { 999, 749, 499, 249 })]
    public void StudentStepsRunTheTrainingTimesteps(int steps, double[] expected) =>
        Assert.Equal(expected, Plan(Student, Request(steps)).Timesteps);

    /// <summary>A downloaded SD-Turbo folder (no keys of ours): trailing → 1 Euler step without guidance, with a notice;
    /// a leading / linspace config without our keys gets diffusers' pipeline defaults, 50 steps at 7.5, silently.</summary>
    [Fact]
    public void FoldersWithoutOurKeysDefaultLikeDiffusers()
    {
        var warnings = new List<string>();
        var turbo = Plan(Sampling.SchedulerConfigTests.Load(Sampling.SchedulerConfigTests.SdTurbo), Request(), warnings.Add);
        Assert.Equal((SamplerKind.Euler, 0.0), (turbo.Kind, turbo.Guidance));
        Assert.Equal([999.0], turbo.Timesteps);
        Assert.Contains(warnings, w => w.Contains("SD-Turbo convention") && w.Contains("trailing"));
        var sdxl = Plan(Sampling.SchedulerConfigTests.Load(Sampling.SchedulerConfigTests.SdxlTurbo), Request(steps: 4));
        Assert.Equal(SamplerKind.EulerAncestral, sdxl.Kind);
        Assert.Equal([999.0, 749, 499, 249], sdxl.Timesteps);

        warnings.Clear();
        var sd = Plan(Sampling.ScheduleValues.Sd with { TimestepSpacing = "leading", StepsOffset = 1 }, Request(), warnings.Add);
        Assert.Equal((SamplerKind.Euler, 50, 7.5), (sd.Kind, sd.Timesteps.Length, sd.Guidance));
        Assert.Empty(warnings);
        warnings.Clear();
        Plan(Sampling.SchedulerConfigTests.Load(Sampling.SchedulerConfigTests.SdTurbo), Request(steps: 2) with { Guidance = 0 }, warnings.Add);
        Assert.Empty(warnings);                                        // nothing defaulted
    }

    [Fact]
    public void LeadingStepsBeyondTheTrainingTimestepsAreARequestError()
    {
        var e = Assert.Throws<InvalidRequestException>(() => Plan(Sampling.ScheduleValues.Sd with { TimestepSpacing = "leading", StepsOffset = 1 }, Request(steps: 1000)));
        Assert.Contains("steps_offset 1", e.Message);
    }

    /// <summary>--sampler on any model: DDIM / Euler pick that diffusers class on the model's keys, student-renoise keeps
    /// the model's class.</summary>
    [Fact]
    public void TheSamplerOverridesTheClass()
    {
        var euler = Plan(Teacher, Request(steps: 4) with { Sampler = SamplerKind.Euler });
        Assert.True(euler.Schedule.SigmaSpace);
        Assert.Equal(Math.Sqrt(1 - new NoiseSchedule(Teacher).AlphasCumprod[999]), euler.Schedule.InitialNoiseScale, 1e-12);
        var turbo = Sampling.SchedulerConfigTests.Load(Sampling.SchedulerConfigTests.SdTurbo);
        var renoise = Plan(turbo, Request(steps: 2) with { Sampler = SamplerKind.StudentRenoise });
        Assert.Equal((SamplerKind.StudentRenoise, true), (renoise.Kind, renoise.Schedule.SigmaSpace));
        Assert.Equal([999.0, 499], renoise.Timesteps);
    }

    [Theory]
    [InlineData(1.0, 1)]
    [InlineData(0.5, 2)]
    [InlineData(1.0 / 3, 3)]
    [InlineData(0.3, 4)]
    [InlineData(0.25, 4)]
    [InlineData(0.01, 100)]
    public void StepsNeededIsTheFewestThatRunOne(double strength, int expected)
    {
        Assert.Equal(expected, GenerationPlanner.StepsNeeded(strength));
        Assert.Equal(1, GenerationPlanner.StepsRun(expected, strength));
        if (expected > 1) Assert.Equal(0, GenerationPlanner.StepsRun(expected - 1, strength));
    }

    [Theory]
    [InlineData(1.0, new double[] { 999 })]          // the student's default 1 step runs at strength 1
    [InlineData(0.5, new double[] { 499 })]          // 2 steps [999, 499], the last 1 runs
    [InlineData(0.3, new double[] { 249 })]          // 4 steps, ⌊1.2⌋ = 1 runs
    [InlineData(0.75, new double[] { 499 })]         // 1 step runs ⌊0.75⌋ = 0, so 2 steps: ⌊1.5⌋ = 1 runs
    public void AnInitImageWithoutStepsOnAStudentPicksTheFewestStepsThatRun(double strength, double[] expected)
    {
        Assert.Equal(expected, Plan(Student, Request(init: Init, strength: strength)).Timesteps);
    }

    [Fact]
    public void AStrengthNoStudentStepCountRunsNamesTheLimit()
    {
        var e = Assert.Throws<InvalidRequestException>(() => Plan(Student, Request(init: Init, strength: 0.2)));
        Assert.Contains("needs at least 5 steps", e.Message);
        Assert.Contains("runs 1..4", e.Message);
        Assert.Contains("at least 1/4", e.Message);
        var teacher = Assert.Throws<InvalidRequestException>(() => Plan(Teacher, Request(init: Init, strength: 0.0005)));
        Assert.Contains("runs 1..1000", teacher.Message);
        Assert.DoesNotContain("--", e.Message);   // the engine is a library: no command-line flags in its messages
    }

    [Fact]
    public void ExplicitStepsTooFewForTheStrengthSayHowManyItNeeds()
    {
        var e = Assert.Throws<InvalidRequestException>(() => Plan(Student, Request(steps: 1, init: Init, strength: 0.5)));
        Assert.Contains("steps × strength = 1 × 0.5 < 1", e.Message);
        Assert.Contains("strength 0.5 needs at least 2 steps", e.Message);
        Assert.DoesNotContain("--", e.Message);
        var teacher = Assert.Throws<InvalidRequestException>(() => Plan(Teacher, Request(steps: 3, init: Init, strength: 0.3)));
        Assert.Contains("strength 0.3 needs at least 4 steps", teacher.Message);
    }

    [Fact]
    public void ExplicitStepsAndTheTeacherDefaultAreKept()
    {
        Assert.Equal([499.0, 249], Plan(Student, Request(steps: 4, init: Init, strength: 0.5)).Timesteps);
        Assert.Equal(25, Plan(Teacher, Request(init: Init, strength: 0.5)).Timesteps.Length);
    }

    [Fact]
    public void GuidanceDoublesTheRowsUnconditionalFirst()
    {
        var guided = Plan(Teacher, Request());
        Assert.True(guided.Guided);
        Assert.Equal(6, guided.Rows(3));
        Assert.Equal(["", "", "a", "b"], GenerationPlan.TextRows(["a", "b"], guided: true));
        var student = Plan(Student, Request());
        Assert.False(student.Guided);
        Assert.Equal(3, student.Rows(3));
    }

    [Fact]
    public void TheTinyStudentRunsAnInitImageWithItsDefaultSteps()
    {
        using var p = DiffusionPipeline.Load(tiny.Student, new CpuBackend());
        var calls = new List<(int, int)>();
        var images = p.Generate(new GenerationRequest { Prompts = ["snowman"], InitImage = RgbImage.White(8, 8), Strength = 0.5 }, (i, n) => calls.Add((i, n)));
        Assert.Single(images);
        Assert.Equal([(1, 1)], calls);
    }
}
