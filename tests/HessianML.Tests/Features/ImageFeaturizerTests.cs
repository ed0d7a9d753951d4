using HessianML.Pipeline.MlNet;
using System.Diagnostics;
using HessianML.Data;
using HessianML.Features;
using HessianML.Onnx;
using HessianML.Pipeline;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace HessianML.Tests.Features;

/// <summary>
/// The image featuriser with an ONNX encoder (CLIP preprocessing) on tiny encoders we build and compute ourselves, over PNG and JPEG files written here: the
/// embeddings equal (preprocess -> encoder) computed by hand, batches and padding change nothing, bad images are
/// skipped with their names or refused naming them, the encoder's signature is checked, and saved models refuse a
/// changed encoder.
/// </summary>
[TestClass]
public sealed class ImageFeaturizerTests
{
    private static OnnxRuntimeEngine _engine = null!;
    private string _dir = null!;

    public TestContext TestContext { get; set; } = null!;

    [ClassInitialize]
    public static void ClassInit(TestContext _) => _engine = new OnnxRuntimeEngine(new OnnxRuntimeOptions { LogSeverity = 4 });

    [ClassCleanup]
    public static void ClassCleanup() => _engine?.Dispose();

    [TestInitialize]
    public void Init() => _dir = TestImages.TempDir("clip");

    [TestCleanup]
    public void Cleanup()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private ImageFeaturizerOptions Options(string model, int batch = 3, bool normalize = false) => new()
    {
        Encoder = model, ImageSize = 8, BatchSize = batch, Normalize = normalize, Engine = _engine,
    };

    private static ColumnTable Images(params string[] paths) => new ColumnTable.Builder()
        .AddScalar("image", paths)
        .AddVector("t", 2, Enumerable.Range(0, 2 * paths.Length).Select(i => (float)i).ToArray())
        .Build();

    private static readonly float[] Mean = [.. ClipPreprocessing.ClipMean], Std = [.. ClipPreprocessing.ClipStd];

    private static float[] Preprocessed(RgbImage image, int size = 8)
    {
        var x = new float[3 * size * size];
        ClipPreprocessing.Preprocess(image, size, Mean, Std, x);
        return x;
    }

    /// <summary>
    /// A mixed set: 8x8 PNGs (no resampling: the expected input is written out from the pixels here, independently
    /// of ClipPreprocessing), a 12x9 PNG and a 9x14 grayscale PNG (resampled: ClipPreprocessing, itself checked against
    /// Pillow), and a JPEG (decoded by ImageDecoder, then preprocessed).
    /// </summary>
    private (string[] Paths, double[][] Expected) MixedSet(TinyClipEncoder enc)
    {
        var paths = new List<string>();
        var expected = new List<double[]>();
        for (int i = 0; i < 4; i++)
        {
            var img = ClipPreprocessingTests.Random(8, 8, 100 + i);
            paths.Add(TestImages.Write(img, Path.Combine(_dir, $"square{i}.png")));
            var x = new float[3 * 64];
            for (int c = 0; c < 3; c++)
                for (int y = 0; y < 8; y++)
                    for (int xx = 0; xx < 8; xx++)
                        x[(c * 8 + y) * 8 + xx] = (img[xx, y, c] / 255f - Mean[c]) / Std[c];
            expected.Add(enc.Compute(x));
        }
        var wide = ClipPreprocessingTests.Random(12, 9, 200, smooth: true);
        paths.Add(TestImages.Write(wide, Path.Combine(_dir, "wide.png")));
        expected.Add(enc.Compute(Preprocessed(wide)));

        var grayBytes = ClipPreprocessingTests.Random(9, 14, 201).Pixels;
        for (int p = 0; p < grayBytes.Length; p += 3) grayBytes[p + 1] = grayBytes[p + 2] = grayBytes[p];
        var gray = new RgbImage(9, 14, grayBytes);
        paths.Add(TestImages.Write(gray, Path.Combine(_dir, "gray.png"), grayscale: true));
        expected.Add(enc.Compute(Preprocessed(gray)));

        string jpeg = TestImages.Write(ClipPreprocessingTests.Random(16, 10, 202, smooth: true), Path.Combine(_dir, "photo.jpg"), TestImageFormat.Jpeg);
        paths.Add(jpeg);
        expected.Add(enc.Compute(Preprocessed(ImageDecoder.Decode(jpeg))));
        return (paths.ToArray(), expected.ToArray());
    }

    private static double MaxAbs(ReadOnlySpan<float> features, double[][] expected, int d)
    {
        double max = 0;
        for (int r = 0; r < expected.Length; r++)
            for (int e = 0; e < d; e++)
                max = Math.Max(max, Math.Abs(features[r * d + e] - expected[r][e]));
        return max;
    }

