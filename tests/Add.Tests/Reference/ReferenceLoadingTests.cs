using Add.Tests.Cli;
using Add.Tests.Pipeline;
using Add.Train.Pipeline;

namespace Add.Tests.Reference;

/// <summary>The reference loads folders as the engine resolves them: shards, the position_ids buffer, the fp16 variant.</summary>
public sealed class ReferenceLoadingTests
{
    static Dictionary<string, float[]> Parameters(ReferencePipeline p) =>
        new[] { ("text_encoder.", (TorchSharp.torch.nn.Module)p.TextEncoder), ("unet.", p.Unet), ("vae.", p.Vae) }
            .SelectMany(m => m.Item2.state_dict().Select(kv => (m.Item1 + kv.Key, kv.Value.data<float>().ToArray())))
            .ToDictionary(x => x.Item1, x => x.Item2);

    [Fact]
    public void ShardsAndPositionIdsLoadTheSameReference()
    {
        using var dir = new TempDir();
        var model = ModelSurgery.CopyEmoji(dir);
        var expected = Parameters(ReferencePipeline.Load(model));
        ModelSurgery.Rewrite(ModelSurgery.TextWeights(model), add: w => ModelSurgery.AddPositionIds(w, 16));
        ModelSurgery.Shard(ModelSurgery.UnetWeights(model), 2);
        Assert.Equal(expected, Parameters(ReferencePipeline.Load(model)));
    }

    [Fact]
    public void TheFp16VariantLoadsWhenAskedAndANonFiniteWeightIsRefused()
    {
        using var dir = new TempDir();
        var half = ModelSurgery.CopyEmoji(dir, asF16: true);
        var expected = Parameters(ReferencePipeline.Load(half));
        ModelSurgery.RenameToVariant(half, "fp16");
        Assert.Equal(expected, Parameters(ReferencePipeline.Load(half, variant: "fp16")));
        var unet = Path.Combine(global::Add.Engine.Pipeline.PipelineLayout.Unet.Folder(half), "diffusion_pytorch_model.fp16.safetensors");
        ModelSurgery.Poke(unet, "conv_out.weight", float.NaN);
        Assert.Contains("tensor 'conv_out.weight'", Assert.Throws<InvalidDataException>(() => ReferencePipeline.Load(half, variant: "fp16")).Message);
    }

    [Fact]
    public void ValidateWithAMissingVariantFailsInOneLine()
    {
        using var dir = new TempDir();
        var model = ModelSurgery.CopyEmoji(dir);
        var (code, _, err) = CliRun.Train("validate", "--model", model, "--variant", "fp16");
        Assert.NotEqual(0, code);
        Assert.Contains("--variant fp16: text_encoder/ has neither model.fp16.safetensors", err);
        Assert.Single(err.Trim().Split('\n'));
        Assert.DoesNotContain("   at ", err);
    }
}
