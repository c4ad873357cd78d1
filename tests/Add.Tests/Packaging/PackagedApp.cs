using System.Diagnostics;
using System.IO.Compression;
using System.Text.Json;
using System.Xml.Linq;

namespace Add.Tests.Packaging;

/// <summary>
/// Runs the .NET CLI as a user would, outside the repository: packs a project into a local folder, makes a console app
/// that consumes the packages. Every output (packages, build artifacts, the app, the NuGet global packages folder it
/// restores into) lives under one temp folder; nothing is written into the repository.
/// </summary>
public static class PackagedApp
{
    /// <summary>The version src/Directory.Build.props sets (VersionPrefix) for both packages.</summary>
    public const string Version = "0.1.0";

    /// <summary>One step's limit: the slowest (the first pack, a cold Release build of both projects) takes ~40 s alone
    /// on the 2-core machine; the tests of the solution run beside it.</summary>
    static readonly TimeSpan StepTimeout = TimeSpan.FromMinutes(5);

    /// <summary>The NuGet global packages folder of this machine, where the solution's restore put every package.</summary>
    public static string MachinePackageCache =>
        Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } p ? p
        : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");

    /// <summary>`dotnet pack -c Release -o <paramref name="feed"/>` with build outputs under <paramref name="artifacts"/>;
    /// <paramref name="build"/> false packs what an earlier pack built there (a dependency's Release build).</summary>
    public static void Pack(string project, string feed, string artifacts, string workDir, bool build = true) =>
        Dotnet(workDir, null, ["pack", project, "-c", "Release", "-o", feed, "--artifacts-path", artifacts, "--disable-build-servers",
            .. build ? Array.Empty<string>() : ["--no-build"]]);

    /// <summary>Runs `dotnet ARGS` in <paramref name="workDir"/> and returns stdout; throws with the output on failure.</summary>
    /// <param name="nugetPackages">When set, NUGET_PACKAGES (the global packages folder) for the child.</param>
    public static string Dotnet(string workDir, string? nugetPackages, params string[] args)
    {
        var start = new ProcessStartInfo(DotnetHost()) { WorkingDirectory = workDir, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) start.ArgumentList.Add(a);
        // The test host inherits the outer `dotnet test`'s MSBuild variables (SDK paths, node settings); the child CLI
        // sets its own, so drop them rather than let a nested build follow the outer one's.
        foreach (var key in start.Environment.Keys.ToList())
            if (key.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase) || key.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase))
                start.Environment.Remove(key);
        start.Environment["MSBUILDTERMINALLOGGER"] = "off";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        if (nugetPackages is not null) start.Environment["NUGET_PACKAGES"] = nugetPackages;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(StepTimeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"dotnet {string.Join(' ', args)} ran over {StepTimeout.TotalMinutes} min");
        }
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"dotnet {string.Join(' ', args)} exited {process.ExitCode}:\n{stdout.Result}\n{stderr.Result}");
        return stdout.Result;
    }

    static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";

    /// <summary>
    /// A nuget.config for an app outside the solution. Its one source is the local folder of our packages. Its global
    /// packages folder is <paramref name="packages"/> (a temp folder: our packages are extracted there, never into the
    /// machine's cache, where a stale copy of the same version would hide a new pack). Every other package of the
    /// closure is read from the machine's cache as a fallback folder, where restoring the solution put it: the app
    /// restores offline, and a package missing there fails the restore by name instead of reaching out.
    /// </summary>
    public static void WriteNuGetConfig(string appDir, string feed, string packages) =>
        new XDocument(new XElement("configuration",
            new XElement("config", Add("globalPackagesFolder", packages)),
            new XElement("packageSources", new XElement("clear"), Add("add-local", feed)),
            new XElement("fallbackPackageFolders", new XElement("clear"), Add("machine-cache", MachinePackageCache)))
        ).Save(Path.Combine(appDir, "nuget.config"));

    static XElement Add(string key, string value) => new("add", new XAttribute("key", key), new XAttribute("value", value));

    /// <summary>The nuspec inside a .nupkg, and the names of the package's files.</summary>
    public static (XElement Metadata, List<string> Files) ReadPackage(string nupkg)
    {
        using var zip = ZipFile.OpenRead(nupkg);
        var nuspec = zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal) && !e.FullName.Contains('/'));
        using var stream = nuspec.Open();
        var root = XDocument.Load(stream).Root!;
        return (root.Elements().Single(e => e.Name.LocalName == "metadata"), zip.Entries.Select(e => e.FullName).ToList());
    }

    /// <summary>A nuspec metadata child's text ("" when absent).</summary>
    public static string Field(XElement metadata, string name) =>
        metadata.Elements().FirstOrDefault(e => e.Name.LocalName == name)?.Value.Trim() ?? "";

    /// <summary>The (id, version) dependencies of a nuspec, all target frameworks together.</summary>
    public static List<(string Id, string Version)> Dependencies(XElement metadata) =>
        metadata.Descendants().Where(e => e.Name.LocalName == "dependency")
            .Select(e => ((string)e.Attribute("id")!, (string)e.Attribute("version")!)).ToList();

    /// <summary>Every package (name/version) the app's restore resolved, from obj/project.assets.json.</summary>
    public static List<string> ResolvedPackages(string appDir)
    {
        using var assets = JsonDocument.Parse(File.ReadAllText(Path.Combine(appDir, "obj", "project.assets.json")));
        return assets.RootElement.GetProperty("libraries").EnumerateObject()
            .Where(l => l.Value.GetProperty("type").GetString() == "package").Select(l => l.Name).Order(StringComparer.Ordinal).ToList();
    }
}
