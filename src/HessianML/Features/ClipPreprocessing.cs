namespace HessianML.Features;

/// <summary>
/// A decoded 8-bit RGB image: <see cref="Pixels"/> holds Width * Height * 3 bytes, row-major, channels interleaved
/// (R, G, B). What <see cref="ImageDecoder"/> returns and <see cref="ClipPreprocessing"/> consumes.
/// </summary>
public sealed class RgbImage
{
    public RgbImage(int width, int height, byte[] pixels)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        if (width < 1 || height < 1) throw new ArgumentException($"image size {width}x{height} must be at least 1x1");
        if (pixels.Length != (long)width * height * 3)
            throw new ArgumentException($"a {width}x{height} RGB image needs {(long)width * height * 3} bytes, got {pixels.Length}");
        (Width, Height, Pixels) = (width, height, pixels);
    }

    public int Width { get; }
    public int Height { get; }
    public byte[] Pixels { get; }

    public byte this[int x, int y, int channel] => Pixels[(y * Width + x) * 3 + channel];
}

/// <summary>
/// CLIP's image preprocessing, step for step as OpenAI's <c>clip.load(...)[1]</c> and torchvision do it on a PIL image:
/// <c>Resize(S, BICUBIC)</c> (short side to S, the long side <c>int(S * long / short)</c>), <c>CenterCrop(S)</c> (offset
/// <c>int(round((size - S) / 2))</c>, Python's round: half to even), <c>ToTensor</c> (byte / 255 in float32) and
/// <c>Normalize(mean, std)</c> ((x - mean) / std in float32), written as NCHW planes.
/// <para>
/// The resize is our port of Pillow's own resampler (libImaging/Resample.c, unchanged in substance since Pillow 4.3),
/// not Skia's (what ML.NET's ResizeImages runs), because bit-equality with the pipeline the embeddings were trained on is what matters:
/// Pillow's BICUBIC is Keys' cubic with a = -0.5 (Catmull-Rom), widened by the scale factor when shrinking
/// (antialiasing), applied horizontally then vertically with an 8-bit rounded intermediate image, its weights
/// normalised to sum 1 and rounded to 22-bit fixed point. Skia's Catmull-Rom cubic is the same kernel but not those
/// details: bytes differ by a level or more (measured in the tests). Given the same decoded bytes this port reproduces Pillow 9.4's <c>Image.resize(..., BICUBIC)</c>
/// exactly (tested against bytes Pillow wrote).
/// </para>
/// </summary>
public static class ClipPreprocessing
{
    /// <summary>OpenAI CLIP's per-channel mean (RGB), the statistics its image encoders were trained with.</summary>
    public static IReadOnlyList<float> ClipMean { get; } = [0.48145466f, 0.4578275f, 0.40821073f];

    /// <summary>OpenAI CLIP's per-channel standard deviation (RGB).</summary>
    public static IReadOnlyList<float> ClipStd { get; } = [0.26862954f, 0.26130258f, 0.27577711f];

    /// <summary>
    /// torchvision's <c>Resize(S)</c> output size for a <paramref name="width"/> x <paramref name="height"/> image: the
    /// short side becomes <paramref name="shortSide"/>, the long side <c>int(S * long / short)</c> (truncated, as Python's int()).
    /// </summary>
    public static (int Width, int Height) ResizedSize(int width, int height, int shortSide)
    {
        if (width < 1 || height < 1 || shortSide < 1) throw new ArgumentException($"sizes must be positive: {width}x{height} to short side {shortSide}");
        if (width <= height)
            return (shortSide, (int)((double)((long)shortSide * height) / width));
        return ((int)((double)((long)shortSide * width) / height), shortSide);
    }

    /// <summary>torchvision's <c>CenterCrop</c> offset for a crop of <paramref name="crop"/> out of <paramref name="size"/>: int(round((size - crop) / 2)), half to even.</summary>
    public static int CenterCropOffset(int size, int crop) => (int)Math.Round((size - crop) / 2.0, MidpointRounding.ToEven);

