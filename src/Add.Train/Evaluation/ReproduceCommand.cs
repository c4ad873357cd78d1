using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Add.CommandLine;
using Add.Engine.Sampling;
using Add.Train.Pipeline;
using Add.Train.Training;
using Add.Engine.Pipeline;

namespace Add.Train.Evaluation;

/// <summary>
/// `add-train reproduce`: the paper's analyses at emoji-32 scale. Main table (Table 2 analogue): the
/// teacher with DDIM at 1, 2, 4, 8, 25, 50 steps (guidance 4) against the shipped student at 1, 2, 4 steps, n images
/// each. Ablations (Table 1 analogues), each a fresh ADD run with a reduced budget and scored at 1 step: L_adv only,
/// L_distill only, both with c(t) = exp, both with sds, random init, teacher guidance in the target off/on, and LADD
/// (Sauer et al. 2024: the discriminator on the teacher's features of re-noised latents), each for seeds 0..N−1
/// (--seeds; seed 0 in runs/reproduce/NAME, seed k in runs/reproduce/NAME-seedk). results.json keeps ablations[NAME]
/// as the seed-0 cell and adds ablations_seeds[NAME] (a cell per seed, each with the run's train_seconds) and
/// ablations_fid_mean[NAME].
/// Writes docs/reproduction/results.json, tables.md and figure7.png (FID-emoji against seconds per image); every row
/// is also appended to docs/reproduction/eval.jsonl. Each FID carries its 95 % bootstrap interval (fid_ci_low,
/// fid_ci_high: <see cref="FidBootstrap"/>).
/// </summary>
public static class ReproduceCommand
{
    public static readonly int[] TeacherSteps = [1, 2, 4, 8, 25, 50];
    public static readonly int[] StudentSteps = [1, 2, 4];

    /// <summary>The ablations, in the order they run (--ablations picks and orders a subset).</summary>
    public static readonly string[] AblationNames =
        ["adv_distill_exp", "adv_only", "distill_only", "adv_distill_sds", "random_init", "teacher_cfg_on", "ladd", "ladd_low_noise", "ladd_2x"];

    private sealed record Ablation(string Name, string What, AddSettings Settings, AddTrainer.Init Init, int StepsFactor = 1);

    /// <summary>The `reproduce` command.</summary>
    public static Command Create()
    {
        var n = Opt.IntRange("--n", "images per main-table row, 2 to 100000", 2000, 2, 100_000);
        var ablationSteps = Opt.IntRange("--ablation-steps", "ADD steps of each ablation run, 1 to 100000", 500, 1, 100_000);
        var ablationN = Opt.IntRange("--ablation-n", "images per ablation row, 2 to 100000", 1000, 2, 100_000);
        var ema = Opt.Number("--ema", "EMA decay of the ablation students, 0 to 1", 0.99, 0, 1, helpName: "DECAY");
        var seeds = Opt.IntRange("--seeds", "training seeds per ablation (0..N-1), 1 to 100", 2, 1, 100);
        var skipMain = Opt.Flag("--skip-main", "skip the main table (teacher and shipped student)");
        var skipAblations = Opt.Flag("--skip-ablations", "skip the ablation runs");
        var only = Opt.Text("--ablations", "run only these ablations, comma-separated, in this order (default: all)", "NAMES");
        var cache = CommonOptions.Cache();
        var command = new Command("reproduce",
            "The paper's Table 2 / Table 1 / Figure 7 analogues at emoji-32 scale; writes docs/reproduction/{results.json, tables.md, figure7.png}.");
        foreach (var o in new Option[] { n, ablationSteps, ablationN, ema, seeds, skipMain, skipAblations, only, cache }) command.Add(o);
        command.SetAction(p => Run(p.GetValue(n), p.GetValue(ablationSteps), p.GetValue(ablationN), p.GetValue(ema), p.GetValue(seeds),
            p.GetValue(skipMain), p.GetValue(skipAblations), p.GetValue(only), p.GetValue(cache)));
        return command;
    }

