using Microsoft.ML.Data;
using SkiaSharp;

namespace HessianML.Features;

/// <summary>
/// Image files -> <see cref="RgbImage"/> with SkiaSharp, the library under ML.NET's own image type <see cref="MLImage"/>
/// (Microsoft.ML.ImageAnalytics: <c>mlContext.Transforms.LoadImages</c>), so a path column and a LoadImages column give
/// the same pixels for opaque images (tested); <see cref="TryFromMLImage"/> takes a LoadImages column's images as
/// they are. What a CLIP pipeline does with PIL's <c>Image.open(path).convert("RGB")</c>:
/// <list type="bullet">
/// <item>grayscale and palette images become RGB (gray replicated); CMYK JPEGs are converted by Skia;</item>
/// <item>alpha is dropped, the colour values kept as stored (PIL's convert("RGB") does not composite either);</item>
/// <item>the EXIF orientation is ignored, as PIL and CLIP's preprocessing ignore it;</item>
/// <item>only the first frame of an animation is read; 16-bit images are reduced to 8 bits.</item>
/// </list>
/// WHY through Skia's codec and not <see cref="MLImage.CreateFromFile"/>: MLImage accepts a truncated file and fills the
/// missing rows with zeros (measured: half a PNG decodes), and premultiplies alpha (a pixel (10, 20, 30, 128) becomes
/// (5, 10, 15)); the codec reports both, so a damaged image is refused by name and a transparent one keeps PIL's colours.
/// The file's bytes are read by us and the format detected from the content (PNG, JPEG, GIF, BMP, WebP, ICO).
/// </summary>
public static class ImageDecoder
{
    /// <summary>File extensions taken as images when a folder is listed (see <see cref="ImageDataset"/>).</summary>
    public static IReadOnlySet<string> Extensions { get; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        ".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp",
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
        using var codec = SKCodec.Create(new MemoryStream(bytes, writable: false), out var opened);
        if (codec is null || opened != SKCodecResult.Success)
        {
            error = $"is damaged or not an image (Skia: {opened}; PNG, JPEG, GIF, BMP and WebP are read)";
            return false;
        }
        int w = codec.Info.Width, h = codec.Info.Height;
        if (w < 1 || h < 1 || (long)w * h > int.MaxValue / 4)
        {
            error = $"has size {w}x{h}";
            return false;
        }
        var info = new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var rgba = new byte[info.BytesSize];
        SKCodecResult result;
        unsafe
        {
            fixed (byte* p = rgba) result = codec.GetPixels(info, (IntPtr)p);
        }
        if (result != SKCodecResult.Success)
        {
            error = result == SKCodecResult.IncompleteInput ? "is truncated (the file ends inside the image)" : $"is damaged (Skia: {result})";
            return false;
        }
        image = new RgbImage(w, h, DropAlpha(rgba, w * h, 0, 2));
        error = null;
        return true;
    }

    /// <summary>
    /// The RGB bytes of an <see cref="MLImage"/> (what <c>LoadImages</c> yields), alpha dropped; false with a reason for
    /// a size this library does not take.
    /// </summary>
    public static bool TryFromMLImage(MLImage source, out RgbImage? image, out string? error)
    {
        ArgumentNullException.ThrowIfNull(source);
        image = null;
        int w = source.Width, h = source.Height;
        if (w < 1 || h < 1 || (long)w * h > int.MaxValue / 4)
        {
            error = $"has size {w}x{h}";
            return false;
        }
        // Bgra32 or Rgba32 (MLImage converts every other decoded layout to Bgra32).
        bool rgbaOrder = source.PixelFormat == MLPixelFormat.Rgba32;
        image = new RgbImage(w, h, DropAlpha(source.Pixels, w * h, rgbaOrder ? 0 : 2, rgbaOrder ? 2 : 0));
        error = null;
        return true;
    }

    private static byte[] DropAlpha(ReadOnlySpan<byte> pixels, int count, int red, int blue)
    {
        var rgb = new byte[count * 3];
        for (int i = 0, j = 0; i < rgb.Length; i += 3, j += 4)
        {
            rgb[i] = pixels[j + red];
            rgb[i + 1] = pixels[j + 1];
            rgb[i + 2] = pixels[j + blue];
        }
        return rgb;
    }

    private static string OneLine(string s) =>
        string.Join(' ', s.Split(['\r', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
