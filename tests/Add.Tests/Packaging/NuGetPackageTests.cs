using System.Text.Json;
using System.Xml.Linq;
using Add.Engine.Imaging;
using Add.Tests.Cli;

namespace Add.Tests.Packaging;

/// <summary>
/// Issue #18, NuGet: Add.Kernels and Add.Engine pack with their metadata, and a fresh console app made with
/// `dotnet new console` outside the solution adds Add.Engine from a local folder and generates the same PNG as
/// `add generate`. Runs in `dotnet test Add.sln` (about a minute: two Release builds and one app build);
/// `--filter Category!=Packaging` leaves it out. Offline: the packages' dependencies come from the machine's NuGet
/// cache, which restoring the solution filled.
/// </summary>
[Trait("Category", "Packaging")]
public class NuGetPackageTests
{
    static readonly string[] PackageIds = ["Add.Kernels", "Add.Engine"];

    /// <summary>The packages the engine depends on, each at the version Directory.Packages.props pins.</summary>
    static readonly string[] EngineClosure = ["ILGPU", "ILGPU.Algorithms", "System.Numerics.Tensors", "StbImageSharp", "StbImageWriteSharp"];

    /// <summary>The shipped student's image side (models/add-emoji-32/README.md: 32×32 emoji).</summary>
    const int ShippedModelSide = 32;

    const string Prompt = "grinning face";
    const long Seed = 7;

    [Fact]
    public void FreshConsoleAppGeneratesFromThePackedEngine()
    {
        using var temp = new TempDir();
        string feed = temp.File("feed"), artifacts = temp.File("artifacts"), packages = temp.File("packages"), app = temp.File("app");
        string model = Path.Combine(Fixtures.Root, "models", "add-emoji-32");

        string Project(string id) => Path.Combine(Fixtures.Root, "src", id, id + ".csproj");
        PackagedApp.Pack(Project("Add.Engine"), feed, artifacts, temp.Path);                 // builds Add.Kernels too
        PackagedApp.Pack(Project("Add.Kernels"), feed, artifacts, temp.Path, build: false);
        foreach (var id in PackageIds) CheckPackage(feed, id);

        Directory.CreateDirectory(app);
        PackagedApp.WriteNuGetConfig(app, feed, packages);
        PackagedApp.Dotnet(app, packages, "new", "console", "--no-restore", "--no-update-check", "-n", "PackagedApp", "-o", app);
        string appPng = temp.File("app.png");
        File.WriteAllText(Path.Combine(app, "Program.cs"), ProgramSource(model, appPng));
        PackagedApp.Dotnet(app, packages, "add", "package", "Add.Engine", "--version", PackagedApp.Version, "-s", feed);
        string said = PackagedApp.Dotnet(app, packages, "run");

        // The app restored our packages from the feed (into its own packages folder, not a cached older copy) and
        // exactly the closure the README lists: no TorchSharp, nothing native.
        foreach (var id in PackageIds)
            Assert.True(Directory.Exists(Path.Combine(packages, id.ToLowerInvariant(), PackagedApp.Version)), $"{id} {PackagedApp.Version} was not restored from {feed}");
        var pins = PinnedVersions();
        var expected = PackageIds.Select(id => $"{id}/{PackagedApp.Version}").Concat(EngineClosure.Select(id => $"{id}/{pins[id]}"))
            .Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expected, PackagedApp.ResolvedPackages(app));
        string readme = File.ReadAllText(Path.Combine(Fixtures.Root, "README.md"));
        foreach (var id in EngineClosure) Assert.Contains($"| `{id}` | {pins[id]} |", readme);
        var native = Directory.EnumerateFiles(Path.Combine(app, "bin"), "*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".so", StringComparison.Ordinal) || f.EndsWith(".dylib", StringComparison.Ordinal)
                        || f.Contains($"{Path.DirectorySeparatorChar}runtimes{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                        || Path.GetFileName(f).StartsWith("TorchSharp", StringComparison.OrdinalIgnoreCase)).ToList();
        Assert.Empty(native);

        // A valid PNG of the model's size, byte for byte what `add generate --scale 1` writes for the same request.
        Assert.Contains($"{ShippedModelSide}x{ShippedModelSide}", said);
        byte[] bytes = File.ReadAllBytes(appPng);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, bytes[..8]);
        var image = Png.Load(appPng);
        Assert.Equal((ShippedModelSide, ShippedModelSide), (image.Width, image.Height));
        string cliPng = temp.File("cli.png");
        var cli = CliRun.Add("generate", Prompt, "--model", model, "--backend", "cpu", "--steps", "1", "--seed", $"{Seed}", "--scale", "1", "-o", cliPng);
        Assert.True(cli.Code == 0, cli.Err);
        Assert.Equal(File.ReadAllBytes(cliPng), bytes);
    }

