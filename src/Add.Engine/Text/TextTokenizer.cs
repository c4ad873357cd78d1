using System.Text.Json;
using Add.Engine.Pipeline;

namespace Add.Engine.Text;

/// <summary>
/// A pipeline's tokenizer: prompt → exactly <see cref="MaxLength"/> input ids for the text encoder (start token, the
/// prompt's tokens, end token, padding). <see cref="Load"/> picks the implementation from tokenizer_config.json's
/// <c>tokenizer_class</c>: <c>CLIPTokenizer</c> (also <c>CLIPTokenizerFast</c>) → <see cref="ClipTokenizer"/>, the
/// byte-level BPE of Stable Diffusion; <c>WordTokenizer</c> → <see cref="WordTokenizer"/>, our emoji models' word list.
/// </summary>
public abstract class TextTokenizer
{
    /// <summary>Ids per prompt (tokenizer_config.json's <c>model_max_length</c>): the text encoder's sequence length L.</summary>
    public abstract int MaxLength { get; }

    /// <summary>Entries in the vocabulary; must equal the text encoder's <c>vocab_size</c>.</summary>
    public abstract int VocabSize { get; }

    /// <summary>The library and class model_index.json names for this tokenizer, e.g. ("transformers", "CLIPTokenizer").</summary>
    public abstract (string Library, string ClassName) ModelIndexEntry { get; }

    /// <summary>
    /// The ids of <paramref name="prompt"/>, exactly <see cref="MaxLength"/> long, padded. A prompt longer than the
    /// text encoder takes is truncated, and <paramref name="warn"/> hears briefly what was dropped; unknown words
    /// (where the tokenizer has them) are named the same way.
    /// </summary>
    public abstract int[] Encode(string prompt, Action<string>? warn = null);

    /// <summary>Writes the tokenizer's files into <paramref name="folder"/> (created if needed).</summary>
    public abstract void Save(string folder);

    /// <summary>The tokenizer of a pipeline's tokenizer folder, by tokenizer_config.json's <c>tokenizer_class</c>.</summary>
    /// <exception cref="FileNotFoundException">tokenizer_config.json is missing.</exception>
    /// <exception cref="InvalidDataException">a file is unreadable or names an unsupported class; the message names it.</exception>
    public static TextTokenizer Load(string folder)
    {
        var configPath = Path.Combine(folder, PipelineLayout.Tokenizer.ConfigFile);
        if (!File.Exists(configPath)) throw new FileNotFoundException($"tokenizer config not found: {configPath}", configPath);
        string? className;
        using (var config = ParseJson(configPath))
        {
            className = config.RootElement.ValueKind == JsonValueKind.Object && config.RootElement.TryGetProperty("tokenizer_class", out var c)
                ? c.ValueKind == JsonValueKind.String ? c.GetString() : c.ToString()
                : null;
        }
        return className switch
        {
            "CLIPTokenizer" or "CLIPTokenizerFast" => ClipTokenizer.Load(folder),
            WordTokenizer.ClassName => WordTokenizer.Load(folder),
            null => throw new InvalidDataException($"{configPath}: missing 'tokenizer_class' (supported: CLIPTokenizer, {WordTokenizer.ClassName})"),
            _ => throw new InvalidDataException($"{configPath}: tokenizer_class '{className}' is not supported (supported: CLIPTokenizer, {WordTokenizer.ClassName})"),
        };
    }

    /// <summary>Parses a tokenizer JSON file; invalid JSON is an <see cref="InvalidDataException"/> naming the file.</summary>
    internal static JsonDocument ParseJson(string path)
    {
        try { return JsonDocument.Parse(File.ReadAllText(path)); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not valid JSON ({e.Message})", e); }
    }

    /// <summary>Words to show in a warning, briefly: the first <paramref name="maxWords"/>, each at most
    /// <paramref name="maxChars"/> characters, then "…" when there were more: <c>"a", "b", "c" …</c>.</summary>
    internal static string Brief(IReadOnlyList<string> words, int maxWords = 5, int maxChars = 24)
    {
        var shown = words.Take(maxWords).Select(w => "\"" + (w.Length > maxChars ? w[..maxChars] + "…" : w) + "\"");
        return string.Join(", ", shown) + (words.Count > maxWords ? $" and {words.Count - maxWords} more" : "");
    }
}
