using System.CommandLine;
using Add.CommandLine;
using Add.Engine.Backends;
using Add.Engine.Pipeline;

namespace Add.Train.Validation;

/// <summary>`add-train validate`: the engine against the TorchSharp reference, stage by stage.</summary>
public static class ValidateCommand
{
    /// <summary>The `validate` command.</summary>
    public static Command Create()
    {
        var model = CommonOptions.Model();
        var backend = CommonOptions.Backend(BackendKind.Cpu);
        var steps = CommonOptions.Steps();
        steps.Description = "steps, 1 to 1000 (default: 4, with the model's default sampler)";
        var guidance = CommonOptions.Guidance();
        guidance.Description = "guidance scale, 0 to 50 (default: 0 for a model defaulting to student-renoise; else 4, which exercises the CFG path)";
        var sampler = CommonOptions.Sampler();
        var seed = CommonOptions.Seed();
        var prompt = Opt.Text("--prompt", "prompt of image 0; image i gets \"PROMPT i\" (default: grinning face)", "P");
        var batch = CommonOptions.Batch(2, 64);
        var variant = CommonOptions.Variant();
        var command = new Command("validate",
            "Run the engine and the TorchSharp reference on identical tokens and noise; print the max absolute and relative error per stage " +
            "(text, unet.i, latent, image in 0-255) and fail (exit 1) above the tolerances.");
        var width = CommonOptions.ImageSide("--width");
        var height = CommonOptions.ImageSide("--height");
        var decoder = Opt.Text("--decoder", "validate the tiny decoder path instead of the VAE's: tiny (the model's vae_tiny) or DIR (an AutoencoderTiny folder)", "tiny|DIR");
        decoder.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<string?>() is { } d && d != EngineValidation.TinyDecoder && !Directory.Exists(d))
                r.AddError($"--decoder {d}: not '{EngineValidation.TinyDecoder}' or an existing AutoencoderTiny folder");
        });
        foreach (var o in new Option[] { model, backend, steps, guidance, sampler, seed, prompt, batch, variant, width, height, decoder }) command.Add(o);
        command.SetAction(p =>
        {
            var folder = ModelLocator.Resolve(p.GetValue(model));
            if (!Directory.Exists(folder)) throw new UsageException($"model folder not found: {folder}");
            var request = DefaultRequest(p.GetValue(prompt) ?? "grinning face", p.GetValue(batch), p.GetValue(seed), p.GetValue(steps), p.GetValue(guidance))
                with { Sampler = p.GetValue(sampler), Width = p.GetValue(width), Height = p.GetValue(height) };
            var tiny = p.GetValue(decoder);
            if (tiny is not null) request = request with { Decoder = DecoderKind.Tiny };
            var report = EngineValidation.Run(folder, p.GetValue(backend), request, Console.Error.WriteLine, p.GetValue(variant), tiny);
            Console.WriteLine($"validate {folder} on {report.Backend}");
            foreach (var s in report.Stages) Console.WriteLine("  " + s);
            Console.WriteLine($"  PNG bytes differing from the reference's: {report.DifferingBytes} of {report.TotalBytes}");
            Console.WriteLine(report.Passed ? "passed" : "FAILED");
            return report.Passed ? 0 : 1;
        });
        return command;
    }

    /// <summary>4 steps of the model's default sampler at the model's default guidance (our student 0, our teacher 4,
    /// which exercises the CFG path; SD-Turbo 0).</summary>
    public static GenerationRequest DefaultRequest(string prompt, int batch, long seed, int? steps = null, double? guidance = null)
    {
        return new GenerationRequest
        {
            Prompts = Enumerable.Range(0, batch).Select(i => i == 0 ? prompt : $"{prompt} {i}").ToList(),
            Seed = seed,
            Steps = steps ?? 4,
            Guidance = guidance,   // null: the model's default (our student 0, our teacher 4 via add_default_guidance, SD-Turbo 0)
        };
    }
}
