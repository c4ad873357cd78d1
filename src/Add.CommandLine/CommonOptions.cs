using System.CommandLine;
using Add.Engine.Backends;
using Add.Engine.Pipeline;
using Add.Engine.Sampling;

namespace Add.CommandLine;

/// <summary>The options `add` and `add-train` share, defined once: the same names, ranges, defaults and messages in
/// both tools. Each call makes a new option to add to one command.</summary>
public static class CommonOptions
{
    /// <summary>The backends by their command-line names.</summary>
    public static readonly (string Name, BackendKind Value)[] Backends =
        [("auto", BackendKind.Auto), ("cpu", BackendKind.Cpu), ("cuda", BackendKind.Cuda), ("ilgpu-cpu", BackendKind.IlgpuCpu)];

    /// <summary>The samplers by their command-line names; "student" is accepted for student-renoise.</summary>
    public static readonly (string Name, SamplerKind Value)[] Samplers = SamplerNames.All;

    /// <summary>The largest seed: the engine seeds image i's noise with seed + i as a 64-bit integer.</summary>
    public const long MaxSeed = long.MaxValue;

    /// <summary>--model DIR; null means <see cref="ModelLocator.Resolve"/>'s default.</summary>
    public static Option<string?> Model(string? description = null) => Opt.Text("--model",
        description ?? $"model folder (default: $ADD_MODEL, else models/{ModelLocator.DefaultModelName} of this checkout)", "DIR");

    /// <summary>--backend auto|cpu|cuda|ilgpu-cpu.</summary>
    public static Option<BackendKind> Backend(BackendKind defaultKind = BackendKind.Auto) => Opt.Choice("--backend",
        "where the kernels run: auto (CUDA when an NVIDIA GPU is present, else cpu), cpu (SIMD kernels), cuda, ilgpu-cpu (GPU kernels on the CPU, for debugging)",
        "backend", defaultKind, Backends);

    /// <summary>--seed S: 0 to <see cref="MaxSeed"/>.</summary>
    public static Option<long> Seed() => Opt.LongRange("--seed",
        $"noise seed; image i of a batch uses seed + i (an integer {Opt.Range(0, MaxSeed)})", 0, 0, MaxSeed, "S");

    /// <summary>--steps N for a generation; null means the model's default.</summary>
    public static Option<int?> Steps() => Opt.OptionalInt("--steps",
        "denoising steps, 1 to 1000 (default: the model's scheduler config; our student 1, our teacher 50, SD-Turbo 1)", 1, 1000);

    /// <summary>--guidance G; null means the model's default.</summary>
    public static Option<double?> Guidance() => Opt.OptionalNumber("--guidance",
        "classifier-free guidance scale, 0 to 50; 1 or less turns it off (default: the model's: our student 0, our teacher 4, SD-Turbo 0)", 0, 50, helpName: "G");

    /// <summary>--width/--height PX; null means the model's default (unet sample_size × the VAE's factor). The model's
    /// multiple is checked by the pipeline, which knows it.</summary>
    public static Option<int?> ImageSide(string name) => Opt.OptionalInt(name,
        $"image {name[2..]} in pixels, a multiple of the model's size step (SD-Turbo 64, our emoji models 16) up to {DiffusionPipeline.MaxImageSide} (default: the model's, e.g. 512 for SD-Turbo, 32 for the emoji models)",
        1, DiffusionPipeline.MaxImageSide, "PX");

    /// <summary>--batch B: images per generation.</summary>
    public static Option<int> Batch(int defaultValue, int max) => Opt.IntRange("--batch",
        $"images per generation, 1 to {max}", defaultValue, 1, max, "B");

    /// <summary>--sampler; null means the model's default.</summary>
    public static Option<SamplerKind?> Sampler(string? description = null) => Opt.OptionalChoice("--sampler",
        description ?? "sampler: ddim, euler, euler-ancestral (that diffusers scheduler on the model's config) or student-renoise " +
            "(the ADD re-noising step, any model) (default: the model's: its config's add_sampler, else its scheduler class)", "sampler", Samplers,
        aliases: [("student", SamplerKind.StudentRenoise)]);

    /// <summary>--cache DIR: where data sets are kept.</summary>
    public static Option<string?> Cache() => Opt.Text("--cache",
        "cache folder for the data set (default: $ADD_CACHE, else .cache in this checkout)", "DIR");

    /// <summary>--variant NAME: load each network's &lt;weights&gt;.NAME.safetensors (diffusers' variant); null: the
    /// full-precision weights, else fp16 with a notice. The name is checked while parsing.</summary>
    public static Option<string?> Variant()
    {
        var option = Opt.Text("--variant",
            $"weights variant to load, as diffusers names it: {PipelineComponent.HalfVariant} loads unet/diffusion_pytorch_model.{PipelineComponent.HalfVariant}.safetensors etc., which must exist " +
            $"(default: the full-precision weights, else the {PipelineComponent.HalfVariant} ones with a notice)", "NAME");
        option.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<string?>() is not { } v) return;
            try { PipelineComponent.CheckVariant(v); }
            catch (ArgumentException e) { r.AddError("--variant: " + e.Message.Split(" (Parameter")[0]); }
        });
        return option;
    }
}
