using System.Diagnostics;
using System.Text.Json.Serialization;
using Add.Engine.Sampling;
using Add.Train.Data;
using Add.Train.Model;
using Add.Train.Pipeline;
using Add.Train.Training;
using static TorchSharp.torch;

namespace Add.Train.Evaluation;

/// <summary>How a pipeline is sampled for evaluation (the timesteps follow the model's scheduler config).</summary>
public sealed record SamplingSpec(SamplerKind Sampler, int Steps, double Guidance);

/// <summary>One evaluation row: FID-emoji (with its bootstrap 95 % interval when computed), prompt adherence, diversity,
/// seconds per image, and the decoder the images came from.</summary>
public sealed record EvalRecord(string Model, string Sampler, int Steps, double Guidance, int Images,
    double Fid, double Acc, double Diversity, double SecPerImage, string Backend,
    [property: JsonPropertyName("decoder")] string Decoder = EvalDecoder.Full,
    [property: JsonPropertyName("fid_ci_low"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? FidCiLow = null,
    [property: JsonPropertyName("fid_ci_high"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? FidCiHigh = null);

/// <summary>
/// Scores a pipeline with the evaluator network (never used by any training loss): generates <c>n</c> images from
/// test-split captions (cycled; seed = image index), then
/// FID-emoji = Fréchet distance between evaluator features of generated and real test images,
/// acc = evaluator top-1 subcategory accuracy against each caption's label,
/// diversity = mean pairwise feature distance among 8 seeds of each of 16 captions;
/// fid_ci_low / fid_ci_high = the 95 % basic-bootstrap interval (bias-corrected) of FID-emoji (<see cref="FidBootstrap"/>, B resamples
/// of both feature sets, seed 0). Images are decoded by the chosen <see cref="EvalDecoder"/> (the full VAE by default).
/// Non-finite features (a model whose outputs overflow) are an <see cref="InvalidDataException"/>, not a NaN FID.
/// </summary>
public static class Evaluator
{
    public const int DiversityCaptions = 16, DiversitySeeds = 8, Batch = 64;

    /// <param name="decoder">null: the pipeline's full VAE.</param>
    /// <param name="bootstrap">resamples of the FID interval; 0 leaves it out.</param>
    public static EvalRecord Evaluate(ReferencePipeline pipeline, string modelName, SamplingSpec spec, EvaluatorNet evaluator, Emoji32 data, int n, Action<string> log,
        EvalDecoder? decoder = null, int bootstrap = FidBootstrap.DefaultResamples)
    {
        Func<Tensor, Tensor> decode = decoder is null ? pipeline.Decode : decoder.Decode;
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
            var pixels = GeneratePixels(pipeline, decode, items.Select(i => data.Items[i].Caption).ToList(), spec, seed: start);
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
        var features = generated.ToArray();
        RequireFinite(features, modelName, "generated images");
        RequireFinite(realFeatures, "the evaluator", "real test images");
        double fid = FeatureStatistics.Fid(features, n, realFeatures, test.Length, d);
        double? low = null, high = null;
        if (bootstrap > 0)
        {
            (low, high) = FidBootstrap.Interval(features, n, realFeatures, test.Length, d, bootstrap);
            log($"eval {modelName}: FID {fid:F2}, 95 % bootstrap interval [{low:F2}, {high:F2}] over {bootstrap} resamples");
        }
        double acc = FeatureStatistics.Top1Accuracy(scores.ToArray(), n, evaluator.Config.NumLabels, labels);
        double diversity = Diversity(pipeline, decode, evaluator, data, test, spec);
        return new EvalRecord(modelName, spec.Sampler.ToString().ToLowerInvariant(), spec.Steps, spec.Guidance, n, fid, acc, diversity, secPerImage, "torchsharp-cpu",
            decoder?.Name ?? EvalDecoder.Full, low, high);
    }

    /// <summary>Throws <see cref="InvalidDataException"/> naming <paramref name="who"/> when a feature is NaN or ±Inf.</summary>
    public static void RequireFinite(double[] features, string who, string what)
    {
        int bad = features.Count(v => !double.IsFinite(v));
        if (bad > 0)
            throw new InvalidDataException($"{who}: {bad} of {features.Length} evaluator features of the {what} are NaN or infinite " +
                "(the images are not finite: weights or activations overflow), so FID-emoji is undefined");
    }

    static double Diversity(ReferencePipeline pipeline, Func<Tensor, Tensor> decode, EvaluatorNet evaluator, Emoji32 data, int[] test, SamplingSpec spec)
    {
        double total = 0;
        var captions = test.Select(i => data.Items[i].Caption).Distinct().Take(DiversityCaptions).ToList();
        foreach (var caption in captions)
        {
            using var pixels = GeneratePixels(pipeline, decode, Enumerable.Repeat(caption, DiversitySeeds).ToList(), spec, seed: 100_000 + captions.IndexOf(caption));
            var f = Features(evaluator, [pixels]);
            total += FeatureStatistics.MeanPairwiseDistance(f, DiversitySeeds, evaluator.Config.FeatureDim);
        }
        return total / captions.Count;
    }

    /// <summary>Pixels (N, 3, 32, 32) in [-1, 1]; each row of a batch gets its own noise from one seeded generator.</summary>
    static Tensor GeneratePixels(ReferencePipeline p, Func<Tensor, Tensor> decode, List<string> captions, SamplingSpec spec, long seed)
    {
        using var scope = NewDisposeScope();
        var gen = new Generator((ulong)seed);
        int s = p.Unet.Config.DefaultSampleSize;
        var noise = randn([captions.Count, p.Unet.Config.InChannels, s, s], generator: gen);
        var latents = p.SampleLatents(captions, spec.Sampler, spec.Steps, spec.Guidance, noise, () => randn(noise.shape, generator: gen));
        return decode(latents).clamp(-1, 1).MoveToOuterDisposeScope();
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
