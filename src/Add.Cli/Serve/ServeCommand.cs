using System.CommandLine;
using Add.CommandLine;
using Add.Engine.Backends;

namespace Add.Cli.Serve;

/// <summary>`add serve`: the model behind a small HTTP API and a type-and-see page (<see cref="ServeHost"/>).</summary>
public static class ServeCommand
{
    /// <summary>The `serve` command: its options and action.</summary>
    public static Command Create()
    {
        var defaults = new ServeSettings();
        var port = Opt.IntRange("--port", "TCP port to listen on, 0 to 65535 (0: any free port)", defaults.Port, 0, 65535);
        var host = Opt.Text("--host", "address to bind: an IP address, localhost or * (default: 127.0.0.1, this machine only)", "H");
        var model = CommonOptions.Model();
        var backend = CommonOptions.Backend();
        var variant = CommonOptions.Variant();
        var window = Opt.IntRange("--batch-window-ms", $"dynamic batching: how long the first waiting request waits for others to share its generation, 0 to 1000 ms (0: off)", defaults.BatchWindowMs, 0, 1000, "MS");
        var maxBatch = Opt.IntRange("--max-batch", "most images one request may ask for, 1 to 256", defaults.MaxBatch, 1, 256);
        var command = new Command("serve", "Serve the model over HTTP: POST /api/generate (JSON → PNG), GET / (a page that draws as you type), GET /healthz.")
        {
            port, host, model, backend, variant, window, maxBatch,
        };
        command.SetAction((p, cancel) => RunAsync(new ServeSettings
        {
            Port = p.GetValue(port),
            Host = p.GetValue(host) is { } h ? ServeSettings.ParseHost(h) : defaults.Host,
            BatchWindowMs = p.GetValue(window),
            MaxBatch = p.GetValue(maxBatch),
            MaxImagesPerGeneration = Math.Max(defaults.MaxImagesPerGeneration, p.GetValue(maxBatch)),
        }, p.GetValue(model), p.GetValue(backend), p.GetValue(variant), p.InvocationConfiguration.Output, p.InvocationConfiguration.Error, cancel));
        return command;
    }

    static async Task<int> RunAsync(ServeSettings settings, string? model, BackendKind backend, string? variant, TextWriter output, TextWriter log, CancellationToken cancel)
    {
        var options = new GenerationOptions.Options(model, backend, null, 0, 1, null, null, null, 1.0, variant);
        using var pipeline = options.Load(log);
        ServeHost host;
        try { host = await ServeHost.StartAsync(pipeline, settings, TextWriter.Synchronized(log), cancel); }
        catch (IOException e) { throw new UsageException($"cannot listen on {settings.Host} port {settings.Port}: {e.Message}"); }
        await using (host)
        {
            output.WriteLine($"add serve: {pipeline.Folder} on {pipeline.Backend.Name}, loaded in {pipeline.LoadSeconds:F1} s; " +
                $"dynamic batching {(settings.BatchWindowMs > 0 ? $"{settings.BatchWindowMs} ms window" : "off")}");
            output.WriteLine($"add serve: listening on {host.Address} (Ctrl+C stops)");
            output.Flush();
            try { await host.WaitForShutdownAsync(cancel); }
            catch (OperationCanceledException) { }
        }
        return 0;
    }
}