    static int Run(int n, int ablationSteps, int ablationN, double ema, int seeds, bool skipMain, bool skipAblations, string? only, string? cache)
    {
        var chosen = only?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (chosen is { Length: 0 }) throw new UsageException("--ablations names no ablation");
        if (chosen?.FirstOrDefault(c => !AblationNames.Contains(c)) is string unknown)
            throw new UsageException($"--ablations: no ablation named '{unknown}' (known: {string.Join(", ", AblationNames)})");
        var root = RepoPaths.FindRoot() ?? ".";
        string outDir = Path.Combine(root, "docs", "reproduction"), evaluatorDir = Path.Combine(root, "models", "emoji-32-evaluator");
        string teacherDir = Path.Combine(root, "models", "emoji-32-teacher"), studentDir = Path.Combine(root, "models", "add-emoji-32");
        if (!Directory.Exists(evaluatorDir)) throw new UsageException($"no evaluator at {evaluatorDir}; run 'add-train evaluator' first");
        Directory.CreateDirectory(outDir);
        var resultsPath = Path.Combine(outDir, "results.json");
        var results = File.Exists(resultsPath) ? JsonNode.Parse(File.ReadAllText(resultsPath))!.AsObject() : new JsonObject();
        foreach (var key in new[] { "teacher", "student", "ablations", "ablations_seeds", "ablations_fid_mean" }) results[key] ??= new JsonObject();

        var data = TrainOptions.LoadData(cache);
        var evaluator = EvaluatorTrainer.Load(evaluatorDir);
        var teacher = ReferencePipeline.Load(teacherDir);
        void Save() => File.WriteAllText(resultsPath, results.ToJsonString(ResultJson.Indented) + "\n");
        EvalRecord Eval(ReferencePipeline p, string name, SamplingSpec spec, int images)
        {
            var r = Evaluator.Evaluate(p, name, spec, evaluator, data, images, Console.Error.WriteLine);
            Console.WriteLine($"{name,-28} {spec.Sampler,-15} {spec.Steps,3} steps  FID {r.Fid,8:F2} [{r.FidCiLow:F2}, {r.FidCiHigh:F2}]  acc {r.Acc:P1}  diversity {r.Diversity:F3}  {r.SecPerImage * 1e3:F1} ms/image");
            File.AppendAllText(Path.Combine(outDir, "eval.jsonl"), JsonSerializer.Serialize(r, ResultJson.Line) + "\n");
            return r;
        }
        JsonObject Cell(EvalRecord r, string budget) => new()
        {
            ["fid"] = Math.Round(r.Fid, 4), ["acc"] = Math.Round(r.Acc, 4), ["diversity"] = Math.Round(r.Diversity, 4),
            ["sec_per_image"] = Math.Round(r.SecPerImage, 6), ["images"] = r.Images, ["budget"] = budget,
            ["fid_ci_low"] = r.FidCiLow is double low ? Math.Round(low, 4) : null, ["fid_ci_high"] = r.FidCiHigh is double high ? Math.Round(high, 4) : null,
        };

        if (!skipMain)
        {
            var student = ReferencePipeline.Load(studentDir);
            foreach (var steps in TeacherSteps)
                results["teacher"]![$"{steps}"] = Cell(Eval(teacher, "emoji-32-teacher", new SamplingSpec(SamplerKind.Ddim, steps, 4), n), "shipped teacher (9,000 steps), DDIM, guidance 4");
            Save();
            foreach (var steps in StudentSteps)
                results["student"]![$"{steps}"] = Cell(Eval(student, "add-emoji-32", new SamplingSpec(SamplerKind.StudentRenoise, steps, 0), n), "shipped student (ADD default: 4,000 steps x 32)");
            Save();
        }

        if (!skipAblations)
        {
            var features = FeatureTrainer.Load(Path.Combine(root, "models", "emoji-32-features"));
            var both = new AddSettings();
            Ablation[] all =
            [
                new("adv_distill_exp", "L_adv + 2.5 L_distill, c(t) = exp (the default)", both, AddTrainer.Init.Teacher),
                new("adv_only", "L_adv only", both with { Distill = false }, AddTrainer.Init.Teacher),
                new("distill_only", "L_distill only", both with { Adversarial = false }, AddTrainer.Init.Teacher),
                new("adv_distill_sds", "L_adv + 2.5 L_distill, c(t) = sds", both with { Weighting = DistillWeighting.Sds }, AddTrainer.Init.Teacher),
                new("random_init", "student from random weights", both, AddTrainer.Init.Random),
                new("teacher_cfg_on", "teacher target with guidance 4", both with { TeacherGuidance = 4 }, AddTrainer.Init.Teacher),
                new("ladd", "L_adv on the teacher's features (LADD, --disc-features teacher) + 2.5 L_distill", both with { DiscFeatures = DiscFeatures.Teacher }, AddTrainer.Init.Teacher),
                new("ladd_low_noise", "LADD with t̂ biased to low noise (logit-normal m = -1: median t̂ 269) + 2.5 L_distill", both with { DiscFeatures = DiscFeatures.Teacher, LaddLocation = -1 }, AddTrainer.Init.Teacher),
                new("ladd_2x", "LADD with twice the steps: about the wall time of adv_distill_exp (a LADD step costs about half)", both with { DiscFeatures = DiscFeatures.Teacher }, AddTrainer.Init.Teacher, 2),
            ];
            var ablations = chosen is null ? all : chosen.Select(c => all.Single(a => a.Name == c)).ToArray();
            foreach (var ab in ablations)
            {
                var cells = new List<JsonObject>();
                var offCells = new List<JsonObject>();
                for (int seed = 0; seed < seeds; seed++)
                {
                    var runName = seed == 0 ? ab.Name : $"{ab.Name}-seed{seed}";
                    var runDir = Path.Combine(root, "runs", "reproduce", runName);
                    int steps = ablationSteps * ab.StepsFactor;
                    var options = new TrainOptions { RunDir = runDir, Steps = steps, Seed = seed, Resume = Directory.Exists(Path.Combine(runDir, "checkpoint")) };
                    var export = Path.Combine(runDir, "export");
                    if (!File.Exists(PipelineLayout.ModelIndex(export)))
                    {
                        try { AddTrainer.Train(options, ab.Settings, ab.Init, data, teacher, features, export, Console.Error.WriteLine, ema); }
                        catch (RunFinishedException) { throw new InvalidDataException($"{runDir} finished training but has no export: delete {runDir} to rerun the ablation"); }
                    }
                    var pipeline = ReferencePipeline.Load(export);
                    var budget = $"{steps} ADD steps x 32, EMA {ema}, seed {seed}; {ab.What}";
                    var record = Eval(pipeline, runName, new SamplingSpec(SamplerKind.StudentRenoise, 1, 0), ablationN);
                    double? trainSeconds = TrainSeconds(runDir);
                    cells.Add(WithSeconds(Cell(record, budget), trainSeconds));
                    if (ab.Name == "adv_distill_exp")   // guidance off is the default: the same run and the same (seeded) scores
                        offCells.Add(WithSeconds(Cell(record,
                            budget.Replace(ab.What, "teacher target without guidance (the same run as adv_distill_exp: guidance off is the default)")), trainSeconds));
                }
                foreach (var (name, list) in new[] { (ab.Name, cells), ("teacher_cfg_off", offCells) }.Where(x => x.Item2.Count > 0))
                    RecordSeeds(results, name, list);
                Save();
            }
        }
        Save();
        WriteTables(results, Path.Combine(outDir, "tables.md"));
        WritePlot(results, Path.Combine(outDir, "figure7.png"));
        Console.WriteLine($"wrote {resultsPath}, tables.md, figure7.png");
        return 0;
    }