    /// <summary>
    /// The whole preprocessing of one image into <paramref name="destination"/> (3 * S * S floats, planes R, G, B, each
    /// row-major): resize the short side to S with Pillow's bicubic, centre-crop S x S, scale to [0, 1], normalise.
    /// </summary>
    public static void Preprocess(RgbImage image, int size, ReadOnlySpan<float> mean, ReadOnlySpan<float> std, Span<float> destination)
    {
        if (mean.Length != 3 || std.Length != 3) throw new ArgumentException("mean and std need 3 values each (R, G, B)");
        Planes(image, size, mean, std, destination);
    }

    /// <summary>
    /// The same resize and centre crop, the pixel values kept as they are (0..255 as floats, RGB planes): the input of
    /// ML.NET's ResNet18 (ExtractPixels with its defaults; the model subtracts its mean image itself).
    /// </summary>
    public static void PreprocessBytes(RgbImage image, int size, Span<float> destination) => Planes(image, size, default, default, destination);

    // Resize, crop and write planes; normalised when mean and std are given, raw bytes when they are empty.
    private static void Planes(RgbImage image, int size, ReadOnlySpan<float> mean, ReadOnlySpan<float> std, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (size < 1) throw new ArgumentOutOfRangeException(nameof(size), $"size {size} must be positive");
        if (destination.Length != 3 * size * size)
            throw new ArgumentException($"destination holds {destination.Length} floats; 3 x {size} x {size} = {3 * size * size} needed");
        var (w, h) = ResizedSize(image.Width, image.Height, size);
        var resized = ResizeBicubic(image, w, h);
        int left = CenterCropOffset(w, size), top = CenterCropOffset(h, size);
        int plane = size * size;
        bool raw = mean.IsEmpty;
        for (int c = 0; c < 3; c++)
        {
            float m = raw ? 0 : mean[c], s = raw ? 1 : std[c];
            for (int y = 0; y < size; y++)
            {
                int src = ((top + y) * w + left) * 3 + c;
                int dst = c * plane + y * size;
                for (int x = 0; x < size; x++, src += 3)
                    // Two float32 operations in torch's order: ToTensor divides by 255, Normalize subtracts and divides.
                    destination[dst + x] = raw ? resized.Pixels[src] : (resized.Pixels[src] / 255f - m) / s;
            }
        }
    }

    // ---- Pillow's resampler (libImaging/Resample.c), 8 bits per channel -------------------------------------------

    private const int PrecisionBits = 32 - 8 - 2; // Pillow's PRECISION_BITS: weights in 22-bit fixed point
    private const double Support = 2.0;           // the bicubic kernel is zero beyond |x| >= 2

    /// <summary>Keys' cubic convolution kernel with a = -0.5 (Pillow's bicubic_filter).</summary>
    internal static double Bicubic(double x)
    {
        const double a = -0.5;
        if (x < 0) x = -x;
        if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
        if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
        return 0;
    }

