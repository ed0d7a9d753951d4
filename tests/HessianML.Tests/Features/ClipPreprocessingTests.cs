using HessianML.Features;
using SkiaSharp;

namespace HessianML.Tests.Features;

/// <summary>
/// CLIP preprocessing: our port of Pillow's bicubic resize against bytes Pillow 9.4 itself wrote (Debian's python3-pil,
/// <c>Image.frombytes(...).resize((w, h), Image.BICUBIC)</c> on the pattern <see cref="Pattern"/>), against an
/// independent double-precision Keys resampler written here, and the crop + normalisation pixel by pixel.
/// </summary>
[TestClass]
public sealed class ClipPreprocessingTests
{
    public TestContext TestContext { get; set; } = null!;

    /// <summary>The test pattern, the same formula as the Python that produced the references.</summary>
    internal static RgbImage Pattern(int w, int h)
    {
        var p = new byte[w * h * 3];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int c = 0; c < 3; c++)
                    p[(y * w + x) * 3 + c] = (byte)((x * 37 + y * 91 + c * 53 + (x * y) % 17 * 11) % 256);
        return new RgbImage(w, h, p);
    }

    internal static RgbImage Random(int w, int h, int seed, bool smooth = false)
    {
        var rng = new Random(seed);
        var p = new byte[w * h * 3];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int c = 0; c < 3; c++)
                    p[(y * w + x) * 3 + c] = smooth
                        ? (byte)Math.Clamp(128 + 100 * Math.Sin(0.05 * x * (c + 1) + 0.07 * y) + rng.Next(-10, 11), 0, 255)
                        : (byte)rng.Next(256);
        return new RgbImage(w, h, p);
    }

    // (input w, h) -> (output w, h), Pillow's bytes. Shrinking both ways, enlarging, one axis only, and a 4x shrink.
    [DataRow(13, 9, 5, 4, "105,133,147,134,139,145,128,124,120,80,101,144,129,186,113,123,142,113,129,124,111,136,114,134,108,92,148,125,133,140,120,152,141,132,121,128,121,101,122,152,94,149,148,113,148,158,94,148,105,116,153,99,121,134,124,104,156,116,98,154")]
    [DataRow(3, 5, 8, 13, "0,40,93,0,45,98,3,56,108,19,72,123,35,88,144,50,103,172,62,115,192,67,120,201,4,53,107,5,58,112,17,70,124,33,87,141,50,103,154,66,119,165,78,131,173,84,137,176,32,81,149,35,89,155,47,107,174,65,131,193,86,151,185,110,169,148,128,181,117,135,187,105,71,122,190,77,131,197,91,150,223,111,177,246,133,199,214,160,219,127,179,233,55,188,239,28,112,170,166,119,170,173,138,167,199,160,166,224,170,176,199,169,199,121,166,217,57,166,224,33,160,232,83,168,214,90,194,165,111,220,106,136,204,91,142,145,117,128,96,143,115,79,151,110,176,255,26,184,228,34,215,154,52,244,64,78,215,35,104,125,64,130,51,95,148,24,103,156,119,191,41,127,174,51,156,127,79,186,72,113,176,63,125,127,98,114,85,131,103,69,141,105,36,94,88,45,96,100,68,97,138,98,104,178,120,125,164,134,164,93,142,194,34,146,205,23,12,63,135,21,74,141,44,103,164,76,142,185,103,169,157,128,187,81,145,198,19,152,203,7,53,105,188,63,117,178,94,153,155,129,195,124,133,199,99,107,166,79,83,136,66,77,126,65,95,148,227,106,159,205,144,197,142,181,235,67,164,217,47,89,142,79,26,79,112,8,57,122,109,162,244,120,173,216,160,213,139,199,252,48,174,227,28,82,135,78,6,59,127,0,32,141")]
    [DataRow(11, 7, 11, 4, "46,99,145,88,133,186,122,175,120,163,109,162,97,150,196,138,184,96,170,92,145,80,133,68,121,57,110,40,103,156,91,144,197,119,172,88,185,95,153,107,160,79,167,92,145,97,150,65,160,77,139,106,87,145,92,156,156,163,163,216,65,41,94,48,107,160,100,153,158,127,185,95,70,132,110,157,82,144,133,186,101,109,114,167,170,142,52,183,41,100,68,137,190,203,32,85,60,69,122,112,165,101,94,147,192,185,97,160,181,126,38,62,115,161,155,91,144,31,93,139,171,99,152,145,57,110,142,198,251,243,38,91")]
    [DataRow(6, 9, 4, 9, "11,64,117,63,116,169,122,175,238,174,227,113,105,160,223,184,214,108,164,58,88,49,112,167,211,164,49,112,70,143,110,183,141,204,89,42,37,92,156,147,178,72,162,56,87,78,142,197,144,197,149,76,129,97,115,168,136,111,164,116,137,192,78,98,129,192,183,87,140,180,76,129,65,129,184,212,106,137,109,140,34,62,117,181,172,124,177,141,98,151,62,126,179,95,148,201,165,61,114,166,70,123,105,145,198,137,25,78")]
    [DataRow(40, 30, 10, 7, "121,137,128,130,118,128,108,118,140,146,122,115,121,117,124,124,129,127,137,147,129,128,118,124,139,126,108,113,126,133,130,126,138,116,113,132,133,101,152,135,120,125,146,117,121,139,126,131,122,139,130,136,118,143,118,140,127,136,135,135,140,116,149,142,103,134,131,127,122,121,120,129,126,125,125,136,124,136,115,134,131,137,135,121,125,134,132,153,125,121,130,155,110,144,130,140,130,161,173,127,143,135,122,150,119,132,130,120,140,99,107,143,77,101,124,120,127,119,150,105,134,149,118,126,125,125,114,127,144,124,131,123,119,126,134,135,121,116,137,141,121,124,124,135,132,125,125,121,123,126,140,127,144,124,126,135,131,111,124,136,114,132,133,116,122,135,134,124,120,127,131,129,120,152,111,132,139,126,118,146,137,116,129,123,112,136,135,127,118,129,114,128,115,124,131,136,108,147,121,121,139,132,122,125,129,117,141,149,119,132")]
    [TestMethod]
    public void ResizeBicubic_IsBitIdenticalToPillow(int w, int h, int ow, int oh, string pillow)
    {
        var expected = pillow.Split(',').Select(byte.Parse).ToArray();
        var ours = ClipPreprocessing.ResizeBicubic(Pattern(w, h), ow, oh);
        Assert.AreEqual(ow, ours.Width);
        Assert.AreEqual(oh, ours.Height);
        int differ = expected.Where((v, i) => ours.Pixels[i] != v).Count();
        TestContext.WriteLine($"{w}x{h} -> {ow}x{oh}: {differ} of {expected.Length} bytes differ from Pillow");
        Assert.AreEqual(0, differ);
    }

    /// <summary>
    /// An independent resampler from the definition: Keys' cubic (a = -0.5) stretched by max(1, scale) when shrinking,
    /// pixel centres at (i + 0.5) * scale, weights normalised to sum 1 over the input, horizontal then vertical,
    /// each pass rounded to 8 bits. It works in doubles where Pillow uses 22-bit fixed point, so a level can differ.
    /// </summary>
    internal static RgbImage ReferenceResize(RgbImage src, int ow, int oh)
    {
        static double Keys(double x)
        {
            x = Math.Abs(x);
            return x < 1 ? 1.5 * x * x * x - 2.5 * x * x + 1 : x < 2 ? -0.5 * x * x * x + 2.5 * x * x - 4 * x + 2 : 0;
        }
        static double[,] Weights(int n, int m)
        {
            double scale = (double)n / m, fs = Math.Max(1, scale);
            var w = new double[m, n];
            for (int o = 0; o < m; o++)
            {
                double centre = (o + 0.5) * scale, sum = 0;
                for (int i = 0; i < n; i++) sum += w[o, i] = Keys((i + 0.5 - centre) / fs);
                for (int i = 0; i < n; i++) w[o, i] /= sum;
            }
            return w;
        }
        static byte Round(double v) => (byte)Math.Clamp(Math.Floor(v + 0.5), 0, 255);
        var wx = Weights(src.Width, ow);
        var wy = Weights(src.Height, oh);
        var mid = src.Width == ow ? src.Pixels : new byte[ow * src.Height * 3];
        if (src.Width != ow)
            for (int y = 0; y < src.Height; y++)
                for (int x = 0; x < ow; x++)
                    for (int c = 0; c < 3; c++)
                    {
                        double s = 0;
                        for (int i = 0; i < src.Width; i++) s += wx[x, i] * src[i, y, c];
                        mid[(y * ow + x) * 3 + c] = Round(s);
                    }
        if (src.Height == oh) return new RgbImage(ow, oh, mid);
        var dst = new byte[ow * oh * 3];
        for (int y = 0; y < oh; y++)
            for (int x = 0; x < ow; x++)
                for (int c = 0; c < 3; c++)
                {
                    double s = 0;
                    for (int i = 0; i < src.Height; i++) s += wy[y, i] * mid[(i * ow + x) * 3 + c];
                    dst[(y * ow + x) * 3 + c] = Round(s);
                }
        return new RgbImage(ow, oh, dst);
    }

    [TestMethod]
    public void ResizeBicubic_AgreesWithAnIndependentKeysResamplerToOneLevel()
    {
        foreach (var (w, h, ow, oh, seed) in new[] { (640, 480, 298, 224, 1), (100, 150, 224, 336, 2), (37, 23, 11, 7, 3), (224, 300, 224, 224, 4) })
        {
            var src = Random(w, h, seed, smooth: seed % 2 == 1);
            var ours = ClipPreprocessing.ResizeBicubic(src, ow, oh);
            var reference = ReferenceResize(src, ow, oh);
            int max = 0, differ = 0;
            for (int i = 0; i < ours.Pixels.Length; i++)
            {
                int d = Math.Abs(ours.Pixels[i] - reference.Pixels[i]);
                max = Math.Max(max, d);
                if (d > 0) differ++;
            }
            TestContext.WriteLine($"{w}x{h} -> {ow}x{oh}: max |ours - reference| = {max} level(s), {differ} of {ours.Pixels.Length} bytes differ");
            Assert.IsLessThanOrEqualTo(1, max);
            Assert.IsLessThan(0.01 * ours.Pixels.Length, (double)differ, "fixed point and doubles round differently only at ties");
        }
    }

    [TestMethod]
    public void SizesAndCropOffsetsFollowTorchvision()
    {
        Assert.AreEqual((298, 224), ClipPreprocessing.ResizedSize(640, 480, 224));   // int(224 * 640 / 480) = int(298.67)
        Assert.AreEqual((224, 298), ClipPreprocessing.ResizedSize(480, 640, 224));
        Assert.AreEqual((336, 224), ClipPreprocessing.ResizedSize(300, 200, 224));
        Assert.AreEqual((224, 224), ClipPreprocessing.ResizedSize(500, 500, 224));
        Assert.AreEqual((8, 13), ClipPreprocessing.ResizedSize(3, 5, 8));             // int(13.33)
        // Python's round: half to even. (299 - 224) / 2 = 37.5 -> 38; (225 - 224) / 2 = 0.5 -> 0; (227 - 224) / 2 = 1.5 -> 2.
        Assert.AreEqual(37, ClipPreprocessing.CenterCropOffset(298, 224));
        Assert.AreEqual(38, ClipPreprocessing.CenterCropOffset(299, 224));
        Assert.AreEqual(0, ClipPreprocessing.CenterCropOffset(225, 224));
        Assert.AreEqual(2, ClipPreprocessing.CenterCropOffset(227, 224));
    }

    [TestMethod]
    public void Preprocess_WithoutResampling_CropsAndNormalisesExactly()
    {
        // Short side already 8: no resampling; 8 x 13 -> crop rows round(5 / 2) = 2 (half to even) .. 9.
        var img = Random(8, 13, 7);
        const int s = 8;
        var mean = new[] { 0.48145466f, 0.4578275f, 0.40821073f };
        var std = new[] { 0.26862954f, 0.26130258f, 0.27577711f };
        var ours = new float[3 * s * s];
        ClipPreprocessing.Preprocess(img, s, mean, std, ours);
        int mismatches = 0;
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < s; y++)
                for (int x = 0; x < s; x++)
                {
                    float expected = (img[x, y + 2, c] / 255f - mean[c]) / std[c];
                    if (BitConverter.SingleToInt32Bits(expected) != BitConverter.SingleToInt32Bits(ours[(c * s + y) * s + x])) mismatches++;
                }
        Assert.AreEqual(0, mismatches);
        // The same with the width the long side: 13 x 8 -> columns 2 .. 9.
        var wide = Random(13, 8, 8);
        ClipPreprocessing.Preprocess(wide, s, mean, std, ours);
        Assert.AreEqual((wide[2 + 3, 5, 1] / 255f - mean[1]) / std[1], ours[(1 * s + 5) * s + 3]);
        Assert.AreEqual((wide[2 + 0, 0, 0] / 255f - mean[0]) / std[0], ours[0]);
        Assert.AreEqual((wide[2 + 7, 7, 2] / 255f - mean[2]) / std[2], ours[^1]);
    }

    [TestMethod]
    public void Preprocess_WithResampling_IsResizeThenCentreCrop()
    {
        // 640 x 480 -> 298 x 224 (Pillow bicubic), columns 37 .. 260.
        var img = Random(640, 480, 9, smooth: true);
        var mean = ClipPreprocessing.ClipMean.ToArray();
        var std = ClipPreprocessing.ClipStd.ToArray();
        var ours = new float[3 * 224 * 224];
        ClipPreprocessing.Preprocess(img, 224, mean, std, ours);
        var resized = ClipPreprocessing.ResizeBicubic(img, 298, 224);
        double max = 0;
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < 224; y++)
                for (int x = 0; x < 224; x++)
                    max = Math.Max(max, Math.Abs((resized[x + 37, y, c] / 255f - mean[c]) / std[c] - ours[(c * 224 + y) * 224 + x]));
        Assert.AreEqual(0, max);
    }

    /// <summary>
    /// Why the resize is ours and not Skia's (what ML.NET's ResizeImages runs): Skia's Catmull-Rom cubic (the same Keys
    /// a = -0.5 kernel) does not reproduce Pillow's bytes. Measured here so the README's statement stays true.
    /// </summary>
    [TestMethod]
    public void SkiaCatmullRomIsNotPillowBicubic()
    {
        var src = Random(640, 480, 11, smooth: true);
        using var bitmap = new SKBitmap(new SKImageInfo(640, 480, SKColorType.Rgba8888, SKAlphaType.Opaque));
        var px = bitmap.GetPixelSpan();
        for (int i = 0; i < 640 * 480; i++)
            (px[4 * i], px[4 * i + 1], px[4 * i + 2], px[4 * i + 3]) = (src.Pixels[3 * i], src.Pixels[3 * i + 1], src.Pixels[3 * i + 2], 255);
        using var resized = bitmap.Resize(new SKImageInfo(298, 224, SKColorType.Rgba8888, SKAlphaType.Opaque), new SKSamplingOptions(SKCubicResampler.CatmullRom));
        var skia = resized.GetPixelSpan();
        var ours = ClipPreprocessing.ResizeBicubic(src, 298, 224).Pixels;
        int max = 0, differ = 0;
        for (int i = 0; i < ours.Length; i++)
        {
            int d = Math.Abs(ours[i] - skia[i / 3 * 4 + i % 3]);
            max = Math.Max(max, d);
            if (d > 0) differ++;
        }
        TestContext.WriteLine($"Skia Catmull-Rom vs Pillow bicubic, 640x480 -> 298x224: max {max} levels, {100.0 * differ / ours.Length:F1}% of bytes differ");
        Assert.IsGreaterThan(0, max);
    }
}
