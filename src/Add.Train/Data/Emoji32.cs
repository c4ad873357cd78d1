using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Add.Engine.Imaging;
using Add.Engine.SafeTensors;

namespace Add.Train.Data;

/// <summary>
/// The emoji-32 data set (DESIGN.md §3): N RGB images of 32×32 with captions, subcategory labels and a
/// deterministic train/test split. Stored as <c>emoji32.safetensors</c> (images U8 [N,32,32,3], labels I64 [N],
/// split U8 [N]: 0 train, 1 test) plus the sidecar <c>emoji32.json</c> (captions, label names, sources, and the
/// SHA-256 of the safetensors file, so a corrupt or partial cache is detected).
/// </summary>
public sealed class Emoji32
{
    public const int Size = 32;
    public const int PixelsPerImage = Size * Size * 3;
    public const int FormatVersion = 1;
    public const string TensorFile = "emoji32.safetensors";
    public const string SidecarFile = "emoji32.json";

    public required byte[] Images { get; init; }        // (N, 32, 32, 3) uint8
    public required long[] Labels { get; init; }        // (N,) subcategory index
    public required byte[] Split { get; init; }         // (N,) 0 train, 1 test
    public required Item[] Items { get; init; }         // (N,) image name, caption, category index
    public required string[] Categories { get; init; }
    public required string[] Subcategories { get; init; }

    public int Count => Labels.Length;

    /// <summary>Per-image record of the sidecar.</summary>
    public sealed record Item(
        [property: JsonPropertyName("image")] string Image,
        [property: JsonPropertyName("caption")] string Caption,
        [property: JsonPropertyName("category")] int Category);

    sealed record Source(
        [property: JsonPropertyName("name")] string Name,
        [property: JsonPropertyName("version")] string Version,
        [property: JsonPropertyName("sha512")] string Sha512);

    sealed record Sidecar(
        [property: JsonPropertyName("format")] int Format,
        [property: JsonPropertyName("sources")] Source[] Sources,
        [property: JsonPropertyName("safetensors_sha256")] string SafetensorsSha256,
        [property: JsonPropertyName("categories")] string[] Categories,
        [property: JsonPropertyName("subcategories")] string[] Subcategories,
        [property: JsonPropertyName("items")] Item[] Items);

    /// <summary>Test split: about 1 in 10 images, chosen by the SHA-256 of the image file name, so both vendors'
    /// drawings of the same emoji land in the same split and the split never changes between runs.</summary>
    public static bool IsTest(string imageFileName)
        => SHA256.HashData(Encoding.UTF8.GetBytes(imageFileName))[0] % 10 == 0;

    public RgbImage Image(int index) => new(Size, Size, Images.AsSpan(index * PixelsPerImage, PixelsPerImage).ToArray());

    public IEnumerable<int> Indices(bool test) => Enumerable.Range(0, Count).Where(i => (Split[i] == 1) == test);

    /// <summary>Writes both files atomically; the sidecar (which vouches for the tensors) goes last.</summary>
    public void Save(string folder, IEnumerable<EmojiPackage> sources)
    {
        Directory.CreateDirectory(folder);
        var writer = new SafeTensorsWriter();
        writer.Metadata["dataset"] = "emoji-32";
        writer.Add("images", Images, Count, Size, Size, 3);
        writer.Add("labels", Labels, Count);
        writer.Add("split", Split, Count);
        var tensorPath = Path.Combine(folder, TensorFile);
        writer.Save(tensorPath);
        var sidecar = new Sidecar(FormatVersion, sources.Select(s => new Source(s.Name, s.Version, s.Sha512)).ToArray(),
            Sha256Hex(tensorPath), Categories, Subcategories, Items);
        var sidecarPath = Path.Combine(folder, SidecarFile);
        var tmp = sidecarPath + ".tmp";
        File.WriteAllBytes(tmp, JsonSerializer.SerializeToUtf8Bytes(sidecar, Training.ResultJson.Indented));
        File.Move(tmp, sidecarPath, overwrite: true);
    }

    /// <summary>Loads and validates a stored data set; any inconsistency is an <see cref="InvalidDataException"/>.</summary>
    /// <param name="expectedSources">When given, the data set must have been built from exactly these packages.</param>
    public static Emoji32 Load(string folder, IEnumerable<EmojiPackage>? expectedSources = null)
    {
        var tensorPath = Path.Combine(folder, TensorFile);
        var sidecarPath = Path.Combine(folder, SidecarFile);
        if (!File.Exists(sidecarPath)) throw new InvalidDataException($"{sidecarPath} is missing");
        if (!File.Exists(tensorPath)) throw new InvalidDataException($"{tensorPath} is missing");
        Sidecar sidecar;
        try { sidecar = JsonSerializer.Deserialize<Sidecar>(File.ReadAllBytes(sidecarPath)) ?? throw new JsonException("null"); }
        catch (JsonException e) { throw new InvalidDataException($"{sidecarPath}: not a valid sidecar ({e.Message})", e); }
        if (sidecar.Format != FormatVersion)
            throw new InvalidDataException($"{sidecarPath}: format {sidecar.Format}, this build reads format {FormatVersion}");
        if (expectedSources is not null)
        {
            var want = string.Join(";", expectedSources.Select(s => $"{s.Name}@{s.Version}#{s.Sha512}"));
            var have = string.Join(";", sidecar.Sources.Select(s => $"{s.Name}@{s.Version}#{s.Sha512}"));
            if (want != have) throw new InvalidDataException($"{sidecarPath}: built from {have}, expected {want}");
        }
        var sha = Sha256Hex(tensorPath);
        if (sha != sidecar.SafetensorsSha256)
            throw new InvalidDataException($"{tensorPath}: SHA-256 {sha} differs from the sidecar's {sidecar.SafetensorsSha256} (corrupt or partial)");

        using var file = SafeTensorsFile.Open(tensorPath);
        var images = file.ReadUInt8("images");
        var labels = file.ReadInt64("labels");
        var split = file.ReadUInt8("split");
        int n = sidecar.Items.Length;
        if (labels.Length != n || split.Length != n || images.Length != n * PixelsPerImage)
            throw new InvalidDataException($"{folder}: {n} sidecar items but tensors hold {labels.Length} labels, {split.Length} split flags, {images.Length / PixelsPerImage} images");
        if (labels.Any(l => l < 0 || l >= sidecar.Subcategories.Length) || sidecar.Items.Any(i => i.Category < 0 || i.Category >= sidecar.Categories.Length))
            throw new InvalidDataException($"{folder}: a label is out of range");
        return new Emoji32
        {
            Images = images, Labels = labels, Split = split, Items = sidecar.Items,
            Categories = sidecar.Categories, Subcategories = sidecar.Subcategories,
        };
    }

    static string Sha256Hex(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
