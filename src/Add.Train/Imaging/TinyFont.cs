using Add.Engine.Imaging;

namespace Add.Train.Imaging;

/// <summary>
/// A 3×5 bitmap font (capital shapes for lower-case text, digits, the punctuation of emoji names) for captions in
/// contact sheets and sample grids. Each glyph is 5 rows of 3 pixels, '1' = ink; characters it lacks draw as '?'.
/// </summary>
public static class TinyFont
{
    public const int GlyphWidth = 3, GlyphHeight = 5, Advance = 4, LineHeight = 6;

    static readonly Dictionary<char, string> Glyphs = new()
    {
        ['a'] = "010101111101101", ['b'] = "110101110101110", ['c'] = "011100100100011", ['d'] = "110101101101110",
        ['e'] = "111100110100111", ['f'] = "111100110100100", ['g'] = "011100101101011", ['h'] = "101101111101101",
        ['i'] = "111010010010111", ['j'] = "001001001101010", ['k'] = "101101110101101", ['l'] = "100100100100111",
        ['m'] = "101111111101101", ['n'] = "110101101101101", ['o'] = "010101101101010", ['p'] = "110101110100100",
        ['q'] = "010101101110011", ['r'] = "110101110101101", ['s'] = "011100010001110", ['t'] = "111010010010010",
        ['u'] = "101101101101111", ['v'] = "101101101101010", ['w'] = "101101111111101", ['x'] = "101101010101101",
        ['y'] = "101101010010010", ['z'] = "111001010100111",
        ['0'] = "111101101101111", ['1'] = "010110010010111", ['2'] = "110001010100111", ['3'] = "110001010001110",
        ['4'] = "101101111001001", ['5'] = "111100110001110", ['6'] = "011100111101111", ['7'] = "111001010010010",
        ['8'] = "111101111101111", ['9'] = "111101111001110",
        [' '] = "000000000000000", [','] = "000000000010100", ['.'] = "000000000000010", [':'] = "000010000010000",
        ['-'] = "000000111000000", ['\''] = "010010000000000", ['*'] = "101010101000000", ['#'] = "101111101111101",
        ['!'] = "010010010000010", ['&'] = "010101010101011", ['('] = "001010010010001", [')'] = "100010010010100",
        ['/'] = "001001010100100", ['?'] = "110001010000010",
    };

    /// <summary>Draws <paramref name="text"/> in black with its top-left at (x, y); clipped to the image.</summary>
    public static void Draw(RgbImage image, string text, int x, int y)
    {
        foreach (var ch in text.ToLowerInvariant())
        {
            var glyph = Glyphs.TryGetValue(ch, out var g) ? g : Glyphs['?'];
            for (int r = 0; r < GlyphHeight; r++)
            for (int c = 0; c < GlyphWidth; c++)
            {
                int px = x + c, py = y + r;
                if (glyph[r * GlyphWidth + c] != '1' || px < 0 || py < 0 || px >= image.Width || py >= image.Height) continue;
                image.Pixels.AsSpan((py * image.Width + px) * 3, 3).Clear();
            }
            x += Advance;
        }
    }

    /// <summary>Splits text into lines of at most <paramref name="width"/> pixels, breaking at spaces where it can.</summary>
    public static List<string> Wrap(string text, int width)
    {
        int max = Math.Max(1, width / Advance);
        var lines = new List<string>();
        var line = "";
        foreach (var word in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var w = word;
            while (w.Length > max) { if (line.Length > 0) { lines.Add(line); line = ""; } lines.Add(w[..max]); w = w[max..]; }
            if (line.Length == 0) line = w;
            else if (line.Length + 1 + w.Length <= max) line += " " + w;
            else { lines.Add(line); line = w; }
        }
        if (line.Length > 0) lines.Add(line);
        return lines;
    }
}
