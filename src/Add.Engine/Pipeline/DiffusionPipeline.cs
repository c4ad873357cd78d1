using System.Diagnostics;
using Add.Engine.Backends;
using Add.Engine.Configs;
using Add.Engine.Imaging;
using Add.Engine.Models;
using Add.Engine.Sampling;
using Add.Engine.Text;

namespace Add.Engine.Pipeline;

/// <summary>
/// A text-to-image pipeline folder (<see cref="PipelineLayout"/>, DESIGN.md §4) loaded onto a backend, generating
/// through our kernels only, with the diffusers scheduler its scheduler_config.json names (DDIM, Euler, Euler
/// ancestral) or the ADD re-noising sampler (<c>add_sampler</c>). Loading is <see cref="PipelineComponents"/>, resolving a
/// request <see cref="GenerationPlanner"/>, running it <see cref="GenerationRunner"/>.
/// <para>
/// Memory: weights are uploaded once at load; activations come from an <see cref="Arena"/> that the first generation
/// of a given request shape sizes, and later generations of that shape reuse (no buffer is allocated per step).
/// Same seed, prompts, settings and backend give bit-identical images, and an image's bytes do not depend on what it
/// was batched with: image i of a batch at Seed s equals a batch of one at Seed s + i (every kernel's reduction order
/// is independent of the batch size).
/// </para>
/// <para>
/// Thread safety: <see cref="Generate"/> may be called from any number of threads at once on one pipeline, and each
/// call returns exactly what it returns when the calls run one after another. Each call rents a generation context
/// from a pool (an arena stack for its activations, the backend's scratch, host staging arrays; the pool grows to the
/// most calls that have overlapped, <see cref="Contexts"/>) while the weights stay shared and read-only. On the CPU
/// backend calls run side by side (one call alone spreads each op over all cores; while several run, each runs its ops
/// on its own thread, which changes no value); on the ILGPU backends (one accelerator stream) whole generations run one
/// at a time, behind a lock. <see cref="Plan"/>, <see cref="Tokenize"/>, <see cref="SizeOf"/> and <see cref="InitPixels(RgbImage)"/> are
/// thread-safe too. Not thread-safe: setting <see cref="Trace"/> or <see cref="Backends.Backend.Profiler"/> while
/// generations run (a call reads them as it starts; a shared trace delegate hears every concurrent call's stages,
/// interleaved, on their threads; profiler times of overlapping calls overlap), calling the model parts
/// (<see cref="Unet"/>, <see cref="Arena"/>…) directly from several threads, and <see cref="Dispose"/> while any
/// call runs (dispose after the last one returns; a call after Dispose throws <see cref="ObjectDisposedException"/>).
/// </para>
/// </summary>
public sealed class DiffusionPipeline : IDisposable
{
    private readonly PipelineComponents _components;
    private readonly GenerationRunner _runner;

    public Backend Backend { get; }
    public Arena Arena { get; }
    public TextTokenizer Tokenizer => _components.Tokenizer;
    public CLIPTextModel TextEncoder => _components.TextEncoder;
    public UNet2DConditionModel Unet => _components.Unet;
    public AutoencoderKL Vae => _components.Vae;
    /// <summary>The tiny decoder (AutoencoderTiny): the folder's vae_tiny, or the one <see cref="LoadTinyDecoder"/> loaded; null without one.</summary>
    public AutoencoderTiny? TinyDecoder => _components.VaeTiny;
    public SchedulerConfig Scheduler => _components.Scheduler;
    public NoiseSchedule Schedule => _components.Schedule;
    public string Folder { get; }

    /// <summary>Seconds <see cref="Load"/> took (configs, weights read, widened and uploaded).</summary>
    public double LoadSeconds { get; private set; }

    /// <summary>When set, Generate hands it each stage's values (downloaded): "text", "unet.{i}", "latent", "image".
    /// For validation against the reference; slows generation. Read once as a call starts; set it between calls.</summary>
    public Action<string, float[]>? Trace { get; set; }

    /// <summary>Whether the model defaults to the ADD re-noising sampler (our students).</summary>
    public bool IsStudent => Scheduler.DefaultSampler == SamplerKind.StudentRenoise;

    private DiffusionPipeline(string folder, Backend backend, Action<string>? warn, string? variant)
    {
        Folder = folder;
        Backend = backend;
        Arena = new Arena(backend, backend.ArenaHeadroom);
        _components = new PipelineComponents(folder, new Runtime(backend, Arena), warn, variant);
        _runner = new GenerationRunner(_components, backend, Arena);
        backend.Synchronize();
    }

