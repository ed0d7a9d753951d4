using SkiaSharp;

namespace HessianML.Figures;

/// <summary>One row of an <see cref="ImageStrip"/>: a label and its pictures (RGB bytes, all of one size), left to right.</summary>
public sealed record ImageRow(string Label, IReadOnlyList<byte[]> Pictures);

/// <summary>
/// Rows of small pictures side by side, each row labelled (e.g. the samples along a geodesic above those along the
/// straight line), pictures enlarged by whole pixels so their pixels stay sharp. A raster montage, drawn with SkiaSharp
/// (ScottPlot's renderer) directly: there are no axes to draw.
/// </summary>
public sealed class ImageStrip(string title, IReadOnlyList<ImageRow> rows, int pictureWidth, int pictureHeight)
{
    public string Title { get; } = title;
    public IReadOnlyList<ImageRow> Rows { get; } = rows ?? throw new ArgumentNullException(nameof(rows));
    public int PictureWidth { get; } = pictureWidth;
    public int PictureHeight { get; } = pictureHeight;

    /// <summary>Lines under the title.</summary>
    public string? Caption { get; init; }

    /// <summary>Screen pixels per picture pixel. Default 4 (an 8 x 8 sample becomes 32 x 32).</summary>
    public int Scale { get; init; } = 4;

    public byte[] ToPng()
    {
        if (PictureWidth < 1 || PictureHeight < 1) throw new ArgumentException($"image strip '{Title}': picture size {PictureWidth} x {PictureHeight}");
        foreach (var row in Rows)
            foreach (var p in row.Pictures)
                if (p.Length != PictureWidth * PictureHeight * 3)
                    throw new ArgumentException($"image strip '{Title}', row '{row.Label}': a picture has {p.Length} bytes, {PictureWidth} x {PictureHeight} RGB needs {PictureWidth * PictureHeight * 3}");
        const int labelWidth = 230, gap = 2, margin = 12, titleHeight = 34, lineHeight = 20;
        var caption = Caption?.Split('\n') ?? [];
        int tileW = PictureWidth * Scale, tileH = PictureHeight * Scale;
        int columns = Math.Max(1, Rows.Count == 0 ? 1 : Rows.Max(r => r.Pictures.Count));
        int top = titleHeight + caption.Length * lineHeight + 6;
        int width = Math.Max(margin + labelWidth + columns * (tileW + gap) + margin, Figure.TextWidth(Title, caption));
        int height = top + Math.Max(1, Rows.Count) * (tileH + 2 * gap) + margin;
        using var surface = SKSurface.Create(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        using var typeface = SKTypeface.FromFamilyName(Figure.Font);
        using var titleFont = new SKFont(typeface, 20);
        using var font = new SKFont(typeface, 14);
        using var ink = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        canvas.DrawText(Title, margin, 25, titleFont, ink);
        for (int i = 0; i < caption.Length; i++) canvas.DrawText(caption[i], margin, titleHeight + (i + 1) * lineHeight - 5, font, ink);
        if (Rows.Count == 0) canvas.DrawText("(no rows)", margin, top + 16, font, ink);
        using var nearest = new SKPaint { IsAntialias = false };
        for (int r = 0; r < Rows.Count; r++)
        {
            int y = top + r * (tileH + 2 * gap);
            canvas.DrawText(Rows[r].Label, margin, y + tileH / 2 + 5, font, ink);
            for (int c = 0; c < Rows[r].Pictures.Count; c++)
            {
                using var bitmap = Png.ToBitmap(Rows[r].Pictures[c], PictureWidth, PictureHeight);
                using var image = SKImage.FromBitmap(bitmap);
                var dest = SKRect.Create(margin + labelWidth + c * (tileW + gap), y, tileW, tileH);
                canvas.DrawImage(image, dest, new SKSamplingOptions(SKFilterMode.Nearest), nearest);
            }
        }
        using var snapshot = surface.Snapshot();
        using var data = snapshot.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    public void Save(string path) => Png.WriteAtomically(path, ToPng());
}
