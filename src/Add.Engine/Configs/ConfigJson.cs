using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Add.Engine.Configs;

/// <summary>
/// Base of config records read from diffusers/transformers config.json files. Keys the record does not bind land in
/// <see cref="Extra"/>; each record sorts them into three kinds: bookkeeping and informational keys (accepted silently:
/// "_class_name", "torch_dtype", …), keys that would change the math and are checked against the values we implement
/// (<see cref="CheckFixedKeys"/>: an unsupported value is an <see cref="InvalidDataException"/> naming key and value),
/// and unknown keys (reported as warnings).
/// </summary>
public abstract record ConfigBase
{
    /// <summary>Keys present in the file that this record does not bind (diffusers' "_class_name" etc. are expected).</summary>
    [JsonExtensionData] public Dictionary<string, JsonElement>? Extra { get; set; }

    /// <summary>Keys the file set to JSON null that are not bound here (filled by <see cref="ConfigJson.Load{T}"/>).</summary>
    [JsonIgnore] public IReadOnlyList<string> NullKeys { get; internal set; } = [];

    /// <summary>Checks value ranges and cross-key consistency; throws <see cref="InvalidDataException"/> naming the keys.</summary>
    public abstract void Validate();

    /// <summary>Keys written by diffusers/transformers that do not change this model's math (dtype, dropout at inference, …).</summary>
    [JsonIgnore] protected virtual IReadOnlySet<string> InformationalKeys => new HashSet<string>();

    /// <summary>Keys whose only supported value(s) are fixed: key → allowed values (null, bool, number or string).</summary>
    [JsonIgnore] protected virtual IReadOnlyDictionary<string, object?[]> FixedKeys => new Dictionary<string, object?[]>();

    /// <summary>Keys for which JSON null means something other than the default (e.g. diffusers' norm_num_groups null:
    /// no output norm); null for one of them is refused.</summary>
    [JsonIgnore] protected virtual IReadOnlySet<string> NullMeaningfulKeys => new HashSet<string>();

    /// <summary>Unknown keys: not bound, not bookkeeping ('_' prefix), not informational, not fixed.</summary>
    [JsonIgnore]
    public IEnumerable<string> UnknownKeys => Extra?.Keys.Where(k => !k.StartsWith('_') && !InformationalKeys.Contains(k) && !FixedKeys.ContainsKey(k)) ?? [];

    /// <summary>Throws for a fixed key whose value is not implemented, and for null on a key where null changes the model.</summary>
    protected void CheckFixedKeys()
    {
        foreach (var key in NullKeys)
            ConfigJson.Require(!NullMeaningfulKeys.Contains(key), $"{key} null is not supported (diffusers reads null there as a different model)");
        if (Extra is null) return;
        foreach (var (key, allowed) in FixedKeys)
        {
            if (!Extra.TryGetValue(key, out var value) || allowed.Any(a => ConfigJson.JsonEquals(value, a))) continue;
            var expected = string.Join(", ", allowed.Select(ConfigJson.Describe));
            var got = value.ValueKind == JsonValueKind.String ? $"'{value.GetString()}'" : value.GetRawText();
            throw new InvalidDataException($"{key} {got} is not supported{(key == "addition_embed_type" ? " yet" : "")} (only {expected})");
        }
    }
}

