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
    private static readonly SchedulerConfig Student = new() { ModelKind = "student", StudentTimesteps = [999, 749, 499, 249] };
    private static readonly SchedulerConfig Teacher = new();
    private static readonly RgbImage Init = new(8, 8);

    private static GenerationPlan Plan(SchedulerConfig scheduler, GenerationRequest request) =>
        GenerationPlanner.Plan(request, scheduler, new NoiseSchedule(scheduler));

    private static GenerationRequest Request(int? steps = null, RgbImage? init = null, double strength = 1.0) =>
        new() { Prompts = ["grinning face"], Steps = steps, InitImage = init, Strength = strength };

    [Fact]
    public void DefaultsOfStudentAndTeacher()
    {
        var student = Plan(Student, Request());
        Assert.Equal((SamplerKind.StudentRenoise, 0.0), (student.Kind, student.Guidance));
        Assert.Equal([999], student.Timesteps);
        var teacher = Plan(Teacher, Request());
        Assert.Equal((SamplerKind.Ddim, 50, 4.0), (teacher.Kind, teacher.Timesteps.Length, teacher.Guidance));
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
    [InlineData(1.0, new[] { 999 })]          // the student's default 1 step runs at strength 1
    [InlineData(0.5, new[] { 499 })]          // 2 steps [999, 499], the last 1 runs
    [InlineData(0.3, new[] { 249 })]          // 4 steps, ⌊1.2⌋ = 1 runs
    [InlineData(0.75, new[] { 499 })]         // 1 step runs ⌊0.75⌋ = 0, so 2 steps: ⌊1.5⌋ = 1 runs
    public void AnInitImageWithoutStepsOnAStudentPicksTheFewestStepsThatRun(double strength, int[] expected)
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
        Assert.Equal([499, 249], Plan(Student, Request(steps: 4, init: Init, strength: 0.5)).Timesteps);
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
