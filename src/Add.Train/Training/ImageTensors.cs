using Add.Train.Data;
using static TorchSharp.torch;

namespace Add.Train.Training;

/// <summary>Conversions between emoji-32 uint8 images and model tensors in [-1, 1].</summary>
public static class ImageTensors
{
    /// <summary>Images <paramref name="indices"/> as (N, 3, 32, 32) float32 in [-1, 1].</summary>
    public static Tensor ToTensor(Emoji32 data, IReadOnlyList<int> indices)
    {
        var bytes = new byte[indices.Count * Emoji32.PixelsPerImage];
        for (int i = 0; i < indices.Count; i++)
            Buffer.BlockCopy(data.Images, indices[i] * Emoji32.PixelsPerImage, bytes, i * Emoji32.PixelsPerImage, Emoji32.PixelsPerImage);
        using var u8 = tensor(bytes, [indices.Count, Emoji32.Size, Emoji32.Size, 3]);
        using var f = u8.to_type(ScalarType.Float32);
        using var nchw = f.permute(0, 3, 1, 2);
        return (nchw / 127.5 - 1.0).contiguous();
    }

    /// <summary>(N, 3, H, W) in [-1, 1] → RGB images (clamped, rounded).</summary>
    public static List<Engine.Imaging.RgbImage> ToImages(Tensor pixels)
    {
        using var scope = NewDisposeScope();
        var u8 = ((pixels.detach().cpu().clamp(-1, 1) + 1) * 127.5).round().to_type(ScalarType.Byte).permute(0, 2, 3, 1).contiguous();
        long n = u8.shape[0], h = u8.shape[1], w = u8.shape[2];
        var all = u8.data<byte>().ToArray();
        return Enumerable.Range(0, (int)n).Select(i => new Engine.Imaging.RgbImage((int)w, (int)h, all.AsSpan(i * (int)(h * w * 3), (int)(h * w * 3)).ToArray())).ToList();
    }

    /// <summary>PSNR in dB between uint8-quantised images: 10·log10(255² / MSE).</summary>
    public static double Psnr(Tensor reference, Tensor reconstruction)
    {
        using var scope = NewDisposeScope();
        var a = ((reference.clamp(-1, 1) + 1) * 127.5).round();
        var b = ((reconstruction.clamp(-1, 1) + 1) * 127.5).round();
        double mse = (a - b).pow(2).mean().item<float>();
        return 10 * Math.Log10(255.0 * 255.0 / Math.Max(mse, 1e-10));
    }
}
