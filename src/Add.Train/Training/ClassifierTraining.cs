using Add.Train.Data;
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
