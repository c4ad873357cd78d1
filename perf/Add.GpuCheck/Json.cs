using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Add.GpuCheck;

/// <summary>
/// Source-generated JSON for manifest.json and results.json: the published bundle is trimmed, and trimmed apps have
/// reflection-based System.Text.Json turned off. Snake-case names; NaN and ±Infinity (an unwritten output) allowed;
/// '&lt;', '+' and '-&gt;' written as themselves (the files are read by people, never embedded in HTML).
/// </summary>
[JsonSerializable(typeof(Manifest))]
[JsonSerializable(typeof(RunReport))]
internal sealed partial class GpuCheckJson : JsonSerializerContext
{
    public static GpuCheckJson Files { get; } = new(new JsonSerializerOptions
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}

/// <summary>results.json.</summary>
public sealed record RunReport(RunInfo Info, int Passed, int Failed, List<CaseResult> Results);
