using Add.Engine.Backends;
using Add.Engine.Pipeline;
using Add.Train.Validation;
using Xunit.Abstractions;

namespace Add.Tests.Engine;

/// <summary>`add-train validate`'s comparison, engine vs the TorchSharp reference, on every backend available here.</summary>
[Collection(TinyPipelineCollection.Name)]
public sealed class EngineValidationTests(TinyPipelines tiny, ITestOutputHelper log)
{
    private void AssertPasses(string model, BackendKind backend, GenerationRequest request)
    {
        var report = EngineValidation.Run(model, backend, request, log.WriteLine);
        foreach (var s in report.Stages) log.WriteLine(s.ToString());
        log.WriteLine($"bytes differing: {report.DifferingBytes} of {report.TotalBytes}");
        Assert.True(report.Stages.Count >= 4, "text, unet, latent and image stages compared");
        Assert.True(report.Passed, string.Join("; ", report.Stages.Where(s => !s.Passed)));
    }

    private static GenerationRequest Request(int steps, double guidance = 0) =>
        new() { Prompts = ["grinning face", "red heart snowman", "thumbs"], Steps = steps, Seed = 11, Guidance = guidance };

    [Theory]
    [InlineData(BackendKind.Cpu)]
    [InlineData(BackendKind.IlgpuCpu)]
    public void StudentMatchesReference(BackendKind backend) => AssertPasses(tiny.Student, backend, ForBackend(backend, Request(4), steps: 2));

    [Theory]
    [InlineData(BackendKind.Cpu)]
    [InlineData(BackendKind.IlgpuCpu)]
    public void TeacherWithGuidanceMatchesReference(BackendKind backend) => AssertPasses(tiny.Teacher, backend, ForBackend(backend, Request(3, guidance: 4), steps: 1));

    /// <summary>ILGPU's CPU accelerator takes seconds per tiny UNet call (its threads spin in sched_yield at every group
    /// barrier: more emulated threads than cores), so there the request shrinks to one prompt and a few steps: the student's
    /// two steps still cover the step-to-step path (re-noising, the sampler's non-final branch), the teacher's one step
    /// the guided batch (uncond + cond). Batching across prompts is BatchInvarianceTests' subject.</summary>
    private static GenerationRequest ForBackend(BackendKind backend, GenerationRequest request, int steps) =>
        backend == BackendKind.IlgpuCpu ? request with { Prompts = request.Prompts.Take(1).ToList(), Steps = steps } : request;

    [Fact]
    public void InitImageMatchesReference()
    {
        var init = new Add.Engine.Imaging.RgbImage(16, 16);   // 2× the tiny VAE's 8×8: area-downsampled
        for (int i = 0; i < init.Pixels.Length; i++) init.Pixels[i] = (byte)(i * 37 % 251);
        AssertPasses(tiny.Student, BackendKind.Cpu, Request(4) with { InitImage = init, Strength = 0.5 });
    }

    [Fact]
    public void ShippedModelMatchesReference()
    {
        var model = Add.CommandLine.ModelLocator.Resolve(null);
        Assert.True(Directory.Exists(model), $"the shipped model {model} is missing");
        AssertPasses(model, BackendKind.Cpu, new GenerationRequest { Prompts = ["grinning face", "red heart"], Steps = 4, Seed = 3 });
    }
}
