using System.CommandLine;
using System.Diagnostics;
using Add.CommandLine;
using Add.Engine.Imaging;
using Add.Train.Imaging;

namespace Add.Train.Data;

/// <summary>`add-train data prepare|show`: build the emoji-32 data set and look at it.</summary>
public static class DataCommand
{
    /// <summary>The `data` command: `data prepare`, `data show`, `data fixture`.</summary>
    public static Command Create()
    {
        var prepare = new Command("prepare",
            "Fetch emoji-datasource-google/twitter@16.0.0 with npm pack, check their SHA-512, and write emoji-32 (7,572 images of 32x32, captions, labels, split) to DIR/emoji-32.");
        var prepareCache = CommonOptions.Cache();
        prepare.Add(prepareCache);
        prepare.SetAction(p =>
        {
            var folder = DataFolder(p.GetValue(prepareCache));
            var data = Prepare(folder, Console.Error.WriteLine);
            Console.WriteLine($"emoji-32: {data.Count} images ({data.Indices(false).Count()} train, {data.Indices(true).Count()} test) in {folder}");
            return 0;
        });

        var show = new Command("show",
            "Write a contact sheet of sampled images with their captions and print counts per category and split; prepares the data set first when the cache lacks it.");
        var showCache = CommonOptions.Cache();
        var sheet = Opt.ImageOutput("--output", "contact sheet to write, .png, .jpg or .jpeg (default: DIR/emoji-32/contact-sheet.png)", "-o");
        var n = Opt.IntRange("--n", "images on the sheet, 1 to 1024", 48, 1, 1024);
        var seed = Opt.IntRange("--seed", $"which images (an integer {Opt.Range(int.MinValue, int.MaxValue)})", 0, int.MinValue, int.MaxValue, "S");
        foreach (var o in new Option[] { showCache, sheet, n, seed }) show.Add(o);
        show.SetAction(p =>
        {
            var folder = DataFolder(p.GetValue(showCache));
            var output = p.GetValue(sheet) ?? Path.Combine(folder, "contact-sheet.png");
            var data = Prepare(folder, Console.Error.WriteLine);   // fast when the cache is valid
            Show(data, output, p.GetValue(n), p.GetValue(seed));
            Console.WriteLine($"contact sheet: {output}");
            return 0;
        });

        var fixture = new Command("fixture", "Write the small test fixture (tests/fixtures/emoji-mini): mini tarballs of both packages, pinned.");
        var fixtureCache = CommonOptions.Cache();
        var target = Opt.Text("--output", "the fixture folder to write", "FOLDER", "-o");
        target.Required = true;
        fixture.Add(fixtureCache); fixture.Add(target);
        fixture.SetAction(p =>
        {
            var tarballs = Path.Combine(DataFolder(p.GetValue(fixtureCache)), "npm");
            EmojiFixture.Write(p.GetValue(target)!, EmojiPackage.Pinned.Select(pkg => (pkg, NpmPack.Fetch(pkg, tarballs, Console.Error.WriteLine))).ToList(), Console.Error.WriteLine);
            return 0;
        });
        return new Command("data", "Build the emoji-32 data set and look at it.") { prepare, show, fixture };
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
