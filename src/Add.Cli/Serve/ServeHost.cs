using System.Globalization;
using System.Net;
using System.Text.Json;
using Add.Engine.Imaging;
using Add.Engine.Pipeline;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Add.Cli.Serve;

/// <summary>
/// The `add serve` web server (Kestrel from the shared ASP.NET Core framework): <c>GET /</c> the page
/// (<see cref="ServePage"/>), <c>GET /healthz</c>, <c>GET /api/info</c> (the model's limits, for the page), and
/// <c>POST /api/generate</c> (<see cref="ApiRequest"/> → PNG). Every generation goes through one
/// <see cref="GenerationWorker"/>, so the pipeline is never called concurrently. Errors are JSON
/// <c>{"error": …}</c>: 400 for a bad request (naming the problem), 503 when the queue is full, 500 with a generic
/// message for anything else (the exception goes to the server's log, never to the client).
/// </summary>
public sealed class ServeHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly GenerationWorker _queue;

    /// <summary>The address the server listens on, e.g. http://127.0.0.1:8080/ (the real port when 0 was asked).</summary>
    public Uri Address { get; }

    /// <summary>The generation worker (its counters show how requests were batched).</summary>
    public GenerationWorker Queue => _queue;

    private ServeHost(WebApplication app, GenerationWorker queue, Uri address)
    {
        _app = app;
        _queue = queue;
        Address = address;
    }

    /// <summary>Starts serving <paramref name="pipeline"/> (not owned; the server must be its only user while it runs).
    /// Failed requests' exceptions are written to <paramref name="log"/>.</summary>
    public static async Task<ServeHost> StartAsync(DiffusionPipeline pipeline, ServeSettings settings, TextWriter log, CancellationToken cancel = default)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(settings.Host, settings.Port);
            k.AddServerHeader = false;
        });
        var app = builder.Build();
        var queue = new GenerationWorker(pipeline, settings, e => log.WriteLine($"add serve: generation failed: {e}"));
        var api = new ServeApi(pipeline, settings, queue);
        app.Use((context, next) => ServeErrors.CatchAll(context, next, settings, log));
        app.MapGet("/", ServePage.Write);
        app.MapGet("/healthz", c => c.Response.WriteAsync("ok\n", c.RequestAborted));
        app.MapGet("/api/info", api.Info);
        app.MapPost("/api/generate", api.Generate);
        try { await app.StartAsync(cancel); }
        catch
        {
            await queue.DisposeAsync();
            await app.DisposeAsync();
            throw;
        }
        var address = new Uri(app.Urls.First().Replace("[::]", "localhost", StringComparison.Ordinal).TrimEnd('/') + "/");
        return new ServeHost(app, queue, address);
    }

    /// <summary>Runs until the host stops (Ctrl+C, SIGTERM).</summary>
    public Task WaitForShutdownAsync(CancellationToken cancel = default) => _app.WaitForShutdownAsync(cancel);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _queue.DisposeAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>The handlers of <see cref="ServeHost"/>.</summary>
internal sealed class ServeApi(DiffusionPipeline pipeline, ServeSettings settings, GenerationWorker queue)
{
    /// <summary>Steps without a "steps" field: the model's default.</summary>
    private readonly int _defaultSteps = pipeline.Plan(new GenerationRequest { Prompts = [""] }).Timesteps.Length;

    /// <summary>Largest steps a request may ask for: the model's and the server's limit.</summary>
    private int MaxSteps => Math.Min(settings.MaxSteps, pipeline.Scheduler.MaxSteps);

    public Task Info(HttpContext context) => context.Response.WriteAsJsonAsync(new Dictionary<string, object>
    {
        ["model"] = Path.GetFileName(Path.TrimEndingDirectorySeparator(pipeline.Folder)),
        ["backend"] = pipeline.Backend.Name,
        ["imageSize"] = pipeline.ImageSize,
        ["defaultSteps"] = _defaultSteps,
        ["maxSteps"] = MaxSteps,
        ["maxBatch"] = settings.MaxBatch,
        ["maxPromptChars"] = settings.MaxPromptChars,
        ["batchWindowMs"] = settings.BatchWindowMs,
    }, context.RequestAborted);