    /// <summary>
    /// Pillow's <c>Image.resize((width, height), Image.BICUBIC)</c> of an 8-bit RGB image: bit-identical to Pillow for
    /// the same input bytes. The same size returns a copy (Pillow does not resample then either).
    /// </summary>
    public static RgbImage ResizeBicubic(RgbImage image, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (width < 1 || height < 1) throw new ArgumentException($"target size {width}x{height} must be at least 1x1");
        if (width == image.Width && height == image.Height) return new RgbImage(width, height, (byte[])image.Pixels.Clone());
        var (boundsH, kH, ksizeH) = Coefficients(image.Width, width);
        var (boundsV, kV, ksizeV) = Coefficients(image.Height, height);
        var current = image;
        if (width != image.Width)
        {
            // Pillow runs the horizontal pass only over the rows the vertical pass reads; the others do not matter,
            // so every row is done here (the same bytes where it counts).
            var dst = new byte[width * image.Height * 3];
            for (int y = 0; y < image.Height; y++)
            {
                int row = y * image.Width * 3;
                for (int x = 0; x < width; x++)
                {
                    int xmin = boundsH[2 * x], xcount = boundsH[2 * x + 1], k = x * ksizeH;
                    int s0 = 1 << (PrecisionBits - 1), s1 = s0, s2 = s0;
                    for (int i = 0; i < xcount; i++)
                    {
                        int p = row + (xmin + i) * 3, wgt = kH[k + i];
                        s0 += image.Pixels[p] * wgt;
                        s1 += image.Pixels[p + 1] * wgt;
                        s2 += image.Pixels[p + 2] * wgt;
                    }
                    int o = (y * width + x) * 3;
                    dst[o] = Clip8(s0);
                    dst[o + 1] = Clip8(s1);
                    dst[o + 2] = Clip8(s2);
                }
            }
            current = new RgbImage(width, image.Height, dst);
        }
        if (height != image.Height)
        {
            var src = current.Pixels;
            var dst = new byte[width * height * 3];
            int stride = width * 3;
            for (int y = 0; y < height; y++)
            {
                int ymin = boundsV[2 * y], ycount = boundsV[2 * y + 1], k = y * ksizeV;
                for (int x = 0; x < width; x++)
                {
                    int s0 = 1 << (PrecisionBits - 1), s1 = s0, s2 = s0;
                    for (int i = 0; i < ycount; i++)
                    {
                        int p = (ymin + i) * stride + x * 3, wgt = kV[k + i];
                        s0 += src[p] * wgt;
                        s1 += src[p + 1] * wgt;
                        s2 += src[p + 2] * wgt;
                    }
                    int o = (y * width + x) * 3;
                    dst[o] = Clip8(s0);
                    dst[o + 1] = Clip8(s1);
                    dst[o + 2] = Clip8(s2);
                }
            }
            current = new RgbImage(width, height, dst);
        }
        return current;
    }

    private static byte Clip8(int v) =>
        v >= (1 << PrecisionBits << 8) ? (byte)255 : v <= 0 ? (byte)0 : (byte)(v >> PrecisionBits);

    /// <summary>
    /// Pillow's precompute_coeffs + normalize_coeffs_8bpc for one axis: for each output pixel the first input pixel,
    /// the count of input pixels, and the fixed-point weights (ksize per output pixel).
    /// </summary>
    private static (int[] Bounds, int[] Weights, int KSize) Coefficients(int inSize, int outSize)
    {
        double scale = (double)inSize / outSize;
        double filterScale = Math.Max(scale, 1.0); // shrinking widens the kernel: the antialiasing
        double support = Support * filterScale;
        int ksize = (int)Math.Ceiling(support) * 2 + 1;
        var bounds = new int[2 * outSize];
        var weights = new int[outSize * ksize];
        var k = new double[ksize];
        for (int xx = 0; xx < outSize; xx++)
        {
            double center = (xx + 0.5) * scale;
            double ss = 1.0 / filterScale;
            int xmin = (int)(center - support + 0.5); // C's (int) truncates toward zero, as here
            if (xmin < 0) xmin = 0;
            int xmax = (int)(center + support + 0.5);
            if (xmax > inSize) xmax = inSize;
            xmax -= xmin;
            double ww = 0;
            for (int x = 0; x < xmax; x++)
            {
                double w = Bicubic((x + xmin - center + 0.5) * ss);
                k[x] = w;
                ww += w;
            }
            for (int x = 0; x < xmax; x++)
            {
                double w = ww != 0 ? k[x] / ww : k[x];
                // Round half away from zero into fixed point, as normalize_coeffs_8bpc.
                weights[xx * ksize + x] = w < 0 ? (int)(-0.5 + w * (1 << PrecisionBits)) : (int)(0.5 + w * (1 << PrecisionBits));
            }
            bounds[2 * xx] = xmin;
            bounds[2 * xx + 1] = xmax;
        }
        return (bounds, weights, ksize);
    }
}
