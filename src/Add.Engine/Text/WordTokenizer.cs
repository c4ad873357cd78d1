using System.Text.Json;
using System.Text.RegularExpressions;
using Add.Engine.Pipeline;

namespace Add.Engine.Text;

/// <summary>
/// Word-level tokenizer built from the training captions (tokenizer/vocab.json maps word → id).
/// Text is lower-cased and split into words at whitespace and commas ("medium-dark" and "keycap:" stay whole).
/// Encoding: [&lt;bos&gt;, words…, &lt;eos&gt;, &lt;pad&gt;…] of exactly <see cref="MaxLength"/> ids; unknown words map to &lt;unk&gt;;
/// an over-long prompt keeps its first MaxLength−2 words. Both are reported, briefly, through the warn callback.
/// </summary>
public sealed partial class WordTokenizer : TextTokenizer
{
    /// <summary>tokenizer_config.json's <c>tokenizer_class</c> for this tokenizer.</summary>
    public const string ClassName = "WordTokenizer";

    public const string Pad = "<pad>", Bos = "<bos>", Eos = "<eos>", Unk = "<unk>";
    public const int PadId = 0, BosId = 1, EosId = 2, UnkId = 3;

    readonly Dictionary<string, int> _vocab;

    public override int MaxLength { get; }
    public override int VocabSize => _vocab.Count;
    public override (string Library, string ClassName) ModelIndexEntry => ("add", ClassName);

    WordTokenizer(Dictionary<string, int> vocab, int maxLength)
    {
        if (maxLength < 2) throw new ArgumentOutOfRangeException(nameof(maxLength), maxLength, "need room for <bos> and <eos>");
        if (vocab.GetValueOrDefault(Pad, -1) != PadId || vocab.GetValueOrDefault(Bos, -1) != BosId || vocab.GetValueOrDefault(Eos, -1) != EosId || vocab.GetValueOrDefault(Unk, -1) != UnkId)
            throw new InvalidDataException($"vocabulary must map {Pad}, {Bos}, {Eos}, {Unk} to 0, 1, 2, 3");
        var ids = vocab.Values.Order().ToArray();
        if (!ids.SequenceEqual(Enumerable.Range(0, ids.Length)))
            throw new InvalidDataException("vocabulary ids must be 0..N-1 with no gaps or repeats");
        _vocab = vocab;
        MaxLength = maxLength;
    }

    [GeneratedRegex(@"[^\s,]+")]
    private static partial Regex WordPattern();

    public static IEnumerable<string> Words(string text) => WordPattern().Matches(text.ToLowerInvariant()).Select(m => m.Value);

    /// <summary>Vocabulary of every word in <paramref name="captions"/>, most frequent first (ties by ordinal order).</summary>
    public static WordTokenizer Build(IEnumerable<string> captions, int maxLength)
    {
        var counts = captions.SelectMany(Words).GroupBy(w => w, StringComparer.Ordinal).Select(g => (Word: g.Key, Count: g.Count()));
        var vocab = new Dictionary<string, int> { [Pad] = PadId, [Bos] = BosId, [Eos] = EosId, [Unk] = UnkId };
        foreach (var (word, _) in counts.OrderByDescending(c => c.Count).ThenBy(c => c.Word, StringComparer.Ordinal))
            vocab.TryAdd(word, vocab.Count);
        return new WordTokenizer(vocab, maxLength);
    }

    /// <summary>Token ids of <paramref name="text"/>, exactly MaxLength long; <paramref name="truncated"/> says whether words were dropped.</summary>
    public int[] Encode(string text, out bool truncated)
    {
        var ids = new int[MaxLength];                    // zero = <pad>
        var words = Words(text).ToList();
        truncated = words.Count > MaxLength - 2;
        int n = Math.Min(words.Count, MaxLength - 2);
        ids[0] = BosId;
        for (int i = 0; i < n; i++) ids[i + 1] = _vocab.GetValueOrDefault(words[i], UnkId);
        ids[n + 1] = EosId;
        return ids;
    }

    /// <summary>Encodes, telling <paramref name="warn"/> which words are unknown (encoded as &lt;unk&gt;) and which were
    /// dropped by truncation, briefly (the first few of each).</summary>
    public override int[] Encode(string prompt, Action<string>? warn = null)
    {
        var ids = Encode(prompt, out var truncated);
        if (warn is null) return ids;
        var words = Words(prompt).ToList();
        int kept = Math.Min(words.Count, MaxLength - 2);
        var unknown = words.Take(kept).Where(w => !_vocab.ContainsKey(w)).Distinct(StringComparer.Ordinal).ToList();
        if (unknown.Count > 0)
            warn($"{unknown.Count} unknown word(s), encoded as {Unk}: {Brief(unknown)}");
        if (truncated)
            warn($"prompt has {words.Count} words, the text encoder takes {MaxLength - 2}: dropped the last {words.Count - kept} ({Brief(words[kept..])})");
        return ids;
    }

    /// <summary>Position of the first &lt;eos&gt; (the pooled-embedding position).</summary>
    public static int EosIndex(ReadOnlySpan<int> ids) => ids.IndexOf(EosId) is var i and >= 0 ? i : ids.Length - 1;

    /// <inheritdoc/>
    public override void Save(string folder)
    {
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, PipelineLayout.VocabFile), JsonSerializer.Serialize(_vocab.OrderBy(kv => kv.Value).ToDictionary()));
        File.WriteAllText(Path.Combine(folder, PipelineLayout.Tokenizer.ConfigFile), JsonSerializer.Serialize(new Dictionary<string, object> { ["model_max_length"] = MaxLength, ["tokenizer_class"] = ClassName }));
    }

    /// <summary>Reads vocab.json and tokenizer_config.json of <paramref name="folder"/>.</summary>
    public static new WordTokenizer Load(string folder)
    {
        var vocabPath = Path.Combine(folder, PipelineLayout.VocabFile);
        var configPath = Path.Combine(folder, PipelineLayout.Tokenizer.ConfigFile);
        try
        {
            var vocab = JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllText(vocabPath)) ?? throw new InvalidDataException($"{vocabPath} is empty");
            using var config = JsonDocument.Parse(File.ReadAllText(configPath));
            if (!config.RootElement.TryGetProperty("model_max_length", out var m) || !m.TryGetInt32(out var maxLength))
                throw new InvalidDataException($"{configPath}: missing integer 'model_max_length'");
            return new WordTokenizer(vocab, maxLength);
        }
        catch (JsonException e) { throw new InvalidDataException($"{folder}: tokenizer files are not valid JSON ({e.Message})", e); }
        catch (FileNotFoundException e) { throw new InvalidDataException($"{folder}: tokenizer file missing ({e.FileName})", e); }
    }
}
