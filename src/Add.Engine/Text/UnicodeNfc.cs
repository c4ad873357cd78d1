using System.Buffers;
using System.Globalization;
using System.Text;

namespace Add.Engine.Text;

/// <summary>
/// Unicode Normalization Form C (UAX #15 §9-§10: canonical decomposition, canonical ordering, canonical composition),
/// from the tables in <see cref="UnicodeNfcData"/>. Needed because this code runs with InvariantGlobalization, where
/// <see cref="string.Normalize()"/> leaves non-ASCII text as it is. Hangul syllables are (de)composed arithmetically
/// (Unicode §3.12).
/// </summary>
internal static class UnicodeNfc
{
    private const int SBase = 0xAC00, LBase = 0x1100, VBase = 0x1161, TBase = 0x11A7, LCount = 19, VCount = 21, TCount = 28;
    private const int NCount = VCount * TCount, SCount = LCount * NCount;

    private static readonly Lazy<Tables> Data = new(Tables.Parse);

    /// <summary>The NFC form of <paramref name="text"/> (unchanged, without work, when every char is below U+0300).</summary>
    /// <exception cref="ArgumentException">the text holds an unpaired UTF-16 surrogate.</exception>
    public static string Normalize(string text)
    {
        if (text.AsSpan().IndexOfAnyInRange('\u0300', '\uffff') < 0) return text;   // no char below U+0300 changes under NFC
        var t = Data.Value;
        var cps = new List<int>(text.Length);
        for (int i = 0; i < text.Length;)
        {
            if (Rune.DecodeFromUtf16(text.AsSpan(i), out var rune, out int used) != OperationStatus.Done)
                throw new ArgumentException($"prompt is not valid Unicode: an unpaired surrogate at index {i}");
            Decompose(rune.Value, cps, t);
            i += used;
        }
        Reorder(cps, t);
        Compose(cps, t);
        var sb = new StringBuilder(cps.Count);
        foreach (int cp in cps) sb.Append(char.ConvertFromUtf32(cp));
        return sb.ToString();
    }

    private static void Decompose(int cp, List<int> output, Tables t)
    {
        if (cp is >= SBase and < SBase + SCount)
        {
            int s = cp - SBase;
            output.Add(LBase + s / NCount);
            output.Add(VBase + s % NCount / TCount);
            if (s % TCount != 0) output.Add(TBase + s % TCount);
        }
        else if (t.Decompositions.TryGetValue(cp, out var parts)) foreach (int p in parts) Decompose(p, output, t);
        else output.Add(cp);
    }

    /// <summary>Canonical ordering: each run of non-starters sorted stably by combining class.</summary>
    private static void Reorder(List<int> cps, Tables t)
    {
        for (int i = 1; i < cps.Count; i++)
        {
            int ccc = t.Class(cps[i]);
            if (ccc == 0) continue;
            for (int j = i; j > 0 && t.Class(cps[j - 1]) > ccc; j--) (cps[j - 1], cps[j]) = (cps[j], cps[j - 1]);
        }
    }

    /// <summary>Canonical composition: each character joins the last starter unless blocked (a character between them
    /// of class 0 or of a class ≥ its own).</summary>
    private static void Compose(List<int> cps, Tables t)
    {
        int starter = -1, lastClass = -1, write = 0;
        for (int read = 0; read < cps.Count; read++)
        {
            int cp = cps[read], ccc = t.Class(cp);
            bool unblocked = starter >= 0 && (lastClass < ccc || (lastClass == 0 && write == starter + 1));
            if (unblocked && TryCompose(cps[starter], cp, t, out int composite))
            {
                cps[starter] = composite;
                continue;
            }
            if (ccc == 0) { starter = write; lastClass = 0; }
            else lastClass = ccc;
            cps[write++] = cp;
        }
        cps.RemoveRange(write, cps.Count - write);
    }

    private static bool TryCompose(int first, int second, Tables t, out int composite)
    {
        if (first is >= LBase and < LBase + LCount && second is >= VBase and < VBase + VCount)
        {
            composite = SBase + ((first - LBase) * VCount + second - VBase) * TCount;
            return true;
        }
        if (first is >= SBase and < SBase + SCount && (first - SBase) % TCount == 0 && second is > TBase and < TBase + TCount)
        {
            composite = first + second - TBase;
            return true;
        }
        return t.Compositions.TryGetValue(((long)first << 21) | (uint)second, out composite);
    }

    private sealed class Tables
    {
        public readonly Dictionary<int, int[]> Decompositions = [];
        public readonly Dictionary<long, int> Compositions = [];
        private readonly Dictionary<int, int> _classes = [];

        public int Class(int cp) => cp < 0x300 ? 0 : _classes.GetValueOrDefault(cp);

        public static Tables Parse()
        {
            var t = new Tables();
            foreach (var entry in UnicodeNfcData.Decompositions.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                int sep = entry.IndexOfAny(['=', ':']);
                int cp = Hex(entry[..sep]);
                var parts = entry[(sep + 1)..].Split('.').Select(Hex).ToArray();
                t.Decompositions[cp] = parts;
                if (entry[sep] == '=') t.Compositions[((long)parts[0] << 21) | (uint)parts[1]] = cp;
            }
            foreach (var entry in UnicodeNfcData.CombiningClasses.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                int dash = entry.IndexOf('-'), colon = entry.IndexOf(':');
                int ccc = int.Parse(entry[(colon + 1)..], CultureInfo.InvariantCulture);
                for (int cp = Hex(entry[..dash]); cp <= Hex(entry[(dash + 1)..colon]); cp++) t._classes[cp] = ccc;
            }
            return t;
        }

        private static int Hex(string s) => int.Parse(s, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
    }
}
