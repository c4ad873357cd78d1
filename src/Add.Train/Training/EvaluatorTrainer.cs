using Add.Engine;
using Add.Engine.CommandLine;
using Add.Engine.Configs;
using Add.Engine.SafeTensors;
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

    public sealed record Result(string ExportDir, double TestAccuracy, long Parameters, double Seconds, int Step);

    public static int Run(IReadOnlyList<string> args)
    {
        var a = new ArgReader(args, "resume");
        var (options, cache) = TrainOptions.Parse(a, "evaluator");
        if (a.String("seed") is null) options = options with { Seed = 7 };
        var outDir = a.String("out") ?? (options.Preset == Preset.Tiny ? Path.Combine(options.RunDir, "export") : Path.Combine(RepoPaths.FindRoot() ?? ".", "models", "emoji-32-evaluator"));
        a.ThrowIfUnused(0);
        Console.WriteLine(ResultJson.Serialize(Train(options, TrainOptions.LoadData(cache), outDir, Console.Error.WriteLine)));
        return 0;
    }

    public static Result Train(TrainOptions o, Emoji32 data, string exportDir, Action<string> log)
    {
        var s = For(o.Preset, data.Subcategories.Length);
        torch.manual_seed(o.Seed);
        var net = new EvaluatorNet(s.Config);
        long parameters = StateDict.ParameterCount(net);
        log($"evaluator: CNN {parameters:N0} parameters, seed {o.Seed}, batch {o.Batch ?? s.Batch}, {o.Steps ?? s.Steps} steps");
        var outcome = ClassifierTraining.Run(o, data, net, "evaluator", o.Steps ?? s.Steps, o.Batch ?? s.Batch, s.Lr, maxShift: 2);
        if (!outcome.Finished) return new Result("", double.NaN, parameters, outcome.Seconds, outcome.Step);
        Export(net, exportDir);
        log($"evaluator: test accuracy {outcome.TestAccuracy:P1}, {outcome.Seconds / 60:F1} min; exported {exportDir}");
        var result = new Result(exportDir, outcome.TestAccuracy, parameters, outcome.Seconds, outcome.Step);
        File.WriteAllText(Path.Combine(o.RunDir, "result.json"), ResultJson.Serialize(result));
        return result;
    }

    public static void Export(EvaluatorNet net, string dir)
    {
        Directory.CreateDirectory(dir);
        ConfigJson.Save(net.Config, Path.Combine(dir, "config.json"));
        var writer = new SafeTensorsWriter();
        StateDict.AddTo(writer, net);
        writer.Save(Path.Combine(dir, "model.safetensors"));
    }

    public static EvaluatorNet Load(string dir)
    {
        var net = new EvaluatorNet(ConfigJson.Load<EvaluatorConfig>(Path.Combine(dir, "config.json"), Console.Error.WriteLine));
        using var f = SafeTensorsFile.Open(Path.Combine(dir, "model.safetensors"));
        StateDict.LoadInto(net, f);
        net.eval();
        return net;
    }
}
