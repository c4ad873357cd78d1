using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Add.Train.Data;

/// <summary>
/// Writes the committed test fixture (tests/fixtures/emoji-mini): for each pinned package, a small tarball in the
/// same layout (package/LICENSE, package/emoji.json filtered to every <see cref="Stride"/>-th emoji, and those
/// emoji's 64-px images with their skin variations), plus packages.json pinning the mini tarballs' SHA-512.
/// The data pipeline runs on it unchanged in tests.
/// </summary>
public static class EmojiFixture
{
    public const int Stride = 24;
    public const string Manifest = "packages.json";

    public static void Write(string outFolder, IReadOnlyList<(EmojiPackage Package, string Tarball)> sources, Action<string> log)
    {
        Directory.CreateDirectory(outFolder);
        var pins = new JsonArray();
        foreach (var (package, tarball) in sources)
        {
            NpmPack.Verify(tarball, package.Sha512);
            var mini = package with { Name = package.Name + "-mini" };
            var outPath = Path.Combine(outFolder, mini.TarballName);
            WriteMini(tarball, package, outPath);
            var sha = NpmPack.Sha512Base64(outPath);
            pins.Add(new JsonObject { ["name"] = mini.Name, ["version"] = mini.Version, ["vendor"] = mini.Vendor, ["sha512"] = sha });
            log($"{outPath}: {new FileInfo(outPath).Length} bytes");
        }
        File.WriteAllText(Path.Combine(outFolder, Manifest), pins.ToJsonString(Training.ResultJson.Indented));
    }

    /// <summary>Reads packages.json of a fixture folder: the mini packages and their tarball paths.</summary>
    public static List<(EmojiPackage Package, string Tarball)> Read(string folder)
    {
        var pins = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, Manifest)))!.AsArray();
        return pins.Select(p => new EmojiPackage((string)p!["name"]!, (string)p["version"]!, (string)p["vendor"]!, (string)p["sha512"]!))
                   .Select(p => (p, Path.Combine(folder, p.TarballName))).ToList();
    }

    static void WriteMini(string tarball, EmojiPackage package, string outPath)
    {
        var keep = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        using (var gz = new GZipStream(File.OpenRead(tarball), CompressionMode.Decompress))
        using (var tar = new TarReader(gz))
        {
            while (tar.GetNextEntry() is { } entry)
            {
                if (entry.DataStream is null) continue;
                if (entry.Name is "package/emoji.json" or "package/LICENSE" || entry.Name.StartsWith(package.ImageFolder, StringComparison.Ordinal))
                {
                    using var buffer = new MemoryStream();
                    entry.DataStream.CopyTo(buffer);
                    keep[entry.Name] = buffer.ToArray();
                }
            }
        }
        var all = JsonNode.Parse(keep["package/emoji.json"])!.AsArray();
        var chosen = new JsonArray();
        var images = new List<string>();
        for (int i = 0; i < all.Count; i += Stride)
        {
            var e = all[i]!.DeepClone();
            chosen.Add(e);
            images.Add((string)e["image"]!);
            if (e["skin_variations"] is JsonObject variations)
                images.AddRange(variations.Select(v => (string)v.Value!["image"]!));
        }
        var tmp = outPath + ".tmp";
        using (var fs = File.Create(tmp))
        using (var gz = new GZipStream(fs, CompressionLevel.SmallestSize))
        using (var writer = new TarWriter(gz, TarEntryFormat.Ustar))
        {
            void Add(string name, byte[] data)
            {
                var entry = new UstarTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(data), ModificationTime = DateTimeOffset.UnixEpoch };
                writer.WriteEntry(entry);
            }
            Add("package/LICENSE", keep["package/LICENSE"]);
            Add("package/emoji.json", JsonSerializer.SerializeToUtf8Bytes(chosen));
            foreach (var image in images) Add(package.ImageFolder + image, keep[package.ImageFolder + image]);
        }
        File.Move(tmp, outPath, overwrite: true);
    }
}
