using Add.Engine.Configs;
using Add.Engine.Pipeline;
using Add.Engine.SafeTensors;
using Add.Train.Data;
using Add.Train.Model;
using static TorchSharp.torch;

namespace Add.Train.Training;

/// <summary>
/// The supervised loop shared by the discriminator's feature network and the evaluator: cross-entropy on emoji-32's
/// subcategory labels, random shifts of up to <paramref name="maxShift"/> pixels, AdamW with warmup + cosine decay,
/// resumable through <see cref="TrainingSession"/>; test-split top-1 accuracy at the end.
/// </summary>
public static class ClassifierTraining
{
    public sealed record Outcome(bool Finished, double TestAccuracy, double Seconds, int Step);

    /// <summary>What `add-train features` and `add-train evaluator` print and write to RUN/result.json.</summary>
    public sealed record Result(string ExportDir, double TestAccuracy, long Parameters, double Seconds, int Step);

    /// <summary>A classifier's training command (`features`, `evaluator`): the shared training options, --out (default
    /// models/<paramref name="exportName"/>), the result as JSON on stdout.</summary>
    public static System.CommandLine.Command Command(string name, string description, string exportName,
        Func<TrainOptions, Emoji32, string, Action<string>, Result> train, int defaultSeed = 0)
    {
        var options = new TrainOptions.Cli(name, defaultSeed);
        var output = Add.CommandLine.Opt.Text("--out", $"export folder (default: models/{exportName}; RUN/export for the tiny preset)", "DIR");
        var command = new System.CommandLine.Command(name, description);
        options.AddTo(command);
        command.Add(output);
        command.SetAction(p =>
        {
            var (o, cache) = options.Read(p);
            var outDir = p.GetValue(output) ?? o.DefaultExport(exportName);
            Console.WriteLine(ResultJson.Serialize(train(o, TrainOptions.LoadData(cache), outDir, Console.Error.WriteLine)));
            return 0;
        });
        return command;
    }

    /// <summary>Trains <paramref name="net"/>, then exports it with <paramref name="config"/> to <paramref name="exportDir"/>.</summary>
    public static Result TrainAndExport<TConfig>(TrainOptions o, Emoji32 data, nn.Module<Tensor, Tensor> net, TConfig config, string name,
        int steps, int batch, double peakLr, int maxShift, string exportDir, Action<string> log) where TConfig : ConfigBase
    {
        long parameters = StateDict.ParameterCount(net);
        log($"{name}: {parameters:N0} parameters, {data.Subcategories.Length} labels, seed {o.Seed}, batch {batch}, {steps} steps");
        var outcome = Run(o, data, net, name, steps, batch, peakLr, maxShift);
        if (!outcome.Finished) return new Result("", double.NaN, parameters, outcome.Seconds, outcome.Step);
        Export(net, config, exportDir);
        log($"{name}: test accuracy {outcome.TestAccuracy:P1}, {outcome.Seconds / 60:F1} min; exported {exportDir}");
        var result = new Result(exportDir, outcome.TestAccuracy, parameters, outcome.Seconds, outcome.Step);
        File.WriteAllText(Path.Combine(o.RunDir, "result.json"), ResultJson.Serialize(result));
        return result;
    }

    /// <summary>Writes config.json and model.safetensors.</summary>
    public static void Export<TConfig>(nn.Module net, TConfig config, string dir) where TConfig : ConfigBase
    {
        Directory.CreateDirectory(dir);
        ConfigJson.Save(config, Path.Combine(dir, PipelineLayout.ConfigFile));
        var writer = new SafeTensorsWriter();
        StateDict.AddTo(writer, net);
        writer.Save(Path.Combine(dir, PipelineLayout.TransformersWeightsFile));
    }

    /// <summary>Loads a folder written by <see cref="Export"/> into a network built from its config; eval mode.</summary>
    public static TNet Load<TNet, TConfig>(string dir, Func<TConfig, TNet> create) where TNet : nn.Module where TConfig : ConfigBase
    {
        var net = create(ConfigJson.Load<TConfig>(Path.Combine(dir, PipelineLayout.ConfigFile), Console.Error.WriteLine));
        using var f = SafeTensorsFile.Open(Path.Combine(dir, PipelineLayout.TransformersWeightsFile));
        StateDict.LoadInto(net, f);
        net.eval();
        return net;
    }

    public static Outcome Run(TrainOptions o, Emoji32 data, nn.Module<Tensor, Tensor> net, string name, int steps, int batch, double peakLr, int maxShift)
    {
        var optimizer = optim.AdamW(net.parameters(), lr: peakLr, weight_decay: 0.05);
        var train = data.Indices(test: false).ToArray();
        using var pixels = ImageTensors.ToTensor(data, train);
        using var labels = tensor(train.Select(i => data.Labels[i]).ToArray());
        using var session = new TrainingSession(o.RunDir, steps, ["loss", "accuracy", "lr"], [(name, net)], [optimizer], o.Resume, o.CheckpointEvery);
        int step = session.StartStep;
        var metrics = new Dictionary<string, double>();
        net.train();
        while (step < steps && !session.StopRequested)
        {
            using var scope = NewDisposeScope();
            var (rng, _) = TrainingSession.StepRandom(o.Seed, step);
            var idx = tensor(Enumerable.Range(0, batch).Select(_ => (long)rng.Next(train.Length)).ToArray());
            var x = roll(pixels.index_select(0, idx), [rng.Next(-maxShift, maxShift + 1), rng.Next(-maxShift, maxShift + 1)], [2, 3]);
            var y = labels.index_select(0, idx);
            double lr = TrainingSession.CosineLr(step, steps, peakLr, warmup: Math.Min(300, steps / 10 + 1));
            TrainingSession.SetLearningRate(optimizer, lr);
            var logits = net.forward(x);
            var loss = nn.functional.cross_entropy(logits, y);
            optimizer.zero_grad();
            loss.backward();
            nn.utils.clip_grad_norm_(net.parameters(), 1.0);
            optimizer.step();
            step++;
            metrics = new() { ["loss"] = loss.item<float>(), ["accuracy"] = (logits.argmax(1) == y).to_type(ScalarType.Float32).mean().item<float>(), ["lr"] = lr };
            session.Report(step, metrics, logEvery: 10);
            if (session.CheckpointDue) session.SaveCheckpoint(step);
            if (step == o.StopAfter) session.RequestStop();
        }
        session.Finish(step, metrics);
        if (step < steps) return new Outcome(false, double.NaN, session.Seconds, step);
        net.eval();
        return new Outcome(true, Accuracy(net, data, data.Indices(test: true).ToArray()), session.Seconds, step);
    }

    public static double Accuracy(nn.Module<Tensor, Tensor> net, Emoji32 data, int[] indices)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        long correct = 0;
        foreach (var chunk in indices.Chunk(256))
        {
            var pred = net.forward(ImageTensors.ToTensor(data, chunk)).argmax(1);
            correct += (pred == tensor(chunk.Select(i => data.Labels[i]).ToArray())).sum().item<long>();
        }
        return correct / (double)Math.Max(1, indices.Length);
    }
}
