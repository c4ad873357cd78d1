using Add.Train.Data;
using Add.Train.Model;
using static TorchSharp.torch;

namespace Add.Train.Training;

/// <summary>
/// The VAE posterior q(z|x) = N(μ, σ²) of every training image, computed once (the VAE is frozen after its own
/// training), so latent-space training draws z = (μ + σ·ε)·scaling_factor per batch without running the encoder.
/// </summary>
public sealed class LatentBank : IDisposable
{
    readonly Tensor _mean, _std;      // (N, latent, s, s) each
    readonly float _scaling;

    public LatentBank(AutoencoderKL vae, Emoji32 data, int[] indices)
    {
        using var _ = no_grad();
        vae.eval();
        var means = new List<Tensor>();
        var stds = new List<Tensor>();
        foreach (var chunk in indices.Chunk(256))
        {
            using var x = ImageTensors.ToTensor(data, chunk);
            var (m, lv) = vae.Encode(x);
            means.Add(m);
            stds.Add((0.5 * lv).exp());
            lv.Dispose();
        }
        _mean = cat(means, 0);
        _std = cat(stds, 0);
        foreach (var t in means.Concat(stds)) t.Dispose();
        _scaling = (float)vae.Config.ScalingFactor;
    }

    /// <summary>Scaled latent samples (B, latent, s, s) of the images at positions <paramref name="idx"/> (B,).</summary>
    public Tensor Sample(Tensor idx, Generator gen)
    {
        using var scope = NewDisposeScope();
        var mean = _mean.index_select(0, idx);
        var z = mean + _std.index_select(0, idx) * randn(mean.shape, generator: gen);
        return (z * _scaling).MoveToOuterDisposeScope();
    }

    public void Dispose() { _mean.Dispose(); _std.Dispose(); }
}
