namespace Add.Engine.Sampling;

/// <summary>
/// The engine's documented noise generator, used for every random draw of a generation so that a seed means the same
/// image on every backend and in the reference (`add-train validate` feeds these exact numbers to TorchSharp).
/// <para>
/// Definition: a SplitMix64 stream (Steele, Lea &amp; Flood 2014: state += 0x9E3779B97F4A7C15, then the two
/// xor-shift-multiply rounds) seeded with the 64-bit seed. Each pair of outputs gives two uniforms
/// u = (x &gt;&gt; 11 + 0.5)·2⁻⁵³ in (0, 1), and the Box–Muller transform gives two standard normals
/// r·cos(2πu₂), r·sin(2πu₂) with r = √(−2 ln u₁), computed in double and rounded to float, emitted in that order.
/// </para>
/// <para>
/// Image i of a batch with seed S draws from its own stream seeded S + i, so it is the same image a batch of one with
/// seed S + i gives. Within an image the draws come in order: the initial latent [C, h, w] (CHW order), then one
/// [C, h, w] block for each step that uses fresh noise.
/// </para>
/// </summary>
public sealed class GaussianNoise(ulong seed)
{
    private ulong _state = seed;
    private float _spare;
    private bool _hasSpare;

    private ulong Next()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private double Uniform() => ((Next() >> 11) + 0.5) * (1.0 / (1UL << 53));

    /// <summary>The next standard normal draw.</summary>
    public float NextGaussian()
    {
        if (_hasSpare) { _hasSpare = false; return _spare; }
        double r = Math.Sqrt(-2.0 * Math.Log(Uniform())), theta = 2.0 * Math.PI * Uniform();
        _spare = (float)(r * Math.Sin(theta));
        _hasSpare = true;
        return (float)(r * Math.Cos(theta));
    }

    /// <summary>Fills <paramref name="destination"/> with standard normal draws.</summary>
    public void Fill(Span<float> destination)
    {
        for (int i = 0; i < destination.Length; i++) destination[i] = NextGaussian();
    }
}
