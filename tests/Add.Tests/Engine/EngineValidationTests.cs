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
    public void StudentMatchesReference(BackendKind backend) => AssertPasses(tiny.Student, backend, Request(Steps(backend, 4)));

    [Theory]
    [InlineData(BackendKind.Cpu)]
    [InlineData(BackendKind.IlgpuCpu)]
    public void TeacherWithGuidanceMatchesReference(BackendKind backend) => AssertPasses(tiny.Teacher, backend, Request(Steps(backend, 3), guidance: 4));

    /// <summary>ILGPU's CPU accelerator takes ~15 s per tiny generation step (each launch emulates 1,024-thread groups on
    /// 2 cores): two steps still cover the step-to-step path (re-noising, the sampler's non-final branch).</summary>
    private static int Steps(BackendKind backend, int steps) => backend == BackendKind.IlgpuCpu ? 2 : steps;

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
