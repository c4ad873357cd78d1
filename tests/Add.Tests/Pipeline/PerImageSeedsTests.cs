using Add.Engine.Backends;
using Add.Engine.Pipeline;
using Add.Engine.Sampling;

namespace Add.Tests.Pipeline;

/// <summary>GenerationRequest.Seeds: per-image seeds (what `add serve` uses to batch requests of different seeds).</summary>
public sealed class PerImageSeedsTests
{
    static string Student => Path.Combine(Fixtures.Root, "models", "add-emoji-32");
    static string Teacher => Path.Combine(Fixtures.Root, "models", "emoji-32-teacher");

    [Fact]
    public void BatchNoiseDrawsTheGivenSeedsStreams()
    {
        var noise = new BatchNoise(0, 3, 5, seeds: [42, 7, 42]);
        var drawn = noise.Draw();
        float[] Stream(ulong seed)
        {
            var v = new float[5];
            new GaussianNoise(seed).Fill(v);
            return v;
        }
        Assert.Equal(Stream(42).Concat(Stream(7)).Concat(Stream(42)), drawn);
    }

    [Fact]
    public void BatchNoiseRefusesASeedCountOtherThanTheImages()
    {
        var e = Assert.Throws<InvalidRequestException>(() => new BatchNoise(0, 3, 5, seeds: [1, 2]));
        Assert.Contains("2 entries for 3 images", e.Message);
    }

    /// <summary>Seeds = [Seed + i] is the same request as Seed (same batch, same streams): byte-identical.</summary>
    [Fact]
    public void ConsecutiveSeedsEqualTheSeedRequest()
    {
        using var p = DiffusionPipeline.Load(Student, new CpuBackend());
        var prompts = new[] { "grinning face", "red heart", "snowman" };
        var bySeed = p.Generate(new GenerationRequest { Prompts = prompts, Seed = 30 });
        var bySeeds = p.Generate(new GenerationRequest { Prompts = prompts, Seed = 999, Seeds = [30, 31, 32] });
        for (int i = 0; i < prompts.Length; i++) Assert.Equal(bySeed[i].Pixels, bySeeds[i].Pixels);
    }

    /// <summary>Each image of a Seeds request equals a single generation at its seed (student, and teacher with
    /// guidance): byte for byte, which needs the kernels to be batch-invariant.</summary>
    [Theory]
    [InlineData(false, null, null)]
    [InlineData(true, 3, 4.0)]
    public void EachImageEqualsASingleAtItsSeed(bool teacher, int? steps, double? guidance)
    {
        using var p = DiffusionPipeline.Load(teacher ? Teacher : Student, new CpuBackend());
        var prompts = new[] { "grinning face", "red heart", "grinning face", "snowman" };
        long[] seeds = [7, 123_456, 7_000_000_000, 0];
        var batch = p.Generate(new GenerationRequest { Prompts = prompts, Seeds = seeds, Steps = steps, Guidance = guidance });
        for (int i = 0; i < prompts.Length; i++)
        {
            var single = p.Generate(new GenerationRequest { Prompts = [prompts[i]], Seed = seeds[i], Steps = steps, Guidance = guidance })[0];
            Assert.True(single.Pixels.AsSpan().SequenceEqual(batch[i].Pixels),
                $"image {i} ({prompts[i]}, seed {seeds[i]}) of the Seeds batch differs from its single generation in {Differences(single.Pixels, batch[i].Pixels)} bytes");
        }
    }

    static string Differences(byte[] a, byte[] b)
    {
        int count = 0, max = 0;
        for (int i = 0; i < a.Length; i++)
        {
            int d = Math.Abs(a[i] - b[i]);
            if (d > 0) count++;
            max = Math.Max(max, d);
        }
        return $"{count} (largest difference {max})";
    }
}
