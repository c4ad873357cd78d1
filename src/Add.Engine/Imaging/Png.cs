using StbImageSharp;
using StbImageWriteSharp;

namespace Add.Engine.Imaging;

/// <summary>PNG decode (StbImageSharp) and PNG/JPEG encode (StbImageWriteSharp): maintained managed libraries, no native code.</summary>
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

    /// <summary>The file extensions <see cref="Save"/> writes: PNG for .png, JPEG for .jpg and .jpeg.</summary>
    public static readonly IReadOnlyList<string> Extensions = [".png", ".jpg", ".jpeg"];

    /// <summary>JPEG quality (1-100) for .jpg/.jpeg outputs: high, since emoji have flat colours and sharp edges.</summary>
    public const int JpegQuality = 95;

    /// <summary>Encodes <paramref name="image"/> as PNG bytes.</summary>
    public static byte[] Encode(RgbImage image)
    {
        using var stream = new MemoryStream();
        new ImageWriter().WritePng(image.Pixels, image.Width, image.Height, StbImageWriteSharp.ColorComponents.RedGreenBlue, stream);
        return stream.ToArray();
    }

    /// <summary>Encodes <paramref name="image"/> as JPEG bytes at <see cref="JpegQuality"/>.</summary>
    public static byte[] EncodeJpeg(RgbImage image)
    {
        using var stream = new MemoryStream();
        new ImageWriter().WriteJpg(image.Pixels, image.Width, image.Height, StbImageWriteSharp.ColorComponents.RedGreenBlue, stream, JpegQuality);
        return stream.ToArray();
    }

    /// <summary>Fails unless <paramref name="path"/> ends in one of <see cref="Extensions"/> (ignoring case).</summary>
    /// <exception cref="NotSupportedException">another extension, or none; the message lists the supported ones.</exception>
    public static void CheckExtension(string path)
    {
        var ext = Path.GetExtension(path);
        if (!Extensions.Contains(ext.ToLowerInvariant()))
            throw new NotSupportedException($"{path}: cannot write {(ext.Length == 0 ? "a file without an extension" : $"'{ext}' images")} (supported: {string.Join(", ", Extensions)})");
    }

    /// <summary>Writes <paramref name="image"/> to <paramref name="path"/> atomically (temp file + rename), as PNG or
    /// JPEG by the extension (<see cref="Extensions"/>). Errors name <paramref name="path"/>, never the temp file.</summary>
    /// <exception cref="NotSupportedException">the extension is not one of <see cref="Extensions"/>.</exception>
    public static void Save(RgbImage image, string path)
    {
        CheckExtension(path);
        var ext = Path.GetExtension(path).ToLowerInvariant();
        var bytes = ext == ".png" ? Encode(image) : EncodeJpeg(image);
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full)!;
        var tmp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Environment.ProcessId}.tmp");
        try
        {
            Directory.CreateDirectory(dir);
            File.WriteAllBytes(tmp, bytes);
            File.Move(tmp, full, overwrite: true);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new UnauthorizedAccessException($"cannot write {path}: permission denied", e);
        }
        catch (IOException e)
        {
            throw new IOException($"cannot write {path}: {e.Message.Replace(tmp, full)}", e);
        }
        finally
        {
            try { if (File.Exists(tmp)) File.Delete(tmp); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { /* nothing was written there */ }
        }
    }
}
