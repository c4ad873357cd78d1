using Add.Engine.Backends;
using Add.Engine.Pipeline;

namespace Add.Tests.Engine;

/// <summary>
/// Batch invariance (issue #18): an image's bytes do not depend on what it was batched with. Image i of a batch of N
/// at Seed s must equal a batch of one at Seed s + i, byte for byte, for the shipped student and for the teacher with
/// guidance (so the CFG rows [uncond; cond] double the batch), on the CPU backend for N up to 16 and on ILGPU's CPU
/// accelerator for a small N (on the tiny random pipelines: ILGPU's CPU accelerator emulates GPU thread groups and takes
/// minutes per shipped-model generation on 2 cores). A dynamic-batching server relies on it: a user's image must not
/// change with the other requests in its window.
/// </summary>
[Collection(TinyPipelineCollection.Name)]
public sealed class BatchInvarianceTests(TinyPipelines tiny)
{
    private static readonly string[] Prompts =
        ["grinning face", "red heart", "snowman", "smiling cat face", "thumbs up sign", "pile of poo", "sun with face"];

    private static readonly int[] BatchSizes = [1, 2, 3, 4, 7, 16];

    private static string Model(string name) => Path.Combine(Fixtures.Root, "models", name);

    /// <summary>Prompt of batch row i (rows differ, and repeat past the list).</summary>
    private static string PromptOf(int i) => Prompts[i % Prompts.Length];

    /// <summary>Every batch size against singles at seed + i; the singles are generated once.</summary>
    private static void AssertBatchesEqualSingles(DiffusionPipeline p, int[] sizes, int? steps, double? guidance, long seed)
    {
        int most = sizes.Max();
        var singles = Enumerable.Range(0, most)
            .Select(i => p.Generate(new GenerationRequest { Prompts = [PromptOf(i)], Steps = steps, Guidance = guidance, Seed = seed + i })[0].Pixels)
            .ToArray();
        foreach (int n in sizes)
        {
            var batch = p.Generate(new GenerationRequest
            {
                Prompts = Enumerable.Range(0, n).Select(PromptOf).ToList(), Steps = steps, Guidance = guidance, Seed = seed,
            });
            Assert.Equal(n, batch.Count);
            for (int i = 0; i < n; i++)
                Assert.True(singles[i].AsSpan().SequenceEqual(batch[i].Pixels),
                    $"image {i} of a batch of {n} differs from the single generation at seed {seed + i} in {Differences(singles[i], batch[i].Pixels)} bytes");
        }
    }

    private static int Differences(byte[] a, byte[] b) => a.Zip(b).Count(t => t.First != t.Second);

    [Fact]
    public void StudentBatchesEqualSinglesOnCpu()
    {
        using var p = DiffusionPipeline.Load(Model("add-emoji-32"), new CpuBackend());
        AssertBatchesEqualSingles(p, BatchSizes, steps: null, guidance: null, seed: 40);
        AssertBatchesEqualSingles(p, [1, 3, 4], steps: 2, guidance: null, seed: 7);     // a re-noising step draws per-image noise
    }

    /// <summary>At 64×64 the student's UNet has 256 tokens per image at its top level, so a batch of 17 goes through its
    /// transformers in two groups of images (16 and 1: Transformer2DModel.GroupTokens = 4,096 tokens), the first one's
    /// feed-forward in two chunks (BasicTransformerBlock.FeedForwardChunkRows = 2,048), and a single in one of each.</summary>
    [Fact]
    public void ChunkedFeedForwardBatchesEqualSinglesOnCpu()
    {
        using var p = DiffusionPipeline.Load(Model("add-emoji-32"), new CpuBackend());
        const int n = 17;
        Assert.True(n * 16 * 16 > Add.Engine.Models.Transformer2DModel.GroupTokens);
        Assert.True(Add.Engine.Models.Transformer2DModel.GroupTokens > Add.Engine.Models.BasicTransformerBlock.FeedForwardChunkRows);
        var batch = p.Generate(new GenerationRequest { Prompts = Enumerable.Range(0, n).Select(PromptOf).ToList(), Width = 64, Height = 64, Seed = 5 });
        foreach (int i in new[] { 0, 15, 16 })
        {
            var single = p.Generate(new GenerationRequest { Prompts = [PromptOf(i)], Width = 64, Height = 64, Seed = 5 + i })[0].Pixels;
            Assert.True(single.AsSpan().SequenceEqual(batch[i].Pixels), $"image {i} of {n} at 64x64 differs from its single generation");
        }
    }

    [Fact]
    public void TeacherWithGuidanceBatchesEqualSinglesOnCpu()
    {
        using var p = DiffusionPipeline.Load(Model("emoji-32-teacher"), new CpuBackend());
        AssertBatchesEqualSingles(p, BatchSizes, steps: 2, guidance: 4, seed: 11);
    }

    [Fact]
    public void BatchesEqualSinglesOnIlgpuCpu()
    {
        // Three tiny generations (two singles, one batch of two): ILGPU's CPU accelerator takes seconds per UNet call. The
        // guided teacher's batch (uncond + cond halves) runs the same kernels and is checked on the CPU backend above.
        using var student = DiffusionPipeline.Load(tiny.Student, IlgpuBackend.CreateCpuAccelerator());
        AssertBatchesEqualSingles(student, [2], steps: 1, guidance: 0, seed: 3);
    }
}
