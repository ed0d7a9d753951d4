using HessianML.Features;
using HessianML.Onnx;
using SkiaSharp;

namespace HessianML.Tests.Features;

/// <summary>
/// A tiny stand-in for a CLIP image encoder, written with <see cref="OnnxModelBuilder"/> and computed here in double:
/// pixel_values [N, 3, S, S] -> Conv 3 -> 4 channels (3x3, stride 2, pad 1, bias) -> Relu -> GlobalAveragePool ->
/// Flatten -> Gemm to image_embeds [N, E]. Options: a fixed batch size, an extra rank-4 output listed first (as
/// Hugging Face exports list last_hidden_state before image_embeds), another output name.
/// </summary>
internal sealed record TinyClipEncoder(float[] K, float[] Kb, float[] W, float[] Wb, int Size, int Emb)
{
    public const int C = 3, M = 4, Kh = 3, Stride = 2, Pad = 1;

    public static TinyClipEncoder Random(int seed, int size = 8, int emb = 6)
    {
        var rng = new Random(seed);
        float[] R(int n, double scale = 1) => Enumerable.Range(0, n).Select(_ => (float)((rng.NextDouble() * 2 - 1) * scale)).ToArray();
        return new(R(M * C * Kh * Kh), R(M, 0.2), R(emb * M), R(emb), size, emb);
    }

    public byte[] ToOnnx(OnnxDim? batch = null, bool hiddenOutputFirst = false, string output = "image_embeds", bool symbolicEmbedding = false)
    {
        var b = new OnnxModelBuilder("tiny_clip_image_encoder");
        var n = batch ?? OnnxDim.Symbolic("batch");
        var x = b.AddInput("pixel_values", n, C, Size, Size);
        var conv = b.Relu(b.Conv(x, b.AddInitializer("conv.weight", K, M, C, Kh, Kh), b.AddInitializer("conv.bias", Kb, M),
            kernelShape: [Kh, Kh], strides: [Stride, Stride], pads: [Pad, Pad, Pad, Pad]));
        if (hiddenOutputFirst)
        {
            b.Identity(conv, "last_hidden_state");
            b.AddOutput("last_hidden_state", n, M, OnnxDim.Symbolic("h"), OnnxDim.Symbolic("w"));
        }
        var pooled = b.Flatten(b.GlobalAveragePool(conv));
        b.Gemm(pooled, b.AddInitializer("proj.weight", W, Emb, M), b.AddInitializer("proj.bias", Wb, Emb), transB: true, output: output);
        b.AddOutput(output, n, symbolicEmbedding ? OnnxDim.Symbolic("dim") : OnnxDim.Fixed(Emb));
        return b.ToBytes();
    }

    public string Save(string dir, string name = "encoder.onnx", OnnxDim? batch = null, bool hiddenOutputFirst = false,
        string output = "image_embeds", bool symbolicEmbedding = false)
    {
        string path = Path.Combine(dir, name);
        File.WriteAllBytes(path, ToOnnx(batch, hiddenOutputFirst, output, symbolicEmbedding));
        return path;
    }

    /// <summary>The embedding of one preprocessed image (3 x S x S floats, NCHW), in double.</summary>
    public double[] Compute(ReadOnlySpan<float> x)
    {
        int ho = (Size + 2 * Pad - Kh) / Stride + 1;
        var pooled = new double[M];
        for (int m = 0; m < M; m++)
        {
            double sum = 0;
            for (int oy = 0; oy < ho; oy++)
                for (int ox = 0; ox < ho; ox++)
                {
                    double s = Kb[m];
                    for (int c = 0; c < C; c++)
                        for (int ky = 0; ky < Kh; ky++)
                            for (int kx = 0; kx < Kh; kx++)
                            {
                                int iy = oy * Stride - Pad + ky, ix = ox * Stride - Pad + kx;
                                if (iy < 0 || iy >= Size || ix < 0 || ix >= Size) continue;
                                s += (double)x[(c * Size + iy) * Size + ix] * K[((m * C + c) * Kh + ky) * Kh + kx];
                            }
                    sum += Math.Max(0, s);
                }
            pooled[m] = sum / (ho * ho);
        }
        var y = new double[Emb];
        for (int e = 0; e < Emb; e++)
        {
            double s = Wb[e];
            for (int m = 0; m < M; m++) s += pooled[m] * W[e * M + m];
            y[e] = s;
        }
        return y;
    }
}

/// <summary>The file formats tests write.</summary>
internal enum TestImageFormat
{
    Png,
    Jpeg,
}

/// <summary>Writing test images with SkiaSharp (the library under ML.NET's MLImage).</summary>
internal static class TestImages
{
    public static string Write(RgbImage image, string path, TestImageFormat format = TestImageFormat.Png, bool grayscale = false)
    {
        using var bitmap = grayscale
            ? new SKBitmap(new SKImageInfo(image.Width, image.Height, SKColorType.Gray8, SKAlphaType.Opaque))
            : new SKBitmap(new SKImageInfo(image.Width, image.Height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        var pixels = bitmap.GetPixelSpan();
        for (int i = 0; i < image.Width * image.Height; i++)
        {
            if (grayscale)
            {
                pixels[i] = image.Pixels[3 * i]; // the red channel: callers give gray images (R = G = B)
                continue;
            }
            pixels[4 * i] = image.Pixels[3 * i];
            pixels[4 * i + 1] = image.Pixels[3 * i + 1];
            pixels[4 * i + 2] = image.Pixels[3 * i + 2];
            pixels[4 * i + 3] = 255;
        }
        using var data = bitmap.Encode(format == TestImageFormat.Jpeg ? SKEncodedImageFormat.Jpeg : SKEncodedImageFormat.Png, 90);
        File.WriteAllBytes(path, data.ToArray());
        return path;
    }

    /// <summary>An image whose colour encodes (t1, t2) in [0, 1]^2: R = t1, G = t2, B = 1 - t1 t2, with a fixed texture.</summary>
    public static RgbImage FromT(double t1, double t2, int w, int h)
    {
        var p = new byte[w * h * 3];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                double texture = 12 * Math.Sin(0.9 * x + 0.4 * y);
                int o = (y * w + x) * 3;
                p[o] = (byte)Math.Clamp(Math.Round(30 + 190 * t1 + texture), 0, 255);
                p[o + 1] = (byte)Math.Clamp(Math.Round(30 + 190 * t2 - texture), 0, 255);
                p[o + 2] = (byte)Math.Clamp(Math.Round(220 - 160 * t1 * t2), 0, 255);
            }
        return new RgbImage(w, h, p);
    }

    public static string TempDir(string tag)
    {
        string dir = Path.Combine(Path.GetTempPath(), $"hml-{tag}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        return dir;
    }
}
