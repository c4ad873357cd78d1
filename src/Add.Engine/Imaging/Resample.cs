namespace Add.Engine.Imaging;

/// <summary>Pixel-level conversions: alpha compositing, area downsampling, nearest-neighbour enlargement, grids.</summary>
public static class Resample
{
    /// <summary>RGBA → RGB over a white background: c' = c·a/255 + 255·(1 − a/255), rounded.</summary>
    public static RgbImage CompositeOnWhite(int width, int height, ReadOnlySpan<byte> rgba)
    {
        var image = new RgbImage(width, height);
        var dst = image.Pixels;
        for (int p = 0; p < width * height; p++)
        {
            int a = rgba[p * 4 + 3];
            for (int c = 0; c < 3; c++)
                dst[p * 3 + c] = (byte)((rgba[p * 4 + c] * a + 255 * (255 - a) + 127) / 255);
        }
        return image;
    }

    /// <summary>
    /// Area (box) downsampling of RGBA composited on white, by an integer factor: each output pixel is the mean
    /// of its factor×factor block, computed in full precision before one rounding. Width and height must be
    /// multiples of the output size.
    /// </summary>
    public static RgbImage AreaDownsampleOnWhite(int width, int height, ReadOnlySpan<byte> rgba, int outWidth, int outHeight)
    {
        int f = AreaFactor(width, height, outWidth, outHeight);
        var image = new RgbImage(outWidth, outHeight);
        var dst = image.Pixels;
        Span<int> sum = stackalloc int[3];
        int denominator = f * f * 255;
        for (int oy = 0; oy < outHeight; oy++)
        for (int ox = 0; ox < outWidth; ox++)
        {
            sum.Clear();
            for (int dy = 0; dy < f; dy++)
            for (int dx = 0; dx < f; dx++)
            {
                int p = ((oy * f + dy) * width + ox * f + dx) * 4;
                int a = rgba[p + 3];
                for (int c = 0; c < 3; c++) sum[c] += rgba[p + c] * a + 255 * (255 - a);
            }
            for (int c = 0; c < 3; c++)
                dst[(oy * outWidth + ox) * 3 + c] = (byte)((sum[c] + denominator / 2) / denominator);
        }
        return image;
    }

    /// <summary>
    /// Area (box) downsampling of an RGB image by an integer factor f: each output byte is its f×f block's mean rounded
    /// half up, (Σ + ⌊f²/2⌋) / f² in integers — what <see cref="AreaDownsampleOnWhite"/> gives for the image made opaque.
    /// </summary>
    public static RgbImage AreaDownsample(RgbImage image, int outWidth, int outHeight)
    {
        int f = AreaFactor(image.Width, image.Height, outWidth, outHeight), area = f * f;
        var result = new RgbImage(outWidth, outHeight);
        for (int oy = 0; oy < outHeight; oy++)
        for (int ox = 0; ox < outWidth; ox++)
        for (int c = 0; c < 3; c++)
        {
            int sum = 0;
            for (int dy = 0; dy < f; dy++)
            for (int dx = 0; dx < f; dx++)
                sum += image.Pixels[((oy * f + dy) * image.Width + ox * f + dx) * 3 + c];
            result.Pixels[(oy * outWidth + ox) * 3 + c] = (byte)((sum + area / 2) / area);
        }
        return result;
    }

    /// <summary>The one integer factor taking width×height to outWidth×outHeight on both axes.</summary>
    private static int AreaFactor(int width, int height, int outWidth, int outHeight)
    {
        if (outWidth < 1 || outHeight < 1 || width % outWidth != 0 || height % outHeight != 0 || width / outWidth != height / outHeight)
            throw new ArgumentException($"cannot area-downsample {width}x{height} to {outWidth}x{outHeight}: need the same integer factor on both axes");
        return width / outWidth;
    }

    /// <summary>Nearest-neighbour enlargement by an integer factor (for viewing small images).</summary>
    public static RgbImage Enlarge(RgbImage image, int factor)
    {
        if (factor < 1) throw new ArgumentOutOfRangeException(nameof(factor), factor, "scale factor must be at least 1");
        if (factor == 1) return image;
        var result = new RgbImage(image.Width * factor, image.Height * factor);
        for (int y = 0; y < result.Height; y++)
        for (int x = 0; x < result.Width; x++)
        {
            int s = ((y / factor) * image.Width + x / factor) * 3;
            int d = (y * result.Width + x) * 3;
            result.Pixels[d] = image.Pixels[s];
            result.Pixels[d + 1] = image.Pixels[s + 1];
            result.Pixels[d + 2] = image.Pixels[s + 2];
        }
        return result;
    }

    /// <summary>Tiles same-sized images into a grid of <paramref name="columns"/> columns with a white gutter.</summary>
    public static RgbImage Grid(IReadOnlyList<RgbImage> images, int columns, int gutter = 2)
    {
        if (images.Count == 0) throw new ArgumentException("grid needs at least one image", nameof(images));
        int w = images[0].Width, h = images[0].Height;
        columns = Math.Min(columns, images.Count);
        int rows = (images.Count + columns - 1) / columns;
        var grid = RgbImage.White(columns * (w + gutter) + gutter, rows * (h + gutter) + gutter);
        for (int i = 0; i < images.Count; i++)
            grid.Paste(images[i], gutter + (i % columns) * (w + gutter), gutter + (i / columns) * (h + gutter));
        return grid;
    }
}
