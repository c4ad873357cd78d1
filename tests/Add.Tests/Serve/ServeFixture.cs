using Add.Cli.Serve;
using Add.Engine.Backends;
using Add.Engine.Imaging;
using Add.Engine.Pipeline;

namespace Add.Tests.Serve;

/// <summary>
/// Two `add serve` servers on free loopback ports, each on its own copy of the shipped student (a server is its
/// pipeline's only user): one with dynamic batching off, one with a window wide enough that concurrent requests
/// share generations; plus a third copy for direct <see cref="DiffusionPipeline.Generate"/> calls to compare with.
/// </summary>
public sealed class ServeFixture : IAsyncLifetime, IDisposable
{
    /// <summary>Window of the batching server: wide, so that 40 concurrent requests surely share generations.</summary>
    public const int BatchWindowMs = 50;

    public static string Student => Path.Combine(Fixtures.Root, "models", "add-emoji-32");

    private DiffusionPipeline? _unbatchedPipeline, _batchedPipeline, _reference;
    private readonly StringWriter _log = new();

    public ServeHost Unbatched { get; private set; } = null!;
    public ServeHost Batched { get; private set; } = null!;
    public HttpClient UnbatchedClient { get; private set; } = null!;
    public HttpClient BatchedClient { get; private set; } = null!;
    public ServeSettings Settings { get; } = new() { Port = 0 };

    /// <summary>What the servers logged (a failed generation's exception goes here, never to the client).</summary>
    public string Log { get { lock (_log) return _log.ToString(); } }

    public async Task InitializeAsync()
    {
        _unbatchedPipeline = DiffusionPipeline.Load(Student, new CpuBackend());
        _batchedPipeline = DiffusionPipeline.Load(Student, new CpuBackend());
        _reference = DiffusionPipeline.Load(Student, new CpuBackend());
        var log = TextWriter.Synchronized(_log);
        Unbatched = await ServeHost.StartAsync(_unbatchedPipeline, Settings with { BatchWindowMs = 0 }, log);
        Batched = await ServeHost.StartAsync(_batchedPipeline, Settings with { BatchWindowMs = BatchWindowMs }, log);
        UnbatchedClient = new HttpClient { BaseAddress = Unbatched.Address };
        BatchedClient = new HttpClient { BaseAddress = Batched.Address };
    }

    /// <summary>The image a direct pipeline call makes (called from one test at a time: the lock keeps it sequential).</summary>
    public List<RgbImage> Generate(GenerationRequest request)
    {
        lock (_reference!) return _reference.Generate(request);
    }

    public async Task DisposeAsync()
    {
        UnbatchedClient.Dispose();
        BatchedClient.Dispose();
        await Unbatched.DisposeAsync();
        await Batched.DisposeAsync();
        _unbatchedPipeline?.Dispose();
        _batchedPipeline?.Dispose();
        _reference?.Dispose();
    }

    public void Dispose() => _log.Dispose();
}
