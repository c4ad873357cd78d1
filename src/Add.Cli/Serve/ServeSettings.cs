using System.Net;

namespace Add.Cli.Serve;

/// <summary>
/// Where `add serve` listens and what it accepts. Every limit is checked before a request reaches the generation
/// queue; a request over one gets <c>400 {"error": …}</c> naming the limit.
/// </summary>
public sealed record ServeSettings
{
    /// <summary>Address to bind; loopback unless the user asks otherwise (--host).</summary>
    public IPAddress Host { get; init; } = IPAddress.Loopback;

    /// <summary>TCP port; 0 picks a free one (tests).</summary>
    public int Port { get; init; } = 8080;

    /// <summary>How long the worker waits after the first queued request for others to join its generation (dynamic
    /// batching); 0 turns batching off (one request per generation).</summary>
    public int BatchWindowMs { get; init; } = 5;

    /// <summary>Most images one generation runs (several requests batched together).</summary>
    public int MaxImagesPerGeneration { get; init; } = 64;

    /// <summary>Most images one request asks for ("batch").</summary>
    public int MaxBatch { get; init; } = 16;

    /// <summary>Most characters in a prompt (CLIP reads 77 tokens; this only bounds the work of tokenizing).</summary>
    public int MaxPromptChars { get; init; } = 500;

    /// <summary>Most denoising steps a request may ask for, below the model's own limit (one request must not hold
    /// the single worker for long).</summary>
    public int MaxSteps { get; init; } = 50;

    /// <summary>Largest guidance scale accepted (as `add generate --guidance`).</summary>
    public double MaxGuidance { get; init; } = 50;

    /// <summary>Largest seed accepted: 2^53 − 1, the largest integer a JSON number holds exactly in every client.</summary>
    public const long MaxSeed = (1L << 53) - 1;

    /// <summary>Largest request body in bytes.</summary>
    public int MaxBodyBytes { get; init; } = 16 * 1024;

    /// <summary>Requests that may wait for the worker; more get 503.</summary>
    public int QueueCapacity { get; init; } = 1024;

    /// <summary>Parses --host: an IP address, "localhost" (loopback) or "*" (every interface).</summary>
    public static IPAddress ParseHost(string host) => host switch
    {
        "localhost" => IPAddress.Loopback,
        "*" => IPAddress.IPv6Any,
        _ when IPAddress.TryParse(host, out var address) => address,
        _ => throw new ArgumentException($"--host {host}: not an IP address (use e.g. 127.0.0.1, ::1, 0.0.0.0, localhost or *)"),
    };
}