    [TestMethod]
    public void Featurizer_EqualsPreprocessThenEncoderComputedByHand()
    {
        var enc = TinyClipEncoder.Random(1);
        string model = enc.Save(_dir);
        var (paths, expected) = MixedSet(enc);
        var data = Images(paths);
        var ctx = new MLContext(1);
        var progress = new List<string>();
        var options = Options(model, batch: 3);
        options.Progress = progress.Add;
        using var featurizer = ctx.Transforms.FeaturizeImages(options).Fit(data);
        Assert.AreEqual(6, featurizer.EmbeddingDimension);
        Assert.AreEqual("pixel_values", featurizer.EncoderInputName);
        Assert.AreEqual("image_embeds", featurizer.EncoderOutputName);
        var clock = Stopwatch.StartNew();
        var output = featurizer.Featurize(data, out var report);
        var f = output.GetColumn<float>("features").Span;
        double err = MaxAbs(f, expected, 6);
        TestContext.WriteLine($"{paths.Length} images in {report.Batches} batches, {clock.Elapsed.TotalMilliseconds:F0} ms: max |ours - by hand| = {err:E2}");
        Assert.IsLessThan(1e-5, err);
        Assert.AreEqual(3, report.Batches);
        Assert.AreEqual(3, progress.Count, string.Join("\n", progress));
        StringAssert.Contains(progress[^1], "batch 3/3, 7/7 images");
        CollectionAssert.AreEqual(data.GetColumn<float>("t").ToArray(), output.GetColumn<float>("t").ToArray(), "rows keep their t");
        Assert.AreEqual(featurizer.EncoderSha256, output.Schema.Metadata[ImageFeaturizerTransformer.EncoderSha256Key]);
        Assert.AreEqual("6", output.Schema.Metadata[ImageFeaturizerTransformer.EmbeddingDimensionKey]);
        Assert.AreEqual(Path.GetFullPath(model), output.Schema.Metadata[ImageFeaturizerTransformer.EncoderPathKey]);
        Assert.IsTrue(output.MlSchema.SameColumns(featurizer.GetOutputSchema(data.MlSchema)));

        // Unit length (the default): the same directions.
        options.Normalize = true;
        options.BatchSize = 32;
        using var unit = new ImageFeaturizerEstimator(options).Fit(data);
        var g = unit.Transform(data).GetColumn<float>("features").Span;
        double errUnit = 0;
        for (int r = 0; r < expected.Length; r++)
        {
            double norm = Math.Sqrt(expected[r].Sum(v => v * v));
            for (int e = 0; e < 6; e++) errUnit = Math.Max(errUnit, Math.Abs(g[r * 6 + e] - expected[r][e] / norm));
        }
        TestContext.WriteLine($"unit-length embeddings: max |ours - by hand| = {errUnit:E2}");
        Assert.IsLessThan(1e-6, errUnit);
    }

    [TestMethod]
    public void FixedBatchEncoder_PadsTheLastBatch_AndRelativePathsUseTheImageFolder()
    {
        var enc = TinyClipEncoder.Random(2);
        string symbolic = enc.Save(_dir, "symbolic.onnx");
        string fixed4 = enc.Save(_dir, "fixed4.onnx", batch: OnnxDim.Fixed(4));
        var (paths, expected) = MixedSet(enc);
        var data = Images(paths.Select(Path.GetFileName).ToArray()!);
        var o = Options(fixed4, batch: 32);
        o.ImageFolder = _dir;
        using var t4 = ImageFeaturizerEstimator.Open(o);
        Assert.AreEqual(4, t4.BatchSize, "a fixed batch dimension wins over the option");
        var f4 = t4.Featurize(data, out var report).GetColumn<float>("features").ToArray();
        Assert.AreEqual(2, report.Batches);
        Assert.IsLessThan(1e-5, MaxAbs(f4, expected, 6));
        var s = Options(symbolic, batch: 5);
        s.ImageFolder = _dir;
        using var ts = ImageFeaturizerEstimator.Open(s);
        var fs = ts.Transform(data).GetColumn<float>("features").ToArray();
        Assert.AreEqual(0, f4.Zip(fs, (a, b) => Math.Abs(a - b)).Max(), 1e-6);
    }

