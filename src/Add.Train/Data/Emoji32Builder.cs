using System.Formats.Tar;
using System.IO.Compression;
using Add.Engine.Imaging;

namespace Add.Train.Data;

/// <summary>
/// Builds emoji-32 from the packages' tarballs: read emoji.json, decode each vendor's 64-px PNG, composite it on
/// white, area-downsample to 32×32, caption it, label it with its subcategory, and assign the split.
/// </summary>
public static class Emoji32Builder
{
    /// <summary>
    /// Returns the data set in <paramref name="folder"/> if it is valid and built from <paramref name="packages"/>;
    /// otherwise fetches the tarballs (through <paramref name="fetch"/>), rebuilds, and saves it.
    /// </summary>
    public static (Emoji32 Data, bool Reused) Prepare(string folder, IReadOnlyList<EmojiPackage> packages,
        Func<EmojiPackage, string> fetch, Action<string> log)
    {
        if (File.Exists(Path.Combine(folder, Emoji32.SidecarFile)) || File.Exists(Path.Combine(folder, Emoji32.TensorFile)))
        {
            try { return (Emoji32.Load(folder, packages), true); }
            catch (Exception e) when (e is InvalidDataException or FormatException or KeyNotFoundException)
            {
                log($"cache in {folder} is not usable ({e.Message}); rebuilding");
            }
        }
        var tarballs = packages.Select(p => (p, fetch(p))).ToList();
        var data = Build(tarballs, log);
        data.Save(folder, packages);
        return (data, false);
    }

    /// <summary>Builds the data set from verified tarballs, in package order then emoji.json order.</summary>
    public static Emoji32 Build(IReadOnlyList<(EmojiPackage Package, string Tarball)> sources, Action<string> log)
    {
        var entries = new List<EmojiEntry>();
        var pngs = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var (package, tarball) in sources)
        {
            NpmPack.Verify(tarball, package.Sha512);
            var (catalog, images) = ReadTarball(tarball, package);
            var found = EmojiCatalog.Read(catalog, package.Vendor);
            foreach (var e in found)
            {
                if (!images.TryGetValue(e.Image, out var png))
                    throw new InvalidDataException($"{Path.GetFileName(tarball)}: emoji.json lists {package.ImageFolder}{e.Image} but the tarball lacks it");
                pngs[$"{e.Vendor}/{e.Image}"] = png;
            }
            entries.AddRange(found);
            log($"{package.Name}@{package.Version}: {found.Count} images");
        }

        var categories = entries.Select(e => e.Category).Distinct().Order(StringComparer.Ordinal).ToArray();
        var subcategories = entries.Select(e => e.Subcategory).Distinct().Order(StringComparer.Ordinal).ToArray();
        int n = entries.Count;
        var images32 = new byte[n * Emoji32.PixelsPerImage];
        Parallel.For(0, n, i =>
        {
            var e = entries[i];
            var key = $"{e.Vendor}/{e.Image}";
            var (w, h, rgba) = Png.DecodeRgba(pngs[key], key);
            var small = Resample.AreaDownsampleOnWhite(w, h, rgba, Emoji32.Size, Emoji32.Size);
            small.Pixels.CopyTo(images32, i * Emoji32.PixelsPerImage);
        });
        return new Emoji32
        {
            Images = images32,
            Labels = entries.Select(e => (long)Array.BinarySearch(subcategories, e.Subcategory, StringComparer.Ordinal)).ToArray(),
            Split = entries.Select(e => Emoji32.IsTest(e.Image) ? (byte)1 : (byte)0).ToArray(),
            Items = entries.Select(e => new Emoji32.Item($"{e.Vendor}/{e.Image}", e.Caption,
                Array.BinarySearch(categories, e.Category, StringComparer.Ordinal))).ToArray(),
            Categories = categories,
            Subcategories = subcategories,
        };
    }

    /// <summary>Reads emoji.json and the 64-px images (file name → PNG bytes) from a package tarball.</summary>
    static (byte[] Catalog, Dictionary<string, byte[]> Images) ReadTarball(string tarball, EmojiPackage package)
    {
        byte[]? catalog = null;
        var images = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        try
        {
            using var gz = new GZipStream(File.OpenRead(tarball), CompressionMode.Decompress);
            using var tar = new TarReader(gz);
            while (tar.GetNextEntry() is { } entry)
            {
                if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile) || entry.DataStream is null) continue;
                bool isCatalog = entry.Name == "package/emoji.json";
                bool isImage = entry.Name.StartsWith(package.ImageFolder, StringComparison.Ordinal) && entry.Name.EndsWith(".png", StringComparison.Ordinal);
                if (!isCatalog && !isImage) continue;
                using var buffer = new MemoryStream();
                entry.DataStream.CopyTo(buffer);
                if (isCatalog) catalog = buffer.ToArray();
                else images[entry.Name[package.ImageFolder.Length..]] = buffer.ToArray();
            }
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or FormatException)
        {
            throw new InvalidDataException($"{Path.GetFileName(tarball)}: not a readable tarball ({e.Message})", e);
        }
        if (catalog is null) throw new InvalidDataException($"{Path.GetFileName(tarball)}: no package/emoji.json");
        return (catalog, images);
    }
}
