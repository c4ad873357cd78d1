using System.Security.Cryptography;
using System.Text;
using Add.Engine.Pipeline;
using Add.Engine.Sampling;
using Add.Train.Data;
using Add.Train.Model;
using Add.Train.Pipeline;
using static TorchSharp.torch;

namespace Add.Train.Training;

/// <summary>
/// Latents a student actually produces, for <see cref="TinyDecoderTrainer"/>: an ADD student's 1-step latents carry
/// high-frequency error the VAE's posterior means never show (the speckle of docs/REPRODUCTION.md), and a tiny decoder
/// trained on posterior means alone decodes them badly (1-step FID-emoji 46.6 against the full decoder's 22.7). For each
/// caption of a split this samples the student's latent (UNet space) with its own sampler, at 1 step for even rows and 2
/// for odd ones (seed = row), and decodes it with the full VAE as the target. There is no real image for a generated
/// latent, so only the full-decoder term applies. Cached in the run folder like <see cref="TinyDecoderTargets"/>, keyed
/// by a SHA-256 of the student's UNet file, the VAE fingerprint and the rows.
/// </summary>
public sealed class StudentLatentTargets : IDisposable
{
    const int Chunk = 128;

    public Tensor Latents { get; }   // (N, latent, s, s), UNet space
    public Tensor Full { get; }      // (N, 3, S, S) in about [-1, 1]

    StudentLatentTargets(Tensor latents, Tensor full) { Latents = latents; Full = full; }

    public long Count => Latents.shape[0];

    /// <summary>The student's latents and their full decodes for <paramref name="indices"/>' captions, from
    /// <paramref name="cacheFile"/> when it matches, else computed (and written there).</summary>
    public static StudentLatentTargets Load(string studentDir, AutoencoderKL vae, Emoji32 data, int[] indices, string cacheFile, Action<string> log)
    {
        var fingerprint = Fingerprint(studentDir, indices, TinyDecoderTargets.Fingerprint(vae, indices));
        if (TinyDecoderTargets.ReadCache(cacheFile, fingerprint) is (var cachedLatents, var cachedFull))
            return new(cachedLatents, cachedFull);
        var (latents, full) = Compute(studentDir, vae, data, indices, log);
        TinyDecoderTargets.WriteCache(cacheFile, fingerprint, latents, full);
        return new(latents, full);
    }

    static (Tensor Latents, Tensor Full) Compute(string studentDir, AutoencoderKL vae, Emoji32 data, int[] indices, Action<string> log)
    {
        var student = ReferencePipeline.Load(studentDir, log);
        student.Eval();
        vae.eval();
        int s = student.Unet.Config.DefaultSampleSize;
        if (student.Unet.Config.InChannels != vae.Config.LatentChannels || s * vae.Config.DownsampleFactor != Emoji32.Size)
            throw new InvalidDataException($"{studentDir}: its latents ({student.Unet.Config.InChannels}×{s}²) do not fit the VAE being distilled "
                + $"({vae.Config.LatentChannels} channels, {Emoji32.Size / vae.Config.DownsampleFactor}²)");
        double guidance = student.Scheduler.AddDefaultGuidance ?? 0;
        var latents = new List<Tensor>();
        var full = new List<Tensor>();
        using var _ = no_grad();
        for (int start = 0; start < indices.Length; start += Chunk)
        {
            using var scope = NewDisposeScope();
            var rows = Enumerable.Range(start, Math.Min(Chunk, indices.Length - start)).ToArray();
            var z = new Tensor[rows.Length];
            foreach (int steps in new[] { 1, 2 })
            {
                var mine = rows.Where(r => r % 2 == steps - 1).ToArray();
                if (mine.Length == 0) continue;
                var gen = new Generator((ulong)(start + steps));
                var noise = randn([mine.Length, student.Unet.Config.InChannels, s, s], generator: gen);
                var sampled = student.SampleLatents(mine.Select(r => data.Items[indices[r]].Caption).ToList(), SamplerKind.StudentRenoise, steps,
                    guidance, noise, () => randn(noise.shape, generator: gen));
                for (int i = 0; i < mine.Length; i++) z[mine[i] - start] = sampled[i];
            }
            var chunk = stack(z);                                                       // (B, latent, s, s)
            latents.Add(chunk.MoveToOuterDisposeScope());
            full.Add(vae.Decode(chunk / vae.Config.ScalingFactor).MoveToOuterDisposeScope());
            log($"tiny-decoder: student latents {start + rows.Length}/{indices.Length}");
        }
        var result = (cat(latents, 0), cat(full, 0));
        foreach (var t in latents.Concat(full)) t.Dispose();
        return result;
    }

    static string Fingerprint(string studentDir, int[] indices, string vaeFingerprint)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(Encoding.UTF8.GetBytes(vaeFingerprint));
        foreach (var file in Directory.GetFiles(PipelineLayout.Unet.Folder(studentDir)).Order(StringComparer.Ordinal))
            using (var stream = File.OpenRead(file)) sha.AppendData(SHA256.HashData(stream));
        sha.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(indices.AsSpan()));
        return Convert.ToHexString(sha.GetHashAndReset());
    }

    /// <summary>Rows <paramref name="idx"/> (B,) of latents and full-decoder outputs.</summary>
    public (Tensor Latents, Tensor Full) Batch(Tensor idx) => (Latents.index_select(0, idx), Full.index_select(0, idx));

    public void Dispose() { Latents.Dispose(); Full.Dispose(); }
}
