using Add.Train.Data;

namespace Add.Tests.Data;

/// <summary>The whole data pipeline (tarball → emoji.json → PNG → 32×32 → captions/labels/split → cache) on the committed fixture.</summary>
public class Emoji32PipelineTests
{
    static readonly List<(EmojiPackage Package, string Tarball)> Sources = EmojiFixture.Read(Fixtures.EmojiMini);

    static (Emoji32 Data, bool Reused) Prepare(string folder)
        => Emoji32Builder.Prepare(folder, Sources.Select(s => s.Package).ToList(),
            p => Sources.Single(s => s.Package == p).Tarball, _ => { });

    [Fact]
    public void BuildsEveryImageOfBothVendorsWithCaptionsLabelsAndSplit()
    {
        var data = Emoji32Builder.Build(Sources, _ => { });
        int google = data.Items.Count(i => i.Image.StartsWith("google/"));
        int twitter = data.Items.Count(i => i.Image.StartsWith("twitter/"));
        Assert.True(google >= 100, $"fixture should hold a few hundred images, google has {google}");
        Assert.Equal(google, twitter);
        Assert.Equal(data.Count * Emoji32.PixelsPerImage, data.Images.Length);

        // Captions: lower-case name, optional skin tones, vendor style.
        Assert.All(data.Items, i => Assert.Matches(@"^[^A-Z]+, (google|twitter) style$", i.Caption));
        Assert.Contains(data.Items, i => i.Caption.Contains(", dark skin tone, "));
        Assert.All(data.Items.Where(i => i.Image.StartsWith("twitter/")), i => Assert.EndsWith("twitter style", i.Caption));

        // Labels index the subcategory list; the split follows the file-name hash and agrees across vendors.
        Assert.All(data.Labels, l => Assert.InRange(l, 0, data.Subcategories.Length - 1));
        for (int i = 0; i < data.Count; i++)
            Assert.Equal(Emoji32.IsTest(data.Items[i].Image.Split('/')[1]) ? 1 : 0, data.Split[i]);
        Assert.Contains((byte)1, data.Split);
        Assert.Contains((byte)0, data.Split);

        // Images are composited on white (corners of emoji are background) and not blank.
        for (int i = 0; i < data.Count; i++)
        {
            var px = data.Images.AsSpan(i * Emoji32.PixelsPerImage, Emoji32.PixelsPerImage);
            Assert.True(px.IndexOfAnyExcept((byte)255) >= 0, $"image {data.Items[i].Image} is blank");
        }
    }

    [Fact]
    public void CacheIsReusedWhenValidAndRebuiltWhenCorrupt()
    {
        using var dir = new TempDir();
        var (first, reused) = Prepare(dir.Path);
        Assert.False(reused);
        var (second, reusedAgain) = Prepare(dir.Path);
        Assert.True(reusedAgain);
        Assert.Equal(first.Images, second.Images);
        Assert.Equal(first.Items.Select(i => i.Caption), second.Items.Select(i => i.Caption));

        // Flip one pixel byte in the stored tensors: the SHA-256 check catches it and the cache is rebuilt.
        var tensorPath = Path.Combine(dir.Path, Emoji32.TensorFile);
        var bytes = File.ReadAllBytes(tensorPath);
        bytes[^100] ^= 0xFF;
        File.WriteAllBytes(tensorPath, bytes);
        Assert.Throws<InvalidDataException>(() => Emoji32.Load(dir.Path));
        var (rebuilt, reused3) = Prepare(dir.Path);
        Assert.False(reused3);
        Assert.Equal(first.Images, rebuilt.Images);

        // A partial write (truncated tensors) is also rebuilt, never used.
        File.WriteAllBytes(tensorPath, bytes[..1000]);
        Assert.False(Prepare(dir.Path).Reused);

        // A sidecar cut short is rebuilt too.
        var sidecar = Path.Combine(dir.Path, Emoji32.SidecarFile);
        File.WriteAllText(sidecar, File.ReadAllText(sidecar)[..200]);
        Assert.False(Prepare(dir.Path).Reused);
        Assert.True(Prepare(dir.Path).Reused);
    }

    [Fact]
    public void TamperedTarballIsRejectedBySha512()
    {
        using var dir = new TempDir();
        var (package, tarball) = Sources[0];
        var copy = dir.File(Path.GetFileName(tarball));
        var bytes = File.ReadAllBytes(tarball);
        bytes[bytes.Length / 2] ^= 1;
        File.WriteAllBytes(copy, bytes);
        var e = Assert.Throws<InvalidDataException>(() => Emoji32Builder.Build([(package, copy)], _ => { }));
        Assert.Contains("does not match the pinned", e.Message);
    }

    [Fact]
    public void DataSetFromAnotherSourceIsNotReused()
    {
        using var dir = new TempDir();
        Prepare(dir.Path);
        var e = Assert.Throws<InvalidDataException>(() => Emoji32.Load(dir.Path, EmojiPackage.Pinned));
        Assert.Contains("built from", e.Message);
    }
}
