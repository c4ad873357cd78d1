using System.Diagnostics;
using System.Threading.Channels;
using Add.Engine.Imaging;
using Add.Engine.Pipeline;

namespace Add.Cli.Serve;

/// <summary>One API request waiting for the worker: <see cref="Batch"/> images of one prompt at seeds
/// <see cref="Seed"/> + i, with the steps and guidance already resolved (so equal settings group together).</summary>
public sealed class GenerationJob(string prompt, long seed, int batch, int steps, double guidance, CancellationToken aborted)
{
    public string Prompt { get; } = prompt;
    public long Seed { get; } = seed;
    public int Batch { get; } = batch;
    public int Steps { get; } = steps;
    public double Guidance { get; } = guidance;

    /// <summary>Fires when the client disconnects (HttpContext.RequestAborted).</summary>
    public CancellationToken Aborted { get; } = aborted;

    internal long EnqueuedTicks { get; set; }
    internal TaskCompletionSource<GenerationResult> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The job's images, or the generation's exception; cancelled when the client left.</summary>
    public Task<GenerationResult> Result => Completion.Task;
}

/// <summary>A job's images, the wall time of the generation that made them, and how many images that generation ran
/// (more than the job's own when requests were batched together).</summary>
public sealed record GenerationResult(IReadOnlyList<RgbImage> Images, double Milliseconds, int GenerationImages, int GenerationRequests);

/// <summary>
/// The server's single generation worker: the pipeline is only ever called from here, one generation at a time.
/// Dynamic batching: after the first waiting job arrived, the worker waits up to the batch window for more, then runs
/// the waiting jobs of the oldest job's (steps, guidance) as one generation, each image with its own prompt and seed
/// (<see cref="GenerationRequest.Seeds"/>), up to <see cref="ServeSettings.MaxImagesPerGeneration"/> images. A job
/// whose client disconnected before its generation starts is dropped; a running generation is cancelled only when all
/// its clients have gone.
/// </summary>
public sealed class GenerationWorker : IAsyncDisposable
{
    private readonly DiffusionPipeline _pipeline;
    private readonly ServeSettings _settings;
    private readonly Channel<GenerationJob> _channel;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _worker;
    private readonly Action<Exception>? _onError;

    /// <summary>Starts the worker on <paramref name="pipeline"/> (not owned). <paramref name="onError"/> hears a
    /// generation's unexpected exception (also handed to its jobs).</summary>
    public GenerationWorker(DiffusionPipeline pipeline, ServeSettings settings, Action<Exception>? onError = null)
    {
        _pipeline = pipeline;
        _settings = settings;
        _onError = onError;
        _channel = Channel.CreateBounded<GenerationJob>(new BoundedChannelOptions(settings.QueueCapacity) { SingleReader = true });
        _worker = Task.Run(() => RunAsync(_stop.Token));
    }

    /// <summary>Generations run so far (each may serve several jobs).</summary>
    public int Generations => _generations;
    private int _generations;

    /// <summary>Queues <paramref name="job"/>; false when the queue is full.</summary>
    public bool TryEnqueue(GenerationJob job)
    {
        job.EnqueuedTicks = Stopwatch.GetTimestamp();
        return _channel.Writer.TryWrite(job);
    }

    private async Task RunAsync(CancellationToken stop)
    {
        var pending = new List<GenerationJob>();
        long window = _settings.BatchWindowMs * Stopwatch.Frequency / 1000;
        try
        {
            while (true)
            {
                if (pending.Count == 0 && !await _channel.Reader.WaitToReadAsync(stop)) break;
                Drain(pending);
                if (window > 0)
                {
                    // Wait out the window that the oldest job opened, unless the generation is already full.
                    long wait = pending[0].EnqueuedTicks + window - Stopwatch.GetTimestamp();
                    if (wait > 0 && Images(pending) < _settings.MaxImagesPerGeneration)
                    {
                        await Task.Delay(TimeSpan.FromSeconds((double)wait / Stopwatch.Frequency), stop);
                        Drain(pending);
                    }
                }
                pending.RemoveAll(j => j.Aborted.IsCancellationRequested && j.Completion.TrySetCanceled(j.Aborted));
                if (pending.Count == 0) continue;
                var group = TakeGroup(pending);
                Run(group);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested) { }
        foreach (var job in pending) job.Completion.TrySetCanceled(stop);
        while (_channel.Reader.TryRead(out var job)) job.Completion.TrySetCanceled(stop);
    }

    /// <summary>Moves queued jobs into <paramref name="pending"/>: all of them with batching on, else one (only when
    /// nothing is pending).</summary>
    private void Drain(List<GenerationJob> pending)
    {
        if (_settings.BatchWindowMs == 0)
        {
            if (pending.Count == 0 && _channel.Reader.TryRead(out var one)) pending.Add(one);
            return;
        }
        while (_channel.Reader.TryRead(out var job)) pending.Add(job);
    }

    static int Images(List<GenerationJob> jobs) => jobs.Sum(j => j.Batch);

    /// <summary>The oldest job and the later ones with its steps and guidance that fit in one generation, in arrival order.</summary>
    private List<GenerationJob> TakeGroup(List<GenerationJob> pending)
    {
        var first = pending[0];
        var group = new List<GenerationJob>();
        int images = 0;
        foreach (var job in pending)
        {
            if (job.Steps != first.Steps || !job.Guidance.Equals(first.Guidance)) continue;
            if (group.Count > 0 && images + job.Batch > _settings.MaxImagesPerGeneration) break;
            group.Add(job);
            images += job.Batch;
        }
        foreach (var job in group) pending.Remove(job);
        return group;
    }

    /// <summary>One generation for <paramref name="group"/>; cancelled when every one of its clients has gone.</summary>
    private void Run(List<GenerationJob> group)
    {
        using var cancel = new CancellationTokenSource();
        int alive = group.Count;
        var registrations = group.Select(j => j.Aborted.Register(() =>
        {
            if (Interlocked.Decrement(ref alive) == 0) cancel.Cancel();
        })).ToList();
        try
        {
            var request = new GenerationRequest
            {
                Prompts = group.SelectMany(j => Enumerable.Repeat(j.Prompt, j.Batch)).ToList(),
                Seeds = group.SelectMany(j => Enumerable.Range(0, j.Batch).Select(i => j.Seed + i)).ToList(),
                Steps = group[0].Steps,
                Guidance = group[0].Guidance,
            };
            var clock = Stopwatch.StartNew();
            var images = _pipeline.Generate(request, cancel: cancel.Token);
            double ms = clock.Elapsed.TotalMilliseconds;
            Interlocked.Increment(ref _generations);
            int offset = 0;
            foreach (var job in group)
            {
                job.Completion.TrySetResult(new GenerationResult(images.GetRange(offset, job.Batch), ms, images.Count, group.Count));
                offset += job.Batch;
            }
        }
        catch (OperationCanceledException)
        {
            foreach (var job in group) job.Completion.TrySetCanceled(cancel.Token);
        }
        catch (Exception e)
        {
            if (e is not InvalidRequestException) _onError?.Invoke(e);
            foreach (var job in group) job.Completion.TrySetException(e);
        }
        finally
        {
            foreach (var r in registrations) r.Dispose();
        }
    }

    /// <summary>Stops the worker after the running generation; waiting jobs are cancelled.</summary>
    public async ValueTask DisposeAsync()
    {
        _channel.Writer.TryComplete();
        await _stop.CancelAsync();
        await _worker;
        _stop.Dispose();
    }
}
