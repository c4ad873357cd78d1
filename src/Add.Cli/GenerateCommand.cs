using Add.Engine.Backends;
using Add.Engine.CommandLine;
using Add.Engine.Imaging;
using Add.Engine.Pipeline;
using Add.Engine.Sampling;

namespace Add.Cli;

/// <summary>`add generate PROMPT`: one image (or a grid for --batch) from the shipped or a given model.</summary>
public static class GenerateCommand
{
    public const string Usage = """
        add generate PROMPT [--steps N] [--seed S] [--batch B] [--init-image F --strength X] [--guidance G]
                            [--sampler ddim|euler|euler-ancestral|student-renoise] [--model DIR]
                            [--backend auto|cpu|cuda|ilgpu-cpu] [-o FILE] [--scale K]
            Writes FILE (default: the prompt as a file name, e.g. grinning-face.png); a batch writes a grid.
            --scale K enlarges by nearest neighbour for viewing (default 4; 1 = the model's 32x32 pixels).
        """;

    public static int Run(IReadOnlyList<string> args, TextWriter output, TextWriter log)
    {
        var a = new ArgReader(args);
        var options = Read(a, out var prompt);
        var outPath = a.String("o", "out") ?? Slug(prompt) + ".png";
        int scale = a.Int("scale", 4, 1, 64);
        a.ThrowIfUnused(1);
        CheckWritable(outPath);

        using var pipeline = Load(options.Model, options.Backend, log);
        var request = options.Request(prompt);
        var images = pipeline.Generate(request, (i, n) => log.WriteLine($"step {i}/{n}"), warn: m => log.WriteLine($"add: warning: {m}"));
        var image = images.Count == 1 ? images[0] : Resample.Grid(images, columns: (int)Math.Ceiling(Math.Sqrt(images.Count)));
        if (scale > 1) image = Resample.Enlarge(image, scale);
        try { Png.Save(image, outPath); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"cannot write {outPath}: {e.Message}");
        }
        output.WriteLine($"{outPath}: {images.Count} image(s), {request.Steps ?? pipeline.Plan(request).Timesteps.Length} step(s), seed {request.Seed}, {pipeline.Backend.Name}");
        return 0;
    }

    /// <summary>The options `generate` and `profile` share.</summary>
    public sealed record Options(string? Model, BackendKind Backend, int? Steps, long Seed, int Batch, double? Guidance, SamplerKind? Sampler, string? InitImage, double Strength)
    {
        public GenerationRequest Request(string prompt) => new()
        {
            Prompts = Enumerable.Repeat(prompt, Batch).ToList(),
            Steps = Steps, Seed = Seed, Guidance = Guidance, Sampler = Sampler, Strength = Strength,
            InitImage = InitImage is null ? null : Png.Load(InitImage),
        };
    }

    public static Options Read(ArgReader a, out string prompt, string? defaultPrompt = null)
    {
        prompt = a.Positional.Count == 1 ? a.Positional[0]
               : a.Positional.Count == 0 && defaultPrompt is not null ? defaultPrompt
               : throw new UsageException("expected one PROMPT (quote it: add generate \"grinning face\")");
        int? steps = a.String("steps") is null ? null : a.Int("steps", 1, 1, 1000);
        long seed = a.Int("seed", 0, 0, int.MaxValue);
        int batch = a.Int("batch", 1, 1, 256);
        double? guidance = a.String("guidance") is null ? null : a.Double("guidance", 0, 0, 50);
        SamplerKind? sampler = a.String("sampler") is { } s ? ParseSampler(s) : null;
        var init = a.String("init-image");
        double strength = a.Double("strength", init is null ? 1.0 : 0.5, 0, 1);
        if (init is null && a.String("strength") is not null) throw new UsageException("--strength needs --init-image");
        if (init is not null && !File.Exists(init)) throw new UsageException($"--init-image {init}: file not found");
        var backend = BackendFactory.Parse(a.StringOr("backend", "auto"));
        return new Options(a.String("model"), backend, steps, seed, batch, guidance, sampler, init, strength);
    }

    static SamplerKind ParseSampler(string s) => s switch
    {
        "ddim" => SamplerKind.Ddim,
        "euler" => SamplerKind.Euler,
        "euler-ancestral" => SamplerKind.EulerAncestral,
        "student-renoise" => SamplerKind.StudentRenoise,
        _ => throw new UsageException($"unknown sampler '{s}' (choose ddim, euler, euler-ancestral or student-renoise)"),
    };

    public static DiffusionPipeline Load(string? model, BackendKind kind, TextWriter log)
    {
        var folder = ModelLocator.Resolve(model);
        if (!Directory.Exists(folder))
            throw new UsageException(model is null
                ? $"the default model {folder} is missing (a fresh clone ships it; or pass --model DIR)"
                : $"model folder not found: {folder}");
        return DiffusionPipeline.Load(folder, BackendFactory.Create(kind), m => log.WriteLine($"add: warning: {m}"));
    }

    static void CheckWritable(string path)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        if (!Directory.Exists(dir)) throw new UsageException($"cannot write {path}: folder {dir} does not exist");
        if (Directory.Exists(path)) throw new UsageException($"cannot write {path}: it is a folder");
    }

    /// <summary>"Grinning face!" → "grinning-face".</summary>
    public static string Slug(string prompt)
    {
        var words = new List<string>();
        var word = new System.Text.StringBuilder();
        foreach (var ch in prompt.ToLowerInvariant() + " ")
        {
            if (char.IsAsciiLetterOrDigit(ch)) { word.Append(ch); continue; }
            if (word.Length > 0) { words.Add(word.ToString()); word.Clear(); }
        }
        var slug = string.Join('-', words);
        return slug.Length == 0 ? "image" : slug[..Math.Min(slug.Length, 60)];
    }
}
