using Add.Engine.Backends;
using Add.Engine.Pipeline;

namespace Add.Tests.Engine;

/// <summary>The generator's contract: determinism, per-image seeds, progress, cancellation, no per-step allocation.</summary>
[Collection(TinyPipelineCollection.Name)]
public sealed class GeneratorTests(TinyPipelines tiny)
{
    private DiffusionPipeline Load(string? model = null) => DiffusionPipeline.Load(model ?? tiny.Student, new CpuBackend());

    [Fact]
    public void SameSeedGivesIdenticalImagesAndOtherSeedsDiffer()
    {
        using var p = Load();
        var request = new GenerationRequest { Prompts = ["grinning face"], Steps = 2, Seed = 5 };
        var a = p.Generate(request)[0].Pixels;
        var b = p.Generate(request)[0].Pixels;
        using var fresh = Load();
        var c = fresh.Generate(request)[0].Pixels;
        var d = p.Generate(request with { Seed = 6 })[0].Pixels;
        Assert.Equal(a, b);
        Assert.Equal(a, c);
        Assert.NotEqual(a, d);
    }

    [Fact]
    public void ImageOfABatchEqualsABatchOfOneWithSeedPlusIndex()
    {
        using var p = Load();
        var batch = p.Generate(new GenerationRequest { Prompts = ["red heart", "red heart", "snowman"], Steps = 4, Seed = 20 });
        var single = p.Generate(new GenerationRequest { Prompts = ["snowman"], Steps = 4, Seed = 22 });
        Assert.Equal(single[0].Pixels, batch[2].Pixels);
        Assert.NotEqual(batch[0].Pixels, batch[1].Pixels);
    }

    [Fact]
    public void ProgressFiresOncePerStep()
    {
        using var p = Load(tiny.Teacher);
        var calls = new List<(int, int)>();
        p.Generate(new GenerationRequest { Prompts = ["snowman"], Steps = 5, Guidance = 3 }, (i, n) => calls.Add((i, n)));
        Assert.Equal([(1, 5), (2, 5), (3, 5), (4, 5), (5, 5)], calls);
    }

    [Fact]
    public void CancellationStopsAGeneration()
    {
        using var p = Load(tiny.Teacher);
        using var cts = new CancellationTokenSource();
        int steps = 0;
        Assert.Throws<OperationCanceledException>(() =>
            p.Generate(new GenerationRequest { Prompts = ["snowman"], Steps = 20 }, (i, n) => { steps = i; if (i == 2) cts.Cancel(); }, cancel: cts.Token));
        Assert.Equal(2, steps);
    }

    [Fact]
    public void SecondGenerationAllocatesNoBuffers()
    {
        using var p = Load(tiny.Teacher);
        var request = new GenerationRequest { Prompts = ["snowman", "red heart"], Steps = 3, Guidance = 2 };
        p.Generate(request);
        int arena = p.Arena.Allocations;
        var cpu = (CpuBackend)p.Backend;
        int workspace = cpu.WorkspaceGrowths, packed = cpu.PackedWeights;
        Assert.True(packed > 0, "the first generation packs the GEMM weights");
        p.Generate(request);
        p.Generate(request with { Steps = 6 });   // more steps, same shapes
        Assert.Equal(arena, p.Arena.Allocations);
        Assert.Equal(workspace, cpu.WorkspaceGrowths);
        Assert.Equal(packed, cpu.PackedWeights);    // weights are packed once, not per call
    }

    [Fact]
    public void UploadIntoAWeightDropsItsPackedPanels()
    {
        using var backend = new CpuBackend();
        var random = new Random(3);
        float[] Values(int count) => Enumerable.Range(0, count).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
        const int m = 8, n = 40, k = 24;
        var xValues = Values(m * k);
        var w = backend.Constant(Values(n * k));
        var x = backend.Constant(xValues);
        var y = backend.Allocate(m * n);
        var first = new float[m * n];
        backend.Linear(x.View, w.View, default, default, y.View, m, n, k);
        backend.Download(y.View, first);
        Assert.Equal(1, backend.PackedWeights);

        var newWeights = Values(n * k);
        backend.Upload(newWeights, w.View);
        backend.Linear(x.View, w.View, default, default, y.View, m, n, k);
        var second = new float[m * n];
        backend.Download(y.View, second);
        Assert.Equal(2, backend.PackedWeights);
        var expected = new float[m * n];
        Add.Kernels.LinearReference.Forward(xValues, newWeights, [], expected, m, n, k);
        for (int i = 0; i < expected.Length; i++)
            Assert.Equal(expected[i], second[i], 1e-4f);
        Assert.NotEqual(first, second);
    }


    [Fact]
    public void HalfPrecisionWeightsAreWidenedOnLoad()
    {
        using var dir = new TempDir();
        ModelFolders.Copy(tiny.Student, dir.Path, asF16: true);
        var request = new GenerationRequest { Prompts = ["grinning face"], Steps = 2, Seed = 1 };
        using var full = Load();
        using var half = Load(dir.Path);
        var a = full.Generate(request)[0].Pixels;
        var b = half.Generate(request)[0].Pixels;
        double meanDiff = a.Zip(b, (x, y) => Math.Abs(x - y)).Average();
        // fp16 rounding of the weights (relative 2^-11) moves a random-weight model's pixels by a few grey levels at most
        Assert.True(meanDiff < 4, $"mean |F32 − F16| = {meanDiff:F2} grey levels");
    }

    [Fact]
    public void BadRequestsNameTheProblem()
    {
        using var p = Load();
        Assert.Contains("runs 1..4 steps", Assert.Throws<InvalidRequestException>(() => p.Generate(new GenerationRequest { Prompts = ["x"], Steps = 5 })).Message);
        Assert.Contains("batch must be at least 1", Assert.Throws<InvalidRequestException>(() => p.Generate(new GenerationRequest { Prompts = [] })).Message);
        var init = new Add.Engine.Imaging.RgbImage(8, 8);
        Assert.Contains("steps × strength", Assert.Throws<InvalidRequestException>(() => p.Generate(new GenerationRequest { Prompts = ["x"], Steps = 2, InitImage = init, Strength = 0.3 })).Message);
        Assert.Contains("expected 8x8", Assert.Throws<InvalidRequestException>(() => p.Generate(new GenerationRequest { Prompts = ["x"], InitImage = new Add.Engine.Imaging.RgbImage(12, 12) })).Message);
    }
}
