using Add.Engine;
using Add.Engine.CommandLine;
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
    public const string Usage = "add-train evaluator " + TrainOptions.Usage + " [--out DIR]\n    Train the evaluation classifier (FID-emoji features, prompt adherence).";

    public sealed record Settings(EvaluatorConfig Config, int Steps, int Batch, double Lr);

    public static Settings For(Preset preset, int labels) => preset switch
    {
        Preset.Tiny => new(new EvaluatorConfig { Channels = [8, 16], NumLabels = labels }, Steps: 30, Batch: 16, Lr: 2e-3),
        _ => new(new EvaluatorConfig { NumLabels = labels }, Steps: 3000, Batch: 64, Lr: 2e-3),
    };

    public static int Run(IReadOnlyList<string> args)
    {
        var a = new ArgReader(args, "resume");
        var (options, cache) = TrainOptions.Parse(a, "evaluator");
        if (a.String("seed") is null) options = options with { Seed = 7 };
        var outDir = a.String("out") ?? options.DefaultExport("emoji-32-evaluator");
        a.ThrowIfUnused(0);
        Console.WriteLine(ResultJson.Serialize(Train(options, TrainOptions.LoadData(cache), outDir, Console.Error.WriteLine)));
        return 0;
    }

    public static ClassifierTraining.Result Train(TrainOptions o, Emoji32 data, string exportDir, Action<string> log)
    {
        var s = For(o.Preset, data.Subcategories.Length);
        torch.manual_seed(o.Seed);
        var net = new EvaluatorNet(s.Config);
        return ClassifierTraining.TrainAndExport(o, data, net, s.Config, "evaluator", o.Steps ?? s.Steps, o.Batch ?? s.Batch, s.Lr, maxShift: 2, exportDir, log);
    }

    public static EvaluatorNet Load(string dir) => ClassifierTraining.Load<EvaluatorNet, EvaluatorConfig>(dir, c => new EvaluatorNet(c));
}
