namespace HessianML.Imaging;

/// <summary>An RGB raster to draw figures on, saved as PNG.</summary>
public sealed class Canvas
{
    public int Width { get; }
    public int Height { get; }
    public byte[] Pixels { get; }

    public Canvas(int width, int height, (byte R, byte G, byte B) background)
    {
        if (width < 1 || height < 1 || (long)width * height > 100_000_000)
            throw new ArgumentException($"canvas size {width} x {height} is out of range");
        (Width, Height) = (width, height);
        Pixels = new byte[width * height * 3];
        FillRect(0, 0, width, height, background);
    }

    public void FillRect(int x, int y, int w, int h, (byte R, byte G, byte B) c)
    {
        int x0 = Math.Max(0, x), y0 = Math.Max(0, y), x1 = Math.Min(Width, x + w), y1 = Math.Min(Height, y + h);
        for (int yy = y0; yy < y1; yy++)
            for (int xx = x0; xx < x1; xx++)
            {
                int p = (yy * Width + xx) * 3;
                Pixels[p] = c.R; Pixels[p + 1] = c.G; Pixels[p + 2] = c.B;
            }
    }

    public (byte R, byte G, byte B) this[int x, int y]
    {
        get { int p = (y * Width + x) * 3; return (Pixels[p], Pixels[p + 1], Pixels[p + 2]); }
    }

    public void Text(string text, int x, int y, (byte R, byte G, byte B) colour, int scale = 1) =>
        BitmapFont.Draw(this, text, x, y, colour, scale);

    public void SavePng(string path) => PngWriter.Write(path, Pixels, Width, Height);
}

/// <summary>Perceptually uniform colour map (viridis), sampled at nine anchors and interpolated linearly.</summary>
public static class ColorMap
{
    private static readonly (byte R, byte G, byte B)[] Viridis =
    [
        (0x44, 0x01, 0x54), (0x47, 0x2c, 0x7a), (0x3b, 0x51, 0x8b), (0x2c, 0x71, 0x8e), (0x21, 0x90, 0x8d),
        (0x27, 0xad, 0x81), (0x5c, 0xc8, 0x63), (0xaa, 0xdc, 0x32), (0xfd, 0xe7, 0x25),
    ];

    /// <summary>The colour of a NaN (missing or undefined value): a mid grey, which viridis never takes.</summary>
    public static readonly (byte R, byte G, byte B) Missing = (0x80, 0x80, 0x80);

    /// <summary>Colour of u in [0, 1] (clamped); NaN is drawn <see cref="Missing"/> grey so missing values stand out.</summary>
    public static (byte R, byte G, byte B) Map(double u)
    {
        if (double.IsNaN(u)) return Missing;
        u = Math.Clamp(u, 0, 1) * (Viridis.Length - 1);
        int i = Math.Min((int)u, Viridis.Length - 2);
        double f = u - i;
        var (a, b) = (Viridis[i], Viridis[i + 1]);
        return ((byte)Math.Round(a.R + f * (b.R - a.R)), (byte)Math.Round(a.G + f * (b.G - a.G)),
            (byte)Math.Round(a.B + f * (b.B - a.B)));
    }
}
