using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Add.Engine.Text;

/// <summary>
/// CLIP's byte-level BPE vocabulary (openai/CLIP <c>clip/simple_tokenizer.py</c>): the byte ↔ character table of
/// <c>bytes_to_unicode</c> (GPT-2's scheme), the vocabulary built from the merges, and the Hugging Face files
/// (<c>vocab.json</c>, <c>merges.txt</c>) that hold it.
/// </summary>
public static class ClipVocabulary
{
    /// <summary>Appended to the last symbol of a word.</summary>
    public const string EndOfWord = "</w>";

    /// <summary>The first line of merges.txt as Hugging Face writes it.</summary>
    public const string MergesHeader = "#version: 0.2";

    /// <summary>Merges openai's tokenizer uses: <c>merges[1:49152-256-2+1]</c> of bpe_simple_vocab_16e6.txt.</summary>
    public const int OpenAiMergeCount = 49152 - 256 - 2;

    /// <summary>
    /// <c>bytes_to_unicode</c>: byte b → a printable character. The printable bytes '!'..'~', '¡'..'¬', '®'..'ÿ' map to
    /// themselves; the other 68 map to U+0100 + n in byte order. Every entry is one UTF-16 char (≤ U+0143).
    /// </summary>
    public static readonly IReadOnlyList<char> ByteToChar = BuildByteTable();

    private static readonly int[] CharToByte = BuildReverseTable();

    /// <summary>The byte that <paramref name="c"/> stands for, or −1 when it is not one of <see cref="ByteToChar"/>.</summary>
    public static int ByteOf(char c) => c < CharToByte.Length ? CharToByte[c] : -1;

    private static char[] BuildByteTable()
    {
        var table = new char[256];
        int n = 0;
        for (int b = 0; b < 256; b++)
        {
            bool printable = b is (>= '!' and <= '~') or (>= 0xA1 and <= 0xAC) or (>= 0xAE and <= 0xFF);
            table[b] = printable ? (char)b : (char)(256 + n++);
        }
        return table;
    }

    private static int[] BuildReverseTable()
    {
        var table = new int[0x144];                                     // the highest byte character is U+0143
        Array.Fill(table, -1);
        for (int b = 0; b < 256; b++) table[ByteToChar[b]] = b;
        return table;
    }

    /// <summary>
    /// The vocabulary in id order, as openai builds it: the 256 byte characters in <c>bytes_to_unicode()</c>'s order
    /// (its printable bytes first, then the 68 others: ascending character, "!" = 0, U+0100 = 188; ids 0-255),
    /// the same with &lt;/w&gt; (256-511), each merge's two symbols joined (512…), then &lt;|startoftext|&gt; and
    /// &lt;|endoftext|&gt; (49406 and 49407 for openai's 48,894 merges: 49,408 in all).
    /// </summary>
    public static List<string> Build(IReadOnlyList<(string Left, string Right)> merges)
    {
        var byteOrder = ByteToChar.Order().Select(c => c.ToString()).ToList();
        var vocab = new List<string>(512 + merges.Count + 2);
        vocab.AddRange(byteOrder);
        vocab.AddRange(byteOrder.Select(c => c + EndOfWord));
        vocab.AddRange(merges.Select(m => m.Left + m.Right));
        vocab.Add(ClipText.StartOfText);
        vocab.Add(ClipText.EndOfText);
        return vocab;
    }

    /// <summary>
    /// The merges of openai's <c>bpe_simple_vocab_16e6.txt</c> text: lines 1 to <see cref="OpenAiMergeCount"/> (line 0
    /// is a version header), each "left right".
    /// </summary>
    /// <exception cref="InvalidDataException">too few lines, or a line that is not two symbols.</exception>
    public static List<(string Left, string Right)> ParseOpenAiMerges(string text, string source)
    {
        var lines = text.Split('\n');
        if (lines.Length < OpenAiMergeCount + 1)
            throw new InvalidDataException($"{source}: {lines.Length} lines, expected at least {OpenAiMergeCount + 1} (a header and {OpenAiMergeCount} merges)");
        return [.. lines.Skip(1).Take(OpenAiMergeCount).Select((line, i) => ParseMerge(line, source, i + 2))];
    }

    /// <summary>One merges line, "left right" (split at white space, as <c>str.split()</c>).</summary>
    internal static (string Left, string Right) ParseMerge(string line, string source, int lineNumber)
    {
        var parts = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != 2)
            throw new InvalidDataException($"{source}:{lineNumber}: expected two symbols separated by a space, got \"{(line.Length > 40 ? line[..40] + "…" : line)}\"");
        return (parts[0], parts[1]);
    }

    /// <summary>Writes <c>vocab.json</c> (one "token": id per line, in id order) and <c>merges.txt</c> (the header, then one
    /// merge per line, by rank) into <paramref name="folder"/>.</summary>
    public static void Write(string folder, IReadOnlyList<string> vocab, IReadOnlyList<(string Left, string Right)> merges)
    {
        Directory.CreateDirectory(folder);
        var options = new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        var json = new StringBuilder("{\n");
        for (int id = 0; id < vocab.Count; id++)
            json.Append("  ").Append(JsonSerializer.Serialize(vocab[id], options)).Append(": ").Append(id).Append(id + 1 < vocab.Count ? ",\n" : "\n");
        json.Append("}\n");
        File.WriteAllText(Path.Combine(folder, ClipTokenizer.VocabFile), json.ToString(), new UTF8Encoding(false));
        var text = new StringBuilder(MergesHeader).Append('\n');
        foreach (var (left, right) in merges) text.Append(left).Append(' ').Append(right).Append('\n');
        File.WriteAllText(Path.Combine(folder, ClipTokenizer.MergesFile), text.ToString(), new UTF8Encoding(false));
    }
}
