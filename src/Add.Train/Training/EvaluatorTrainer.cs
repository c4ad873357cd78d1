using System.CommandLine;
using Add.CommandLine;
using Add.Engine;
using Add.Train.Data;
using Add.Train.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace Add.Train.Training;

/// <summary>
/// `add-train evaluator`: trains the evaluation classifier (a CNN, seed 7 by default — a different architecture and
/// seed from the discriminator's ViT) on the 99 subcategories; reports test-split accuracy; exports
/// models/emoji-32-evaluator. Never used by any training loss.
/// </summary>
public static class EvaluatorTrainer
{
    public sealed record Settings(EvaluatorConfig Config, int Steps, int Batch, double Lr);

    public static Settings For(Preset preset, int labels) => preset switch
    {
        Preset.Tiny => new(new EvaluatorConfig { Channels = [8, 16], NumLabels = labels }, Steps: 30, Batch: 16, Lr: 2e-3),
        _ => new(new EvaluatorConfig { NumLabels = labels }, Steps: 3000, Batch: 64, Lr: 2e-3),
    };

    /// <summary>The `evaluator` command (seed 7 by default: a different seed from the feature network's).</summary>
    public static Command Create() => ClassifierTraining.Command("evaluator",
        "Train the evaluation classifier (FID-emoji features, prompt adherence).", "emoji-32-evaluator", Train, defaultSeed: 7);

    public static ClassifierTraining.Result Train(TrainOptions o, Emoji32 data, string exportDir, Action<string> log)
    {
        var s = For(o.Preset, data.Subcategories.Length);
        torch.manual_seed(o.Seed);
        var net = new EvaluatorNet(s.Config);
        return ClassifierTraining.TrainAndExport(o, data, net, s.Config, "evaluator", o.Steps ?? s.Steps, o.Batch ?? s.Batch, s.Lr, maxShift: 2, exportDir, log);
    }

    public static EvaluatorNet Load(string dir) => ClassifierTraining.Load<EvaluatorNet, EvaluatorConfig>(dir, c => new EvaluatorNet(c));
}
