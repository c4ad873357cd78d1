using System.Diagnostics;
using Add.Engine.Backends;
using Add.Engine.CommandLine;

namespace Add.Cli;

/// <summary>`add profile`: one warm generation with every kernel timed (the backend waits for each kernel).</summary>
public static class ProfileCommand
{
    public const string Usage = """
        add profile [PROMPT] [--model DIR] [--steps N] [--batch B] [--guidance G] [--backend ...]
            Runs one warm-up and one profiled generation; prints per-kernel calls, time, GFLOP/s, GB/s and share.
        """;

    public static int Run(IReadOnlyList<string> args, TextWriter output, TextWriter log)
    {
        var a = new ArgReader(args);
        var options = GenerateCommand.Read(a, out var prompt, defaultPrompt: "grinning face");
        a.ThrowIfUnused(1);
        using var pipeline = GenerateCommand.Load(options.Model, options.Backend, log);
        var request = options.Request(prompt);
        pipeline.Generate(request);                       // warm-up: JIT, kernel loads, arena sizing
        var clock = Stopwatch.StartNew();
        pipeline.Generate(request);
        double unprofiled = clock.Elapsed.TotalSeconds;
        var profiler = new KernelProfiler();
        pipeline.Backend.Profiler = profiler;
        clock.Restart();
        pipeline.Generate(request);
        double profiled = clock.Elapsed.TotalSeconds;
        pipeline.Backend.Profiler = null;
        var plan = pipeline.Plan(request);
        output.WriteLine($"model {pipeline.Folder}, {pipeline.Backend.Name}, batch {options.Batch}, {plan.Timesteps.Length} step(s), guidance {plan.Guidance}");
        output.WriteLine($"generation: {unprofiled * 1e3:F2} ms unprofiled, {profiled * 1e3:F2} ms profiled; kernels {profiler.TotalSeconds * 1e3:F2} ms " +
                         $"({profiler.TotalSeconds / profiled:P0} of the profiled run; the rest is host work: tokenize, embedding lookup, noise, uploads, conversion to RGB bytes)");
        output.WriteLine(profiler.Format());
        return 0;
    }
}
