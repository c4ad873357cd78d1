using Add.CommandLine;
using Add.Engine.Imaging;
using Add.Engine.Pipeline;
using Add.Tests.Engine;

namespace Add.Tests.Pipeline;

/// <summary>The model-folder layout and the pipeline's image conversions.</summary>
[Collection(TinyPipelineCollection.Name)]
public sealed class PipelineLayoutTests(TinyPipelines tiny)
{
    [Fact]
    public void ASavedPipelineHoldsExactlyTheFilesTheLayoutNames()
    {
        foreach (var folder in new[] { tiny.Student, tiny.Teacher, Path.Combine(Fixtures.Root, "models", ModelLocator.DefaultModelName) })
        {
            var expected = new List<string>
            {
                PipelineLayout.ModelIndex(folder), PipelineLayout.Scheduler.Config(folder),
                PipelineLayout.Tokenizer.Config(folder), Path.Combine(PipelineLayout.Tokenizer.Folder(folder), PipelineLayout.VocabFile),
            };
            foreach (var network in new[] { PipelineLayout.TextEncoder, PipelineLayout.Unet, PipelineLayout.Vae, PipelineLayout.VaeTiny })
                if (network != PipelineLayout.VaeTiny || ModelIndex.Load(folder).Declares(PipelineLayout.VaeTiny.Name))   // the shipped student has one
                    expected.AddRange([network.Config(folder), network.Weights(folder)]);
            var actual = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
                .Where(f => ModelFolders.Parts.Contains(Path.GetRelativePath(folder, f).Split(Path.DirectorySeparatorChar)[0]));
            Assert.Equal(expected.Order(), actual.Order());
        }
    }

    [Fact]
    public void AComponentWithoutWeightsSaysSo()
    {
        Assert.Contains("scheduler", Assert.Throws<InvalidOperationException>(() => PipelineLayout.Scheduler.Weights("m")).Message);
        Assert.Equal(Path.Combine("m", "unet", "diffusion_pytorch_model.safetensors"), PipelineLayout.Unet.Weights("m"));
        Assert.Equal(Path.Combine("m", "text_encoder", "model.safetensors"), PipelineLayout.TextEncoder.Weights("m"));
        Assert.Equal(Path.Combine("m", "scheduler", "scheduler_config.json"), PipelineLayout.Scheduler.Config("m"));
    }

    [Theory]
    [InlineData(2)]   // even block area: (Σ + 2) / 4
    [InlineData(3)]   // odd block area: (Σ + 4) / 9
    public void InitPixelsAreaAverageEqualsCompositingTheOpaqueImageOnWhite(int factor)
    {
        const int size = 8;
        var random = new Random(42);
        var image = new RgbImage(size * factor, size * factor);
        random.NextBytes(image.Pixels);
        var rgba = new byte[image.Width * image.Height * 4];
        for (int p = 0; p < image.Width * image.Height; p++)
        {
            for (int c = 0; c < 3; c++) rgba[p * 4 + c] = image.Pixels[p * 3 + c];
            rgba[p * 4 + 3] = 255;
        }
        var small = Resample.AreaDownsampleOnWhite(image.Width, image.Height, rgba, size, size);
        var expected = PipelineImages.InitPixels(small, size);
        Assert.Equal(expected, PipelineImages.InitPixels(image, size));
    }
}
