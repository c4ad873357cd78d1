using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Add.Engine.Imaging;
using Add.Engine.Pipeline;

namespace Add.ServeLoad;

/// <summary>One request of the load: client <c>c</c>'s <c>r</c>-th prompt and seed.</summary>
public sealed record LoadRequest(int Client, int Index, string Prompt, long Seed);

/// <summary>The requests of a run, the same in every mode.</summary>
public static class LoadPlan
{
    static readonly string[] Prompts = ["grinning face", "red heart", "smiling cat face", "thumbs up sign", "snowman", "pile of poo", "rocket", "face with tears of joy"];

    public static List<LoadRequest> Create(int clients, int requests) =>
        Enumerable.Range(0, clients).SelectMany(c => Enumerable.Range(0, requests)
            .Select(r => new LoadRequest(c, r, Prompts[(c * 7 + r) % Prompts.Length], 100_000L * c + r))).ToList();
}

/// <summary>The sequential reference: every request's image from a direct <see cref="DiffusionPipeline.Generate"/>.</summary>
public sealed record Sequential(Dictionary<(int, int), RgbImage> Images, double Seconds, double MedianMs)
{
    public static Sequential Run(DiffusionPipeline pipeline, List<LoadRequest> plan)
    {
        for (int i = 0; i < 10; i++) pipeline.Generate(new GenerationRequest { Prompts = [plan[i % plan.Count].Prompt], Seed = i });   // warm-up
        var images = new Dictionary<(int, int), RgbImage>();
        var times = new List<double>();
        var total = Stopwatch.StartNew();
        foreach (var r in plan)
        {
            var clock = Stopwatch.StartNew();
            images[(r.Client, r.Index)] = pipeline.Generate(new GenerationRequest { Prompts = [r.Prompt], Seed = r.Seed })[0];
            times.Add(clock.Elapsed.TotalMilliseconds);
        }
        return new Sequential(images, total.Elapsed.TotalSeconds, LoadRun.Percentile(times, 50));
    }

    public string Describe() => $"sequential direct: {Images.Count} images in {Seconds:F2} s = {Images.Count / Seconds:F1} images/s, p50 {MedianMs:F2} ms";
}

/// <summary>What one mode measured.</summary>
public sealed record LoadResult(int WindowMs, int Requests, double Seconds, double P50Ms, double P99Ms, int Errors,
    int Identical, int Differing, int MaxDifference, double ImagesPerGeneration, string? FirstError)
{
    public double ImagesPerSecond => (Requests - Errors) / Seconds;

    public string Mode => WindowMs == 0 ? "one at a time (batching off)" : $"dynamic batching, {WindowMs} ms window";

    public string Describe() => $"{Mode}: {Requests} requests in {Seconds:F2} s = {ImagesPerSecond:F1} images/s, p50 {P50Ms:F1} ms, p99 {P99Ms:F1} ms, "
        + $"{Errors} errors, {Identical} identical to sequential, {Differing} differing (by at most {MaxDifference}), {ImagesPerGeneration:F1} images per generation"
        + (FirstError is null ? "" : $"; first error: {FirstError}");
}

/// <summary>Closed-loop clients against a running server.</summary>
public static class LoadRun
{
    public static async Task<LoadResult> RunAsync(Uri server, int windowMs, int clients, List<LoadRequest> plan, Dictionary<(int, int), RgbImage> expected)
    {
        using var http = new HttpClient { BaseAddress = server, Timeout = TimeSpan.FromMinutes(2) };
        for (int i = 0; i < 2 * clients; i++) await Post(http, plan[i % plan.Count]);   // warm-up: connections, JIT of the server path
        var latencies = new ConcurrentBag<double>();
        var generationSizes = new ConcurrentBag<int>();
        var errors = new ConcurrentBag<string>();
        int identical = 0, differing = 0, maxDifference = 0;
        var total = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
        {
            foreach (var r in plan.Where(r => r.Client == c))
            {
                var clock = Stopwatch.StartNew();
                try
                {
                    using var response = await Post(http, r);
                    var body = await response.Content.ReadAsByteArrayAsync();
                    latencies.Add(clock.Elapsed.TotalMilliseconds);
                    if (!response.IsSuccessStatusCode || response.Content.Headers.ContentType?.MediaType != "image/png")
                    {
                        errors.Add($"{(int)response.StatusCode} {Encoding.UTF8.GetString(body)}");
                        continue;
                    }
                    generationSizes.Add(int.Parse(response.Headers.GetValues("X-Generation-Images").First(), CultureInfo.InvariantCulture));
                    int d = Difference(Decode(body), expected[(r.Client, r.Index)]);
                    if (d == 0) Interlocked.Increment(ref identical);
                    else
                    {
                        Interlocked.Increment(ref differing);
                        InterlockedMax(ref maxDifference, d);
                    }
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException or InvalidDataException)
                {
                    errors.Add(e.Message);
                }
            }
        })));
        double seconds = total.Elapsed.TotalSeconds;
        var sorted = latencies.ToList();
        return new LoadResult(windowMs, plan.Count, seconds, Percentile(sorted, 50), Percentile(sorted, 99), errors.Count,
            identical, differing, maxDifference, generationSizes.IsEmpty ? 0 : generationSizes.Average(), errors.FirstOrDefault());
    }

    static Task<HttpResponseMessage> Post(HttpClient http, LoadRequest r) => http.PostAsync(new Uri("/api/generate", UriKind.Relative),
        new StringContent(JsonSerializer.Serialize(new { prompt = r.Prompt, seed = r.Seed }), Encoding.UTF8, "application/json"));

    static RgbImage Decode(byte[] png)
    {
        var (width, height, rgba) = Png.DecodeRgba(png, "response");
        var rgb = new byte[width * height * 3];
        for (int i = 0; i < width * height; i++)
            for (int k = 0; k < 3; k++) rgb[3 * i + k] = rgba[4 * i + k];
        return new RgbImage(width, height, rgb);
    }

    /// <summary>Largest absolute byte difference (0: identical); a size mismatch counts as 255.</summary>
    static int Difference(RgbImage a, RgbImage b)
    {
        if (a.Pixels.Length != b.Pixels.Length) return 255;
        int max = 0;
        for (int i = 0; i < a.Pixels.Length; i++) max = Math.Max(max, Math.Abs(a.Pixels[i] - b.Pixels[i]));
        return max;
    }

    static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen) { }
    }

    /// <summary>Nearest-rank percentile.</summary>
    public static double Percentile(List<double> values, double p)
    {
        if (values.Count == 0) return double.NaN;
        var sorted = values.Order().ToList();
        return sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Count) - 1, 0, sorted.Count - 1)];
    }
}