    /// <summary>Wall seconds of a finished training run, from its result.json (null when it has none).</summary>
    static double? TrainSeconds(string runDir)
    {
        var path = Path.Combine(runDir, "result.json");
        if (!File.Exists(path)) return null;
        return JsonNode.Parse(File.ReadAllText(path))?["Seconds"] is JsonNode s ? Math.Round((double)s, 1) : null;
    }

    static JsonObject WithSeconds(JsonObject cell, double? seconds)
    {
        cell["train_seconds"] = seconds;
        return cell;
    }

    /// <summary>An ablation's cells, one per seed (seed 0 first): ablations[name] = the seed-0 cell (the schema before
    /// --seeds), ablations_seeds[name] = all of them, ablations_fid_mean[name] = their mean FID.</summary>
    public static void RecordSeeds(JsonObject results, string name, IReadOnlyList<JsonObject> cells)
    {
        foreach (var key in new[] { "ablations", "ablations_seeds", "ablations_fid_mean" }) results[key] ??= new JsonObject();
        results["ablations"]![name] = cells[0].DeepClone();
        results["ablations_seeds"]![name] = new JsonArray([.. cells.Select(c => c.DeepClone())]);
        results["ablations_fid_mean"]![name] = Math.Round(cells.Average(c => (double)c["fid"]!), 4);
    }

