using Add.Engine.Imaging;

namespace Add.Train.Imaging;

/// <summary>A grid of images, each enlarged and captioned underneath (contact sheets, sample grids).</summary>
public static class CaptionedGrid
{
    /// <param name="scale">Nearest-neighbour enlargement of each image.</param>
    /// <param name="captionLines">Lines of caption text reserved under each image.</param>
    public static RgbImage Render(IReadOnlyList<(RgbImage Image, string Caption)> cells, int columns, int scale = 3, int captionLines = 4)
    {
        if (cells.Count == 0) throw new ArgumentException("a grid needs at least one image", nameof(cells));
        var tiles = new List<RgbImage>(cells.Count);
        foreach (var (image, caption) in cells)
        {
            var big = Resample.Enlarge(image, scale);
            var tile = RgbImage.White(big.Width, big.Height + 2 + captionLines * TinyFont.LineHeight);
            tile.Paste(big, 0, 0);
            var lines = TinyFont.Wrap(caption, big.Width);
            for (int l = 0; l < Math.Min(lines.Count, captionLines); l++)
                TinyFont.Draw(tile, lines[l], 0, big.Height + 2 + l * TinyFont.LineHeight);
            tiles.Add(tile);
        }
        return Resample.Grid(tiles, columns, gutter: 6);
    }
}
