using System.Diagnostics;
using Add.Engine.Backends;
using System.CommandLine;

namespace Add.Cli;

/// <summary>`add profile`: one warm generation with every kernel timed (the backend waits for each kernel).</summary>
public static class ProfileCommand
{
    /// <summary>The `profile` command: the generation options of `generate`, with a default prompt.</summary>
    public static Command Create()
    {
        var prompt = new Argument<string>("PROMPT") { Description = "what to draw", Arity = ArgumentArity.ZeroOrOne, DefaultValueFactory = _ => "grinning face" };
        var shared = new GenerationOptions();
        var command = new Command("profile",
            "Time every kernel of one warm generation: runs a warm-up and one profiled generation, prints per-kernel calls, time, GFLOP/s, GB/s and share.") { prompt };
        shared.AddTo(command);
        command.SetAction(p => Run(p.GetValue(prompt)!, shared.Read(p), p.InvocationConfiguration.Output, p.InvocationConfiguration.Error));
        return command;
    }

    static int Run(string prompt, GenerationOptions.Options options, TextWriter output, TextWriter log)
    {
        using var pipeline = options.Load(log);
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
