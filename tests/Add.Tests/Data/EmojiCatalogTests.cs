using System.Text;
using Add.Engine.Imaging;
using Add.Train.Data;

namespace Add.Tests.Data;

public class EmojiCatalogTests
{
    const string Json = """
        [{"name":"FATHER CHRISTMAS","image":"1f385.png","category":"People & Body","subcategory":"person-fantasy",
          "has_img_twitter":true,"has_img_google":false,
          "skin_variations":{"1F3FF":{"image":"1f385-1f3ff.png","has_img_twitter":true},
                             "1F3FB-1F3FC":{"image":"x.png","has_img_twitter":true},
                             "1F3FD":{"image":"y.png","has_img_twitter":false}}}]
        """;

    [Fact]
    public void CaptionsCarryNameSkinToneAndStyle()
    {
        var entries = EmojiCatalog.Read(Encoding.UTF8.GetBytes(Json), "twitter");
        Assert.Equal(["father christmas, twitter style", "father christmas, dark skin tone, twitter style",
                      "father christmas, light skin tone, medium-light skin tone, twitter style"], entries.Select(e => e.Caption));
        Assert.DoesNotContain(EmojiCatalog.Read(Encoding.UTF8.GetBytes(Json), "google"), e => e.Image == "1f385.png");
    }

    [Fact]
    public void MissingFieldsFailWithTheFieldName()
        => Assert.Contains("lacks a string 'category'", Assert.Throws<InvalidDataException>(
            () => EmojiCatalog.Read("""[{"name":"X","image":"a.png","has_img_google":true}]"""u8, "google")).Message);

    [Fact]
    public void AreaDownsampleAveragesAlphaCompositedBlocks()
    {
        // 2×2 → 1×1: opaque red, opaque black, transparent (white), half-alpha blue (128/255).
        byte[] rgba = [255, 0, 0, 255, 0, 0, 0, 255, 9, 9, 9, 0, 0, 0, 255, 128];
        var image = Resample.AreaDownsampleOnWhite(2, 2, rgba, 1, 1);
        double blueOnWhiteR = 255 * (255 - 128) / 255.0;               // 127
        double r = (255 + 0 + 255 + blueOnWhiteR) / 4;
        double g = (0 + 0 + 255 + blueOnWhiteR) / 4;
        double b = (0 + 0 + 255 + 255) / 4.0;
        Assert.Equal([(byte)Math.Round(r), (byte)Math.Round(g), (byte)Math.Round(b)], image.Pixels);
        Assert.Throws<ArgumentException>(() => Resample.AreaDownsampleOnWhite(3, 2, new byte[24], 2, 1));
    }

    [Fact]
    public void ContactSheetIsAReadablePng()
    {
        using var dir = new TempDir();
        var data = Emoji32Builder.Build(EmojiFixture.Read(Fixtures.EmojiMini), _ => { });
        var path = dir.File("sheet.png");
        DataCommand.Show(data, path, n: 10, seed: 1);
        var (w, h, _) = Png.DecodeRgba(File.ReadAllBytes(path), path);
        Assert.True(w > 8 * 96 && h > 96, $"sheet is {w}x{h}");
    }
}
