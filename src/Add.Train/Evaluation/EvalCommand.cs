using System.Text.Json;
using Add.Engine;
using Add.Engine.CommandLine;
using Add.Engine.Sampling;
using Add.Train.Pipeline;
using Add.Train.Training;

namespace Add.Train.Evaluation;

/// <summary>`add-train eval`: one evaluation row, printed and appended to a JSON-lines file.</summary>
public static class EvalCommand
{
    public const string Usage = "add-train eval --model DIR [--sampler ddim|euler|euler-ancestral|student] [--steps N] [--guidance G] [--n 2000] [--evaluator DIR] [--json FILE]\n    FID-emoji, prompt adherence, diversity and seconds per image of a model (issue 5).";

    public static int Run(IReadOnlyList<string> args)
    {
        var a = new ArgReader(args);
        var root = RepoPaths.FindRoot() ?? ".";
        var model = a.String("model") ?? throw new UsageException("eval: --model DIR is required");
        var sampler = a.String("sampler") is "student" ? SamplerKind.StudentRenoise : a.Choice("sampler", SamplerKind.Ddim);
        int steps = a.Int("steps", sampler == SamplerKind.StudentRenoise ? 1 : 50, 1, 1000);
        double guidance = a.Double("guidance", sampler == SamplerKind.StudentRenoise ? 0 : 4, 0, 30);
        int n = a.Int("n", 2000, 2, 100_000);
        var evaluatorDir = a.String("evaluator") ?? Path.Combine(root, "models", "emoji-32-evaluator");
        var json = a.String("json") ?? Path.Combine(root, "docs", "reproduction", "eval.jsonl");
        var cache = a.String("cache");
        a.ThrowIfUnused(0);
        if (!Directory.Exists(evaluatorDir)) throw new UsageException($"no evaluator at {evaluatorDir}; run 'add-train evaluator' first");
        var pipeline = ReferencePipeline.Load(model, Console.Error.WriteLine);
        var record = Evaluator.Evaluate(pipeline, Path.GetFileName(Path.GetFullPath(model)), new SamplingSpec(sampler, steps, guidance),
            EvaluatorTrainer.Load(evaluatorDir), TrainOptions.LoadData(cache), n, Console.Error.WriteLine);
        var line = JsonSerializer.Serialize(record, new JsonSerializerOptions(ResultJson.Options) { WriteIndented = false });
        Console.WriteLine(line);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(json))!);
        File.AppendAllText(json, line + "\n");
        return 0;
    }
}
