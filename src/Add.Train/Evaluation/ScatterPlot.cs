using Add.Engine.Imaging;
using Add.Train.Imaging;
using Add.Train.Training;

namespace Add.Train.Evaluation;

/// <summary>FID-emoji against seconds per image (log x), one labelled marker per model/step count: the analogue of the
/// paper's Figure 7 (quality against inference time).</summary>
public static class ScatterPlot
{
    public static void Write(IReadOnlyList<(string Label, double Seconds, double Fid, int Series)> points, string pngPath, string title)
    {
        const int W = 720, H = 420, Left = 44, Right = 150, Top = 20, Bottom = 28;
        var image = RgbImage.White(W, H);
        TinyFont.Draw(image, title, Left, 4);
        var valid = points.Where(p => p.Seconds > 0 && double.IsFinite(p.Fid)).ToList();
        if (valid.Count == 0) { Png.Save(image, pngPath); return; }
        double xlo = Math.Log10(valid.Min(p => p.Seconds)) - 0.1, xhi = Math.Log10(valid.Max(p => p.Seconds)) + 0.1;
        double ylo = 0, yhi = valid.Max(p => p.Fid) * 1.08;
        int X(double s) => Left + (int)((Math.Log10(s) - xlo) / (xhi - xlo) * (W - Left - Right));
        int Y(double f) => Top + (int)((yhi - f) / (yhi - ylo) * (H - Top - Bottom));
        for (int x = Left; x < W - Right; x++) LossPlot.Set(image, x, H - Bottom, [0, 0, 0]);
        for (int y = Top; y <= H - Bottom; y++) LossPlot.Set(image, Left, y, [0, 0, 0]);
        TinyFont.Draw(image, $"{yhi:F1}", 2, Top);
        TinyFont.Draw(image, "0", 2, H - Bottom - 6);
        TinyFont.Draw(image, $"{Math.Pow(10, xlo):G2} s", Left, H - Bottom + 6);
        TinyFont.Draw(image, $"{Math.Pow(10, xhi):G2} s/image (log)", W - Right - 120, H - Bottom + 6);
        TinyFont.Draw(image, "FID-emoji", 2, Top + 12);
        foreach (var p in valid)
        {
            var color = LossPlot.Colors[p.Series % LossPlot.Colors.Length];
            int cx = X(p.Seconds), cy = Y(p.Fid);
            for (int dy = -2; dy <= 2; dy++)
                for (int dx = -2; dx <= 2; dx++)
                    LossPlot.Set(image, cx + dx, cy + dy, color);
            TinyFont.Draw(image, p.Label, cx + 4, cy - 3);
        }
        Png.Save(image, pngPath);
    }
}
