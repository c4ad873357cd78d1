using System.CommandLine;
using Add.CommandLine;
using Add.Engine;
using Add.Train.Data;
using Add.Train.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace Add.Train.Training;

/// <summary>
/// `add-train features`: trains the discriminator's feature network F (a small ViT) to classify emoji-32's 99
/// subcategories (cross-entropy, light augmentation: random 1-px shifts). F is trained once and frozen during ADD.
/// Exports config.json + model.safetensors (default models/emoji-32-features) and reports test accuracy.
/// </summary>
public static class FeatureTrainer
{
    public sealed record Settings(ViTConfig Config, int Steps, int Batch, double Lr);

    public static Settings For(Preset preset, int labels) => preset switch
    {
        Preset.Tiny => new(new ViTConfig { HiddenSize = 32, NumHiddenLayers = 2, NumAttentionHeads = 2, IntermediateSize = 64, PatchSize = 8, NumLabels = labels }, Steps: 30, Batch: 16, Lr: 1e-3),
        _ => new(new ViTConfig { NumLabels = labels }, Steps: 4000, Batch: 64, Lr: 1e-3),
    };

    /// <summary>The `features` command.</summary>
    public static Command Create() => ClassifierTraining.Command("features",
        "Train the discriminator's frozen feature network (ViT) on the subcategories.", "emoji-32-features", Train);

    public static ClassifierTraining.Result Train(TrainOptions o, Emoji32 data, string exportDir, Action<string> log)
    {
        var s = For(o.Preset, data.Subcategories.Length);
        torch.manual_seed(o.Seed);
        var net = new VisionTransformer(s.Config);
        return ClassifierTraining.TrainAndExport(o, data, net, s.Config, "features", o.Steps ?? s.Steps, o.Batch ?? s.Batch, s.Lr, maxShift: 1, exportDir, log);
    }

    public static VisionTransformer Load(string dir) => ClassifierTraining.Load<VisionTransformer, ViTConfig>(dir, c => new VisionTransformer(c));
}
