using System.Diagnostics;
using Add.Engine.Backends;
using Add.Engine.Configs;
using Add.Engine.Imaging;
using Add.Engine.Models;
using Add.Engine.Sampling;
using Add.Engine.Text;

namespace Add.Engine.Pipeline;

/// <summary>
/// A text-to-image pipeline folder (DESIGN.md §4: model_index.json, tokenizer/, text_encoder/, unet/, vae/,
/// scheduler/) loaded onto a backend, generating through our kernels only. A student (scheduler model_kind "student")
/// samples with the ADD re-noising step on its trailing timesteps; a teacher with DDIM/Euler and guidance.
/// <para>
/// Memory: weights are uploaded once at load; activations come from an <see cref="Arena"/> that the first generation
/// of a given request shape sizes, and later generations of that shape reuse (no buffer is allocated per step).
/// Same seed, prompts, settings and backend give bit-identical images.
/// </para>
/// </summary>
public sealed class DiffusionPipeline : IDisposable
{
    private readonly List<DeviceBuffer> _weights = [];
    private float[] _hostNoise = [], _hostPixels = [], _hostTimesteps = [];

    public Backend Backend { get; }
    public Arena Arena { get; }
    public WordTokenizer Tokenizer { get; }
    public CLIPTextModel TextEncoder { get; }
    public UNet2DConditionModel Unet { get; }
    public AutoencoderKL Vae { get; }
    public SchedulerConfig Scheduler { get; }
    public NoiseSchedule Schedule { get; }
    public string Folder { get; }

    /// <summary>Seconds <see cref="Load"/> took (configs, weights read, widened and uploaded).</summary>
    public double LoadSeconds { get; private set; }

    /// <summary>When set, Generate hands it each stage's values (downloaded): "text", "unet.{i}", "latent", "image".
    /// For validation against the reference; slows generation.</summary>
    public Action<string, float[]>? Trace { get; set; }

    public bool IsStudent => Scheduler.ModelKind == "student";

    private DiffusionPipeline(string folder, Backend backend, Action<string>? warn)
    {
        Folder = folder;
        Backend = backend;
        Arena = new Arena(backend);
        var rt = new Runtime(backend, Arena);
        string Sub(params string[] parts) => Path.Combine([folder, .. parts]);
        Scheduler = ConfigJson.Load<SchedulerConfig>(Sub("scheduler", "scheduler_config.json"), warn);
        Schedule = new NoiseSchedule(Scheduler);
        Tokenizer = WordTokenizer.Load(Sub("tokenizer"));
        var textConfig = ConfigJson.Load<CLIPTextConfig>(Sub("text_encoder", "config.json"), warn);
        var unetConfig = ConfigJson.Load<UNet2DConditionConfig>(Sub("unet", "config.json"), warn);
        var vaeConfig = ConfigJson.Load<AutoencoderKLConfig>(Sub("vae", "config.json"), warn);
        CheckConsistent(textConfig, unetConfig, vaeConfig);
        using (var w = new Weights(Sub("text_encoder", "model.safetensors"), backend, _weights)) { TextEncoder = new CLIPTextModel(rt, w, textConfig); w.ThrowIfUnused(); }
        using (var w = new Weights(Sub("unet", "diffusion_pytorch_model.safetensors"), backend, _weights)) { Unet = new UNet2DConditionModel(rt, w, unetConfig); w.ThrowIfUnused(); }
        using (var w = new Weights(Sub("vae", "diffusion_pytorch_model.safetensors"), backend, _weights)) { Vae = new AutoencoderKL(rt, w, vaeConfig); w.ThrowIfUnused(); }
        backend.Synchronize();
    }

    private void CheckConsistent(CLIPTextConfig text, UNet2DConditionConfig unet, AutoencoderKLConfig vae)
    {
        void Require(bool ok, string message) { if (!ok) throw new InvalidDataException($"{Folder}: {message}"); }
        Require(Tokenizer.VocabSize == text.VocabSize, $"tokenizer has {Tokenizer.VocabSize} words but text_encoder vocab_size is {text.VocabSize}");
        Require(Tokenizer.MaxLength <= text.MaxPositionEmbeddings, $"tokenizer max length {Tokenizer.MaxLength} exceeds text_encoder max_position_embeddings {text.MaxPositionEmbeddings}");
        Require(unet.CrossAttentionDim == text.HiddenSize, $"unet cross_attention_dim {unet.CrossAttentionDim} differs from text_encoder hidden_size {text.HiddenSize}");
        Require(unet.InChannels == vae.LatentChannels && unet.OutChannels == vae.LatentChannels, $"unet in/out channels {unet.InChannels}/{unet.OutChannels} differ from vae latent_channels {vae.LatentChannels}");
        Require(unet.SampleSize == vae.LatentSize, $"unet sample_size {unet.SampleSize} differs from the vae's latent size {vae.LatentSize}");
        Require(Scheduler.PredictionType == "epsilon", $"scheduler prediction_type '{Scheduler.PredictionType}' is not supported (only 'epsilon')");
        Require(Scheduler.ModelKind != "student" || Scheduler.StudentTimesteps is { Length: > 0 }, "a student scheduler needs student_timesteps");
    }

