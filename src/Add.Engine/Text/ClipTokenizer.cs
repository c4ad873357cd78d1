using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Add.Engine.Pipeline;

namespace Add.Engine.Text;

/// <summary>
/// CLIP's byte-level BPE tokenizer, as openai/CLIP <c>clip/simple_tokenizer.py</c> and transformers'
/// <c>CLIPTokenizer</c> encode (Stable Diffusion 1.x/2.x, SD-Turbo), read from a Hugging Face tokenizer folder:
/// <c>vocab.json</c>, <c>merges.txt</c>, <c>tokenizer_config.json</c>, optional <c>special_tokens_map.json</c>.
/// <para>
/// Encoding: <see cref="ClipText"/> cleans and splits the prompt; each piece's UTF-8 bytes become characters
/// (<see cref="ClipVocabulary.ByteToChar"/>), the last one carrying &lt;/w&gt;, and the adjacent pair of lowest merge
/// rank is merged (every occurrence, left to right) until no pair is in merges.txt; the symbols are the tokens. The
/// ids are [bos, tokens…, eos] truncated to <c>model_max_length</c> (bos + the first L−2 tokens + eos), then padded.
/// </para>
/// <para>
/// Special tokens (a string or an object with "content") come from special_tokens_map.json first, then
/// tokenizer_config.json, as transformers reads them; bos and eos default to &lt;|startoftext|&gt; and
/// &lt;|endoftext|&gt;, pad to eos. So SD 2.x / SD-Turbo (pad "!" in special_tokens_map.json) pad with id 0 while
/// their tokenizer_config.json says &lt;|endoftext|&gt;, and SD 1.x pads with &lt;|endoftext|&gt; (49407).
/// </para>
/// </summary>
public sealed class ClipTokenizer : TextTokenizer
{
    public const string VocabFile = "vocab.json", MergesFile = "merges.txt", SpecialTokensMapFile = "special_tokens_map.json";

    /// <summary>BPE results cached per piece, up to this many pieces (openai caches without bound).</summary>
    private const int CacheLimit = 100_000;

    private readonly string[] _tokens;                                  // id → token
    private readonly Dictionary<string, int> _ids;
    private readonly (string Left, string Right)[] _merges;             // by rank
    private readonly Dictionary<(string, string), int> _ranks;
    private readonly ConcurrentDictionary<string, int[]> _cache = new(StringComparer.Ordinal);
    private readonly string _configJson;
    private readonly string? _specialTokensJson;

    public override int MaxLength { get; }
    public override int VocabSize => _tokens.Length;
    public override (string Library, string ClassName) ModelIndexEntry => ("transformers", "CLIPTokenizer");

    /// <summary>Id of the start token (&lt;|startoftext|&gt; = 49406 in CLIP's vocabulary).</summary>
    public int BosId { get; }

    /// <summary>Id of the end token (&lt;|endoftext|&gt; = 49407).</summary>
    public int EosId { get; }

    /// <summary>Id that fills the positions after eos (SD 2.x: "!" = 0; SD 1.x: 49407).</summary>
    public int PadId { get; }

    private ClipTokenizer(string[] tokens, Dictionary<string, int> ids, (string, string)[] merges, int maxLength,
        (int Bos, int Eos, int Pad) specials, string configJson, string? specialTokensJson)
    {
        _tokens = tokens;
        _ids = ids;
        _merges = merges;
        _ranks = new Dictionary<(string, string), int>(merges.Length);
        for (int rank = 0; rank < merges.Length; rank++) _ranks[merges[rank]] = rank;   // a repeated merge keeps its last rank, as dict(zip(...))
        MaxLength = maxLength;
        (BosId, EosId, PadId) = specials;
        _configJson = configJson;
        _specialTokensJson = specialTokensJson;
    }

