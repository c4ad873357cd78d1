using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Add.Cli.Serve;

/// <summary>A request body the server refuses: the message names the problem and goes to the client as
/// <c>400 {"error": message}</c>.</summary>
public sealed class BadApiRequestException(string message) : Exception(message);

/// <summary>
/// The body of <c>POST /api/generate</c>: <c>{"prompt": str, "steps": int?, "seed": int?, "batch": int?,
/// "guidance": float?}</c>, read with a size bound and checked field by field (unknown or repeated fields, wrong types
/// and values over <see cref="ServeSettings"/>' limits are refused with a message naming the field). The model's own
/// limits (its step range) are checked afterwards by <see cref="Add.Engine.Pipeline.DiffusionPipeline.Plan"/>.
/// </summary>
public sealed record ApiRequest(string Prompt, int? Steps, long? Seed, int Batch, double? Guidance)
{
    /// <summary>The fields a body may hold.</summary>
    public const string Fields = "prompt (string), steps, seed, batch (integers), guidance (number)";

    /// <summary>Reads and checks the body of <paramref name="request"/>.</summary>
    public static async Task<ApiRequest> ReadAsync(HttpRequest request, ServeSettings settings, CancellationToken cancel)
    {
        if (request.ContentLength > settings.MaxBodyBytes)
            throw new BadApiRequestException($"body is {request.ContentLength} bytes; the limit is {settings.MaxBodyBytes}");
        var body = new MemoryStream();
        var chunk = new byte[4096];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancel)) > 0)
        {
            if (body.Length + read > settings.MaxBodyBytes)
                throw new BadApiRequestException($"body too large: the limit is {settings.MaxBodyBytes} bytes");
            body.Write(chunk, 0, read);
        }
        return Parse(body.ToArray(), settings);
    }

    /// <summary>Parses and checks a body.</summary>
    public static ApiRequest Parse(ReadOnlyMemory<byte> body, ServeSettings settings)
    {
        if (body.IsEmpty) throw new BadApiRequestException($"body is empty: send a JSON object with {Fields}");
        JsonDocument document;
        try { document = JsonDocument.Parse(body); }
        catch (JsonException e)
        {
            throw new BadApiRequestException($"body is not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1})");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new BadApiRequestException($"body must be a JSON object with {Fields}, not {Kind(root)}");
            string? prompt = null;
            int? steps = null, batch = null;
            long? seed = null;
            double? guidance = null;
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var field in root.EnumerateObject())
            {
                if (!seen.Add(field.Name)) throw new BadApiRequestException($"field \"{Clip(field.Name)}\" appears twice");
                var value = field.Value;
                switch (field.Name)
                {
                    case "prompt":
                        if (value.ValueKind != JsonValueKind.String) throw new BadApiRequestException($"prompt must be a string, not {Kind(value)}");
                        prompt = value.GetString()!;
                        break;
                    case "steps": steps = Int(value, "steps", 1, settings.MaxSteps); break;
                    case "batch": batch = Int(value, "batch", 1, settings.MaxBatch); break;
                    case "seed":
                        if (value.ValueKind == JsonValueKind.Null) break;
                        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out long s) || s < 0 || s > ServeSettings.MaxSeed)
                            throw new BadApiRequestException($"seed must be an integer from 0 to {ServeSettings.MaxSeed}, not {Show(value)}");
                        seed = s;
                        break;
                    case "guidance":
                        if (value.ValueKind == JsonValueKind.Null) break;
                        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out double g) || !(g >= 0 && g <= settings.MaxGuidance))
                            throw new BadApiRequestException($"guidance must be a number from 0 to {settings.MaxGuidance}, not {Show(value)}");
                        guidance = g;
                        break;
                    default:
                        throw new BadApiRequestException($"unknown field \"{Clip(field.Name)}\"; the fields are {Fields}");
                }
            }
            if (prompt is null) throw new BadApiRequestException("prompt is required (a string)");
            if (prompt.Length > settings.MaxPromptChars)
                throw new BadApiRequestException($"prompt is {prompt.Length} characters; the limit is {settings.MaxPromptChars}");
            return new ApiRequest(prompt, steps, seed, batch ?? 1, guidance);
        }
    }

    static int? Int(JsonElement value, string name, int min, int max)
    {
        if (value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out int v) || v < min || v > max)
            throw new BadApiRequestException($"{name} must be an integer from {min} to {max}, not {Show(value)}");
        return v;
    }

    static string Kind(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Array => "an array", JsonValueKind.String => "a string", JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean", JsonValueKind.Null => "null", _ => "an object",
    };

    /// <summary>A value as the client wrote it, shortened: numbers and short strings verbatim, else the kind.</summary>
    static string Show(JsonElement value) => value.ValueKind is JsonValueKind.Number or JsonValueKind.String
        ? Clip(value.GetRawText()) : Kind(value);

    static string Clip(string text) => text.Length <= 40 ? text : text[..40] + "…";
}
