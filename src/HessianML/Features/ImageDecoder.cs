using ImageMagick;

namespace HessianML.Features;

/// <summary>
/// Image files -> <see cref="RgbImage"/> through Magick.NET (ImageMagick, 8-bit build). What a CLIP pipeline does with
/// PIL's <c>Image.open(path).convert("RGB")</c>, as close as ImageMagick allows:
/// <list type="bullet">
/// <item>grayscale, palette and CMYK images become sRGB (gray replicated; CMYK by ImageMagick's formula
/// R = (1 - C)(1 - K), the one Pillow uses too; embedded ICC profiles are not applied, by neither);</item>
/// <item>alpha is dropped, the colour values kept as stored (PIL's convert("RGB") does not composite on a background);</item>
/// <item>the EXIF orientation is ignored, as PIL and CLIP's preprocessing ignore it;</item>
/// <item>only the first frame of an animation is read; 16-bit images are reduced to 8 bits.</item>
/// </list>
/// The file's bytes are read by us and the format detected from its content, restricted to the raster formats in
/// <see cref="Formats"/>: a file name is never handed to ImageMagick (which would treat "png:x" or "a[0]" as
/// instructions), and formats that run delegates or scripts (SVG, MVG, PostScript, text) are refused.
/// </summary>
public static class ImageDecoder
{
    /// <summary>The accepted formats (by content, not by extension).</summary>
    public static IReadOnlySet<MagickFormat> Formats { get; } = new HashSet<MagickFormat>
    {
        MagickFormat.Png, MagickFormat.Png8, MagickFormat.Png24, MagickFormat.Png32, MagickFormat.Png48, MagickFormat.Png64,
        MagickFormat.Jpeg, MagickFormat.Jpg, MagickFormat.Gif, MagickFormat.Bmp, MagickFormat.Bmp3, MagickFormat.WebP,
        MagickFormat.Tiff, MagickFormat.Tif, MagickFormat.Tiff64, MagickFormat.Pnm, MagickFormat.Ppm, MagickFormat.Pgm,
    };

    /// <summary>File extensions taken as images when a folder is listed (see <see cref="ImageDataset"/>).</summary>
    public static IReadOnlySet<string> Extensions { get; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        ".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".tif", ".tiff", ".ppm", ".pgm", ".pnm",
    };

    /// <summary>Decodes <paramref name="path"/>; an unreadable file throws <see cref="InvalidDataException"/> naming it and why.</summary>
    public static RgbImage Decode(string path) =>
        TryDecode(path, out var image, out var error) ? image! : throw new InvalidDataException($"image '{path}': {error}");

    /// <summary>Decodes <paramref name="path"/>, or returns false with a one-line reason (missing, unreadable, not an image, damaged).</summary>
    public static bool TryDecode(string path, out RgbImage? image, out string? error)
    {
        image = null;
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            error = ex is FileNotFoundException or DirectoryNotFoundException ? "not found" : $"cannot be read ({OneLine(ex.Message)})";
            return false;
        }
        if (bytes.Length == 0)
        {
            error = "is empty";
            return false;
        }
        try
        {
            var info = new MagickImageInfo(bytes);
            if (!Formats.Contains(info.Format))
            {
                error = $"is {info.Format}, not one of the raster formats read here (PNG, JPEG, GIF, BMP, WebP, TIFF, PNM)";
                return false;
            }
            using var im = new MagickImage(bytes, new MagickReadSettings { Format = info.Format });
            if (im.Width < 1 || im.Height < 1 || (long)im.Width * im.Height > int.MaxValue / 3)
            {
                error = $"has size {im.Width}x{im.Height}";
                return false;
            }
            if (im.ColorSpace != ColorSpace.sRGB) im.ColorSpace = ColorSpace.sRGB;
            // PixelMapping.RGB reads the three colour channels as stored, leaving alpha out.
            var rgb = im.GetPixels().ToByteArray(PixelMapping.RGB);
            if (rgb is null || rgb.Length != (long)im.Width * im.Height * 3)
            {
                error = "gave no RGB pixels";
                return false;
            }
            image = new RgbImage((int)im.Width, (int)im.Height, rgb);
            error = null;
            return true;
        }
        catch (MagickMissingDelegateErrorException)
        {
            error = "is not an image (its content matches no format ImageMagick reads)";
            return false;
        }
        catch (MagickException ex)
        {
            error = $"is damaged or not an image ({Reason(ex)})";
            return false;
        }
    }

    // ImageMagick's messages end in " `path' @ error/png.c/ReadPNGImage/3961": keep the reason, drop the source location.
    private static string Reason(MagickException ex)
    {
        string m = OneLine(ex.Message);
        int at = m.IndexOf(" @ ", StringComparison.Ordinal);
        if (at > 0) m = m[..at];
        int quote = m.IndexOf(" `", StringComparison.Ordinal);
        if (quote > 0) m = m[..quote];
        return m.Trim();
    }

    private static string OneLine(string s) =>
        string.Join(' ', s.Split(['\r', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