    /// <summary>The six lines of the package readme's example, on the CPU backend (the CLI's choice without CUDA).</summary>
    static string ProgramSource(string model, string output) => $$"""
        using Add.Engine.Backends; using Add.Engine.Imaging; using Add.Engine.Pipeline;

        using var pipeline = DiffusionPipeline.Load({{Literal(model)}}, BackendFactory.Create(BackendKind.Cpu));
        var request = new GenerationRequest { Prompts = [{{Literal(Prompt)}}], Steps = 1, Seed = {{Seed}} };
        var images = pipeline.Generate(request);
        Png.Save(images[0], {{Literal(output)}});
        Console.WriteLine($"wrote {images[0].Width}x{images[0].Height}");
        """;

    /// <summary>A C# string literal (JSON's escapes are all valid C# escapes).</summary>
    static string Literal(string s) => JsonSerializer.Serialize(s);

    static void CheckPackage(string feed, string id)
    {
        string nupkg = Path.Combine(feed, $"{id}.{PackagedApp.Version}.nupkg"), snupkg = Path.ChangeExtension(nupkg, ".snupkg");
        Assert.True(File.Exists(nupkg), $"{nupkg} missing");
        Assert.True(File.Exists(snupkg), $"{snupkg} (symbols) missing");
        var (meta, files) = PackagedApp.ReadPackage(nupkg);
        Assert.Equal(id, PackagedApp.Field(meta, "id"));
        Assert.Equal(PackagedApp.Version, PackagedApp.Field(meta, "version"));
        foreach (var field in new[] { "authors", "description", "tags", "copyright" })
            Assert.False(PackagedApp.Field(meta, field).Length == 0, $"{id}: nuspec has no {field}");
        var license = meta.Elements().Single(e => e.Name.LocalName == "license");
        Assert.Equal(("expression", "MIT"), ((string?)license.Attribute("type"), license.Value));
        Assert.Equal("PACKAGE.md", PackagedApp.Field(meta, "readme"));
        Assert.Contains("PACKAGE.md", files);
        Assert.Contains("LICENSE", files);
        // Managed code only: one assembly, no runtimes/ or native folders.
        Assert.Equal([$"lib/net10.0/{id}.dll"], files.Where(f => f.EndsWith(".dll", StringComparison.Ordinal) || f.EndsWith(".so", StringComparison.Ordinal)).ToList());
        Assert.DoesNotContain(files, f => f.StartsWith("runtimes/", StringComparison.Ordinal) || f.Contains("native", StringComparison.OrdinalIgnoreCase));
        Assert.Contains($"lib/net10.0/{id}.pdb", PackagedApp.ReadPackage(snupkg).Files);

        var dependencies = PackagedApp.Dependencies(meta);
        Assert.DoesNotContain(dependencies, d => d.Id.Contains("Torch", StringComparison.OrdinalIgnoreCase));
        if (id == "Add.Engine") Assert.Contains(("Add.Kernels", PackagedApp.Version), dependencies);
    }

    /// <summary>Package → version from Directory.Packages.props.</summary>
    static Dictionary<string, string> PinnedVersions() =>
        XDocument.Load(Path.Combine(Fixtures.Root, "Directory.Packages.props")).Descendants("PackageVersion")
            .ToDictionary(e => (string)e.Attribute("Include")!, e => (string)e.Attribute("Version")!);
}
