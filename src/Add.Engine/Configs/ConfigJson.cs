using System.Text.Json;
using System.Text.Json.Serialization;

namespace Add.Engine.Configs;

/// <summary>Base of config records read from diffusers-style config.json files: keeps unknown keys so they can be reported.</summary>
public abstract record ConfigBase
{
    /// <summary>Keys present in the file that this record does not bind (diffusers' "_class_name" etc. are expected).</summary>
    [JsonExtensionData] public Dictionary<string, JsonElement>? Extra { get; set; }

    /// <summary>Checks value ranges and cross-key consistency; throws <see cref="InvalidDataException"/> naming the keys.</summary>
    public abstract void Validate();

    /// <summary>Unknown keys, ignoring diffusers' bookkeeping keys that start with '_'.</summary>
    [JsonIgnore] public IEnumerable<string> UnknownKeys => Extra?.Keys.Where(k => !k.StartsWith('_')) ?? [];
}

/// <summary>Reads and writes config.json files.</summary>
public static class ConfigJson
{
    static readonly JsonSerializerOptions Options = new() { WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    /// <summary>Loads, validates, and reports unknown keys through <paramref name="warn"/>.</summary>
    public static T Load<T>(string path, Action<string>? warn = null) where T : ConfigBase
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"config not found: {path}", path);
        T? config;
        try { config = JsonSerializer.Deserialize<T>(File.ReadAllBytes(path), Options); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not a valid {typeof(T).Name} ({e.Message})", e); }
        if (config is null) throw new InvalidDataException($"{path}: empty config");
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
}
