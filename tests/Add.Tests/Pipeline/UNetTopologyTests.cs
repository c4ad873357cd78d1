using Add.CommandLine;
using Add.Engine.Configs;
using Add.Engine.Pipeline;

namespace Add.Tests.Pipeline;

/// <summary>The UNet's channel and skip wiring, derived from the config, against channel lists written out by hand
/// (diffusers: resnets.{j} of up block i reads out_channels + the popped skip; the last one the next block's width).</summary>
public sealed class UNetTopologyTests
{
    private static void AssertDown(UNetDownBlockTopology b, int inChannels, int outChannels, bool cross, bool down, params int[] resnetIn)
    {
        Assert.Equal((inChannels, outChannels, cross, down), (b.InChannels, b.OutChannels, b.CrossAttention, b.Downsample));
        Assert.Equal(resnetIn, Enumerable.Range(0, b.Layers).Select(b.ResnetInChannels));
    }

    private static void AssertUp(UNetUpBlockTopology b, int outChannels, bool cross, bool up, int[] skips, int[] resnetIn)
    {
        Assert.Equal((outChannels, cross, up), (b.OutChannels, b.CrossAttention, b.Upsample));
        Assert.Equal(skips, b.SkipChannels);
        Assert.Equal(resnetIn, b.ResnetInChannels);
    }

    [Fact]
    public void ShippedUNetConfig()
    {
        var config = ConfigJson.Load<UNet2DConditionConfig>(PipelineLayout.Unet.Config(Path.Combine(Fixtures.Root, "models", ModelLocator.DefaultModelName)));
        var t = UNetTopology.From(config);
        Assert.Equal(64, t.ConvInOutChannels);
        AssertDown(t.Down[0], 64, 64, cross: true, down: true, 64);
        AssertDown(t.Down[1], 64, 128, cross: true, down: true, 64);
        AssertDown(t.Down[2], 128, 128, cross: false, down: false, 128);
        Assert.Equal([64, 64, 64, 128, 128, 128], t.SkipStack);      // conv_in, d0 resnet, d0 down, d1 resnet, d1 down, d2 resnet
        Assert.Equal(128, t.MidChannels);
        AssertUp(t.Up[0], 128, cross: false, up: true, skips: [128, 128], resnetIn: [256, 256]);
        AssertUp(t.Up[1], 128, cross: true, up: true, skips: [128, 64], resnetIn: [256, 192]);
        AssertUp(t.Up[2], 64, cross: true, up: false, skips: [64, 64], resnetIn: [192, 128]);
    }

    [Fact]
    public void TinyConfigOfTheTestPipelines()
    {
        var t = UNetTopology.From(UNet2DConditionConfig.Emoji32 with
        {
            SampleSize = 4, BlockOutChannels = [24, 48], DownBlockTypes = ["CrossAttnDownBlock2D", "DownBlock2D"], UpBlockTypes = ["UpBlock2D", "CrossAttnUpBlock2D"],
            CrossAttentionDim = 24, AttentionHeadDim = 3, NormNumGroups = 8,
        });
        Assert.Equal(24, t.ConvInOutChannels);
        AssertDown(t.Down[0], 24, 24, cross: true, down: true, 24);
        AssertDown(t.Down[1], 24, 48, cross: false, down: false, 24);
        Assert.Equal([24, 24, 24, 48], t.SkipStack);
        Assert.Equal(48, t.MidChannels);
        AssertUp(t.Up[0], 48, cross: false, up: true, skips: [48, 24], resnetIn: [96, 72]);
        AssertUp(t.Up[1], 24, cross: true, up: false, skips: [24, 24], resnetIn: [72, 48]);
    }

    [Fact]
    public void TwoLayersPerBlock()
    {
        var t = UNetTopology.From(UNet2DConditionConfig.Emoji32 with
        {
            SampleSize = 4, BlockOutChannels = [8, 16], DownBlockTypes = ["CrossAttnDownBlock2D", "DownBlock2D"], UpBlockTypes = ["UpBlock2D", "CrossAttnUpBlock2D"],
            LayersPerBlock = 2, CrossAttentionDim = 8, AttentionHeadDim = 2, NormNumGroups = 4,
        });
        AssertDown(t.Down[0], 8, 8, cross: true, down: true, 8, 8);
        AssertDown(t.Down[1], 8, 16, cross: false, down: false, 8, 16);
        Assert.Equal([8, 8, 8, 8, 16, 16], t.SkipStack);
        AssertUp(t.Up[0], 16, cross: false, up: true, skips: [16, 16, 8], resnetIn: [32, 32, 24]);
        AssertUp(t.Up[1], 8, cross: true, up: false, skips: [8, 8, 8], resnetIn: [24, 16, 16]);
    }

    [Fact]
    public void AnInvalidConfigIsRefusedBeforeWiring()
    {
        var bad = new UNet2DConditionConfig { BlockOutChannels = [64, 128], DownBlockTypes = ["DownBlock2D"], UpBlockTypes = ["UpBlock2D", "UpBlock2D"] };
        Assert.Contains("same length", Assert.Throws<InvalidDataException>(() => UNetTopology.From(bad)).Message);
    }
}
