using Add.Engine.Imaging;
using Add.Engine.SafeTensors;

namespace Add.Engine.Pipeline;

/// <summary>
/// The pipeline's image ends: an init image to VAE pixels [3, H, W] in [-1, 1], and decoded pixels [N, 3, H, W] back
/// to RGB bytes (both as the reference converts them).
/// </summary>
public static class PipelineImages
{
    /// <summary>The init image as pixels [3, s, s] in [-1, 1] (square images; see the width/height overload).</summary>
    public static float[] InitPixels(RgbImage image, int s) => InitPixels(image, s, s);

    /// <summary>
    /// The init image as pixels [3, H, W] in [-1, 1] (v/127.5 − 1). An image f·W × f·H (one integer f for both sides) is
    /// first area-averaged to W × H (<see cref="Resample.AreaDownsample"/>).
    /// </summary>
    public static float[] InitPixels(RgbImage image, int width, int height)
    {
        if (image.Width != width || image.Height != height)
        {
            if (image.Width % width != 0 || image.Height % height != 0 || image.Width / width != image.Height / height)
                throw new InvalidRequestException($"init image is {image.Width}x{image.Height}: expected {width}x{height} or an integer multiple of it (the same factor on both sides)");
            image = Resample.AreaDownsample(image, width, height);
        }
        int plane = width * height;
        var pixels = new float[3 * plane];
        for (int c = 0; c < 3; c++)
            for (int p = 0; p < plane; p++)
                pixels[c * plane + p] = image.Pixels[p * 3 + c] / 127.5f - 1f;
        return pixels;
    }

    /// <summary>Pixels [N, 3, H, W] in [-1, 1] → RGB bytes: clamp, (v + 1)·127.5, round half to even (as the reference).
    /// A NaN or ±Inf pixel is an <see cref="InvalidDataException"/> (<see cref="ThrowIfNotFinite"/>): clamping would
    /// turn it into a black, white or tinted image that looks like a result.</summary>
    public static List<RgbImage> ToImages(ReadOnlySpan<float> pixels, int n, int size) => ToImages(pixels, n, size, size);

    /// <summary>Pixels [N, 3, H, W] → RGB bytes, as the square overload.</summary>
    public static List<RgbImage> ToImages(ReadOnlySpan<float> pixels, int n, int width, int height)
    {
        int plane = width * height;
        ThrowIfNotFinite(pixels[..(n * 3 * plane)], "image (VAE decode)", [n, 3, height, width]);
        var images = new List<RgbImage>(n);
        for (int i = 0; i < n; i++)
        {
            var bytes = new byte[plane * 3];
            for (int c = 0; c < 3; c++)
                for (int p = 0; p < plane; p++)
                    bytes[p * 3 + c] = (byte)MathF.Round((Math.Clamp(pixels[(i * 3 + c) * plane + p], -1f, 1f) + 1f) * 127.5f);
            images.Add(new RgbImage(width, height, bytes));
        }
        return images;
    }

    /// <summary>Throws when <paramref name="values"/> (a stage's output of shape <paramref name="shape"/>) holds a NaN or
    /// ±Inf, naming the stage, the count and the first bad element's index in that shape. Finite weights can still
    /// overflow (fp16-range activations, a diverged fine-tune); the image is then garbage, so no PNG is written.</summary>
    /// <exception cref="InvalidDataException">a value is not finite.</exception>
    public static void ThrowIfNotFinite(ReadOnlySpan<float> values, string stage, int[] shape)
    {
        int bad = SafeTensorsSet.IndexOfNonFinite(values);
        if (bad < 0) return;
        int count = 0;
        foreach (var v in values) if (!float.IsFinite(v)) count++;
        var index = new int[shape.Length];
        for (int d = shape.Length - 1, rest = bad; d >= 0; d--) { index[d] = rest % shape[d]; rest /= shape[d]; }
        throw new InvalidDataException($"generation failed at stage {stage}: {count} of {values.Length} values are not finite " +
            $"(first {SafeTensorsSet.Show(values[bad])} at [{string.Join(", ", index)}] of [{string.Join(", ", shape)}]); the model's activations overflowed, no image written");
    }
}
