using Add.Engine;
using Add.Engine.Backends;
using Add.Engine.CommandLine;
using Add.Engine.Pipeline;

namespace Add.Train.Validation;

/// <summary>`add-train validate`: the engine against the TorchSharp reference, stage by stage.</summary>
public static class ValidateCommand
{
    public const string Usage = """
        add-train validate [--model DIR] [--backend auto|cpu|cuda|ilgpu-cpu] [--steps N] [--guidance G] [--seed S] [--prompt P] [--batch B]
            Runs the engine and the TorchSharp reference on identical tokens and noise; prints the max absolute and
            relative error per stage (text, unet.i, latent, image in 0-255) and fails (exit 1) above the tolerances.
            Defaults: the shipped student, every student step (teacher models: 4 DDIM steps with guidance 4), batch 2.
        """;

    public static int Run(IReadOnlyList<string> args)
    {
        var a = new ArgReader(args);
        var model = ModelLocator.Resolve(a.String("model"));
        var backend = BackendFactory.Parse(a.StringOr("backend", "cpu"));
        int? steps = a.String("steps") is null ? null : a.Int("steps", 1, 1, 1000);
        double? guidance = a.String("guidance") is null ? null : a.Double("guidance", 0, 0, 50);
        int seed = a.Int("seed", 0, 0, int.MaxValue), batch = a.Int("batch", 2, 1, 64);
        var prompt = a.StringOr("prompt", "grinning face");
        a.ThrowIfUnused(0);
        if (!Directory.Exists(model)) throw new UsageException($"model folder not found: {model}");
        var request = DefaultRequest(model, prompt, batch, seed, steps, guidance);
        var report = EngineValidation.Run(model, backend, request, Console.Error.WriteLine);
        Console.WriteLine($"validate {model} on {report.Backend}");
        foreach (var s in report.Stages) Console.WriteLine("  " + s);
        Console.WriteLine($"  PNG bytes differing from the reference's: {report.DifferingBytes} of {report.TotalBytes}");
        Console.WriteLine(report.Passed ? "passed" : "FAILED");
        return report.Passed ? 0 : 1;
    }

    /// <summary>Student: every student step; teacher: 4 DDIM steps at guidance 4 (exercises the CFG path).</summary>
    public static GenerationRequest DefaultRequest(string model, string prompt, int batch, long seed, int? steps = null, double? guidance = null)
    {
        var scheduler = Engine.Configs.ConfigJson.Load<Engine.Configs.SchedulerConfig>(Path.Combine(model, "scheduler", "scheduler_config.json"));
        bool student = scheduler.ModelKind == "student";
        return new GenerationRequest
        {
            Prompts = Enumerable.Range(0, batch).Select(i => i == 0 ? prompt : $"{prompt} {i}").ToList(),
            Seed = seed,
            Steps = steps ?? (student ? scheduler.StudentTimesteps!.Length : 4),
            Guidance = guidance ?? (student ? 0 : 4),
        };
    }
}