    /// <summary>Loads the pipeline folder onto <paramref name="backend"/> (which the pipeline then owns). Notices (an
    /// fp16 fallback, unknown config keys) go to <paramref name="warn"/>. <paramref name="variant"/> ("fp16") loads
    /// each network's <c>*.fp16.safetensors</c> (or its shards), which must exist; without it the full-precision
    /// weights are loaded, else the fp16 ones with a notice (<see cref="PipelineComponent.OpenWeights"/>).</summary>
    public static DiffusionPipeline Load(string folder, Backend backend, Action<string>? warn = null, string? variant = null)
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"model folder not found: {folder}");
        var clock = Stopwatch.StartNew();
        try
        {
            var p = new DiffusionPipeline(folder, backend, warn, variant);
            p.LoadSeconds = clock.Elapsed.TotalSeconds;
            return p;
        }
        catch
        {
            backend.Dispose();
            throw;
        }
    }

    /// <summary>Loads the AutoencoderTiny in <paramref name="folder"/> (config.json + diffusion_pytorch_model.safetensors with
    /// diffusers keys, e.g. a downloaded madebyollin/taesd) as this pipeline's <see cref="TinyDecoder"/>, replacing the
    /// folder's vae_tiny. Call it before generating (not while a generation runs). A folder that is not an AutoencoderTiny,
    /// or whose latent channels or factor differ from this pipeline's, throws naming the folder (the pipeline stays usable).</summary>
    public void LoadTinyDecoder(string folder, Action<string>? warn = null)
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"tiny decoder folder not found: {folder}");
        var (component, parent) = PipelineLayout.Standalone(folder);
        _components.VaeTiny = _components.LoadTiny(component, parent, new Runtime(Backend, Arena), null, warn);
        Backend.Synchronize();
    }

    /// <summary>The default image side in pixels: unet sample_size × the VAE's factor (diffusers' default).</summary>
    public int ImageSize => _runner.ImageSize;

    /// <summary>Largest width or height accepted, in pixels.</summary>
    public const int MaxImageSide = GenerationRunner.MaxImageSide;

    /// <summary>Widths and heights must be multiples of this (the VAE's factor × the UNet's 2^(levels − 1)).</summary>
    public int SizeMultiple => _runner.SizeMultiple;

    /// <summary>The image size a request resolves to (its Width/Height or the default), checked:
    /// <see cref="InvalidRequestException"/> names a size this model does not take.</summary>
    public (int Width, int Height) SizeOf(GenerationRequest request) => _runner.SizeOf(request);

    /// <summary>The sampler, timesteps and guidance a request resolves to (validated); <paramref name="warn"/> hears
    /// when the defaults come from the SD-Turbo convention rather than the config.</summary>
    public GenerationPlan Plan(GenerationRequest r, Action<string>? warn = null) => GenerationPlanner.Plan(r, Scheduler, Schedule, warn);

    /// <summary>Token ids [rows, L]: with guidance the unconditional ("") rows come first, then the prompts.</summary>
    public int[] Tokenize(IReadOnlyList<string> prompts, bool guided, Action<string>? warn = null) => _runner.Tokenize(prompts, guided, warn);

    /// <summary>tokenizer_2's ids [rows, L] in the same layout (SDXL pipelines), or null when the pipeline has one encoder.</summary>
    public int[]? Tokenize2(IReadOnlyList<string> prompts, bool guided, Action<string>? warn = null) => _runner.Tokenize2(prompts, guided, warn);

    /// <summary>The init image as pixels [3, H, W] in [-1, 1], resized by an integer area factor when larger.</summary>
    public float[] InitPixels(RgbImage image) => PipelineImages.InitPixels(image, ImageSize);

    /// <summary>The init image as pixels [3, H, W] at <paramref name="request"/>'s size.</summary>
    public float[] InitPixels(RgbImage image, GenerationRequest request)
    {
        var (width, height) = SizeOf(request);
        return PipelineImages.InitPixels(image, width, height);
    }

    /// <summary>
    /// Generates one image per prompt. <paramref name="onStep"/> is called after each denoising step with
    /// (step, total); <paramref name="cancel"/> is checked before each step and before decoding
    /// (throws <see cref="OperationCanceledException"/>). An image that comes out non-finite (finite weights whose
    /// activations overflow) throws <see cref="InvalidDataException"/> naming the stage instead of returning a black or
    /// tinted image (<see cref="PipelineImages.ThrowIfNotFinite"/>; `add generate` exits 2 and writes no file).
    /// <paramref name="onStage"/>, when set, hears each stage's name and seconds as it ends ("tokenize", "text encoder",
    /// "unet i/n", "vae decode"): a full-size CPU generation takes seconds per stage.
    /// </summary>
    public List<RgbImage> Generate(GenerationRequest request, Action<int, int>? onStep = null, Action<string>? warn = null,
        Action<string, double>? onStage = null, CancellationToken cancel = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _runner.Run(request, Plan(request, warn), onStep, warn, Trace, cancel, onStage);
    }

    /// <summary>Generation contexts in the pool: the most <see cref="Generate"/> calls that have overlapped (1 when
    /// calls never overlap). Their activations are <see cref="Arena"/>'s <see cref="Backends.Arena.Capacity"/>.</summary>
    public int Contexts => _runner.Contexts;

    /// <summary>Floats of backend scratch (the CPU backend's packing workspaces) the pool's contexts hold.</summary>
    public long ScratchFloats => _runner.ScratchFloats;

    /// <summary>Pixels [N, 3, H, W] in [-1, 1] → RGB bytes (<see cref="PipelineImages.ToImages"/>).</summary>
    public static List<RgbImage> ToImages(ReadOnlySpan<float> pixels, int n, int size) => PipelineImages.ToImages(pixels, n, size);

    private volatile bool _disposed;

    /// <summary>Frees the weights, the activations and the backend. Not while a <see cref="Generate"/> call runs.</summary>
    public void Dispose()
    {
        _disposed = true;
        Arena.Dispose();
        _components.Dispose();
        Backend.Dispose();
    }
}
