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
        int steps = o.Steps ?? s.Steps, batch = o.Batch ?? s.Batch;
        torch.manual_seed(o.Seed);
        var vit = new VisionTransformer(s.Config);
        var optimizer = optim.AdamW(vit.parameters(), lr: s.Lr, weight_decay: 0.05);
        var train = data.Indices(test: false).ToArray();
        var test = data.Indices(test: true).ToArray();
        using var pixels = ImageTensors.ToTensor(data, train);
        using var labels = tensor(train.Select(i => data.Labels[i]).ToArray());
        using var session = new TrainingSession(o.RunDir, steps, ["loss", "accuracy", "lr"], [("features", vit)], [optimizer], o.Resume, o.CheckpointEvery);
        long parameters = StateDict.ParameterCount(vit);
        log($"features: ViT {parameters:N0} parameters, {train.Length} images, {data.Subcategories.Length} labels, batch {batch}, {steps} steps");

        int step = session.StartStep;
        var metrics = new Dictionary<string, double>();
        vit.train();
        while (step < steps && !session.StopRequested)
        {
            using var scope = NewDisposeScope();
            var (rng, _) = TrainingSession.StepRandom(o.Seed, step);
            var idx = tensor(Enumerable.Range(0, batch).Select(_ => (long)rng.Next(train.Length)).ToArray());
            var x = pixels.index_select(0, idx);
            x = roll(x, [rng.Next(-1, 2), rng.Next(-1, 2)], [2, 3]);                // 1-px shift augmentation
            var y = labels.index_select(0, idx);
            double lr = TrainingSession.CosineLr(step, steps, s.Lr, warmup: Math.Min(300, steps / 10 + 1));
            TrainingSession.SetLearningRate(optimizer, lr);
            var logits = vit.forward(x);
            var loss = nn.functional.cross_entropy(logits, y);
            optimizer.zero_grad();
            loss.backward();
            nn.utils.clip_grad_norm_(vit.parameters(), 1.0);
            optimizer.step();
            step++;
            double acc = (logits.argmax(1) == y).to_type(ScalarType.Float32).mean().item<float>();
            metrics = new() { ["loss"] = loss.item<float>(), ["accuracy"] = acc, ["lr"] = lr };
            session.Report(step, metrics, logEvery: 10);
            if (session.CheckpointDue) session.SaveCheckpoint(step);
            if (step == o.StopAfter) session.RequestStop();
        }
        session.Finish(step, metrics);
        if (step < steps) return new Result("", double.NaN, parameters, session.Seconds, step);
        vit.eval();
        double testAcc = Accuracy(vit, data, test);
        Export(vit, exportDir);
        log($"features: test accuracy {testAcc:P1}, {session.Seconds / 60:F1} min; exported {exportDir}");
        var result = new Result(exportDir, testAcc, parameters, session.Seconds, step);
        File.WriteAllText(Path.Combine(o.RunDir, "result.json"), ResultJson.Serialize(result));
        return result;
    }

    public static double Accuracy(VisionTransformer vit, Emoji32 data, int[] indices)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        long correct = 0;
        foreach (var chunk in indices.Chunk(256))
        {
            var pred = vit.forward(ImageTensors.ToTensor(data, chunk)).argmax(1);
            var y = tensor(chunk.Select(i => data.Labels[i]).ToArray());
            correct += (pred == y).sum().item<long>();
        }
        return correct / (double)Math.Max(1, indices.Length);
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
