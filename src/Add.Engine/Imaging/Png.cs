using StbImageSharp;
using StbImageWriteSharp;

namespace Add.Engine.Imaging;

/// <summary>PNG decode (StbImageSharp) and encode (StbImageWriteSharp): maintained managed libraries, no native code.</summary>
public static class Png
{
    /// <summary>Decodes a PNG (or any format stb_image reads) to RGBA bytes; fails with a message naming <paramref name="source"/>.</summary>
    public static (int Width, int Height, byte[] Rgba) DecodeRgba(byte[] encoded, string source)
    {
        try
        {
            var result = ImageResult.FromMemory(encoded, StbImageSharp.ColorComponents.RedGreenBlueAlpha);
            return (result.Width, result.Height, result.Data);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or IndexOutOfRangeException or NullReferenceException)
        {
            throw new InvalidDataException($"{source}: not a readable image ({e.Message})", e);
        }
    }

    /// <summary>Reads an image file as RGB, alpha composited on white.</summary>
    public static RgbImage Load(string path)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidDataException($"{path}: cannot read ({e.Message})", e);
        }
        var (w, h, rgba) = DecodeRgba(bytes, path);
        return Resample.CompositeOnWhite(w, h, rgba);
    }

    /// <summary>Encodes <paramref name="image"/> as PNG bytes.</summary>
    public static byte[] Encode(RgbImage image)
    {
        using var stream = new MemoryStream();
        new ImageWriter().WritePng(image.Pixels, image.Width, image.Height, StbImageWriteSharp.ColorComponents.RedGreenBlue, stream);
        return stream.ToArray();
    }

    /// <summary>Writes <paramref name="image"/> to <paramref name="path"/> atomically (temp file + rename).</summary>
    public static void Save(RgbImage image, string path)
    {
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        var tmp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Environment.ProcessId}.tmp");
        try
        {
            File.WriteAllBytes(tmp, Encode(image));
            File.Move(tmp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
    }
}
