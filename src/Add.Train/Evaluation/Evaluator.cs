using System.Diagnostics;
using Add.Engine.Sampling;
using Add.Train.Data;
using Add.Train.Model;
using Add.Train.Pipeline;
using Add.Train.Training;
using static TorchSharp.torch;

namespace Add.Train.Evaluation;

/// <summary>How a pipeline is sampled for evaluation (the timesteps follow the model's scheduler config).</summary>
public sealed record SamplingSpec(SamplerKind Sampler, int Steps, double Guidance);

/// <summary>One evaluation row: FID-emoji, prompt adherence, diversity, seconds per image.</summary>
public sealed record EvalRecord(string Model, string Sampler, int Steps, double Guidance, int Images,
    double Fid, double Acc, double Diversity, double SecPerImage, string Backend);

/// <summary>
/// Scores a pipeline with the evaluator network (never used by any training loss): generates <c>n</c> images from
/// test-split captions (cycled; seed = image index), then
/// FID-emoji = Fréchet distance between evaluator features of generated and real test images,
/// acc = evaluator top-1 subcategory accuracy against each caption's label,
/// diversity = mean pairwise feature distance among 8 seeds of each of 16 captions.
/// </summary>
public static class Evaluator
{
    public const int DiversityCaptions = 16, DiversitySeeds = 8, Batch = 64;

    public static EvalRecord Evaluate(ReferencePipeline pipeline, string modelName, SamplingSpec spec, EvaluatorNet evaluator, Emoji32 data, int n, Action<string> log)
    {
        var test = data.Indices(test: true).ToArray();
        var realFeatures = Features(evaluator, test.Chunk(256).Select(c => ImageTensors.ToTensor(data, c)));
        int d = evaluator.Config.FeatureDim;

        var generated = new List<double>();
        var scores = new List<double>();
        var labels = new List<long>();
        var watch = Stopwatch.StartNew();
        for (int start = 0; start < n; start += Batch)
        {
            int count = Math.Min(Batch, n - start);
            var items = Enumerable.Range(start, count).Select(i => test[i % test.Length]).ToList();
            var pixels = GeneratePixels(pipeline, items.Select(i => data.Items[i].Caption).ToList(), spec, seed: start);
            using (no_grad())
            {
                using var f = evaluator.Features(pixels);
                using var logits = evaluator.forward(pixels);
                generated.AddRange(f.to_type(ScalarType.Float64).data<double>().ToArray());
                scores.AddRange(logits.to_type(ScalarType.Float64).data<double>().ToArray());
            }
            pixels.Dispose();
            labels.AddRange(items.Select(i => data.Labels[i]));
            log($"eval {modelName} {spec.Sampler} {spec.Steps} steps: {start + count}/{n}");
        }
        double secPerImage = watch.Elapsed.TotalSeconds / n;
        double fid = FeatureStatistics.Fid(generated.ToArray(), n, realFeatures, test.Length, d);
        double acc = FeatureStatistics.Top1Accuracy(scores.ToArray(), n, evaluator.Config.NumLabels, labels);
        double diversity = Diversity(pipeline, evaluator, data, test, spec);
        return new EvalRecord(modelName, spec.Sampler.ToString().ToLowerInvariant(), spec.Steps, spec.Guidance, n, fid, acc, diversity, secPerImage, "torchsharp-cpu");
    }

    static double Diversity(ReferencePipeline pipeline, EvaluatorNet evaluator, Emoji32 data, int[] test, SamplingSpec spec)
    {
        double total = 0;
        var captions = test.Select(i => data.Items[i].Caption).Distinct().Take(DiversityCaptions).ToList();
        foreach (var caption in captions)
        {
            using var pixels = GeneratePixels(pipeline, Enumerable.Repeat(caption, DiversitySeeds).ToList(), spec, seed: 100_000 + captions.IndexOf(caption));
            var f = Features(evaluator, [pixels]);
            total += FeatureStatistics.MeanPairwiseDistance(f, DiversitySeeds, evaluator.Config.FeatureDim);
        }
        return total / captions.Count;
    }

    /// <summary>Pixels (N, 3, 32, 32) in [-1, 1]; each row of a batch gets its own noise from one seeded generator.</summary>
    static Tensor GeneratePixels(ReferencePipeline p, List<string> captions, SamplingSpec spec, long seed)
    {
        using var scope = NewDisposeScope();
        var gen = new Generator((ulong)seed);
        int s = p.Unet.Config.DefaultSampleSize;
        var noise = randn([captions.Count, p.Unet.Config.InChannels, s, s], generator: gen);
        var latents = p.SampleLatents(captions, spec.Sampler, spec.Steps, spec.Guidance, noise, () => randn(noise.shape, generator: gen));
        return p.Decode(latents).clamp(-1, 1).MoveToOuterDisposeScope();
    }

    static double[] Features(EvaluatorNet evaluator, IEnumerable<Tensor> batches)
    {
        var all = new List<double>();
        using var _ = no_grad();
        foreach (var x in batches)
        {
            using var f = evaluator.Features(x);
            all.AddRange(f.to_type(ScalarType.Float64).data<double>().ToArray());
        }
        return all.ToArray();
    }
}
