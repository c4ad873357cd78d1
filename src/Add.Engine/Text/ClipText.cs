using System.Globalization;
using System.Net;
using System.Text;

namespace Add.Engine.Text;

/// <summary>
/// The text side of CLIP's tokenizer (openai/CLIP <c>clip/simple_tokenizer.py</c>, <c>SimpleTokenizer.encode</c>):
/// clean the prompt, lower-case it, and split it into the pieces that BPE then encodes one by one.
/// <para>
/// Cleaning, in openai's order: <c>ftfy.fix_text</c> (here its NFC normalisation only; its heuristic repairs of
/// mojibake, curly quotes and control characters are not reproduced, as in Hugging Face's fast CLIP tokenizer), HTML
/// entities unescaped twice (<see cref="WebUtility.HtmlDecode(string)"/>: named HTML 4 entities and numeric references
/// ending in ';'; Python's <c>html.unescape</c> also takes HTML5-only names and references without ';'), strip, runs
/// of white space → one space, strip, then Python's <c>str.lower</c> (full lower-casing: İ → i̇, final sigma).
/// </para>
/// <para>
/// Splitting: the first of these that matches at each position, left to right, case-insensitively (Python <c>regex</c>):
/// <c>&lt;\|startoftext\|&gt;|&lt;\|endoftext\|&gt;|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+</c>; positions
/// where none matches (white space) are skipped. Written as a scanner over code points rather than a .NET regex,
/// because .NET's <c>\p{L}</c> does not match letters outside the BMP (a surrogate pair is two code units of class Cs).
/// </para>
/// </summary>
internal static class ClipText
{
    public const string StartOfText = "<|startoftext|>", EndOfText = "<|endoftext|>";

    private static readonly string[] Contractions = ["s", "t", "re", "ve", "m", "ll", "d"];

    /// <summary>The cleaned, lower-cased prompt (what openai's <c>whitespace_clean(basic_clean(text)).lower()</c> gives).</summary>
    public static string Clean(string text)
    {
        text = UnicodeNfc.Normalize(text);
        text = WebUtility.HtmlDecode(WebUtility.HtmlDecode(text));
        var sb = new StringBuilder(text.Length);
        bool space = false;
        foreach (var rune in StripPython(text).EnumerateRunes())
        {
            if (IsRegexSpace(rune.Value)) { space = true; continue; }
            if (space) sb.Append(' ');
            space = false;
            sb.Append(rune.ToString());
        }
        return PythonLower(StripPython(sb.ToString()));
    }

    /// <summary>The pieces of a cleaned prompt; <c>Special</c> marks &lt;|startoftext|&gt; and &lt;|endoftext|&gt;.</summary>
    public static List<(string Piece, bool Special)> Split(string text)
    {
        var pieces = new List<(string, bool)>();
        for (int i = 0; i < text.Length;)
        {
            if (MatchesAt(text, i, StartOfText) || MatchesAt(text, i, EndOfText))
            {
                int n = MatchesAt(text, i, StartOfText) ? StartOfText.Length : EndOfText.Length;
                pieces.Add((text.Substring(i, n), true));
                i += n;
                continue;
            }
            if (text[i] == '\'' && Contractions.FirstOrDefault(c => MatchesAt(text, i + 1, c)) is { } contraction)
            {
                pieces.Add((text.Substring(i, contraction.Length + 1), false));
                i += contraction.Length + 1;
                continue;
            }
            var kind = Classify(text, i, out int width);
            if (kind is Kind.Space or Kind.Unmatched) { i += width; continue; }
            int end = i + width;
            if (kind != Kind.Number)                                      // letters and other symbols run on; a digit stands alone
                while (end < text.Length && Classify(text, end, out int w) == kind) end += w;
            pieces.Add((text[i..end], false));
            i = end;
        }
        return pieces;
    }

    private enum Kind { Letter, Number, Space, Other, Unmatched }

    private static Kind Classify(string text, int index, out int width)
    {
        var rune = Rune.GetRuneAt(text, index);
        width = rune.Utf16SequenceLength;
        if (rune.Value == 0x345) return Kind.Unmatched;   // U+0345 (Mn) case-folds to ι: under IGNORECASE no branch takes it
        if (IsRegexSpace(rune.Value)) return Kind.Space;
        return Rune.GetUnicodeCategory(rune) switch
        {
            <= UnicodeCategory.OtherLetter => Kind.Letter,                // Lu Ll Lt Lm Lo
            UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => Kind.Number,
            _ => Kind.Other,
        };
    }