    /// <summary>Loads the pipeline folder onto <paramref name="backend"/> (which the pipeline then owns).</summary>
    public static DiffusionPipeline Load(string folder, Backend backend, Action<string>? warn = null)
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"model folder not found: {folder}");
        var clock = Stopwatch.StartNew();
        try
        {
            var p = new DiffusionPipeline(folder, backend, warn);
            p.LoadSeconds = clock.Elapsed.TotalSeconds;
            return p;
        }
        catch
        {
            backend.Dispose();
            throw;
        }
    }

    public int ImageSize => Vae.Config.SampleSize;
    private int LatentFloats => Unet.Config.InChannels * Unet.Config.SampleSize * Unet.Config.SampleSize;

    /// <summary>The sampler, timesteps and guidance a request resolves to (validated; shared with the reference).</summary>
    public (SamplerKind Kind, int[] Timesteps, double Guidance) Plan(GenerationRequest r)
    {
        if (r.Prompts is null || r.Prompts.Count == 0) throw new InvalidRequestException("batch must be at least 1 (no prompts given)");
        int maxSteps = IsStudent ? Scheduler.StudentTimesteps!.Length : Schedule.NumTrainTimesteps;
        int steps = r.Steps ?? (IsStudent ? 1 : 50);
        if (steps < 1 || steps > maxSteps)
            throw new InvalidRequestException($"steps {steps} out of range: this {(IsStudent ? "student" : "teacher")} runs 1..{maxSteps} steps");
        var kind = r.Sampler ?? (IsStudent ? SamplerKind.StudentRenoise : SamplerKind.Ddim);
        double guidance = r.Guidance ?? (IsStudent ? 0 : 4);
        if (guidance < 0 || double.IsNaN(guidance)) throw new InvalidRequestException($"guidance {guidance} must be ≥ 0");
        var timesteps = IsStudent ? NoiseSchedule.StudentTimesteps(Scheduler.StudentTimesteps!, steps) : Schedule.TrailingTimesteps(steps);
        if (r.InitImage is not null)
        {
            if (!(r.Strength > 0 && r.Strength <= 1)) throw new InvalidRequestException($"strength {r.Strength} must be in (0, 1]");
            int run = (int)Math.Floor(steps * r.Strength + 1e-9);
            if (run < 1) throw new InvalidRequestException($"steps × strength = {steps} × {r.Strength} < 1: no step would run (raise --steps or --strength)");
            timesteps = timesteps[(steps - run)..];
        }
        else if (r.Strength != 1.0) throw new InvalidRequestException("strength needs an init image");
        return (kind, timesteps, guidance);
    }

    /// <summary>Token ids [rows, L]: with guidance the unconditional ("") rows come first, then the prompts.</summary>
    public int[] Tokenize(IReadOnlyList<string> prompts, bool guided, Action<string>? warn = null)
    {
        var all = guided ? Enumerable.Repeat("", prompts.Count).Concat(prompts) : prompts;
        return all.SelectMany(p => Tokenizer.Encode(p, warn)).ToArray();
    }

    /// <summary>The init image as pixels [3, H, W] in [-1, 1], resized by an integer area factor when larger.</summary>
    public float[] InitPixels(RgbImage image)
    {
        int s = ImageSize;
        if (image.Width != s || image.Height != s)
        {
            if (image.Width % s != 0 || image.Height % s != 0 || image.Width / s != image.Height / s)
                throw new InvalidRequestException($"init image is {image.Width}x{image.Height}: expected {s}x{s} or a square integer multiple of it");
            var rgba = new byte[image.Width * image.Height * 4];
            for (int p = 0; p < image.Width * image.Height; p++)
            {
                rgba[p * 4] = image.Pixels[p * 3]; rgba[p * 4 + 1] = image.Pixels[p * 3 + 1]; rgba[p * 4 + 2] = image.Pixels[p * 3 + 2]; rgba[p * 4 + 3] = 255;
            }
            image = Resample.AreaDownsampleOnWhite(image.Width, image.Height, rgba, s, s);
        }
        var pixels = new float[3 * s * s];
        for (int c = 0; c < 3; c++)
            for (int p = 0; p < s * s; p++)
                pixels[c * s * s + p] = image.Pixels[p * 3 + c] / 127.5f - 1f;
        return pixels;
    }

    /// <summary>
    /// Generates one image per prompt. <paramref name="onStep"/> is called after each denoising step with
    /// (step, total); <paramref name="cancel"/> is checked before each step and before decoding
    /// (throws <see cref="OperationCanceledException"/>).
    /// </summary>
    public List<RgbImage> Generate(GenerationRequest request, Action<int, int>? onStep = null, CancellationToken cancel = default, Action<string>? warn = null)
    {
        var (kind, timesteps, guidance) = Plan(request);
        var (b, a) = (Backend, Arena);
        int n = request.Prompts.Count, latent = LatentFloats, size = ImageSize;
        bool guided = guidance > 1;
        int rows = guided ? 2 * n : n, length = Tokenizer.MaxLength, dim = TextEncoder.Config.HiddenSize;
        var ids = Tokenize(request.Prompts, guided, warn);
        cancel.ThrowIfCancellationRequested();
        a.Reset();

        var context = a.Take((long)rows * length * dim);                  // [rows, L, D]
        TextEncoder.Forward(ids, context, rows, length);
        TraceValues("text", context);

        var noise = new BatchNoise(request.Seed, n, latent);
        if (_hostNoise.Length < n * latent) _hostNoise = new float[n * latent];
        var hostNoise = _hostNoise.AsSpan(0, n * latent);
        var x = a.Take((long)n * latent);                                  // [N, C, h, w]
        var noiseView = a.Take((long)n * latent);
        var x0 = a.Take((long)n * latent);
        noise.Draw(hostNoise);
        if (request.InitImage is { } init)
        {
            b.Upload(hostNoise, noiseView);
            var pixels = InitPixels(init);
            var pixelView = a.Take((long)n * pixels.Length);
            for (int i = 0; i < n; i++) b.Upload(pixels, pixelView.Slice((long)i * pixels.Length, pixels.Length));
            Vae.Encode(pixelView, x0, n);
            // x_t = √ᾱ_t·z0 + √(1−ᾱ_t)·ε at the first timestep run (diffusers' img2img add_noise).
            b.SamplerStep(x0, TensorView.Empty, x0, noiseView, x, x0, SamplerStep.AddNoise(Schedule, timesteps[0]).ToKernelStep());
        }
        else
        {
            b.Upload(hostNoise, x);
        }

        var input = guided ? a.Take((long)rows * latent) : x;
        var eps = a.Take((long)rows * latent);
        var t = a.Take(rows);
        if (_hostTimesteps.Length < rows) _hostTimesteps = new float[rows];
        for (int i = 0; i < timesteps.Length; i++)
        {
            cancel.ThrowIfCancellationRequested();
            int step = timesteps[i], next = i + 1 < timesteps.Length ? timesteps[i + 1] : -1;
            Array.Fill(_hostTimesteps, step, 0, rows);
            b.Upload(_hostTimesteps.AsSpan(0, rows), t);
            if (guided) b.ConcatChannels(x, x, input, 1, n * Unet.Config.InChannels, n * Unet.Config.InChannels, Unet.Config.SampleSize, Unet.Config.SampleSize);
            Unet.Forward(input, t, context, eps, rows, length);
            TraceValues($"unet.{i}", eps);
            var c = SamplerStep.Create(kind, Schedule, step, next);
            var k = c.ToKernelStep();
            if (guided) k = k.WithGuidance((float)guidance);
            if (c.C != 0)
            {
                noise.Draw(hostNoise);
                b.Upload(hostNoise, noiseView);
            }
            b.SamplerStep(x, guided ? eps.Part(0, 2) : TensorView.Empty, guided ? eps.Part(1, 2) : eps, c.C != 0 ? noiseView : TensorView.Empty, x, x0, k);
            onStep?.Invoke(i + 1, timesteps.Length);
        }
        TraceValues("latent", x);
        cancel.ThrowIfCancellationRequested();

        int pixelsPerImage = 3 * size * size;
        var image = a.Take((long)n * pixelsPerImage);
        Vae.Decode(x, image, n);
        if (_hostPixels.Length < n * pixelsPerImage) _hostPixels = new float[n * pixelsPerImage];
        var host = _hostPixels.AsSpan(0, n * pixelsPerImage);
        b.Download(image, host);
        if (Trace is not null) Trace("image", host.ToArray());
        return ToImages(host, n, size);
    }

    /// <summary>Pixels [N, 3, H, W] in [-1, 1] → RGB bytes: clamp, (v + 1)·127.5, round half to even (as the reference).</summary>
    public static List<RgbImage> ToImages(ReadOnlySpan<float> pixels, int n, int size)
    {
        var images = new List<RgbImage>(n);
        int plane = size * size;
        for (int i = 0; i < n; i++)
        {
            var bytes = new byte[plane * 3];
            for (int c = 0; c < 3; c++)
                for (int p = 0; p < plane; p++)
                    bytes[p * 3 + c] = (byte)MathF.Round((Math.Clamp(pixels[(i * 3 + c) * plane + p], -1f, 1f) + 1f) * 127.5f);
            images.Add(new RgbImage(size, size, bytes));
        }
        return images;
    }

    private void TraceValues(string stage, TensorView view)
    {
        if (Trace is null) return;
        var values = new float[view.Length];
        Backend.Download(view, values);
        Trace(stage, values);
    }

    public void Dispose()
    {
        Arena.Dispose();
        foreach (var w in _weights) w.Dispose();
        _weights.Clear();
        Backend.Dispose();
    }
}
