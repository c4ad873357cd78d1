using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using Add.Engine.SafeTensors;
using Add.Train.Data;
using Add.Train.Model;
using static TorchSharp.torch;

namespace Add.Train.Training;

/// <summary>
/// The distillation data of a set of images for <see cref="TinyDecoderTrainer"/>, computed once with the frozen VAE:
/// UNet-space latents (posterior mean × scaling_factor), the full decoder's output of them, and the real pixels. The
/// first two are cached in a safetensors file of the run folder (the full decoder is the costly part), keyed by a
/// SHA-256 of the VAE's weights and the image indices, so a resumed run or a second run reuses them.
/// </summary>
public sealed class TinyDecoderTargets : IDisposable
{
    const string LatentsKey = "latents", FullKey = "full", FingerprintKey = "fingerprint";

    public Tensor Latents { get; }   // (N, latent, s, s)
    public Tensor Full { get; }      // (N, 3, S, S) in about [-1, 1]
    public Tensor Real { get; }      // (N, 3, S, S) in [-1, 1]

    TinyDecoderTargets(Tensor latents, Tensor full, Tensor real) { Latents = latents; Full = full; Real = real; }

    /// <summary>The targets of <paramref name="indices"/>, from <paramref name="cacheFile"/> when it matches, else computed
    /// (and written there).</summary>
    public static TinyDecoderTargets Load(AutoencoderKL vae, Emoji32 data, int[] indices, string cacheFile)
    {
        var real = ImageTensors.ToTensor(data, indices);
        var fingerprint = Fingerprint(vae, indices);
        if (ReadCache(cacheFile, fingerprint) is (var cachedLatents, var cachedFull))
            return new(cachedLatents, cachedFull, real);
        var (latents, full) = Compute(vae, data, indices);
        WriteCache(cacheFile, fingerprint, latents, full);
        return new(latents, full, real);
    }

    /// <summary>The latents and full decodes cached in <paramref name="cacheFile"/>, or null when it is absent or was
    /// written for another fingerprint.</summary>
    internal static (Tensor Latents, Tensor Full)? ReadCache(string cacheFile, string fingerprint)
    {
        if (!File.Exists(cacheFile)) return null;
        using var file = SafeTensorsFile.Open(cacheFile);
        if (file.Metadata.GetValueOrDefault(FingerprintKey) != fingerprint) return null;
        return (Read(file, LatentsKey), Read(file, FullKey));
    }

    /// <summary>Writes the cache atomically (a temporary file moved over the old one).</summary>
    internal static void WriteCache(string cacheFile, string fingerprint, Tensor latents, Tensor full)
    {
        var writer = new SafeTensorsWriter();
        writer.Metadata[FingerprintKey] = fingerprint;
        foreach (var (key, t) in new[] { (LatentsKey, latents), (FullKey, full) }) writer.Add(key, t.contiguous().data<float>().ToArray(), t.shape);
        var temp = cacheFile + ".tmp";
        writer.Save(temp);
        File.Move(temp, cacheFile, overwrite: true);
    }

    static Tensor Read(SafeTensorsFile file, string key) => tensor(file.ReadFloat32(key), file.Get(key).Shape);

    static (Tensor Latents, Tensor Full) Compute(AutoencoderKL vae, Emoji32 data, int[] indices)
    {
        using var _ = no_grad();
        vae.eval();
        var latents = new List<Tensor>();
        var full = new List<Tensor>();
        foreach (var chunk in indices.Chunk(256))
        {
            using var scope = NewDisposeScope();
            var (mean, _) = vae.Encode(ImageTensors.ToTensor(data, chunk));
            latents.Add((mean * vae.Config.ScalingFactor).MoveToOuterDisposeScope());
            full.Add(vae.Decode(mean).MoveToOuterDisposeScope());   // the full decoder takes the unscaled latents
        }
        var result = (cat(latents, 0), cat(full, 0));
        foreach (var t in latents.Concat(full)) t.Dispose();
        return result;
    }

    internal static string Fingerprint(AutoencoderKL vae, int[] indices)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (name, t) in vae.state_dict())
        {
            sha.AppendData(Encoding.UTF8.GetBytes(name));
            using var cpu = t.detach().cpu().contiguous();
            sha.AppendData(MemoryMarshal.AsBytes(cpu.data<float>().ToArray().AsSpan()));
        }
        sha.AppendData(MemoryMarshal.AsBytes(indices.AsSpan()));
        sha.AppendData(BitConverter.GetBytes(vae.Config.ScalingFactor));
        return Convert.ToHexString(sha.GetHashAndReset());
    }

    /// <summary>Rows <paramref name="idx"/> (B,) of latents, full-decoder outputs and real pixels.</summary>
    public (Tensor Latents, Tensor Full, Tensor Real) Batch(Tensor idx)
        => (Latents.index_select(0, idx), Full.index_select(0, idx), Real.index_select(0, idx));

    public void Dispose() { Latents.Dispose(); Full.Dispose(); Real.Dispose(); }
}