    /// <summary>tables.md from results.json: main table, ablations (seed 0), and the per-seed ablation table.</summary>
    public static void WriteTables(JsonObject results, string path)
    {
        var lines = new List<string> { "<!-- written by add-train reproduce from results.json; FID-emoji [95 % bootstrap interval] -->", "", "| model | steps | FID-emoji | acc | diversity | ms/image | images | budget |", "|---|---:|---:|---:|---:|---:|---:|---|" };
        foreach (var group in new[] { "teacher", "student" })
            foreach (var (steps, cell) in results[group]!.AsObject().OrderBy(kv => int.Parse(kv.Key)))
                lines.Add(Row(group, steps, cell!));
        lines.AddRange(["", "| ablation (1-step student) | FID-emoji | acc | diversity | ms/image | images | budget |", "|---|---:|---:|---:|---:|---:|---|"]);
        foreach (var (name, cell) in results["ablations"]!.AsObject())
            lines.Add(Row(name, null, cell!));
        if (results["ablations_seeds"] is JsonObject perSeed && perSeed.Count > 0)
        {
            lines.AddRange(["", "| ablation (per training seed) | FID-emoji per seed | mean FID-emoji | train seconds per seed |", "|---|---|---:|---|"]);
            foreach (var (name, cells) in perSeed)
            {
                var list = cells!.AsArray();
                string fids = string.Join(", ", list.Select(c => $"{(double)c!["fid"]!:F2}"));
                string seconds = string.Join(", ", list.Select(c => c!["train_seconds"] is JsonNode s ? $"{(double)s:F0}" : "?"));
                lines.Add($"| {name} | {fids} | {(double)results["ablations_fid_mean"]![name]!:F2} | {seconds} |");
            }
        }
        File.WriteAllText(path, string.Join("\n", lines) + "\n");

        static string Row(string name, string? steps, JsonNode c) =>
            $"| {name} |{(steps is null ? "" : $" {steps} |")} {(double)c["fid"]!:F2}{Interval(c)} | {(double)c["acc"]!:P1} | {(double)c["diversity"]!:F3} | {(double)c["sec_per_image"]! * 1e3:F1} | {(int)c["images"]!} | {(string?)c["budget"]} |";
    }

    /// <summary>" [low, high]" when the cell has a bootstrap interval (older results.json cells do not).</summary>
    static string Interval(JsonNode cell)
        => cell["fid_ci_low"] is JsonNode low && cell["fid_ci_high"] is JsonNode high ? $" [{(double)low:F2}, {(double)high:F2}]" : "";

    static void WritePlot(JsonObject results, string path)
    {
        var points = new List<(string, double, double, int)>();
        foreach (var (group, series) in new[] { ("teacher", 0), ("student", 1) })
            foreach (var (steps, cell) in results[group]!.AsObject())
                points.Add(($"{group} {steps}", (double)cell!["sec_per_image"]!, (double)cell["fid"]!, series));
        foreach (var (name, cell) in results["ablations"]!.AsObject())
            points.Add((name.Replace('_', ' '), (double)cell!["sec_per_image"]!, (double)cell["fid"]!, 2));
        ScatterPlot.Write(points, path, "FID-emoji vs seconds per image (TorchSharp CPU, batch 64)");
    }
}
