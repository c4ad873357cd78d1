using System.CommandLine;
using System.Text.Json;
using Add.CommandLine;
using Add.Engine.Sampling;
using Add.Train.Pipeline;
using Add.Train.Training;

namespace Add.Train.Evaluation;

/// <summary>`add-train eval`: one evaluation row, printed and appended to a JSON-lines file.</summary>
public static class EvalCommand
{
    /// <summary>The `eval` command.</summary>
    public static Command Create()
    {
        var model = CommonOptions.Model("the model to evaluate");
        model.Required = true;
        var sampler = CommonOptions.Sampler("sampler (default: ddim)");
        var steps = CommonOptions.Steps();
        steps.Description = "sampling steps, 1 to 1000 (default: 1 for the student sampler, else 50)";
        var guidance = Opt.OptionalNumber("--guidance", "guidance scale, 0 to 30 (default: 0 for the student sampler, else 4)", 0, 30, helpName: "G");
        var n = Opt.IntRange("--n", "images to generate, 2 to 100000", 2000, 2, 100_000);
        var evaluator = Opt.Text("--evaluator", "the evaluation classifier (default: models/emoji-32-evaluator)", "DIR");
        var json = Opt.Text("--json", "JSON-lines file the row is appended to (default: docs/reproduction/eval.jsonl)", "FILE");
        var cache = CommonOptions.Cache();
        var command = new Command("eval", "FID-emoji, prompt adherence, diversity and seconds per image of a model, as one JSON line.");
        foreach (var o in new Option[] { model, sampler, steps, guidance, n, evaluator, json, cache }) command.Add(o);
        command.SetAction(p =>
        {
            var root = RepoPaths.FindRoot() ?? ".";
            var kind = p.GetValue(sampler) ?? SamplerKind.Ddim;
            bool student = kind == SamplerKind.StudentRenoise;
            var spec = new SamplingSpec(kind, p.GetValue(steps) ?? (student ? 1 : 50), p.GetValue(guidance) ?? (student ? 0 : 4));
            var modelDir = p.GetValue(model)!;
            var evaluatorDir = p.GetValue(evaluator) ?? Path.Combine(root, "models", "emoji-32-evaluator");
            var jsonPath = p.GetValue(json) ?? Path.Combine(root, "docs", "reproduction", "eval.jsonl");
            if (!Directory.Exists(evaluatorDir)) throw new UsageException($"no evaluator at {evaluatorDir}; run 'add-train evaluator' first");
            var pipeline = ReferencePipeline.Load(modelDir, Console.Error.WriteLine);
            var record = Evaluator.Evaluate(pipeline, Path.GetFileName(Path.GetFullPath(modelDir)), spec,
                EvaluatorTrainer.Load(evaluatorDir), TrainOptions.LoadData(p.GetValue(cache)), p.GetValue(n), Console.Error.WriteLine);
            var line = JsonSerializer.Serialize(record, ResultJson.Line);
            Console.WriteLine(line);
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(jsonPath))!);
            File.AppendAllText(jsonPath, line + "\n");
            return 0;
        });
        return command;
    }
}
