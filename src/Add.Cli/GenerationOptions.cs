using System.CommandLine;
using System.CommandLine.Parsing;
using Add.CommandLine;
using Add.Engine.Backends;
using Add.Engine.Imaging;
using Add.Engine.Pipeline;
using Add.Engine.Sampling;

namespace Add.Cli;

/// <summary>The options `generate` and `profile` share: what to generate (steps, seed, batch, guidance, sampler, init
/// image and strength) and with what (model, backend). <see cref="Read"/> turns a parse into a <see cref="Options"/>.</summary>
public sealed class GenerationOptions
{
    readonly Option<int?> _steps = CommonOptions.Steps();
    readonly Option<long> _seed = CommonOptions.Seed();
    readonly Option<int> _batch = CommonOptions.Batch(1, 256);
    readonly Option<string?> _init = Opt.Text("--init-image", "start from this image (img2img): the model's size or a square integer multiple of it", "FILE");
    readonly Option<double?> _strength = Opt.OptionalNumber("--strength",
        "with --init-image: how much of the schedule to run, greater than 0 and at most 1; steps × strength must be at least 1 (default 0.5)", 0, 1, minExclusive: true);
    readonly Option<double?> _guidance = CommonOptions.Guidance();
    readonly Option<SamplerKind?> _sampler = CommonOptions.Sampler();
    readonly Option<string?> _model = CommonOptions.Model();
    readonly Option<BackendKind> _backend = CommonOptions.Backend();
    readonly Option<string?> _variant = CommonOptions.Variant();
    readonly Option<int?> _width = CommonOptions.ImageSide("--width");
    readonly Option<int?> _height = CommonOptions.ImageSide("--height");
    readonly Option<string?> _decoder = Opt.Text("--decoder",
        "decoder of the final latents: full (the model's vae, default), tiny (the model's vae_tiny) or DIR (an AutoencoderTiny folder, e.g. madebyollin/taesd, which is then also the preview decoder)", "tiny|full|DIR");

    /// <summary>Adds the options and their checks to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        foreach (var o in new Option[] { _steps, _seed, _batch, _init, _strength, _guidance, _sampler, _model, _backend, _variant, _width, _height, _decoder }) command.Add(o);
        _init.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<string?>() is { } path && !File.Exists(path)) r.AddError($"--init-image {path}: file not found");
        });
        command.Validators.Add(r =>
        {
            if (r.GetResult(_strength) is not null && r.GetResult(_init) is null) r.AddError("--strength needs --init-image");
        });
        _decoder.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<string?>() is { } d && d is not (TinyDecoder or FullDecoder) && !Directory.Exists(d))
                r.AddError($"--decoder {d}: not '{TinyDecoder}', '{FullDecoder}' or an existing AutoencoderTiny folder");
        });
    }

    /// <summary>The parsed values.</summary>
    public Options Read(ParseResult p)
    {
        var init = p.GetValue(_init);
        return new Options(p.GetValue(_model), p.GetValue(_backend), p.GetValue(_steps), p.GetValue(_seed), p.GetValue(_batch),
            p.GetValue(_guidance), p.GetValue(_sampler), init, p.GetValue(_strength) ?? (init is null ? 1.0 : 0.5), p.GetValue(_variant),
            p.GetValue(_width), p.GetValue(_height), p.GetValue(_decoder));
    }

    /// <summary>--decoder's keywords (a folder of that name is given as ./tiny).</summary>
    public const string TinyDecoder = "tiny", FullDecoder = "full";

    /// <summary>What `generate` and `profile` run.</summary>
    public sealed record Options(string? Model, BackendKind Backend, int? Steps, long Seed, int Batch, double? Guidance, SamplerKind? Sampler, string? InitImage, double Strength, string? Variant = null, int? Width = null, int? Height = null, string? Decoder = null)
    {
        /// <summary>--decoder as the request's choice: tiny or a folder → the tiny decoder.</summary>
        public DecoderKind DecoderKind => Decoder is null or FullDecoder ? DecoderKind.Full : DecoderKind.Tiny;

        /// <summary>--decoder DIR, or null for the keywords.</summary>
        public string? DecoderFolder => Decoder is null or FullDecoder or TinyDecoder ? null : Decoder;

        /// <summary>The request for <paramref name="prompt"/>, <see cref="Batch"/> times; reads the init image.</summary>
        public GenerationRequest Request(string prompt) => new()
        {
            Prompts = Enumerable.Repeat(prompt, Batch).ToList(),
            Steps = Steps, Seed = Seed, Guidance = Guidance, Sampler = Sampler, Strength = Strength, Width = Width, Height = Height, Decoder = DecoderKind,
            InitImage = InitImage is null ? null : Png.Load(InitImage),
        };

        /// <summary>Loads the model (<see cref="ModelLocator"/> when <see cref="Model"/> is null) on the backend.</summary>
        public DiffusionPipeline Load(TextWriter log)
        {
            var folder = ModelLocator.Resolve(Model);
            if (!Directory.Exists(folder))
                throw new UsageException(Model is null
                    ? $"the default model {folder} is missing (a fresh clone ships it; or pass --model DIR)"
                    : $"model folder not found: {folder}");
            var pipeline = DiffusionPipeline.Load(folder, BackendFactory.Create(Backend), m => log.WriteLine($"add: warning: {m}"), Variant);
            try { LoadDecoder(pipeline, folder, log); }
            catch
            {
                pipeline.Dispose();
                throw;
            }
            return pipeline;
        }

        /// <summary>--decoder DIR loaded as the pipeline's tiny decoder; --decoder tiny checked against the folder.</summary>
        void LoadDecoder(DiffusionPipeline pipeline, string folder, TextWriter log)
        {
            if (DecoderFolder is { } dir) pipeline.LoadTinyDecoder(dir, m => log.WriteLine($"add: warning: {m}"));
            else if (Decoder == TinyDecoder && pipeline.TinyDecoder is null)
                throw new UsageException($"--decoder tiny: {folder} has no tiny decoder (no 'vae_tiny' in its model_index.json); pass --decoder DIR with an AutoencoderTiny folder");
        }
    }
}
