using System.CommandLine;
using System.Text.Json;
using Add.CommandLine;
using Add.Engine.Configs;
using Add.Engine.Pipeline;
using Add.Engine.Sampling;
using Add.Train.Data;
using Add.Train.Model;
using Add.Train.Pipeline;
using Add.Train.Training;

namespace Add.Train.Evaluation;

/// <summary>
/// `add-train eval`: one evaluation row as one JSON line on stdout (appended to a JSON-lines file only with --json).
/// Sampler, steps and guidance default to the model's own (its scheduler config's add_sampler, add_default_steps,
/// add_default_guidance, resolved as `add generate` resolves them): our student runs 1 re-noising step without guidance,
/// our teacher DDIM 50 steps at guidance 4.
/// </summary>
public static class EvalCommand
{
    /// <summary>A model ready to evaluate: its reference pipeline, the sampling that runs, and the decoder.</summary>
    public sealed record Target(ReferencePipeline Pipeline, string Name, SamplingSpec Spec, EvalDecoder Decoder);

    /// <summary>The `eval` command.</summary>
    public static Command Create()
    {
        var model = CommonOptions.Model("the model to evaluate");
        model.Required = true;
        var sampler = CommonOptions.Sampler("sampler: ddim, euler, euler-ancestral or student-renoise (default: the model's: its config's add_sampler, else its scheduler class)");
        var steps = CommonOptions.Steps();
        steps.Description = "sampling steps (default: the model's add_default_steps: 1 for our student, 50 for our teacher)";
        var guidance = Opt.OptionalNumber("--guidance", "guidance scale, 0 to 30 (default: the model's add_default_guidance: 0 for our student, 4 for our teacher)", 0, 30, helpName: "G");
        var n = Opt.IntRange("--n", "images to generate, 2 to 100000", 2000, 2, 100_000);
        var evaluator = Opt.Text("--evaluator", "the evaluation classifier (default: models/emoji-32-evaluator)", "DIR");
        var json = Opt.Text("--json", "also append the row to this JSON-lines file (default: stdout only)", "FILE");
        var decoder = Opt.Text("--decoder", "decoder of the images: full (the VAE), tiny (the model's vae_tiny) or DIR (an AutoencoderTiny folder) (default: full)", "full|tiny|DIR");
        var bootstrap = Opt.IntRange("--bootstrap", $"resamples of FID-emoji's 95 % bootstrap interval, 0 (none) to 10000", FidBootstrap.DefaultResamples, 0, 10_000, "B");
        var cache = CommonOptions.Cache();
        var command = new Command("eval",
            "FID-emoji (with a 95 % bootstrap interval), prompt adherence, diversity and seconds per image of a model, as one JSON line on stdout.");
        foreach (var o in new Option[] { model, sampler, steps, guidance, n, evaluator, json, decoder, bootstrap, cache }) command.Add(o);
        command.SetAction(p =>
        {
            var root = RepoPaths.FindRoot() ?? ".";
            // Everything about the model first, so bad input fails before the data set and the evaluator load.
            var target = Prepare(p.GetValue(model)!, p.GetValue(sampler), p.GetValue(steps), p.GetValue(guidance), p.GetValue(decoder) ?? EvalDecoder.Full, Console.Error.WriteLine);
            var evaluatorDir = p.GetValue(evaluator) ?? Path.Combine(root, "models", "emoji-32-evaluator");
            if (!Directory.Exists(evaluatorDir)) throw new UsageException($"no evaluator at {evaluatorDir}; run 'add-train evaluator' first");
            Run(target, EvaluatorTrainer.Load(evaluatorDir), TrainOptions.LoadData(p.GetValue(cache)), p.GetValue(n), p.GetValue(bootstrap), p.GetValue(json),
                p.InvocationConfiguration.Output, Console.Error.WriteLine);
            return 0;
        });
        return command;
    }

    /// <summary>Loads the model and its decoder and resolves the sampling (unset parts from the model's scheduler config).</summary>
    public static Target Prepare(string modelDir, SamplerKind? sampler, int? steps, double? guidance, string decoder, Action<string> warn)
    {
        if (!Directory.Exists(modelDir)) throw new UsageException($"model folder not found: {modelDir}");
        var pipeline = ReferencePipeline.Load(modelDir, warn);
        var spec = ResolveSpec(pipeline.Scheduler, sampler, steps, guidance, warn);
        return new Target(pipeline, Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(modelDir))), spec, EvalDecoder.Load(pipeline, modelDir, decoder, warn));
    }

    /// <summary>Sampler, steps and guidance as `add generate` resolves them (<see cref="GenerationPlanner"/>): what is
    /// given, else the config's add_sampler / add_default_steps / add_default_guidance, else the class's defaults;
    /// steps beyond the model's add_max_steps are an <see cref="InvalidRequestException"/> (exit 2).</summary>
    public static SamplingSpec ResolveSpec(SchedulerConfig scheduler, SamplerKind? sampler, int? steps, double? guidance, Action<string>? warn = null)
    {
        var request = new GenerationRequest { Prompts = [""], Sampler = sampler, Steps = steps, Guidance = guidance };
        var plan = GenerationPlanner.Plan(request, scheduler, new NoiseSchedule(scheduler), warn);
        return new SamplingSpec(plan.Kind, plan.Schedule.Steps, plan.Guidance);
    }

    /// <summary>Evaluates <paramref name="target"/>, writes the row as one JSON line to <paramref name="output"/>, and
    /// appends it to <paramref name="jsonPath"/> when given.</summary>
    public static EvalRecord Run(Target target, EvaluatorNet evaluator, Emoji32 data, int n, int bootstrap, string? jsonPath, TextWriter output, Action<string> log)
    {
        var record = Evaluator.Evaluate(target.Pipeline, target.Name, target.Spec, evaluator, data, n, log, target.Decoder, bootstrap);
        var line = JsonSerializer.Serialize(record, ResultJson.Line);
        output.WriteLine(line);
        if (jsonPath is not null)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(jsonPath))!);
            File.AppendAllText(jsonPath, line + "\n");
            log($"appended to {jsonPath}");
        }
        return record;
    }
}
