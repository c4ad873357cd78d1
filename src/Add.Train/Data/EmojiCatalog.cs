using System.Text.Json;

namespace Add.Train.Data;

/// <summary>One image of the data set before decoding: its file, caption and labels.</summary>
public sealed record EmojiEntry(string Vendor, string Image, string Caption, string Category, string Subcategory);

/// <summary>
/// Reads the package's emoji.json: 1,911 emoji with name, category, subcategory and skin_variations (1,875 more).
/// Caption = lower-case name, then the skin tone(s), then the style: "father christmas, dark skin tone, twitter style".
/// </summary>
public static class EmojiCatalog
{
    static readonly Dictionary<string, string> SkinTones = new(StringComparer.OrdinalIgnoreCase)
    {
        ["1F3FB"] = "light skin tone",
        ["1F3FC"] = "medium-light skin tone",
        ["1F3FD"] = "medium skin tone",
        ["1F3FE"] = "medium-dark skin tone",
        ["1F3FF"] = "dark skin tone",
    };

    /// <summary>Entries for every emoji (and skin variation) that has an image of <paramref name="vendor"/>.</summary>
    public static List<EmojiEntry> Read(ReadOnlySpan<byte> emojiJson, string vendor)
    {
        using var doc = JsonDocument.Parse(emojiJson.ToArray());
        var hasImage = $"has_img_{vendor}";
        var entries = new List<EmojiEntry>();
        foreach (var e in doc.RootElement.EnumerateArray())
        {
            var name = Required(e, "name").ToLowerInvariant();
            var category = Required(e, "category");
            var subcategory = Required(e, "subcategory");
            if (HasImage(e, hasImage))
                entries.Add(new(vendor, Required(e, "image"), $"{name}, {vendor} style", category, subcategory));
            if (e.TryGetProperty("skin_variations", out var variations) && variations.ValueKind == JsonValueKind.Object)
            {
                foreach (var v in variations.EnumerateObject())
                {
                    if (!HasImage(v.Value, hasImage)) continue;
                    var tones = string.Join(", ", v.Name.Split('-').Select(ToneName));
                    entries.Add(new(vendor, Required(v.Value, "image"), $"{name}, {tones}, {vendor} style", category, subcategory));
                }
            }
        }
        return entries;
    }

    static string ToneName(string codepoint)
        => SkinTones.TryGetValue(codepoint, out var tone) ? tone
           : throw new InvalidDataException($"emoji.json: unknown skin-tone code point {codepoint}");

    static bool HasImage(JsonElement e, string key) => e.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.True;

    static string Required(JsonElement e, string key)
        => e.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String && v.GetString() is { Length: > 0 } s ? s
           : throw new InvalidDataException($"emoji.json: an entry lacks a string '{key}': {Truncate(e.GetRawText())}");

    static string Truncate(string s) => s.Length <= 120 ? s : s[..120] + "…";
}
