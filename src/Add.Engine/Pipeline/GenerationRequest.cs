using Add.Engine.Imaging;
using Add.Engine.Sampling;

namespace Add.Engine.Pipeline;

/// <summary>
/// One call of <see cref="DiffusionPipeline.Generate"/>: one image per prompt (the batch), from noise or from an init
/// image. Null fields take the model's defaults from its scheduler config (<see cref="GenerationPlanner"/>): our student
/// runs 1 step with its re-noising sampler and no guidance, our teacher 50 DDIM steps with guidance 4, SD-Turbo 1
/// Euler step without guidance.
/// </summary>
public sealed record GenerationRequest
{
    public required IReadOnlyList<string> Prompts { get; init; }

    /// <summary>1..num_train_timesteps; the timesteps follow the config's timestep_spacing (trailing: 1, 2 and 4 steps
    /// run 999 / 999, 499 / 999, 749, 499, 249).</summary>
    public int? Steps { get; init; }

    /// <summary>Image i uses noise stream <c>Seed + i</c> (<see cref="GaussianNoise"/>), unless <see cref="Seeds"/> is set.</summary>
    public long Seed { get; init; }

    /// <summary>Per-image seeds, one per prompt, overriding <c>Seed + i</c>: image i uses stream <c>Seeds[i]</c>. Lets
    /// a server batch requests of different seeds into one generation (each image as if generated alone at its seed).</summary>
    public IReadOnlyList<long>? Seeds { get; init; }

    /// <summary>Classifier-free guidance scale w (ε̂ = ε̂u + w·(ε̂c − ε̂u)); ≤ 1 turns it off.</summary>
    public double? Guidance { get; init; }

    /// <summary>Sampler; defaults to the config's add_sampler, else its class's. DDIM / Euler / Euler-ancestral run that
    /// diffusers scheduler on the config's keys; <see cref="SamplerKind.StudentRenoise"/> keeps the config's class's
    /// timesteps and initial noise.</summary>
    public SamplerKind? Sampler { get; init; }

    /// <summary>Optional init image (img2img): the model's image size, or an integer multiple of it (area-downsampled).</summary>
    public RgbImage? InitImage { get; init; }

    /// <summary>With an init image: how much of the schedule to run, in (0, 1]: the last ⌊steps·strength⌋ timesteps, at
    /// least 1. Without <see cref="Steps"/>, the default is raised to the fewest steps that run one (a student's 1 step
    /// at strength 0.5 becomes 2).</summary>
    public double Strength { get; init; } = 1.0;

    /// <summary>Image width in pixels; null = the model's default (unet sample_size × the VAE's factor, as diffusers).
    /// Must be a multiple of <see cref="DiffusionPipeline.SizeMultiple"/>.</summary>
    public int? Width { get; init; }

    /// <summary>Image height in pixels; as <see cref="Width"/>.</summary>
    public int? Height { get; init; }

    /// <summary>Which decoder turns the final latents into pixels: the folder's VAE (default) or its tiny decoder
    /// (<see cref="DiffusionPipeline.TinyDecoder"/>; without one the request is refused).</summary>
    public DecoderKind Decoder { get; init; } = DecoderKind.Full;

    /// <summary>When set, called after each denoising step with (step, total, one preview per prompt): the step's x̂0
    /// (the sampler's clean-latent prediction) decoded by the tiny decoder, which the pipeline must have.</summary>
    public Action<int, int, IReadOnlyList<RgbImage>>? OnPreview { get; init; }
}

/// <summary>The decoder of a generation's final latents.</summary>
public enum DecoderKind
{
    /// <summary>The pipeline's VAE (AutoencoderKL).</summary>
    Full,
    /// <summary>The pipeline's tiny decoder (AutoencoderTiny, TAESD): about 18× fewer operations than SD's VAE decoder, a softer image.</summary>
    Tiny,
}