    public async Task Generate(HttpContext context)
    {
        var aborted = context.RequestAborted;
        ApiRequest body;
        GenerationPlan plan;
        long seed;
        try
        {
            body = await ApiRequest.ReadAsync(context.Request, settings with { MaxSteps = MaxSteps }, aborted);
            seed = body.Seed ?? Random.Shared.NextInt64(0, 1L << 31);
            // The model's own checks (pure: no generation runs on this thread).
            plan = pipeline.Plan(new GenerationRequest { Prompts = [body.Prompt], Steps = body.Steps, Guidance = body.Guidance });
        }
        catch (Exception e) when (e is BadApiRequestException or InvalidRequestException)
        {
            await ServeErrors.Error(context, StatusCodes.Status400BadRequest, e.Message);
            return;
        }
        var job = new GenerationJob(body.Prompt, seed, body.Batch, plan.Timesteps.Length, plan.Guidance, aborted);
        if (!queue.TryEnqueue(job))
        {
            await ServeErrors.Error(context, StatusCodes.Status503ServiceUnavailable, $"server busy: {settings.QueueCapacity} requests already waiting");
            return;
        }
        GenerationResult result;
        try { result = await job.Result; }
        catch (OperationCanceledException) { return; }                   // the client left (or the server is stopping)
        catch (InvalidRequestException e)                                   // anything else is ours: 500 (CatchAll)
        {
            await ServeErrors.Error(context, StatusCodes.Status400BadRequest, e.Message);
            return;
        }
        var image = result.Images.Count == 1 ? result.Images[0]
            : Resample.Grid(result.Images, columns: (int)Math.Ceiling(Math.Sqrt(result.Images.Count)));
        var png = Png.Encode(image);
        var headers = context.Response.Headers;
        headers["X-Generation-Ms"] = result.Milliseconds.ToString("F2", CultureInfo.InvariantCulture);
        headers["X-Generation-Images"] = result.GenerationImages.ToString(CultureInfo.InvariantCulture);
        headers["X-Generation-Requests"] = result.GenerationRequests.ToString(CultureInfo.InvariantCulture);
        headers["X-Seed"] = seed.ToString(CultureInfo.InvariantCulture);
        headers["X-Steps"] = job.Steps.ToString(CultureInfo.InvariantCulture);
        headers.CacheControl = "no-store";
        context.Response.ContentType = "image/png";
        context.Response.ContentLength = png.Length;
        await context.Response.Body.WriteAsync(png, aborted);
    }
}

/// <summary>The server's JSON errors: <c>{"error": message}</c>, and the last-resort handler that keeps exceptions
/// (stack traces, type names) out of responses.</summary>
public static class ServeErrors
{
    /// <summary>Turns an exception no handler caught into a JSON error: 400 for a malformed HTTP request (Kestrel's
    /// own checks), else 500 with a generic message; the exception goes to the log only.</summary>
    public static async Task CatchAll(HttpContext context, RequestDelegate next, ServeSettings settings, TextWriter log)
    {
        try { await next(context); }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested) { }
        catch (BadHttpRequestException e) when (!context.Response.HasStarted)
        {
            await Error(context, StatusCodes.Status400BadRequest, e.StatusCode == StatusCodes.Status413PayloadTooLarge
                ? $"body too large; the limit is {settings.MaxBodyBytes} bytes" : "malformed HTTP request");
        }
        catch (Exception e) when (!context.Response.HasStarted)
        {
            log.WriteLine($"add serve: {context.Request.Method} {context.Request.Path} failed: {e}");
            await Error(context, StatusCodes.Status500InternalServerError, "internal error (see the server's log)");
        }
    }

    static readonly JsonSerializerOptions ErrorJson = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Writes <c>{"error": message}</c> with <paramref name="status"/>.</summary>
    public static Task Error(HttpContext context, int status, string message)
    {
        context.Response.Clear();
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=utf-8";
        return context.Response.WriteAsync(JsonSerializer.Serialize(new Dictionary<string, string> { ["error"] = message }, ErrorJson), context.RequestAborted);
    }
}
