namespace Add.Engine.Configs;

/// <summary>
/// One down block (CrossAttnDownBlock2D / DownBlock2D): <see cref="Layers"/> resnets, the first InChannels →
/// OutChannels and the rest OutChannels → OutChannels, each followed by a Transformer2D when
/// <see cref="CrossAttention"/> (<see cref="Heads"/> heads, <see cref="TransformerLayers"/> BasicTransformerBlocks);
/// then a stride-2 conv (downsamplers.0) when <see cref="Downsample"/>.
/// </summary>
public sealed record UNetDownBlockTopology(int InChannels, int OutChannels, int Layers, bool CrossAttention, bool Downsample, int Heads, int TransformerLayers)
{
    /// <summary>Input channels of resnets.{j}.</summary>
    public int ResnetInChannels(int j) => j == 0 ? InChannels : OutChannels;
}

/// <summary>
/// One up block (CrossAttnUpBlock2D / UpBlock2D): resnets.{j} reads cat(x, skip) along C, so its input channels are
/// x's channels plus <see cref="SkipChannels"/>[j] (the skip it pops); every resnet outputs
/// <see cref="OutChannels"/>, followed by a Transformer2D when <see cref="CrossAttention"/> (<see cref="Heads"/> heads,
/// <see cref="TransformerLayers"/> blocks: the down blocks' per-level values reversed, as diffusers' reversed_num_attention_heads
/// and reversed_transformer_layers_per_block); then a nearest-2× upsample and conv (upsamplers.0) when <see cref="Upsample"/>.
/// </summary>
public sealed record UNetUpBlockTopology(int[] ResnetInChannels, int[] SkipChannels, int OutChannels, bool CrossAttention, bool Upsample, int Heads, int TransformerLayers);

/// <summary>
/// The channel and skip wiring of a <see cref="UNet2DConditionConfig"/>, derived once from the config (data only: the
/// engine's and the reference's UNet2DConditionModel both build their blocks from it; each computes on its own).
/// conv_in → C0; down blocks push their outputs on a skip stack (conv_in's output, every resnet[+transformer] output,
/// every downsampler output); mid block at the last block's channels; up blocks pop one skip per resnet;
/// conv_norm_out and conv_out read C0. The mid block's transformer has the last level's heads and depth.
/// </summary>
public sealed record UNetTopology(int ConvInOutChannels, UNetDownBlockTopology[] Down, int MidChannels, UNetUpBlockTopology[] Up, int[] SkipStack,
    int MidHeads, int MidTransformerLayers)
{
    /// <summary>The wiring of <paramref name="c"/> (validated first).</summary>
    public static UNetTopology From(UNet2DConditionConfig c)
    {
        c.Validate();
        var ch = c.BlockOutChannels;
        int n = ch.Length, layers = c.LayersPerBlock;
        var pushed = new List<int> { ch[0] };                        // conv_in's output
        var down = new UNetDownBlockTopology[n];
        for (int i = 0; i < n; i++)
        {
            down[i] = new UNetDownBlockTopology(i == 0 ? ch[0] : ch[i - 1], ch[i], layers, c.DownBlockTypes[i] == "CrossAttnDownBlock2D", Downsample: i < n - 1,
                c.HeadsAt(i), c.TransformerLayersPerBlock.At(i));
            for (int j = 0; j < layers; j++) pushed.Add(ch[i]);
            if (down[i].Downsample) pushed.Add(ch[i]);
        }

        var stack = new Stack<int>(pushed);                          // pops the last pushed first
        int channels = ch[^1];                                        // the mid block's output
        var up = new UNetUpBlockTopology[n];
        for (int i = 0; i < n; i++)
        {
            int outChannels = ch[n - 1 - i];
            var skips = new int[layers + 1];
            var inputs = new int[layers + 1];
            for (int j = 0; j <= layers; j++)
            {
                skips[j] = stack.Pop();
                inputs[j] = channels + skips[j];
                channels = outChannels;
            }
            up[i] = new UNetUpBlockTopology(inputs, skips, outChannels, c.UpBlockTypes[i] == "CrossAttnUpBlock2D", Upsample: i < n - 1,
                c.HeadsAt(n - 1 - i), c.TransformerLayersPerBlock.At(n - 1 - i));
        }
        if (stack.Count != 0) throw new InvalidOperationException($"UNet topology: {stack.Count} skip(s) left unused");
        return new UNetTopology(ch[0], down, ch[^1], up, pushed.ToArray(), c.HeadsAt(n - 1), c.TransformerLayersPerBlock.At(n - 1));
    }
}