    /// <summary><paramref name="literal"/> (ASCII lower case) at <paramref name="index"/>, as IGNORECASE compares it on
    /// lower-cased text: only ſ (U+017F) also folds to one of its letters (s).</summary>
    private static bool MatchesAt(string text, int index, string literal)
    {
        if (index + literal.Length > text.Length) return false;
        for (int k = 0; k < literal.Length; k++)
        {
            char c = text[index + k], l = literal[k];
            if (c != l && !(l == 's' && c == '\u017f')) return false;
        }
        return true;
    }

    /// <summary>Python regex <c>\s</c> on str: the Unicode White_Space property (.NET's <c>\s</c> too).</summary>
    private static bool IsRegexSpace(int cp) => cp is (>= 0x9 and <= 0xD) or 0x20 or 0x85 or 0xA0 or 0x1680 or (>= 0x2000 and <= 0x200A)
        or 0x2028 or 0x2029 or 0x202F or 0x205F or 0x3000;

    /// <summary>Python <c>str.strip()</c>: <c>str.isspace</c> is White_Space plus U+001C..U+001F.</summary>
    private static string StripPython(string text)
    {
        static bool IsSpace(char c) => IsRegexSpace(c) || c is >= '\u001c' and <= '\u001f';
        int start = 0, end = text.Length;
        while (start < end && IsSpace(text[start])) start++;
        while (end > start && IsSpace(text[end - 1])) end--;
        return text[start..end];
    }

    /// <summary>
    /// Python's <c>str.lower</c>: the simple lower-case mapping, with Unicode's unconditional special casing
    /// (U+0130 İ → "i\u0307") and Final_Sigma (Σ → ς when a cased letter precedes it and none follows, skipping
    /// case-ignorable characters; Unicode §3.13, as CPython's <c>handle_capital_sigma</c>).
    /// </summary>
    public static string PythonLower(string text)
    {
        if (!text.AsSpan().ContainsAnyExceptInRange('\0', '\u007f')) return text.ToLowerInvariant();
        var runes = text.EnumerateRunes().ToArray();
        var sb = new StringBuilder(text.Length);
        for (int i = 0; i < runes.Length; i++)
        {
            int cp = runes[i].Value;
            if (cp == 0x130) sb.Append("i\u0307");
            else if (cp == 0x3A3) sb.Append(IsFinalSigma(runes, i) ? 'ς' : 'σ');
            else sb.Append(Rune.ToLowerInvariant(runes[i]).ToString());
        }
        return sb.ToString();
    }

    private static bool IsFinalSigma(Rune[] runes, int i)
    {
        int j = i - 1;
        while (j >= 0 && IsCaseIgnorable(runes[j])) j--;
        if (j < 0 || !IsCased(runes[j])) return false;
        j = i + 1;
        while (j < runes.Length && IsCaseIgnorable(runes[j])) j++;
        return j == runes.Length || !IsCased(runes[j]);
    }

    /// <summary>Cased (Unicode §3.13): Lu, Ll, Lt, and the main Other_Lowercase/Other_Uppercase ranges.</summary>
    private static bool IsCased(Rune r) => Rune.GetUnicodeCategory(r) is UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter
        or UnicodeCategory.TitlecaseLetter || r.Value is 0xAA or 0xBA or (>= 0x2B0 and <= 0x2B8) or 0x2C0 or 0x2C1
        or (>= 0x2E0 and <= 0x2E4) or 0x345 or (>= 0x2160 and <= 0x217F) or (>= 0x24B6 and <= 0x24E9);

    /// <summary>Case-ignorable (Unicode §3.13): Mn, Me, Cf, Lm, Sk, and Word_Break MidLetter/MidNumLet/Single_Quote.</summary>
    private static bool IsCaseIgnorable(Rune r) => Rune.GetUnicodeCategory(r) is UnicodeCategory.NonSpacingMark
        or UnicodeCategory.EnclosingMark or UnicodeCategory.Format or UnicodeCategory.ModifierLetter or UnicodeCategory.ModifierSymbol
        || r.Value is '\'' or '.' or ':' or 0xB7 or 0x387 or 0x55F or 0x5F4 or 0x2018 or 0x2019 or 0x2024 or 0x2027 or 0xFE13
        or 0xFE52 or 0xFE55 or 0xFF07 or 0xFF0E or 0xFF1A;
}
