using System.Diagnostics;
using Add.Engine;
using Add.Engine.CommandLine;
using Add.Engine.Imaging;
using Add.Train.Imaging;

namespace Add.Train.Data;

/// <summary>`add-train data prepare|show`: build the emoji-32 data set and look at it.</summary>
public static class DataCommand
{
    public const string Usage = """
        add-train data prepare [--cache DIR]
            Fetch emoji-datasource-google/twitter@16.0.0 with npm pack, check their SHA-512, and write emoji-32
            (7,572 images of 32x32, captions, labels, split) to DIR/emoji-32 (default: $ADD_CACHE or <repo>/.cache).
        add-train data show [--cache DIR] [-o FILE] [--n 48] [--seed 0]
            Write a contact sheet of sampled images with their captions (default DIR/emoji-32/contact-sheet.png)
            and print counts per category and split; prepares the data set first when the cache lacks it.
        add-train data fixture -o FOLDER
            Write the small test fixture (tests/fixtures/emoji-mini): mini tarballs of both packages, pinned.
        """;

    public static int Run(IReadOnlyList<string> args)
    {
        if (args.Count == 0) throw new UsageException("data: expected 'prepare' or 'show'");
        var a = new ArgReader(args.Skip(1));
        var folder = DataFolder(a.String("cache"));
        switch (args[0])
        {
            case "prepare":
            {
                a.ThrowIfUnused(0);
                var data = Prepare(folder, Console.Error.WriteLine);
                Console.WriteLine($"emoji-32: {data.Count} images ({data.Indices(false).Count()} train, {data.Indices(true).Count()} test) in {folder}");
                return 0;
            }
            case "show":
            {
                var output = a.String("output", "o") ?? Path.Combine(folder, "contact-sheet.png");
                int n = a.Int("n", 48, 1, 1024);
                int seed = a.Int("seed", 0);
                a.ThrowIfUnused(0);
                var data = Prepare(folder, Console.Error.WriteLine);   // fast when the cache is valid
                Show(data, output, n, seed);
                Console.WriteLine($"contact sheet: {output}");
                return 0;
            }
            case "fixture":
            {
                var output = a.String("output", "o") ?? throw new UsageException("data fixture: -o FOLDER is required");
                a.ThrowIfUnused(0);
                var tarballs = Path.Combine(folder, "npm");
                EmojiFixture.Write(output, EmojiPackage.Pinned.Select(p => (p, NpmPack.Fetch(p, tarballs, Console.Error.WriteLine))).ToList(), Console.Error.WriteLine);
                return 0;
            }
            default:
                throw new UsageException($"data: unknown subcommand '{args[0]}', expected 'prepare' or 'show'");
        }
    }

    public static string DataFolder(string? cache) => Path.Combine(cache ?? RepoPaths.Cache(), "emoji-32");

    /// <summary>The data set in <paramref name="folder"/>, built (or rebuilt from a corrupt cache) when needed.</summary>
    public static Emoji32 Prepare(string folder, Action<string> log)
    {
        var watch = Stopwatch.StartNew();
        var tarballs = Path.Combine(folder, "npm");
        var (data, reused) = Emoji32Builder.Prepare(folder, EmojiPackage.Pinned, p => NpmPack.Fetch(p, tarballs, log), log);
        log(reused ? $"cache valid, loaded in {watch.Elapsed.TotalSeconds:F1} s" : $"built in {watch.Elapsed.TotalSeconds:F1} s");
        return data;
    }

    /// <summary>Writes the contact sheet and prints the per-category, per-split counts.</summary>
    public static void Show(Emoji32 data, string output, int n, int seed)
    {
        var rng = new Random(seed);
        var picks = Enumerable.Range(0, data.Count).OrderBy(_ => rng.Next()).Take(n).Order().ToList();
        var cells = picks.Select(i => (data.Image(i), data.Items[i].Caption)).ToList();
        Png.Save(CaptionedGrid.Render(cells, columns: 8), output);

        Console.WriteLine($"{"category",-22} {"train",6} {"test",6}");
        for (int c = 0; c < data.Categories.Length; c++)
        {
            var inCategory = Enumerable.Range(0, data.Count).Where(i => data.Items[i].Category == c).ToList();
            Console.WriteLine($"{data.Categories[c],-22} {inCategory.Count(i => data.Split[i] == 0),6} {inCategory.Count(i => data.Split[i] == 1),6}");
        }
        Console.WriteLine($"{"total",-22} {data.Indices(false).Count(),6} {data.Indices(true).Count(),6}   ({data.Subcategories.Length} subcategories)");
    }
}
