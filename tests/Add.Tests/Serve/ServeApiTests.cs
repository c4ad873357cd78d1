using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Add.Cli.Serve;
using Add.Engine.Imaging;
using Add.Engine.Pipeline;

namespace Add.Tests.Serve;

/// <summary>`add serve` over real HTTP on loopback: the endpoints, the limits (400 with a JSON error naming the problem),
/// 40 concurrent generations with and without dynamic batching, and every image byte-identical to
/// <see cref="DiffusionPipeline.Generate"/> at the same prompt, seed and steps.</summary>
public sealed class ServeApiTests(ServeFixture serve) : IClassFixture<ServeFixture>
{
    static readonly string[] Prompts = ["grinning face", "red heart", "smiling cat face", "thumbs up sign", "snowman", "pile of poo", ""];

    [Fact]
    public async Task HealthzAnswers200()
    {
        using var response = await serve.UnbatchedClient.GetAsync(new Uri("/healthz", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ok", (await response.Content.ReadAsStringAsync()).Trim());
    }

    /// <summary>One self-contained page: inline CSS and script, nothing loaded from elsewhere.</summary>
    [Fact]
    public async Task PageIsOneSelfContainedHtmlDocument()
    {
        using var response = await serve.UnbatchedClient.GetAsync(new Uri("/", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        var html = await response.Content.ReadAsStringAsync();
        Assert.StartsWith("<!doctype html>", html);
        Assert.Contains("<input id=\"prompt\"", html);
        Assert.Contains("id=\"steps\" type=\"range\"", html);
        Assert.Contains("id=\"seed\" type=\"range\"", html);
        Assert.Contains("/api/generate", html);
        Assert.Contains("<style>", html);
        Assert.Contains("<script>", html);
        foreach (var external in new[] { "http://", "https://", "<link", "src=\"//", "@import" })
            Assert.DoesNotContain(external, html, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task InfoGivesTheModelsStepRange()
    {
        using var doc = JsonDocument.Parse(await serve.UnbatchedClient.GetStringAsync(new Uri("/api/info", UriKind.Relative)));
        Assert.Equal("add-emoji-32", doc.RootElement.GetProperty("model").GetString());
        Assert.Equal(1, doc.RootElement.GetProperty("defaultSteps").GetInt32());
        Assert.Equal(4, doc.RootElement.GetProperty("maxSteps").GetInt32());     // the student's add_max_steps
        Assert.Equal(32, doc.RootElement.GetProperty("imageSize").GetInt32());
    }

    /// <summary>40 concurrent requests with batching off: valid PNGs, each the image of a direct call.</summary>
    [Fact]
    public async Task FortyConcurrentRequestsWithoutBatchingGiveTheDirectImages()
        => await FortyConcurrent(serve.UnbatchedClient, expectShared: false);

    /// <summary>40 concurrent requests with batching on: they share generations, and each image still equals its
    /// direct single generation byte for byte (needs batch-invariant kernels).</summary>
    [Fact]
    public async Task FortyConcurrentRequestsWithBatchingShareGenerationsAndGiveTheDirectImages()
        => await FortyConcurrent(serve.BatchedClient, expectShared: true);

    async Task FortyConcurrent(HttpClient client, bool expectShared)
    {
        var requests = Enumerable.Range(0, 40).Select(i => (Prompt: Prompts[i % Prompts.Length], Seed: 1000L + 37 * i, Steps: 1 + i % 2)).ToList();
        var responses = await Task.WhenAll(requests.Select(r => Post(client, $"{{\"prompt\": {JsonSerializer.Serialize(r.Prompt)}, \"seed\": {r.Seed}, \"steps\": {r.Steps}}}")));
        var mismatches = new List<string>();
        int maxShared = 0;
        for (int i = 0; i < requests.Count; i++)
        {
            var (status, type, headers, body) = responses[i];
            Assert.True(status == HttpStatusCode.OK, $"request {i}: {status} {Encoding.UTF8.GetString(body)}");
            Assert.Equal("image/png", type);
            Assert.True(double.Parse(headers["X-Generation-Ms"], CultureInfo.InvariantCulture) > 0);
            Assert.Equal(requests[i].Seed.ToString(CultureInfo.InvariantCulture), headers["X-Seed"]);
            maxShared = Math.Max(maxShared, int.Parse(headers["X-Generation-Requests"], CultureInfo.InvariantCulture));
            var image = Decode(body);
            Assert.Equal((32, 32), (image.Width, image.Height));
            var direct = serve.Generate(new GenerationRequest { Prompts = [requests[i].Prompt], Seed = requests[i].Seed, Steps = requests[i].Steps })[0];
            if (!direct.Pixels.AsSpan().SequenceEqual(image.Pixels))
                mismatches.Add($"request {i} ({requests[i]}): {Differences(direct.Pixels, image.Pixels)}");
        }
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} of 40 served images differ from the direct generation:\n{string.Join("\n", mismatches)}");
        if (expectShared) Assert.True(maxShared > 1, "with batching on, no generation served more than one of 40 concurrent requests");
        else Assert.Equal(1, maxShared);
    }

    /// <summary>batch > 1 returns the grid `add generate --batch` draws, of the images at seed + i.</summary>
    [Fact]
    public async Task BatchReturnsTheGridOfSeedPlusI()
    {
        var (status, type, headers, body) = await Post(serve.UnbatchedClient, "{\"prompt\": \"red heart\", \"seed\": 5, \"batch\": 4}");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("image/png", type);
        Assert.Equal("4", headers["X-Generation-Images"]);
        var direct = serve.Generate(new GenerationRequest { Prompts = ["red heart", "red heart", "red heart", "red heart"], Seed = 5 });
        var grid = Resample.Grid(direct, columns: 2);
        var served = Decode(body);
        Assert.Equal((grid.Width, grid.Height), (served.Width, served.Height));
        Assert.Equal(grid.Pixels, served.Pixels);
    }

    /// <summary>Without a seed the server picks one, says which, and the image is that seed's.</summary>
    [Fact]
    public async Task MissingSeedIsChosenAndReported()
    {
        var (status, _, headers, body) = await Post(serve.UnbatchedClient, "{\"prompt\": \"snowman\"}");
        Assert.Equal(HttpStatusCode.OK, status);
        long seed = long.Parse(headers["X-Seed"], CultureInfo.InvariantCulture);
        Assert.Equal(serve.Generate(new GenerationRequest { Prompts = ["snowman"], Seed = seed })[0].Pixels, Decode(body).Pixels);
    }

    [Theory]
    [InlineData("{\"prompt\": \"grinning face\", \"steps\": 99}", "steps must be an integer from 1 to 4, not 99")]
    [InlineData("{\"prompt\": \"grinning face\", \"steps\": 0}", "steps must be an integer from 1 to 4, not 0")]
    [InlineData("{\"prompt\": \"grinning face\", \"batch\": 17}", "batch must be an integer from 1 to 16, not 17")]
    [InlineData("{\"prompt\": \"grinning face\", \"seed\": -1}", "seed must be an integer from 0 to")]
    [InlineData("{\"prompt\": \"grinning face\", \"guidance\": 51}", "guidance must be a number from 0 to 50")]
    [InlineData("{\"prompt\": \"grinning face\", \"steps\": 1.5}", "steps must be an integer")]
    [InlineData("{\"prompt\": \"grinning face\", \"steps\": \"2\"}", "steps must be an integer")]
    [InlineData("{\"prompt\": \"grinning face\", \"colour\": \"red\"}", "unknown field \"colour\"")]
    [InlineData("{\"prompt\": \"a\", \"prompt\": \"b\"}", "field \"prompt\" appears twice")]
    [InlineData("{\"steps\": 1}", "prompt is required")]
    [InlineData("{\"prompt\": 7}", "prompt must be a string, not a number")]
    [InlineData("{\"prompt\": \"grinning face\"", "body is not valid JSON")]
    [InlineData("prompt=grinning+face", "body is not valid JSON")]
    [InlineData("[\"grinning face\"]", "body must be a JSON object")]
    [InlineData("", "body is empty")]
    public async Task InvalidRequestsGet400WithAJsonErrorNamingTheProblem(string body, string expected)
    {
        var (status, type, _, bytes) = await Post(serve.BatchedClient, body);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("application/json", type);
        Assert.Contains(expected, ErrorOf(bytes));
    }

    [Fact]
    public async Task PromptOverTheLimitGets400()
    {
        var (status, _, _, bytes) = await Post(serve.UnbatchedClient, $"{{\"prompt\": \"{new string('a', serve.Settings.MaxPromptChars + 1)}\"}}");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains($"prompt is {serve.Settings.MaxPromptChars + 1} characters; the limit is {serve.Settings.MaxPromptChars}", ErrorOf(bytes));
    }

    /// <summary>A body over the limit gets 400, whether its length is announced (Content-Length) or streamed (chunked).</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task BodyTooLargeGets400(bool announced)
    {
        var json = Encoding.UTF8.GetBytes($"{{\"prompt\": \"x\", \"pad\": \"{new string(' ', serve.Settings.MaxBodyBytes)}\"}}");
        HttpContent content = announced ? new ByteArrayContent(json) : new StreamContent(new UnknownLengthStream(json));
        using var response = await serve.UnbatchedClient.PostAsync(new Uri("/api/generate", UriKind.Relative), content);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains($"the limit is {serve.Settings.MaxBodyBytes}", ErrorOf(await response.Content.ReadAsByteArrayAsync()), StringComparison.Ordinal);
        if (announced) Assert.Contains("body is", ErrorOf(await response.Content.ReadAsByteArrayAsync()));
    }

    /// <summary>No error response carries a stack trace or a .NET type name.</summary>
    [Fact]
    public async Task ErrorsLeakNothing()
    {
        foreach (var body in new[] { "{\"prompt\": 1}", "{", "{\"prompt\": \"x\", \"steps\": 99}", "null" })
        {
            var (_, _, _, bytes) = await Post(serve.UnbatchedClient, body);
            var text = Encoding.UTF8.GetString(bytes);
            Assert.Single(JsonDocument.Parse(text).RootElement.EnumerateObject());
            foreach (var leak in new[] { " at ", "Exception", "System.", "Add.", ".cs" }) Assert.DoesNotContain(leak, text);
        }
    }

    /// <summary>An exception no handler expected becomes 500 with a generic JSON error; the details go to the log.</summary>
    [Fact]
    public async Task UnexpectedExceptionGives500WithAGenericError()
    {
        var context = new Microsoft.AspNetCore.Http.DefaultHttpContext();
        context.Response.Body = new MemoryStream();
        using var log = new StringWriter();
        await ServeErrors.CatchAll(context, _ => throw new InvalidOperationException("secret detail at Foo.cs:12"), serve.Settings, log);
        Assert.Equal(500, context.Response.StatusCode);
        Assert.StartsWith("application/json", context.Response.ContentType);
        var body = ((MemoryStream)context.Response.Body).ToArray();
        Assert.Equal("internal error (see the server's log)", ErrorOf(body));
        Assert.DoesNotContain("secret", Encoding.UTF8.GetString(body));
        Assert.Contains("secret detail", log.ToString());
    }

    internal static async Task<(HttpStatusCode Status, string? Type, Dictionary<string, string> Headers, byte[] Body)> Post(HttpClient client, string json)
    {
        using var response = await client.PostAsync(new Uri("/api/generate", UriKind.Relative), new StringContent(json, Encoding.UTF8, "application/json"));
        var headers = response.Headers.ToDictionary(h => h.Key, h => string.Join(",", h.Value), StringComparer.OrdinalIgnoreCase);
        return (response.StatusCode, response.Content.Headers.ContentType?.MediaType, headers, await response.Content.ReadAsByteArrayAsync());
    }

    internal static RgbImage Decode(byte[] png)
    {
        var (width, height, rgba) = Png.DecodeRgba(png, "response");
        var rgb = new byte[width * height * 3];
        for (int i = 0; i < width * height; i++)
        {
            Assert.Equal(255, rgba[4 * i + 3]);                            // the server writes opaque RGB
            rgb[3 * i] = rgba[4 * i];
            rgb[3 * i + 1] = rgba[4 * i + 1];
            rgb[3 * i + 2] = rgba[4 * i + 2];
        }
        return new RgbImage(width, height, rgb);
    }

    static string ErrorOf(byte[] body)
    {
        using var doc = JsonDocument.Parse(body);
        return doc.RootElement.GetProperty("error").GetString()!;
    }

    internal static string Differences(byte[] a, byte[] b)
    {
        if (a.Length != b.Length) return $"{a.Length} vs {b.Length} bytes";
        int count = 0, max = 0;
        for (int i = 0; i < a.Length; i++)
        {
            int d = Math.Abs(a[i] - b[i]);
            if (d > 0) count++;
            max = Math.Max(max, d);
        }
        return $"{count} bytes differ, by at most {max}";
    }

    /// <summary>A stream that does not say its length, so HttpClient sends it chunked.</summary>
    sealed class UnknownLengthStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }
}
