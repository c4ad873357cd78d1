using System.CommandLine;
using Add.CommandLine;
using Add.Engine.Imaging;

namespace Add.Cli;

/// <summary>`add generate PROMPT`: one image (or a grid for --batch) from the shipped or a given model.</summary>
public static class GenerateCommand
{
    /// <summary>The `generate` command: its arguments, options and action.</summary>
    public static Command Create()
    {
        var prompt = new Argument<string>("PROMPT") { Description = "what to draw; quote a prompt of several words: \"grinning face\"" };
        var output = Opt.ImageOutput("--out", $"image to write, {string.Join(", ", Png.Extensions)} (default: the prompt as a file name, e.g. grinning-face.png); a batch writes a grid", "-o");
        var scale = Opt.IntRange("--scale", "enlarge by nearest neighbour for viewing, 1 to 64 (1 = the model's pixels)", 4, 1, 64, "K");
        var preview = Opt.ImageOutput("--preview", "rewrite this image after each step with a preview decoded by the tiny decoder (the model's vae_tiny or --decoder DIR)");
        var shared = new GenerationOptions();
        var command = new Command("generate", "Generate an image from the shipped student (models/add-emoji-32) or --model DIR.") { prompt, output };
        shared.AddTo(command);
        command.Add(scale);
        command.Add(preview);
        command.SetAction(p => Run(p.GetValue(prompt)!, p.GetValue(output), p.GetValue(scale), shared.Read(p), p.GetValue(preview),
            p.InvocationConfiguration.Output, p.InvocationConfiguration.Error));
        return command;
    }

    static int Run(string prompt, string? outPath, int scale, GenerationOptions.Options options, string? previewPath, TextWriter output, TextWriter log)
    {
        outPath ??= Slug(prompt) + ".png";
        CheckWritable(outPath);
        if (previewPath is not null) CheckWritable(previewPath);
        using var pipeline = options.Load(log);
        if (previewPath is not null && pipeline.TinyDecoder is null)
            throw new UsageException($"--preview needs a tiny decoder: {pipeline.Folder} has no 'vae_tiny' component; pass --decoder DIR with an AutoencoderTiny folder (e.g. madebyollin/taesd)");
        var request = options.Request(prompt);
        if (previewPath is not null) request = request with { OnPreview = (_, _, previews) => SavePreview(previews, scale, previewPath) };
        var (width, height) = pipeline.SizeOf(request);
        pipeline.Plan(request);                                          // a bad request fails here, before any output
        log.WriteLine($"{width}x{height}, loaded in {pipeline.LoadSeconds:F1} s");
        var images = pipeline.Generate(request, warn: m => log.WriteLine($"add: warning: {m}"),
            onStage: (stage, seconds) => log.WriteLine($"{(stage.StartsWith("unet ", StringComparison.Ordinal) ? "step " + stage[5..] : stage)}: {seconds:F2} s"));
        var image = images.Count == 1 ? images[0] : Resample.Grid(images, columns: (int)Math.Ceiling(Math.Sqrt(images.Count)));
        if (scale > 1) image = Resample.Enlarge(image, scale);
        try { Png.Save(image, outPath); }
        catch (IOException e) { throw new UsageException(e.Message); }   // "cannot write OUT: why"
        output.WriteLine($"{outPath}: {images.Count} image(s), {request.Steps ?? pipeline.Plan(request).Timesteps.Length} step(s), seed {request.Seed}, {pipeline.Backend.Name}");
        return 0;
    }

    /// <summary>The step's previews (a grid for a batch), enlarged like the output; Png.Save replaces the file atomically,
    /// so a viewer never reads a half-written one.</summary>
    static void SavePreview(IReadOnlyList<RgbImage> previews, int scale, string path)
    {
        var image = previews.Count == 1 ? previews[0] : Resample.Grid(previews, columns: (int)Math.Ceiling(Math.Sqrt(previews.Count)));
        if (scale > 1) image = Resample.Enlarge(image, scale);
        try { Png.Save(image, path); }
        catch (IOException e) { throw new UsageException(e.Message); }
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
