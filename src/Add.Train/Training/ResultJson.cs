using System.Text.Json;
using System.Text.Json.Serialization;

namespace Add.Train.Training;

/// <summary>JSON for result records: indented, NaN allowed (a stopped run has no final metrics).</summary>
public static class ResultJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>As <see cref="Options"/> on one line (JSON Lines files).</summary>
    public static readonly JsonSerializerOptions Line = new(Options) { WriteIndented = false };

    /// <summary>Plain indented JSON (sidecars, manifests, model_index.json).</summary>
    public static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, Options);
}
