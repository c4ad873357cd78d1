using Add.Cli.Serve;
using Add.Engine.Backends;
using Add.Engine.Pipeline;

namespace Add.Tests.Serve;

/// <summary>The server's generation worker: dynamic batching by (steps, guidance) with each request's own prompt and
/// seed, and the work of disconnected clients dropped or cancelled.</summary>
public sealed class GenerationWorkerTests : IDisposable
{
    /// <summary>Long enough that jobs queued one after another in a test land in the same window.</summary>
    const int WideWindowMs = 300;

    readonly DiffusionPipeline _pipeline = DiffusionPipeline.Load(ServeFixture.Student, new CpuBackend());
    readonly DiffusionPipeline _reference = DiffusionPipeline.Load(ServeFixture.Student, new CpuBackend());

    GenerationWorker Start(int windowMs) => new(_pipeline, new ServeSettings { BatchWindowMs = windowMs });

    static GenerationJob Job(string prompt, long seed, int steps = 1, int batch = 1, CancellationToken aborted = default)
        => new(prompt, seed, batch, steps, guidance: 0, aborted);

    /// <summary>Jobs in one window with equal steps share a generation; other steps get their own; every image is
    /// its own prompt's at its own seed.</summary>
    [Fact]
    public async Task JobsInOneWindowAreGroupedBySteps()
    {
        await using var worker = Start(WideWindowMs);
        var jobs = new[] { Job("grinning face", 3), Job("red heart", 90, steps: 2), Job("snowman", 11, batch: 2), Job("red heart", 4) };
        foreach (var j in jobs) Assert.True(worker.TryEnqueue(j));
        var results = await Task.WhenAll(jobs.Select(j => j.Result));
        Assert.Equal(2, worker.Generations);
        Assert.Equal([3, 1, 3, 3], results.Select(r => r.GenerationRequests));
        Assert.Equal([4, 1, 4, 4], results.Select(r => r.GenerationImages));
        for (int i = 0; i < jobs.Length; i++)
        {
            var direct = _reference.Generate(new GenerationRequest
            {
                Prompts = Enumerable.Repeat(jobs[i].Prompt, jobs[i].Batch).ToList(), Seed = jobs[i].Seed, Steps = jobs[i].Steps,
            });
            Assert.Equal(jobs[i].Batch, results[i].Images.Count);
            for (int k = 0; k < direct.Count; k++)
                Assert.True(direct[k].Pixels.AsSpan().SequenceEqual(results[i].Images[k].Pixels),
                    $"job {i} image {k} ({jobs[i].Prompt}, seed {jobs[i].Seed + k}, batched with others): {ServeApiTests.Differences(direct[k].Pixels, results[i].Images[k].Pixels)}");
        }
    }

    /// <summary>With batching off every job is its own generation.</summary>
    [Fact]
    public async Task WindowZeroRunsOneJobPerGeneration()
    {
        await using var worker = Start(0);
        var jobs = Enumerable.Range(0, 5).Select(i => Job("grinning face", i)).ToList();
        foreach (var j in jobs) Assert.True(worker.TryEnqueue(j));
        var results = await Task.WhenAll(jobs.Select(j => j.Result));
        Assert.All(results, r => Assert.Equal(1, r.GenerationRequests));
        Assert.Equal(5, worker.Generations);
    }

    /// <summary>A job whose client left before its generation started is dropped: no generation runs for it.</summary>
    [Fact]
    public async Task JobOfADisconnectedClientIsDropped()
    {
        await using var worker = Start(WideWindowMs);
        using var gone = new CancellationTokenSource();
        var job = Job("grinning face", 1, aborted: gone.Token);
        Assert.True(worker.TryEnqueue(job));
        await gone.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => job.Result);
        Assert.Equal(0, worker.Generations);
    }

    /// <summary>In a shared generation, one client leaving does not cancel the others' images; when all have left
    /// before it starts, nothing runs.</summary>
    [Fact]
    public async Task SharedGenerationRunsWhileOneClientRemains()
    {
        await using var worker = Start(WideWindowMs);
        using var gone = new CancellationTokenSource();
        var left = Job("red heart", 1, aborted: gone.Token);
        var stays = Job("snowman", 2);
        Assert.True(worker.TryEnqueue(left));
        Assert.True(worker.TryEnqueue(stays));
        await gone.CancelAsync();
        var result = await stays.Result;
        Assert.Equal(_reference.Generate(new GenerationRequest { Prompts = ["snowman"], Seed = 2 })[0].Pixels, result.Images[0].Pixels);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => left.Result);
        Assert.Equal(1, worker.Generations);
    }

    public void Dispose()
    {
        _pipeline.Dispose();
        _reference.Dispose();
    }
}
