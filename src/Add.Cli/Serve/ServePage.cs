using Microsoft.AspNetCore.Http;

namespace Add.Cli.Serve;

/// <summary>
/// <c>GET /</c>: one self-contained HTML page (inline CSS and script, no external resource), embedded in the assembly
/// from <c>Serve/index.html</c>: a prompt box that regenerates on every keystroke (debounced; a newer keystroke aborts
/// the request in flight, whose work the server then cancels), sliders for steps and seed, the milliseconds per image,
/// and a strip of the latest images. Query parameters prefill it (<c>?prompt=…&amp;seed=…&amp;steps=…</c>), and
/// <c>?type=…</c> types a prompt key by key through the page's own hook <c>window.addServe.type</c> (the browser check).
/// </summary>
public static class ServePage
{
    private static readonly Lazy<byte[]> Html = new(() =>
    {
        using var stream = typeof(ServePage).Assembly.GetManifestResourceStream("Add.Cli.Serve.index.html")
            ?? throw new InvalidOperationException("the page Add.Cli.Serve.index.html is not embedded in the assembly");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    });

    /// <summary>The page's bytes (UTF-8).</summary>
    public static byte[] Bytes => Html.Value;

    /// <summary>Writes the page.</summary>
    public static Task Write(HttpContext context)
    {
        context.Response.ContentType = "text/html; charset=utf-8";
        context.Response.Headers.CacheControl = "no-cache";
        // The page loads nothing from elsewhere; say so to the browser too.
        context.Response.Headers.ContentSecurityPolicy = "default-src 'self'; img-src 'self' blob:; style-src 'unsafe-inline'; script-src 'unsafe-inline'";
        return context.Response.Body.WriteAsync(Bytes, context.RequestAborted).AsTask();
    }
}
