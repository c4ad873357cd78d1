using Add.Engine.Imaging;
using Add.Train.Imaging;

namespace Add.Perf;

/// <summary>
/// `add-perf e2e --model`'s chart: a pair of horizontal bars per row (engine, libtorch), each pair scaled to its own longer
/// bar so that stages of 0.1 s and of 60 s read alike: the picture is the ratio, the labels give the milliseconds.
/// </summary>
public static class StageChart
{
    static readonly byte[] Engine = [31, 119, 180], Torch = [214, 39, 40], Black = [0, 0, 0];

    public static void Write(IReadOnlyList<BenchResult> rows, string title, string pngPath)
    {
        const int W = 760, Left = 250, Right = 140, Top = 30, Bar = 9, Gap = 8;
        int h = Top + rows.Count * (2 * Bar + Gap) + 20;
        var image = RgbImage.White(W, h);
        TinyFont.Draw(image, title, 8, 6);
        Fill(image, 8, 16, 8, 5, Engine); TinyFont.Draw(image, "engine (CPU SIMD)", 20, 16);
        Fill(image, 120, 16, 8, 5, Torch); TinyFont.Draw(image, "libtorch (TorchSharp)", 132, 16);
        int y = Top;
        foreach (var r in rows)
        {
            double max = Math.Max(r.OursMs, r.TorchMs);
            TinyFont.Draw(image, $"{r.Name}: {r.Shape}".Replace('×', 'x'), 8, y + Bar - 3);
            foreach (var (ms, color) in new[] { (r.OursMs, Engine), (r.TorchMs, Torch) })
            {
                int length = max > 0 && double.IsFinite(ms) ? (int)Math.Round((W - Left - Right) * ms / max) : 0;
                Fill(image, Left, y, Math.Max(length, 1), Bar - 1, color);
                TinyFont.Draw(image, $"{ms:F0} ms", Left + length + 4, y + 2);
                y += Bar;
            }
            TinyFont.Draw(image, $"x{r.Ratio:F2}", W - 40, y - Bar - 3);
            y += Gap;
        }
        for (int yy = Top - 2; yy < y; yy++) Fill(image, Left - 1, yy, 1, 1, Black);
        Png.Save(image, pngPath);
    }

    static void Fill(RgbImage image, int x0, int y0, int width, int height, byte[] color)
    {
        for (int y = y0; y < Math.Min(y0 + height, image.Height); y++)
            for (int x = x0; x < Math.Min(x0 + width, image.Width); x++)
                color.CopyTo(image.Pixels.AsSpan((y * image.Width + x) * 3, 3));
    }
}
