using System.Diagnostics;
using Add.Engine.Backends;
using Add.Engine.Configs;
using Add.Engine.Imaging;
using Add.Engine.Models;
using Add.Engine.Sampling;

namespace Add.Engine.Pipeline;

/// <summary>
/// Runs a <see cref="GenerationPlan"/> on loaded components: text encoder, initial latent (noise times the schedule's
/// initial scale, or the encoded init image noised to the first step's level), the denoising loop (UNet at the float
/// timestep, then one fused sampler step with guidance), VAE decode. The latent stays in DDPM space (the UNet input).
/// <para>Each run rents a <see cref="Context"/> from a pool (its arena stack, the backend's scratch and the host staging
/// arrays, all grown once and reused) and binds it to its thread, so runs on several threads never share mutable
/// state; the weights are shared read-only. The pool holds as many contexts as runs have overlapped. A backend
/// without <see cref="Backend.ConcurrentGenerations"/> runs one generation at a time (a lock around the run).</para>
/// </summary>
internal sealed class GenerationRunner(PipelineComponents m, Backend b, Arena a)
{
    /// <summary>What one run owns while it runs.</summary>
    internal sealed class Context(Arena arena)
    {
        public readonly Arena.Slots Slots = arena.CreateSlots();
        public readonly Backend.Scratch Scratch = new();
        public float[] HostNoise = [], HostPixels = [], HostTimesteps = [], HostPreview = [], HostZeros = [];
    }

    private readonly Stack<Context> _idle = new();
    private readonly object _serial = new();
    private readonly List<Context> _all = [];

    /// <summary>Contexts made so far: the most runs that have overlapped.</summary>
    public int Contexts
    {
        get { lock (_idle) return _all.Count; }
    }

    /// <summary>Floats of backend scratch held by the pool's contexts.</summary>
    public long ScratchFloats
    {
        get { lock (_idle) return _all.Sum(c => c.Scratch.Floats); }
    }

    /// <summary>Largest width or height accepted, in pixels (a 4096² SD image needs ~10 GB of UNet activations).</summary>
    public const int MaxImageSide = 4096;

    public int ImageSize => m.Unet.Config.DefaultSampleSize * m.Vae.Config.DownsampleFactor;   // diffusers: unet.sample_size · vae_scale_factor

    /// <summary>Width and height must be multiples of this: the VAE's factor times the UNet's 2^(levels − 1), so that
    /// every UNet level has whole latent pixels (SD: 8 × 8 = 64; the emoji models: 4 × 4 = 16).</summary>
    public int SizeMultiple => m.Vae.Config.DownsampleFactor * (1 << (m.Unet.Config.BlockOutChannels.Length - 1));

    /// <summary>The request's image size (the model's default where unset), checked.</summary>
    public (int Width, int Height) SizeOf(GenerationRequest r)
    {
        int width = r.Width ?? ImageSize, height = r.Height ?? ImageSize, k = SizeMultiple;
        foreach (var (name, v) in new[] { ("width", width), ("height", height) })
            if (v < k || v > MaxImageSide || v % k != 0)
                throw new InvalidRequestException($"{name} {v} is not allowed: this model takes multiples of {k} from {k} to {MaxImageSide - MaxImageSide % k} (default {ImageSize})");
        return (width, height);
    }

    /// <summary>Token ids [rows, L] in the guidance layout of <see cref="GenerationPlan.TextRows"/>; each distinct
    /// tokenizer warning (truncation, unknown words) reaches <paramref name="warn"/> once, not once per batch row.</summary>
    public int[] Tokenize(IReadOnlyList<string> prompts, bool guided, Action<string>? warn) => Tokenize(m.Tokenizer, prompts, guided, warn);

    /// <summary>tokenizer_2's ids in the same layout, or null without a second encoder.</summary>
    public int[]? Tokenize2(IReadOnlyList<string> prompts, bool guided, Action<string>? warn) =>
        m.Tokenizer2 is { } t ? Tokenize(t, prompts, guided, warn) : null;