/// <summary>Reads and writes config.json files.</summary>
public static class ConfigJson
{
    static readonly JsonSerializerOptions Options = new() { WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    /// <summary>
    /// Loads, validates, and reports unknown keys through <paramref name="warn"/>. A top-level JSON null counts as an
    /// absent key (diffusers writes every parameter, many as null), so the record's default (diffusers') applies.
    /// </summary>
    public static T Load<T>(string path, Action<string>? warn = null) where T : ConfigBase
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"config not found: {path}", path);
        T? config;
        var nulls = new List<string>();
        try
        {
            var node = JsonNode.Parse(File.ReadAllBytes(path)) as JsonObject
                ?? throw new InvalidDataException($"{path}: not a JSON object, so not a valid {typeof(T).Name}");
            foreach (var (key, value) in node.ToList())
                if (value is null) { nulls.Add(key); node.Remove(key); }
            config = node.Deserialize<T>(Options);
        }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not a valid {typeof(T).Name} ({e.Message}{(e.Path is { } at ? $" at {at}" : "")})", e); }
        if (config is null) throw new InvalidDataException($"{path}: empty config");
        if (nulls.Count > 0) config.NullKeys = nulls;   // (left as the shared empty list otherwise: record equality compares it)
        try { config.Validate(); }
        catch (InvalidDataException e) { throw new InvalidDataException($"{path}: {e.Message}", e); }
        foreach (var key in config.UnknownKeys) warn?.Invoke($"{path}: unknown key '{key}' ignored");
        return config;
    }

    public static void Save<T>(T config, string path) where T : ConfigBase
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        File.WriteAllBytes(path, JsonSerializer.SerializeToUtf8Bytes(config, Options));
    }

    public static void Require(bool condition, string message)
    {
        if (!condition) throw new InvalidDataException(message);
    }

    /// <summary>Whether a JSON value equals an allowed C# value (null, bool, a number compared as double, or a string).</summary>
    internal static bool JsonEquals(JsonElement value, object? allowed) => allowed switch
    {
        null => value.ValueKind == JsonValueKind.Null,
        bool b => value.ValueKind == (b ? JsonValueKind.True : JsonValueKind.False),
        string s => value.ValueKind == JsonValueKind.String && value.GetString() == s,
        _ => value.ValueKind == JsonValueKind.Number && value.GetDouble() == Convert.ToDouble(allowed, System.Globalization.CultureInfo.InvariantCulture),
    };

    internal static string Describe(object? value) => value switch
    {
        null => "null",
        bool b => b ? "true" : "false",
        string s => $"'{s}'",
        _ => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)!,
    };
}

/// <summary>
/// A diffusers per-block integer: either one int for every block or a list with one entry per block
/// (<c>attention_head_dim: 8</c> or <c>[5, 10, 20, 20]</c>). Written back in the form it was read.
/// </summary>
[JsonConverter(typeof(PerBlockConverter))]
public sealed class PerBlock : IEquatable<PerBlock>
{
    private readonly int[] _values;

    /// <summary>True when one value applies to every block.</summary>
    public bool IsScalar { get; }

    /// <summary>The values as written (one when <see cref="IsScalar"/>).</summary>
    public IReadOnlyList<int> Values => _values;

    public PerBlock(int value) => (_values, IsScalar) = ([value], true);

    public PerBlock(int[] values) => (_values, IsScalar) = ([.. values], false);

    public static implicit operator PerBlock(int value) => new(value);

    public static implicit operator PerBlock(int[] values) => new(values);

    /// <summary>The value for block <paramref name="block"/>.</summary>
    public int At(int block) => IsScalar ? _values[0] : _values[block];

    /// <summary>Checks a list has one entry per block; throws naming <paramref name="key"/>.</summary>
    public void RequireBlocks(string key, int blocks) =>
        ConfigJson.Require(IsScalar || _values.Length == blocks, $"{key} has {_values.Length} entries but there are {blocks} blocks");

    public bool Equals(PerBlock? other) => other is not null && IsScalar == other.IsScalar && _values.AsSpan().SequenceEqual(other._values);

    public override bool Equals(object? obj) => Equals(obj as PerBlock);

    public override int GetHashCode() => HashCode.Combine(IsScalar, _values.Length, _values[0]);

    public override string ToString() => IsScalar ? _values[0].ToString(System.Globalization.CultureInfo.InvariantCulture) : $"[{string.Join(", ", _values)}]";
}

/// <summary>Reads an int or a list of ints; writes what <see cref="PerBlock"/> holds in the same form.</summary>
public sealed class PerBlockConverter : JsonConverter<PerBlock>
{
    public override PerBlock Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Number) return new PerBlock(reader.GetInt32());
        if (reader.TokenType != JsonTokenType.StartArray) throw new JsonException("expected a number or a list of numbers");
        var values = new List<int>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.Number) throw new JsonException("expected a list of numbers (nested per-layer lists are not supported)");
            values.Add(reader.GetInt32());
        }
        if (values.Count == 0) throw new JsonException("expected a non-empty list");
        return new PerBlock([.. values]);
    }

    public override void Write(Utf8JsonWriter writer, PerBlock value, JsonSerializerOptions options)
    {
        if (value.IsScalar) { writer.WriteNumberValue(value.At(0)); return; }
        writer.WriteStartArray();
        foreach (var v in value.Values) writer.WriteNumberValue(v);
        writer.WriteEndArray();
    }
}
