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
/// `add-train features`: trains the discriminator's feature network F (a small ViT) to classify emoji-32's 99
/// subcategories (cross-entropy, light augmentation: random 1-px shifts). F is trained once and frozen during ADD.
/// Exports config.json + model.safetensors (default models/emoji-32-features) and reports test accuracy.
/// </summary>
public static class FeatureTrainer
{
    public const string Usage = "add-train features " + TrainOptions.Usage + " [--out DIR]\n    Train the discriminator's frozen feature network (ViT) on the subcategories.";

    public sealed record Settings(ViTConfig Config, int Steps, int Batch, double Lr);

    public static Settings For(Preset preset, int labels) => preset switch
    {
        Preset.Tiny => new(new ViTConfig { HiddenSize = 32, NumHiddenLayers = 2, NumAttentionHeads = 2, IntermediateSize = 64, PatchSize = 8, NumLabels = labels }, Steps: 30, Batch: 16, Lr: 1e-3),
        _ => new(new ViTConfig { NumLabels = labels }, Steps: 4000, Batch: 64, Lr: 1e-3),
    };

    public sealed record Result(string ExportDir, double TestAccuracy, long Parameters, double Seconds, int Step);

    public static int Run(IReadOnlyList<string> args)
    {
        var a = new ArgReader(args, "resume");
        var (options, cache) = TrainOptions.Parse(a, "features");
        var outDir = a.String("out") ?? (options.Preset == Preset.Tiny ? Path.Combine(options.RunDir, "export") : Path.Combine(RepoPaths.FindRoot() ?? ".", "models", "emoji-32-features"));
        a.ThrowIfUnused(0);
        Console.WriteLine(ResultJson.Serialize(Train(options, TrainOptions.LoadData(cache), outDir, Console.Error.WriteLine)));
        return 0;
    }

    public static Result Train(TrainOptions o, Emoji32 data, string exportDir, Action<string> log)
    {
        var s = For(o.Preset, data.Subcategories.Length);
        torch.manual_seed(o.Seed);
        var vit = new VisionTransformer(s.Config);
        long parameters = StateDict.ParameterCount(vit);
        log($"features: ViT {parameters:N0} parameters, {data.Subcategories.Length} labels, batch {o.Batch ?? s.Batch}, {o.Steps ?? s.Steps} steps");
        var outcome = ClassifierTraining.Run(o, data, vit, "features", o.Steps ?? s.Steps, o.Batch ?? s.Batch, s.Lr, maxShift: 1);
        if (!outcome.Finished) return new Result("", double.NaN, parameters, outcome.Seconds, outcome.Step);
        Export(vit, exportDir);
        log($"features: test accuracy {outcome.TestAccuracy:P1}, {outcome.Seconds / 60:F1} min; exported {exportDir}");
        var result = new Result(exportDir, outcome.TestAccuracy, parameters, outcome.Seconds, outcome.Step);
        File.WriteAllText(Path.Combine(o.RunDir, "result.json"), ResultJson.Serialize(result));
        return result;
    }

    public static void Export(VisionTransformer vit, string dir)
    {
        Directory.CreateDirectory(dir);
        ConfigJson.Save(vit.Config, Path.Combine(dir, "config.json"));
        var writer = new SafeTensorsWriter();
        StateDict.AddTo(writer, vit);
        writer.Save(Path.Combine(dir, "model.safetensors"));
    }

    public static VisionTransformer Load(string dir)
    {
        var vit = new VisionTransformer(ConfigJson.Load<ViTConfig>(Path.Combine(dir, "config.json"), Console.Error.WriteLine));
        using var f = SafeTensorsFile.Open(Path.Combine(dir, "model.safetensors"));
        StateDict.LoadInto(vit, f);
        vit.eval();
        return vit;
    }
}
