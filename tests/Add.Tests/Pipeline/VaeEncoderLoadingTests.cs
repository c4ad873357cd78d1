using Add.Engine.Backends;
using Add.Engine.Imaging;
using Add.Engine.Pipeline;

namespace Add.Tests.Pipeline;

/// <summary>The VAE's encoder is checked at load (names and shapes) but read only on the first init image: text-to-image
/// never holds its weights (SD-Turbo's: 137 MB).</summary>
public sealed class VaeEncoderLoadingTests
{
    private static readonly GenerationRequest Text = new() { Prompts = ["grinning face"], Steps = 1, Seed = 3 };
    private static readonly GenerationRequest Init = Text with { InitImage = RgbImage.White(32, 32), Strength = 0.5, Steps = 2 };

    [Fact]
    public void TheEncoderIsReadOnTheFirstInitImage()
    {
        using var dir = new TempDir();
        var model = ModelSurgery.CopyEmoji(dir);
        using var p = DiffusionPipeline.Load(model, new CpuBackend());
        Assert.False(p.Vae.EncoderLoaded);
        p.Generate(Text);
        Assert.False(p.Vae.EncoderLoaded);
        var first = p.Generate(Init)[0].Pixels;
        Assert.True(p.Vae.EncoderLoaded);
        Assert.Equal(first, p.Generate(Init)[0].Pixels);     // loaded once, the same weights after
    }

    [Fact]
    public void AMissingEncoderTensorStillFailsAtLoad()
    {
        using var dir = new TempDir();
        var model = ModelSurgery.CopyEmoji(dir);
        ModelSurgery.Rewrite(ModelSurgery.VaeWeights(model), keep: n => n != "encoder.conv_in.bias");
        var e = Assert.Throws<InvalidDataException>(() => { using var p = DiffusionPipeline.Load(model, new CpuBackend()); });
        Assert.Contains("missing tensor 'encoder.conv_in.bias'", e.Message);
    }

    [Fact]
    public void ANonFiniteEncoderWeightIsRefusedOnTheFirstInitImageNamingTheTensor()
    {
        using var dir = new TempDir();
        var model = ModelSurgery.CopyEmoji(dir);
        ModelSurgery.Poke(ModelSurgery.VaeWeights(model), "encoder.conv_in.weight", float.NaN, index: 2);
        using var p = DiffusionPipeline.Load(model, new CpuBackend());
        Assert.Single(p.Generate(Text));                     // text-to-image never reads the encoder
        var e = Assert.Throws<InvalidDataException>(() => p.Generate(Init));
        Assert.Contains("tensor 'encoder.conv_in.weight'", e.Message);
    }
}