    private static int[] Tokenize(Text.TextTokenizer tokenizer, IReadOnlyList<string> prompts, bool guided, Action<string>? warn)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        Action<string>? once = warn is null ? null : w => { if (seen.Add(w)) warn(w); };
        return GenerationPlan.TextRows(prompts, guided).SelectMany(p => tokenizer.Encode(p, once)).ToArray();
    }

    /// <summary>Runs <paramref name="plan"/> in a pooled context. <paramref name="onStage"/>, when set, hears each stage's name and seconds as
    /// it ends ("tokenize", "text encoder", "unet i/n", "vae decode"; the backend is synchronized for the timing).</summary>
    public List<RgbImage> Run(GenerationRequest request, GenerationPlan plan, Action<int, int>? onStep,
        Action<string>? warn, Action<string, float[]>? trace, CancellationToken cancel, Action<string, double>? onStage = null)
    {
        if (b.ConcurrentGenerations)
            return RunPooled(request, plan, onStep, warn, trace, onStage, cancel);
        lock (_serial)     // one accelerator stream: whole generations in turn, so the pool stays at one context
            return RunPooled(request, plan, onStep, warn, trace, onStage, cancel);
    }

    private List<RgbImage> RunPooled(GenerationRequest request, GenerationPlan plan, Action<int, int>? onStep,
        Action<string>? warn, Action<string, float[]>? trace, Action<string, double>? onStage, CancellationToken cancel)
    {
        Context context;
        lock (_idle)
        {
            if (!_idle.TryPop(out context!))
            {
                context = new Context(a);
                _all.Add(context);
            }
        }
        try
        {
            using var stack = a.Bind(context.Slots);
            using var scratch = Backend.Bind(context.Scratch);
            using var caller = b.BeginGeneration();
            return Run(context, request, plan, onStep, warn, trace, onStage, cancel);
        }
        finally
        {
            lock (_idle) _idle.Push(context);
        }
    }

    private List<RgbImage> Run(Context ctx, GenerationRequest request, GenerationPlan plan, Action<int, int>? onStep,
        Action<string>? warn, Action<string, float[]>? trace, Action<string, double>? onStage, CancellationToken cancel)
    {
        var clock = Stopwatch.StartNew();
        void Stage(string name)
        {
            if (onStage is null) return;
            b.Synchronize();
            onStage(name, clock.Elapsed.TotalSeconds);
            clock.Restart();
        }
        var schedule = plan.Schedule;
        var timesteps = schedule.Timesteps;
        var (width, height) = SizeOf(request);
        var tiny = TinyDecoderFor(request);
        int factor = m.Vae.Config.DownsampleFactor, lh = height / factor, lw = width / factor;
        int n = request.Prompts.Count, latent = m.Unet.Config.InChannels * lh * lw;
        bool guided = plan.Guided;
        int rows = plan.Rows(n), length = m.Tokenizer.MaxLength, dim = m.Unet.Config.CrossAttentionDim;
        var ids = Tokenize(request.Prompts, guided, warn);
        var ids2 = m.Tokenizer2 is null ? null : Tokenize2(request.Prompts, guided, null);   // the same words: warned once
        Stage("tokenize");
        cancel.ThrowIfCancellationRequested();
        a.Reset();

        var text = a.Take((long)rows * length * dim);                     // [rows, L, D]
        var (textEmbeds, timeIds) = (TensorView.Empty, TensorView.Empty);
        if (m.TextEncoder2 is not null)
            (textEmbeds, timeIds) = EncodeDual(ctx, ids, ids2!, text, rows, n, length, guided, width, height);
        else m.TextEncoder.Forward(ids, text, rows, length);
        Trace(trace, "text", text);
        if (!textEmbeds.IsEmpty) Trace(trace, "text_embeds", textEmbeds);
        Stage("text encoder");

        var noise = new BatchNoise(request.Seed, n, latent, request.Seeds);
        if (ctx.HostNoise.Length < n * latent) ctx.HostNoise = new float[n * latent];
        var hostNoise = ctx.HostNoise.AsSpan(0, n * latent);
        var x = a.Take((long)n * latent);                                  // [N, C, h, w]
        var noiseView = a.Take((long)n * latent);
        var x0 = a.Take((long)n * latent);
        noise.Draw(hostNoise);
        if (request.InitImage is { } init)
        {
            b.Upload(hostNoise, noiseView);
            var pixels = PipelineImages.InitPixels(init, width, height);
            var pixelView = a.Take((long)n * pixels.Length);               // [N, 3, H, W]
            for (int i = 0; i < n; i++) b.Upload(pixels, pixelView.Slice((long)i * pixels.Length, pixels.Length));
            m.Vae.Encode(pixelView, x0, n, height, width);
            // x = √ᾱ·z0 + √(1−ᾱ)·ε at the first step's level (diffusers' img2img add_noise; Ho et al. 2020, Eq. 4).
            b.SamplerStep(x0, TensorView.Empty, x0, noiseView, x, x0, SamplerStep.AddNoise(schedule.AlphaBars[0]).ToKernelStep());
        }
        else
        {
            // x_T = init_noise_sigma·scale_model_input·noise (float, as torch's float tensor × scalar); 1 for DDIM.
            float scale = (float)schedule.InitialNoiseScale;
            if (scale != 1) foreach (ref float v in hostNoise) v *= scale;
            b.Upload(hostNoise, x);
        }

        var u = m.Unet.Config;
        var input = guided ? a.Take((long)rows * latent) : x;             // guided: [x; x] as [2N, C, h, w]
        var eps = a.Take((long)rows * latent);                             // guided: [ε̂u; ε̂c]
        var t = a.Take(rows);
        if (ctx.HostTimesteps.Length < rows) ctx.HostTimesteps = new float[rows];
        for (int i = 0; i < timesteps.Length; i++)
        {
            cancel.ThrowIfCancellationRequested();
            Array.Fill(ctx.HostTimesteps, (float)timesteps[i], 0, rows);
            b.Upload(ctx.HostTimesteps.AsSpan(0, rows), t);
            if (guided) b.ConcatChannels(x, x, input, 1, n * u.InChannels, n * u.InChannels, lh, lw);
            m.Unet.Forward(input, t, text, eps, rows, length, lh, lw, textEmbeds, timeIds);
            Trace(trace, $"unet.{i}", eps);
            var c = schedule.Step(i);
            var k = c.ToKernelStep();
            if (guided) k = k.WithGuidance((float)plan.Guidance);
            if (c.C != 0)
            {
                noise.Draw(hostNoise);
                b.Upload(hostNoise, noiseView);
            }
            b.SamplerStep(x, guided ? eps.Part(0, 2) : TensorView.Empty, guided ? eps.Part(1, 2) : eps, c.C != 0 ? noiseView : TensorView.Empty, x, x0, k);
            Stage($"unet {i + 1}/{timesteps.Length}");
            onStep?.Invoke(i + 1, timesteps.Length);
            if (request.OnPreview is { } preview) preview(i + 1, timesteps.Length, Preview(ctx, tiny!, x0, n, width, height));
        }
        Trace(trace, "latent", x);
        cancel.ThrowIfCancellationRequested();

        int pixelsPerImage = 3 * width * height;
        var image = a.Take((long)n * pixelsPerImage);                       // [N, 3, H, W]
        if (request.Decoder == DecoderKind.Tiny) tiny!.Decode(x, image, n, lh, lw);
        else m.Vae.Decode(x, image, n, lh, lw);
        if (ctx.HostPixels.Length < n * pixelsPerImage) ctx.HostPixels = new float[n * pixelsPerImage];
        var host = ctx.HostPixels.AsSpan(0, n * pixelsPerImage);
        b.Download(image, host);
        a.Reset();      // the end of the generation: the arena's stack takes its high-water size now (Arena), not in the next one
        trace?.Invoke("image", host.ToArray());
        var images = PipelineImages.ToImages(host, n, width, height);
        Stage("vae decode");
        return images;
    }

    /// <summary>
    /// SDXL's conditioning (diffusers StableDiffusionXLPipeline.encode_prompt, _get_add_time_ids): context [rows, L, D1 + D2] =
    /// cat(text_encoder hidden_states[-2], text_encoder_2 hidden_states[-2]) on the last dim; text_embeds [rows, P] =
    /// text_encoder_2's pooled, projected output; time_ids [rows, 6] = (H, W, 0, 0, H, W) in pixels (original size = target
    /// size = the request's, no crop). Guided with force_zeros_for_empty_prompt (and no negative prompt, which requests
    /// cannot give) the unconditional rows of both are zeros, as diffusers'.
    /// </summary>
    private (TensorView TextEmbeds, TensorView TimeIds) EncodeDual(Context ctx, int[] ids, int[] ids2, TensorView text, int rows, int n, int length,
        bool guided, int width, int height)
    {
        var encoder2 = m.TextEncoder2!;
        int d1 = m.TextEncoder.Config.HiddenSize, d2 = encoder2.Config.HiddenSize, p = encoder2.Config.ProjectionDim;
        var h1 = a.Take((long)rows * length * d1);
        var h2 = a.Take((long)rows * length * d2);
        var pooled = a.Take((long)rows * p);
        m.TextEncoder.Forward(ids, h1, rows, length, penultimate: true);
        encoder2.Forward(ids2, h2, rows, length, penultimate: true, pooled);
        b.ConcatChannels(h1, h2, text, rows * length, d1, d2, 1, 1);
        if (guided && m.Index.ForceZerosForEmptyPrompt)
        {
            int zeros = n * length * (d1 + d2);
            if (ctx.HostZeros.Length < zeros) ctx.HostZeros = new float[zeros];
            b.Upload(ctx.HostZeros.AsSpan(0, zeros), text.Slice(0, zeros));
            b.Upload(ctx.HostZeros.AsSpan(0, n * p), pooled.Slice(0, (long)n * p));
        }
        var timeIds = a.Take((long)rows * UNet2DConditionConfig.AddTimeIds);
        var host = new float[rows * UNet2DConditionConfig.AddTimeIds];
        for (int r = 0; r < rows; r++) new float[] { height, width, 0, 0, height, width }.CopyTo(host, r * UNet2DConditionConfig.AddTimeIds);
        b.Upload(host, timeIds);
        return (pooled, timeIds);
    }

    /// <summary>The tiny decoder the request needs (tiny decoding or previews), or null; a request that needs one the
    /// pipeline lacks is an <see cref="InvalidRequestException"/>.</summary>
    public AutoencoderTiny? TinyDecoderFor(GenerationRequest request)
    {
        bool needed = request.Decoder == DecoderKind.Tiny || request.OnPreview is not null;
        if (needed && m.VaeTiny is null)
            throw new InvalidRequestException($"{(request.Decoder == DecoderKind.Tiny ? "the tiny decoder" : "previews need a tiny decoder, which")} is not available: "
                + $"{m.Index.Path} declares no '{PipelineLayout.VaeTiny.Name}' component and none was loaded (DiffusionPipeline.LoadTinyDecoder)");
        return needed ? m.VaeTiny : null;
    }

    /// <summary>x̂0 [N, C, h, w] decoded by the tiny decoder into RGB images (a scratch from the arena, released after).</summary>
    private List<RgbImage> Preview(Context ctx, AutoencoderTiny tiny, TensorView x0, int n, int width, int height)
    {
        int mark = a.Mark(), f = tiny.DecoderFactor, length = n * 3 * width * height;
        var pixels = a.Take(length);
        tiny.Decode(x0, pixels, n, height / f, width / f);
        if (ctx.HostPreview.Length < length) ctx.HostPreview = new float[length];
        b.Download(pixels, ctx.HostPreview.AsSpan(0, length));
        a.Release(mark);
        return PipelineImages.ToImages(ctx.HostPreview.AsSpan(0, length), n, width, height);
    }

    private void Trace(Action<string, float[]>? trace, string stage, TensorView view)
    {
        if (trace is null) return;
        var values = new float[view.Length];
        b.Download(view, values);
        trace(stage, values);
    }
}