    [TestMethod]
    public void BadImages_AreSkippedWithTheirNames_OrRefusedNamingTheFile()
    {
        var enc = TinyClipEncoder.Random(3);
        string model = enc.Save(_dir);
        var (paths, expected) = MixedSet(enc);
        string corrupt = Path.Combine(_dir, "corrupt.png");
        var png = File.ReadAllBytes(paths[0]);
        File.WriteAllBytes(corrupt, png[..(png.Length / 2)]);
        string text = Path.Combine(_dir, "notes.jpg");
        File.WriteAllText(text, "not an image at all");
        string missing = Path.Combine(_dir, "missing.png");
        string[] all = [paths[0], corrupt, paths[1], missing, paths[2], text, paths[3]];
        var data = Images(all);

        var skip = Options(model, batch: 2);
        skip.OnBadImage = BadImageHandling.Skip;
        using var skipper = ImageFeaturizerEstimator.Open(skip);
        var output = skipper.Featurize(data, out var report);
        Assert.AreEqual(4, output.RowCount);
        Assert.AreEqual(4, report.OutputRows);
        CollectionAssert.AreEqual(new[] { 1, 3, 5 }, report.Skipped.Select(s => s.Row).ToArray());
        CollectionAssert.AreEqual(new[] { corrupt, missing, text }, report.Skipped.Select(s => s.Path).ToArray());
        foreach (var s in report.Skipped) TestContext.WriteLine($"skipped row {s.Row}: {Path.GetFileName(s.Path)} {s.Reason}");
        StringAssert.Contains(report.Skipped[1].Reason, "not found");
        Assert.AreEqual("3", output.Schema.Metadata[ImageFeaturizerTransformer.SkippedImagesKey]);
        // The kept rows are rows 0, 2, 4, 6, in order, with their own t and features.
        CollectionAssert.AreEqual(new float[] { 0, 1, 4, 5, 8, 9, 12, 13 }, output.GetColumn<float>("t").ToArray());
        CollectionAssert.AreEqual(new[] { paths[0], paths[1], paths[2], paths[3] }, output.GetColumn<string>("image").ToArray());
        Assert.IsLessThan(1e-5, MaxAbs(output.GetColumn<float>("features").Span, expected[..4], 6));

        using var failer = ImageFeaturizerEstimator.Open(Options(model, batch: 2));
        var ex = Assert.ThrowsExactly<BadImageException>(() => failer.Transform(data));
        TestContext.WriteLine(ex.Message);
        Assert.AreEqual(corrupt, ex.ImagePath);
        Assert.AreEqual(1, ex.Row);
        StringAssert.Contains(ex.Message, "corrupt.png' (row 1)");
        Assert.IsFalse(ex.Message.Contains('\n'));
    }

    [TestMethod]
    public void EncoderSignature_IsCheckedWithClearMessages()
    {
        var enc = TinyClipEncoder.Random(4);
        string model = enc.Save(_dir);
        var wrongSize = Assert.ThrowsExactly<InvalidDataException>(() => ImageFeaturizerEstimator.Open(Options(model).WithSize(16)));
        TestContext.WriteLine(wrongSize.Message);
        StringAssert.Contains(wrongSize.Message, "pixel_values: Float[batch, 3, 8, 8]");
        StringAssert.Contains(wrongSize.Message, "expected Float[N, 3, 16, 16]");

        // Hugging Face exports list last_hidden_state first: image_embeds is still the one picked.
        string hf = enc.Save(_dir, "hf.onnx", hiddenOutputFirst: true);
        using (var t = ImageFeaturizerEstimator.Open(Options(hf)))
            Assert.AreEqual("image_embeds", t.EncoderOutputName);
        var noSuch = Options(hf);
        noSuch.OutputName = "pooler_output";
        var ex = Assert.ThrowsExactly<InvalidDataException>(() => ImageFeaturizerEstimator.Open(noSuch));
        StringAssert.Contains(ex.Message, "no output 'pooler_output'");
        StringAssert.Contains(ex.Message, "image_embeds: Float[batch, 6]");
        var hidden = Options(hf);
        hidden.OutputName = "last_hidden_state";
        ex = Assert.ThrowsExactly<InvalidDataException>(() => ImageFeaturizerEstimator.Open(hidden));
        StringAssert.Contains(ex.Message, "is not an embedding Float[N, D]");

        // Another output name, D symbolic: found by one run.
        string other = enc.Save(_dir, "other.onnx", output: "embedding", symbolicEmbedding: true);
        using (var t = ImageFeaturizerEstimator.Open(Options(other)))
        {
            Assert.AreEqual("embedding", t.EncoderOutputName);
            Assert.AreEqual(6, t.EmbeddingDimension);
        }

        Assert.ThrowsExactly<FileNotFoundException>(() => ImageFeaturizerEstimator.Open(Options(Path.Combine(_dir, "none.onnx"))));
        string junk = Path.Combine(_dir, "junk.onnx");
        File.WriteAllText(junk, "this is not a protobuf");
        ex = Assert.ThrowsExactly<InvalidDataException>(() => ImageFeaturizerEstimator.Open(Options(junk)));
        StringAssert.Contains(ex.Message, "cannot be loaded by ONNX Runtime");
        Assert.ThrowsExactly<ArgumentException>(() => new ImageFeaturizerEstimator(new ImageFeaturizerOptions { Encoder = " " }));
        Assert.ThrowsExactly<ArgumentException>(() => new ImageFeaturizerEstimator(Options(model).WithSize(0)));

        // Schema: the image column must be there, as strings.
        var est = new ImageFeaturizerEstimator(Options(model));
        var se = Assert.ThrowsExactly<SchemaException>(() => est.Fit(new ColumnTable.Builder().AddVector("t", 2, new float[2]).Build()));
        StringAssert.Contains(se.Message, "'image'");
        var shape = est.GetOutputSchema(SchemaShapes.With(new SchemaShape([]), [("image", TextDataViewType.Instance)]));
        // Its length is the encoder's, fixed once fitted: a vector of known size, so stock transforms can follow it.
        Assert.AreEqual(SchemaShape.Column.VectorKind.Vector, shape.Single(c => c.Name == "features").Kind);
    }

