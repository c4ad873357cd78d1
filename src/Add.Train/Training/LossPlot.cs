using Add.Engine.Imaging;
using Add.Train.Imaging;

namespace Add.Train.Training;

/// <summary>A small line plot (log-scale y) of one or more CSV columns against step, written as PNG.</summary>
public static class LossPlot
{
    internal static readonly byte[][] Colors = [[31, 119, 180], [214, 39, 40], [44, 160, 44], [148, 103, 189], [255, 127, 14], [23, 190, 207]];

    public static void Write(string csvPath, string[] columns, string pngPath, string title)
    {
        const int W = 640, H = 360, Left = 44, Right = 10, Top = 20, Bottom = 24;
        var image = RgbImage.White(W, H);
        var series = columns.Select(c => (c, CsvLog.Read(csvPath, c).Where(p => p.Value > 0 && double.IsFinite(p.Value)).ToList())).Where(s => s.Item2.Count > 0).ToList();
        TinyFont.Draw(image, title, Left, 4);
        if (series.Count == 0) { Png.Save(image, pngPath); return; }
        double minStep = series.Min(s => s.Item2.Min(p => p.Step)), maxStep = Math.Max(minStep + 1, series.Max(s => s.Item2.Max(p => p.Step)));
        double lo = Math.Log10(series.Min(s => s.Item2.Min(p => p.Value))), hi = Math.Log10(series.Max(s => s.Item2.Max(p => p.Value)));
        if (hi - lo < 1e-6) { lo -= 0.5; hi += 0.5; }
        int X(double step) => Left + (int)((step - minStep) / (maxStep - minStep) * (W - Left - Right));
        int Y(double v) => Top + (int)((hi - Math.Log10(v)) / (hi - lo) * (H - Top - Bottom));
        for (int x = Left; x < W - Right; x++) Set(image, x, H - Bottom, [0, 0, 0]);
        for (int y = Top; y <= H - Bottom; y++) Set(image, Left, y, [0, 0, 0]);
        TinyFont.Draw(image, $"{Math.Pow(10, hi):G3}", 2, Top);
        TinyFont.Draw(image, $"{Math.Pow(10, lo):G3}", 2, H - Bottom - 6);
        TinyFont.Draw(image, $"step {minStep:F0}", Left, H - Bottom + 6);
        TinyFont.Draw(image, $"{maxStep:F0}", W - Right - 30, H - Bottom + 6);
        for (int s = 0; s < series.Count; s++)
        {
            var (name, points) = series[s];
            var color = Colors[s % Colors.Length];
            for (int i = 1; i < points.Count; i++) Line(image, X(points[i - 1].Step), Y(points[i - 1].Value), X(points[i].Step), Y(points[i].Value), color);
            TinyFont.Draw(image, name, W - 160, Top + 8 * s);
            for (int x = 0; x < 8; x++) Set(image, W - 172 + x, Top + 8 * s + 2, color);
        }
        Png.Save(image, pngPath);
    }

    internal static void Set(RgbImage image, int x, int y, byte[] c)
    {
        if (x < 0 || y < 0 || x >= image.Width || y >= image.Height) return;
        c.CopyTo(image.Pixels, (y * image.Width + x) * 3);
    }

    internal static void Line(RgbImage image, int x0, int y0, int x1, int y1, byte[] c)
    {
        int n = Math.Max(Math.Abs(x1 - x0), Math.Abs(y1 - y0)) + 1;
        for (int i = 0; i <= n; i++) Set(image, x0 + (x1 - x0) * i / n, y0 + (y1 - y0) * i / n, c);
    }
}
