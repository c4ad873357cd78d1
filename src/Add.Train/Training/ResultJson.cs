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

    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, Options);
}