    [TestMethod]
    public void SavedModel_WithoutTheEncoder_StoresPathAndHash_AndRefusesAChangedOrMissingEncoder()
    {
        var enc = TinyClipEncoder.Random(5);
        string model = enc.Save(_dir);
        var (paths, _) = MixedSet(enc);
        var data = Images(paths);
        var ctx = new MLContext(1);
        var options = Options(model);
        options.EmbedEncoder = false;
        using var fitted = ctx.Transforms.FeaturizeImages(options).Fit(data);
        var before = fitted.Transform(data).GetColumn<float>("features").ToArray();
        string zip = Path.Combine(_dir, "featurizer.zip");
        ctx.Model.Save(fitted, data.MlSchema, zip);
        string embeddedZip = Path.Combine(_dir, "embedded.zip");
        using (var embedding = ctx.Transforms.FeaturizeImages(Options(model)).Fit(data)) ctx.Model.Save(embedding, data.MlSchema, embeddedZip);
        long encoderBytes = new FileInfo(model).Length;
        TestContext.WriteLine($"encoder {encoderBytes} bytes; zip {new FileInfo(zip).Length} bytes referenced, {new FileInfo(embeddedZip).Length} embedded");
        Assert.IsLessThan(new FileInfo(embeddedZip).Length - encoderBytes / 2, new FileInfo(zip).Length, "the encoder is referenced, not embedded");

        var loaded = new MLContext().Model.Load(zip, out var schema);
        // Row by row (the loaded form) runs the encoder one image at a time: equal to rounding.
        var after = loaded.Transform(data).GetColumn<float>("features").ToArray();
        Assert.AreEqual(before.Length, after.Length);
        Assert.AreEqual(0, before.Zip(after, (a, b) => Math.Abs(a - b)).Max(), 1e-6);
        Assert.IsTrue(schema.SameColumns(data.MlSchema));
        var inner = (ImageFeaturizerTransformer)SavedForm.Components(loaded).Single();
        Assert.AreEqual(fitted.EncoderSha256, inner.EncoderSha256);
        inner.Dispose();

        // The encoder is checked when the saved state is read (the first row, or recovering the component).
        File.WriteAllBytes(model, TinyClipEncoder.Random(6).ToOnnx());
        var changed = Assert.ThrowsExactly<InvalidDataException>(() => SavedForm.Components(ctx.Model.Load(zip, out _)));
        TestContext.WriteLine(changed.Message);
        StringAssert.Contains(changed.Message, "bytes differ");
        StringAssert.Contains(changed.Message, fitted.EncoderSha256);
        File.Delete(model);
        var gone = Assert.ThrowsExactly<InvalidDataException>(() => SavedForm.Components(ctx.Model.Load(zip, out _)));
        StringAssert.Contains(gone.Message, "not there");

        // The default zip carries the encoder's bytes: it runs with the file gone.
        var fromZip = new MLContext().Model.Load(embeddedZip, out _).Transform(data).GetColumn<float>("features").ToArray();
        Assert.AreEqual(0, before.Zip(fromZip, (a, b) => Math.Abs(a - b)).Max(), 1e-6);
    }
}

internal static class ClipOptionsTestExtensions
{
    public static ImageFeaturizerOptions WithSize(this ImageFeaturizerOptions o, int size)
    {
        o.ImageSize = size;
        return o;
    }
}
