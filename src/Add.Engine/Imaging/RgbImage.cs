namespace Add.Engine.Imaging;

/// <summary>An 8-bit RGB image, rows top to bottom, pixels interleaved: Pixels[(y·Width + x)·3 + c].</summary>
public sealed class RgbImage
{
    public int Width { get; }
    public int Height { get; }
    public byte[] Pixels { get; }

    public RgbImage(int width, int height, byte[]? pixels = null)
    {
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), $"image size {width}x{height} must be positive");
        pixels ??= new byte[checked(width * height * 3)];
        if (pixels.Length != width * height * 3)
            throw new ArgumentException($"{width}x{height} RGB needs {width * height * 3} bytes, got {pixels.Length}", nameof(pixels));
        Width = width; Height = height; Pixels = pixels;
    }

    /// <summary>A white image.</summary>
    public static RgbImage White(int width, int height)
    {
        var image = new RgbImage(width, height);
        image.Pixels.AsSpan().Fill(255);
        return image;
    }

    /// <summary>Copies <paramref name="source"/> with its top-left corner at (x, y), clipped to this image.</summary>
    public void Paste(RgbImage source, int x, int y)
    {
        for (int sy = 0; sy < source.Height; sy++)
        {
            int dy = y + sy;
            if (dy < 0 || dy >= Height) continue;
            int x0 = Math.Max(0, x), x1 = Math.Min(Width, x + source.Width);
            if (x1 <= x0) return;
            source.Pixels.AsSpan((sy * source.Width + (x0 - x)) * 3, (x1 - x0) * 3)
                .CopyTo(Pixels.AsSpan((dy * Width + x0) * 3));
        }
    }
}
