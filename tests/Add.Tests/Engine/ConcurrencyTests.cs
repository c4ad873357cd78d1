using Add.Engine.Backends;
using Add.Engine.Pipeline;

namespace Add.Tests.Engine;

/// <summary>
/// One pipeline shared by many threads (issue #18): <see cref="DiffusionPipeline.Generate"/> called from 8 (and 4)
/// threads at once, mixing prompts, steps, batch sizes and seeds, returns exactly the bytes of the same requests run
/// one after another, throws nothing, and its memory stops growing once the pool has a context per thread.
/// <para>Runs alone (<see cref="AloneCollection"/>): its memory check reads the process's managed heap, which tests of
/// other classes running at the same time would grow (it failed once that way in a full run, 2026-12-03).</para>
/// </summary>
[Collection(AloneCollection.Name)]
public sealed class ConcurrencyTests
{
    /// <summary>Memory after 400 calls may exceed memory after 50 by this fraction (GC bookkeeping, thread-pool and
    /// xunit allocations that a full collect does not return to the same byte; a per-call leak of even one latent per
    /// call would exceed it after 350 more calls).</summary>
    private const double MemoryGrowthTolerance = 0.10;

    private static readonly string[] Prompts = ["grinning face", "red heart", "snowman", "smiling cat face", "thumbs up sign", "pile of poo"];

    /// <summary>The request mix: call c runs variant c mod Count. Variant 0 is the largest shape, so the first call of
    /// every thread (they start together) sizes its context for every later variant.</summary>
    private static readonly GenerationRequest[] Variants = Enumerable.Range(0, 24).Select(v =>
    {
        int batch = v == 0 ? 4 : 1 + v % 4;
        return new GenerationRequest
        {
            Prompts = Enumerable.Range(0, batch).Select(i => Prompts[(v + i) % Prompts.Length]).ToList(),
            Steps = 1 + v % 3 % 2 + (v % 5 == 0 ? 2 : 0),
            Seed = 1000 + 17 * v,
        };
    }).ToArray();

    private static DiffusionPipeline LoadStudent() =>
        DiffusionPipeline.Load(Path.Combine(Fixtures.Root, "models", "add-emoji-32"), new CpuBackend());

    /// <summary>Every variant run sequentially, on its own pipeline: the bytes each concurrent call must return.</summary>
    private static byte[][][] Sequential()
    {
        using var p = LoadStudent();
        return Variants.Select(r => p.Generate(r).Select(image => image.Pixels).ToArray()).ToArray();
    }

    /// <summary>Calls [from, to) of the mix on <paramref name="threads"/> threads started together; each result is
    /// checked against <paramref name="expected"/>; returns the exceptions and mismatches seen.</summary>
    private static List<string> Run(DiffusionPipeline p, int threads, int from, int to, byte[][][] expected)
    {
        var problems = new List<string>();
        int next = from;
        using var start = new Barrier(threads);
        var workers = Enumerable.Range(0, threads).Select(_ => new Thread(() =>
        {
            start.SignalAndWait();
            int call;
            while ((call = Interlocked.Increment(ref next) - 1) < to)
            {
                int v = call % Variants.Length;
                try
                {
                    var images = p.Generate(Variants[v]);
                    for (int i = 0; i < expected[v].Length; i++)
                        if (!images[i].Pixels.AsSpan().SequenceEqual(expected[v][i]))
                            lock (problems) problems.Add($"call {call} (variant {v}) image {i} differs from the sequential run");
                }
                catch (Exception e)
                {
                    lock (problems) problems.Add($"call {call} (variant {v}): {e.GetType().Name}: {e.Message}");
                }
            }
        })).ToList();
        workers.ForEach(t => t.Start());
        workers.ForEach(t => t.Join());
        return problems;
    }

    private static long Memory()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    [Fact]
    public void EightThreadsTimesFiftyCallsGiveSequentialBytesAndFlatMemory()
    {
        var expected = Sequential();
        using var p = LoadStudent();
        var problems = Run(p, 8, 0, 50, expected);
        Assert.Empty(problems);
        long memory50 = Memory(), arena50 = p.Arena.Capacity, scratch50 = p.ScratchFloats;
        int contexts50 = p.Contexts;

        problems = Run(p, 8, 50, 400, expected);
        Assert.Empty(problems);
        long memory400 = Memory();
        Assert.InRange(p.Contexts, 1, 8);                                   // at most one context per thread
        Assert.True(memory400 <= memory50 * (1 + MemoryGrowthTolerance),
            $"memory grew from {memory50} bytes after 50 calls to {memory400} after 400 (contexts {contexts50} → {p.Contexts})");
        Assert.True(p.Arena.Capacity <= arena50 * (1 + MemoryGrowthTolerance), $"arena grew from {arena50} to {p.Arena.Capacity} floats");
        Assert.True(p.ScratchFloats <= scratch50 * (1 + MemoryGrowthTolerance), $"scratch grew from {scratch50} to {p.ScratchFloats} floats");
    }

    [Fact]
    public void FourThreadsGiveSequentialBytes()
    {
        var expected = Sequential();
        using var p = LoadStudent();
        Assert.Empty(Run(p, 4, 0, 64, expected));
        Assert.InRange(p.Contexts, 1, 4);
    }

    [Fact]
    public void GenerateAfterDisposeThrows()
    {
        var p = LoadStudent();
        p.Dispose();
        Assert.Throws<ObjectDisposedException>(() => p.Generate(new GenerationRequest { Prompts = ["snowman"] }));
    }
}

/// <summary>Tests that measure the whole process (its managed heap) and so must not share it with other test classes.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AloneCollection
{
    public const string Name = "alone";
}
