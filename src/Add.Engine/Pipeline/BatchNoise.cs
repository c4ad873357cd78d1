using Add.Engine.Sampling;

namespace Add.Engine.Pipeline;

/// <summary>
/// The noise of a batch: image i draws from its own <see cref="GaussianNoise"/> stream seeded <c>seed + i</c> (or
/// <c>seeds[i]</c> when per-image seeds are given, <see cref="GenerationRequest.Seeds"/>), one
/// [C, h, w] block per draw (the initial latent, then each step that re-noises). The reference uses this class too
/// (`add-train validate`), so both see the same numbers.
/// </summary>
public sealed class BatchNoise
{
    private readonly GaussianNoise[] _streams;
    private readonly int _perImage;

    /// <summary>Streams <c>seed + i</c> for i in 0..images − 1, or <paramref name="seeds"/>[i] when given (one per image:
    /// <see cref="InvalidRequestException"/> otherwise).</summary>
    public BatchNoise(long seed, int images, int perImage, IReadOnlyList<long>? seeds = null)
    {
        if (seeds is not null && seeds.Count != images)
            throw new InvalidRequestException($"seeds has {seeds.Count} entries for {images} images: give one seed per prompt");
        _streams = Enumerable.Range(0, images)
            .Select(i => new GaussianNoise(unchecked((ulong)(seeds is null ? seed + i : seeds[i])))).ToArray();
        _perImage = perImage;
    }

    /// <summary>Fills <paramref name="destination"/> [N, C, h, w] with the next block of every image's stream.</summary>
    public void Draw(Span<float> destination)
    {
        if (destination.Length != _streams.Length * _perImage)
            throw new ArgumentException($"noise for {_streams.Length} images of {_perImage} floats, destination holds {destination.Length}");
        for (int i = 0; i < _streams.Length; i++) _streams[i].Fill(destination.Slice(i * _perImage, _perImage));
    }

    /// <summary>The next block as a new array.</summary>
    public float[] Draw()
    {
        var values = new float[_streams.Length * _perImage];
        Draw(values);
        return values;
    }
}
