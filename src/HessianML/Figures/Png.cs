using SkiaSharp;

namespace HessianML.Figures;

/// <summary>PNG files of raw pictures (generated samples, rendered test images), encoded by SkiaSharp.</summary>
public static class Png
{
    /// <summary>Encodes width x height RGB pixels (row-major, 3 bytes each) as PNG.</summary>
    public static byte[] Encode(ReadOnlySpan<byte> rgb, int width, int height)
    {
        using var bitmap = ToBitmap(rgb, width, height);
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    /// <summary>RGB pixels as an opaque SkiaSharp bitmap.</summary>
    internal static SKBitmap ToBitmap(ReadOnlySpan<byte> rgb, int width, int height)
    {
        if (width < 1 || height < 1)
            throw new ArgumentException($"image size {width} x {height} must be at least 1 x 1");
        if (rgb.Length != checked(width * height * 3))
            throw new ArgumentException($"{rgb.Length} bytes of pixels given for a {width} x {height} RGB image ({width * height * 3} needed)");
        var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        var rgba = new byte[width * height * 4];
        for (int p = 0, q = 0; p < rgb.Length; p += 3, q += 4)
            (rgba[q], rgba[q + 1], rgba[q + 2], rgba[q + 3]) = (rgb[p], rgb[p + 1], rgb[p + 2], 255);
        System.Runtime.InteropServices.Marshal.Copy(rgba, 0, bitmap.GetPixels(), rgba.Length);
        return bitmap;
    }

    /// <summary>Writes an RGB picture as a PNG file, atomically.</summary>
    public static void Write(string path, ReadOnlySpan<byte> rgb, int width, int height) => WriteAtomically(path, Encode(rgb, width, height));

    /// <summary>(width, height, RGB bytes) of a PNG: what tests and the image strip read back.</summary>
    public static (int Width, int Height, byte[] Rgb) Decode(byte[] png)
    {
        using var bitmap = SKBitmap.Decode(png) ?? throw new InvalidDataException("not a PNG image SkiaSharp can decode");
        var rgb = new byte[bitmap.Width * bitmap.Height * 3];
        for (int y = 0, p = 0; y < bitmap.Height; y++)
            for (int x = 0; x < bitmap.Width; x++, p += 3)
            {
                var c = bitmap.GetPixel(x, y);
                (rgb[p], rgb[p + 1], rgb[p + 2]) = (c.Red, c.Green, c.Blue);
            }
        return (bitmap.Width, bitmap.Height, rgb);
    }

    /// <summary>
    /// The picture in <paramref name="file"/> (any format SkiaSharp decodes) centre-cropped to a square and scaled to
    /// side x side, as RGB bytes; null when the file is missing or cannot be decoded.
    /// </summary>
    public static byte[]? Thumbnail(string file, int side)
    {
        if (side < 1) throw new ArgumentOutOfRangeException(nameof(side), $"thumbnail side {side} must be at least 1");
        if (!File.Exists(file)) return null;
        using var source = SKBitmap.Decode(file);
        if (source is null) return null;
        int crop = Math.Min(source.Width, source.Height);
        using var square = new SKBitmap();
        if (!source.ExtractSubset(square, SKRectI.Create((source.Width - crop) / 2, (source.Height - crop) / 2, crop, crop))) return null;
        using var scaled = square.Resize(new SKImageInfo(side, side, SKColorType.Rgba8888, SKAlphaType.Premul), new SKSamplingOptions(SKCubicResampler.Mitchell));
        if (scaled is null) return null;
        var rgb = new byte[side * side * 3];
        for (int y = 0, p = 0; y < side; y++)
            for (int x = 0; x < side; x++, p += 3)
            {
                var c = scaled.GetPixel(x, y);
                (rgb[p], rgb[p + 1], rgb[p + 2]) = (c.Red, c.Green, c.Blue);
            }
        return rgb;
    }

    internal static void WriteAtomically(string path, byte[] bytes)
    {
        var tmp = path + ".tmp";
        File.WriteAllBytes(tmp, bytes);
        File.Move(tmp, path, overwrite: true);
    }
}