    /// <summary>Reads a tokenizer folder; a missing or malformed file throws, naming the file (and line or key).</summary>
    public static new ClipTokenizer Load(string folder)
    {
        var vocabPath = Path.Combine(folder, VocabFile);
        var mergesPath = Path.Combine(folder, MergesFile);
        var configPath = Path.Combine(folder, PipelineLayout.Tokenizer.ConfigFile);
        var specialsPath = Path.Combine(folder, SpecialTokensMapFile);
        var tokens = ReadVocab(vocabPath, out var ids);
        var merges = ReadMerges(mergesPath, ids);
        var configJson = ReadText(configPath);
        var specialsJson = File.Exists(specialsPath) ? File.ReadAllText(specialsPath) : null;
        using var config = ParseJson(configPath);
        using var specialsMap = specialsJson is null ? null : ParseJson(specialsPath);
        if (config.RootElement.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{configPath}: expected a JSON object");
        if (!config.RootElement.TryGetProperty("model_max_length", out var m) || !m.TryGetInt32(out int maxLength) || maxLength is < 2 or > 65536)
            throw new InvalidDataException($"{configPath}: 'model_max_length' must be an integer from 2 to 65536 (CLIP: 77)");

        int Special(string key, string fallback)
        {
            string? token = null, source = null;
            foreach (var (doc, path) in new[] { (specialsMap, specialsPath), (config, configPath) })
            {
                if (doc is null || doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty(key, out var v)
                    || v.ValueKind == JsonValueKind.Null) continue;
                token = v.ValueKind == JsonValueKind.String ? v.GetString()
                    : v.ValueKind == JsonValueKind.Object && v.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString()
                    : throw new InvalidDataException($"{path}: '{key}' must be a string or an object with a string \"content\"");
                source = path;
                break;
            }
            token ??= fallback;
            return ids.TryGetValue(token, out int id) ? id
                : throw new InvalidDataException($"{source ?? configPath}: {key} \"{token}\" is not in {vocabPath}");
        }

        int bos = Special("bos_token", ClipText.StartOfText), eos = Special("eos_token", ClipText.EndOfText);
        int pad = Special("pad_token", tokens[eos]);
        return new ClipTokenizer(tokens, ids, merges, maxLength, (bos, eos, pad), configJson, specialsJson);
    }

    private static string ReadText(string path) =>
        File.Exists(path) ? File.ReadAllText(path) : throw new FileNotFoundException($"tokenizer file not found: {path}", path);

    /// <summary>vocab.json: an object token → id whose ids are 0..N−1, each once, holding the 512 byte symbols.</summary>
    private static string[] ReadVocab(string path, out Dictionary<string, int> ids)
    {
        var text = ReadText(path);
        try { ids = JsonSerializer.Deserialize<Dictionary<string, int>>(text) ?? throw new InvalidDataException($"{path}: is null"); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not a JSON object of token → id ({e.Message})", e); }
        var tokens = new string?[ids.Count];
        foreach (var (token, id) in ids)
        {
            if (id < 0 || id >= tokens.Length) throw new InvalidDataException($"{path}: id {id} of \"{token}\" is outside 0..{tokens.Length - 1}");
            if (tokens[id] is { } other) throw new InvalidDataException($"{path}: id {id} is given to both \"{other}\" and \"{token}\"");
            tokens[id] = token;
        }
        foreach (char c in ClipVocabulary.ByteToChar)
            foreach (var symbol in new[] { c.ToString(), c + ClipVocabulary.EndOfWord })
                if (!ids.ContainsKey(symbol)) throw new InvalidDataException($"{path}: lacks the byte symbol \"{symbol}\" (a CLIP vocabulary has all 512)");
        return tokens!;
    }

    /// <summary>merges.txt: an optional "#version" line, then "left right" per line, by rank; each merge's result must be
    /// in the vocabulary.</summary>
    private static (string, string)[] ReadMerges(string path, Dictionary<string, int> ids)
    {
        var lines = ReadText(path).Split('\n');
        var merges = new List<(string, string)>(lines.Length);
        for (int i = 0; i < lines.Length; i++)
        {
            var line = lines[i].TrimEnd('\r');
            if ((i == 0 && line.StartsWith("#version", StringComparison.Ordinal)) || line.Length == 0) continue;
            var merge = ClipVocabulary.ParseMerge(line, path, i + 1);
            if (!ids.ContainsKey(merge.Left + merge.Right))
                throw new InvalidDataException($"{path}:{i + 1}: merge \"{line}\" makes \"{merge.Left + merge.Right}\", which {VocabFile} lacks");
            merges.Add(merge);
        }
        return [.. merges];
    }

    /// <inheritdoc/>
    public override int[] Encode(string prompt, Action<string>? warn = null)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        var tokens = Tokenize(prompt);
        int room = MaxLength - 2, kept = Math.Min(room, tokens.Count);
        var ids = new int[MaxLength];
        Array.Fill(ids, PadId);
        ids[0] = BosId;
        tokens.CopyTo(0, ids, 1, kept);
        ids[kept + 1] = EosId;
        if (tokens.Count > room && warn is not null)
        {
            var dropped = Decode(tokens.Skip(room)).Split(' ', StringSplitOptions.RemoveEmptyEntries);
            warn($"prompt is {tokens.Count} tokens, the text encoder takes {room}: dropped the last {tokens.Count - room} ({Brief(dropped)})");
        }
        return ids;
    }

    /// <summary>The prompt's token ids, without bos/eos, untruncated (openai's <c>SimpleTokenizer.encode</c>).</summary>
    public List<int> Tokenize(string prompt)
    {
        var ids = new List<int>();
        foreach (var (piece, special) in ClipText.Split(ClipText.Clean(prompt)))
        {
            if (special && _ids.TryGetValue(piece, out int id)) { ids.Add(id); continue; }
            var bytes = Encoding.UTF8.GetBytes(piece);
            var word = new StringBuilder(bytes.Length);
            foreach (byte b in bytes) word.Append(ClipVocabulary.ByteToChar[b]);
            ids.AddRange(Bpe(word.ToString()));
        }
        return ids;
    }

    /// <summary>Text of token ids: byte characters back to UTF-8 (invalid sequences → U+FFFD), &lt;/w&gt; → a space.</summary>
    public string Decode(IEnumerable<int> ids)
    {
        var bytes = new List<byte>();
        var text = new StringBuilder();
        void Flush() { text.Append(Encoding.UTF8.GetString(bytes.ToArray())); bytes.Clear(); }
        foreach (int id in ids)
        {
            var token = _tokens[id];
            if (id == BosId || id == EosId) { Flush(); text.Append(token).Append(' '); continue; }
            bool endOfWord = token.EndsWith(ClipVocabulary.EndOfWord, StringComparison.Ordinal);
            foreach (char c in endOfWord ? token[..^ClipVocabulary.EndOfWord.Length] : token)
            {
                int b = ClipVocabulary.ByteOf(c);
                if (b >= 0) bytes.Add((byte)b);
            }
            if (endOfWord) { Flush(); text.Append(' '); }
        }
        Flush();
        return text.ToString().Trim();
    }

    /// <summary>BPE of one byte-encoded piece (openai's <c>SimpleTokenizer.bpe</c>) → token ids.</summary>
    private int[] Bpe(string word)
    {
        if (_cache.TryGetValue(word, out var cached)) return cached;
        var symbols = new List<string>(word.Length);
        for (int i = 0; i < word.Length - 1; i++) symbols.Add(word[i].ToString());
        symbols.Add(word[^1] + ClipVocabulary.EndOfWord);
        while (symbols.Count > 1)
        {
            int best = int.MaxValue;
            for (int i = 0; i + 1 < symbols.Count; i++)
                if (_ranks.TryGetValue((symbols[i], symbols[i + 1]), out int rank) && rank < best) best = rank;
            if (best == int.MaxValue) break;
            var (left, right) = _merges[best];
            var merged = new List<string>(symbols.Count);
            for (int i = 0; i < symbols.Count; i++)
            {
                if (i + 1 < symbols.Count && symbols[i] == left && symbols[i + 1] == right) { merged.Add(left + right); i++; }
                else merged.Add(symbols[i]);
            }
            symbols = merged;
        }
        var ids = symbols.Select(s => _ids[s]).ToArray();
        if (_cache.Count < CacheLimit) _cache.TryAdd(word, ids);
        return ids;
    }

    /// <inheritdoc/>
    public override void Save(string folder)
    {
        ClipVocabulary.Write(folder, _tokens, _merges);
        File.WriteAllText(Path.Combine(folder, PipelineLayout.Tokenizer.ConfigFile), _configJson);
        if (_specialTokensJson is not null) File.WriteAllText(Path.Combine(folder, SpecialTokensMapFile), _specialTokensJson);
    }
}
