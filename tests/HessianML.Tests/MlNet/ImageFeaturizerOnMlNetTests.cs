using HessianML.Data;
using HessianML.Features;
using HessianML.Figures;
using HessianML.Pipeline.MlNet;
using HessianML.Posterior;
using HessianML.Tests.Features;
using Microsoft.ML;
using Microsoft.ML.Data;
using static HessianML.Tests.MlNet.MlNetFixtures;

namespace HessianML.Tests.MlNet;

/// <summary>
/// ImageFeaturizer as a Microsoft.ML estimator, with a tiny ONNX encoder written here and a few 8 x 8 PNGs: between
/// stock transforms and before FeatureDistancePosterior, saved and loaded (here and in a child process), served row by
/// row, refusing a missing or mistyped image column by name.
/// </summary>
[TestClass]
public sealed class ImageFeaturizerOnMlNetTests
{
    private const int Emb = 6;
    private string _dir = null!;
    private string _encoderPath = null!;
    private TinyClipEncoder _encoder = null!;

    [TestInitialize]
    public void Init()
    {
        _dir = TempFolder("clip-mlnet");
        _encoder = TinyClipEncoder.Random(5, size: 8, emb: Emb);
        _encoderPath = _encoder.Save(_dir);
    }

    [TestCleanup]
    public void Cleanup()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    public sealed class ImageRow
    {
        public string file = "";
        public string kind = "";
        [VectorType(2)] public float[] t = new float[2];
    }

    public sealed class EmbeddingRow
    {
        public float[] features = [];
        public double[] f64 = [];
    }

    private ImageFeaturizerOptions Options(string output = "features") => new()
    {
        Encoder = _encoderPath, ImageSize = 8, BatchSize = 4, OutputColumnName = output,
    };

    /// <summary>Seeded 8 x 8 PNGs (no resampling) whose colours follow t; returns the rows pointing at them.</summary>
    private List<ImageRow> Images(int n, int seed)
    {
        var rng = new Random(seed);
        var rows = new List<ImageRow>();
        for (int i = 0; i < n; i++)
        {
            double t1 = rng.NextDouble(), t2 = rng.NextDouble();
            var pixels = new byte[8 * 8 * 3];
            for (int p = 0; p < pixels.Length; p += 3)
                (pixels[p], pixels[p + 1], pixels[p + 2]) = ((byte)(40 + 180 * t1 + rng.Next(20)), (byte)(40 + 180 * t2 + rng.Next(20)), (byte)rng.Next(256));
            string path = Path.Combine(_dir, $"img{seed}-{i}.png");
            Png.Write(path, pixels, 8, 8);
            rows.Add(new ImageRow { file = path, kind = i % 3 == 0 ? "a" : "b", t = [(float)t1, (float)t2] });
        }
        return rows;
    }

    // Before: MapValueToKey (a key column, which our table cannot hold, must still pass through) and CopyColumns
    // (file -> image). After: ConvertType (features -> Float64 f64).
    private IEstimator<ITransformer> Chain(MLContext ml) =>
        ml.Transforms.Conversion.MapValueToKey("kind_key", "kind")
            .Append(ml.Transforms.CopyColumns("image", "file"))
            .Append(ml.Transforms.FeaturizeImages(Options()))
            .Append(ml.Transforms.Conversion.ConvertType("f64", "features", DataKind.Double));

    /// <summary>The unit-length embedding of one image, computed in double from the encoder's weights.</summary>
    private double[] Expected(string path)
    {
        Assert.IsTrue(ImageDecoder.TryDecode(path, out var image, out _));
        var x = new float[3 * 64];
        ClipPreprocessing.Preprocess(image!, 8, [.. ClipPreprocessing.ClipMean], [.. ClipPreprocessing.ClipStd], x);
        var y = _encoder.Compute(x);
        double norm = Math.Sqrt(y.Sum(v => v * v));
        return [.. y.Select(v => v / norm)];
    }

    [TestMethod]
    public void FeaturizesBetweenStockTransformsAndPassesEveryColumnThrough()
    {
        var ml = new MLContext(seed: 1);
        var rows = Images(7, 1);
        var data = ml.Data.LoadFromEnumerable(rows);
        var model = Chain(ml).Fit(data);
        var output = model.Transform(data);
        var all = ReadAll(output, "features", "f64", "kind_key");
        for (int r = 0; r < rows.Count; r++)
        {
            // Float32 ONNX Runtime against the double reference, after unit-length scaling: a few Float32 ulps.
            AssertClose([Expected(rows[r].file)], [all["features"][r]], 1e-5, $"row {r}: embedding");
            CollectionAssert.AreEqual(all["features"][r], all["f64"][r], $"row {r}: the stock ConvertType after ours");
        }
        Assert.IsInstanceOfType<KeyDataViewType>(output.Schema["kind_key"].Type, "the key column passes through as a key");
        CollectionAssert.AreEqual(rows.Select(r => r.kind == "a" ? 1.0 : 2.0).ToArray(), all["kind_key"].Select(k => k[0]).ToArray());
    }

    [TestMethod]
    public void SkippedImagesDropTheirRowsAndTheOtherColumnsStayAligned()
    {
        var ml = new MLContext(seed: 1);
        var rows = Images(6, 6);
        string bad = Path.Combine(_dir, "not-an-image.png");
        File.WriteAllText(bad, "text");
        rows[2].file = bad;
        rows[4].file = Path.Combine(_dir, "missing.png");
        var data = ml.Data.LoadFromEnumerable(rows);
        var options = Options();
        options.OnBadImage = BadImageHandling.Skip;
        var model = ml.Transforms.Conversion.MapValueToKey("kind_key", "kind")
            .Append(ml.Transforms.CopyColumns("image", "file"))
            .Append(ml.Transforms.FeaturizeImages(options))
            .Fit(data);
        var output = model.Transform(data);
        var all = ReadAll(output, "features", "t", "kind_key");
        int[] kept = [0, 1, 3, 5];
        Assert.HasCount(kept.Length, all["features"]);
        for (int i = 0; i < kept.Length; i++)
        {
            var row = rows[kept[i]];
            AssertClose([Expected(row.file)], [all["features"][i]], 1e-5, $"output row {i} (input row {kept[i]}): embedding");
            CollectionAssert.AreEqual(row.t.Select(x => (double)x).ToArray(), all["t"][i], $"output row {i}: t stays with its image");
            Assert.AreEqual(row.kind == "a" ? 1.0 : 2.0, all["kind_key"][i][0], $"output row {i}: the key stays with its image");
        }
        Assert.AreEqual("2", SchemaMetadata.Read(output.Schema)[ImageFeaturizerTransformer.SkippedImagesKey]);

        // Our own table in: our own table out, with the same rows.
        var table = ColumnTable.From(ml.Transforms.CopyColumns("image", "file").Fit(data).Transform(data), "image", "t");
        var fromTable = ml.Transforms.FeaturizeImages(options).Fit(table).Transform(table);
        Assert.IsInstanceOfType<ColumnTable>(fromTable);
        AssertIdentical(all["features"], Read(fromTable, "features"), "table vs ML.NET view in");
    }

    [TestMethod]
    public void SavedAndLoadedGivesTheSameOutputsHereAndInAChildProcess()
    {
        var ml = new MLContext(seed: 1);
        var rows = Images(6, 2);
        var data = ml.Data.LoadFromEnumerable(rows);
        var model = Chain(ml).Fit(data);
        string zip = Path.Combine(_dir, "model.zip");
        var (loaded, _) = SaveAndLoad(ml, model, data.Schema, zip);
        var after = loaded.Transform(new MLContext().Data.LoadFromEnumerable(rows));
        Assert.AreEqual(new VectorDataViewType(NumberDataViewType.Single), after.Schema["features"].Type, "variable-size after Load");
        var batch = ReadAll(model.Transform(data), "features", "f64");
        var here = ReadAll(after, "features", "f64");
        var child = RunProbe(zip, data, _dir, "features", "f64");
        foreach (var c in new[] { "features", "f64" })
        {
            AssertIdentical(here[c], child[c], $"{c}: loaded here vs child process");
            // Batches of 4 images vs one at a time through ONNX Runtime: the same convolution per image.
            AssertClose(batch[c], here[c], 1e-6, $"{c}: batch vs row");
        }
    }

    [TestMethod]
    public void PredictionEngineGivesTheBatchOutputs()
    {
        var ml = new MLContext(seed: 1);
        var rows = Images(5, 3);
        var data = ml.Data.LoadFromEnumerable(rows);
        var model = Chain(ml).Fit(data);
        var engine = ml.Model.CreatePredictionEngine<ImageRow, EmbeddingRow>(model);
        var predicted = rows.Select(engine.Predict).ToList();
        var batch = ReadAll(model.Transform(data), "features", "f64");
        AssertClose(batch["features"], [.. predicted.Select(p => p.features.Select(x => (double)x).ToArray())], 1e-6, "features");
        AssertClose(batch["f64"], [.. predicted.Select(p => p.f64)], 1e-6, "f64");
    }

    [TestMethod]
    public void FeatureDistancePosteriorAfterTheFeaturizerServesRowByRow()
    {
        // The image pipeline: images -> embeddings -> feature-distance posterior, fitted as one ML.NET chain and served
        // by a prediction engine (the featuriser's row form gives embeddings of unknown length to the next step).
        var ml = new MLContext(seed: 1);
        var rows = Images(24, 4);
        var data = ml.Data.LoadFromEnumerable(rows);
        var model = ml.Transforms.CopyColumns("image", "file")
            .Append(ml.Transforms.FeaturizeImages(Options()))
            .Append(ml.Hessian().FeatureDistancePosterior(new FeatureDistancePosteriorOptions { Grid = 2, Seed = 1 }))
            .Fit(data);
        var batch = Read(model.Transform(data), "posterior");
        var engine = ml.Model.CreatePredictionEngine<ImageRow, PosteriorOnly>(model);
        AssertClose(batch, [.. rows.Select(r => engine.Predict(r).posterior.Select(x => (double)x).ToArray())], 1e-6, "posterior");
    }

    public sealed class PosteriorOnly
    {
        public float[] posterior = [];
    }

    public sealed class NamedEmbeddingRow
    {
        public float[] embedding = [];
    }

    [TestMethod]
    public void ARenamedOutputColumnKeepsItsNameRowByRowAndAfterLoad()
    {
        var ml = new MLContext(seed: 1);
        var rows = Images(3, 5);
        var data = ml.Data.LoadFromEnumerable(rows);
        var model = ml.Transforms.CopyColumns("image", "file").Append(ml.Transforms.FeaturizeImages(Options("embedding"))).Fit(data);
        var batch = Read(model.Transform(data), "embedding");
        var engine = ml.Model.CreatePredictionEngine<ImageRow, NamedEmbeddingRow>(model);
        AssertClose(batch, [.. rows.Select(r => engine.Predict(r).embedding.Select(x => (double)x).ToArray())], 1e-6, "prediction engine");
        string zip = Path.Combine(_dir, "named.zip");
        var (loaded, _) = SaveAndLoad(ml, model, data.Schema, zip);
        var after = loaded.Transform(data);
        AssertClose(batch, Read(after, "embedding"), 1e-6, "loaded");
        Assert.IsNull(after.Schema.GetColumnOrNull("features"), "no column under the default name");
    }

    // ML.NET's own route to images: LoadImages (file -> Image column), then the featuriser on that column.
    private static IEstimator<ITransformer> LoadedImages(MLContext ml, ImageFeaturizerOptions options) =>
        ml.Transforms.LoadImages("image", imageFolder: null!, inputColumnName: "file").Append(ml.Transforms.FeaturizeImages(options));

    [TestMethod]
    public void LoadImagesThenFeaturizeImagesEqualsThePathColumn()
    {
        var ml = new MLContext(seed: 1);
        var rows = Images(7, 7);
        var data = ml.Data.LoadFromEnumerable(rows);
        var fromPaths = ml.Transforms.CopyColumns("image", "file").Append(ml.Transforms.FeaturizeImages(Options())).Fit(data);
        var fromImages = LoadedImages(ml, Options()).Fit(data);
        Assert.IsTrue(SavedForm.Components(fromImages).OfType<ImageFeaturizerTransformer>().Single().TakesImages);
        Assert.IsFalse(SavedForm.Components(fromPaths).OfType<ImageFeaturizerTransformer>().Single().TakesImages);
        var paths = ReadAll(fromPaths.Transform(data), "features", "t");
        var output = fromImages.Transform(data);
        var images = ReadAll(output, "features", "t");
        // The same pixels (opaque PNGs), the same preprocessing, the same batches through the encoder: identical.
        AssertIdentical(paths["features"], images["features"], "LoadImages column vs path column");
        AssertIdentical(paths["t"], images["t"], "other columns pass through");
        Assert.IsInstanceOfType<Microsoft.ML.Transforms.Image.ImageDataViewType>(output.Schema["image"].Type, "the image column passes through");
    }

    [TestMethod]
    public void AFeaturizerOnLoadImagesIsSavedLoadedAndServedRowByRow()
    {
        var ml = new MLContext(seed: 1);
        var rows = Images(5, 8);
        var data = ml.Data.LoadFromEnumerable(rows);
        var model = LoadedImages(ml, Options()).Fit(data);
        var batch = Read(model.Transform(data), "features");
        string zip = Path.Combine(_dir, "images.zip");
        var (loaded, _) = SaveAndLoad(ml, model, data.Schema, zip);
        var after = Read(loaded.Transform(new MLContext().Data.LoadFromEnumerable(rows)), "features");
        // Batches of 4 vs one image at a time through ONNX Runtime: the same convolution per image.
        AssertClose(batch, after, 1e-6, "batch vs loaded (row by row)");
        AssertIdentical(after, RunProbe(zip, data, _dir, "features")["features"], "loaded here vs a plain ML.NET app");
        var inner = SavedForm.Components(loaded).OfType<ImageFeaturizerTransformer>().Single();
        Assert.IsTrue(inner.TakesImages, "the saved state keeps the input kind");
        inner.Dispose();
        var engine = ml.Model.CreatePredictionEngine<ImageRow, EmbeddingOnly>(model);
        AssertClose(batch, [.. rows.Select(r => engine.Predict(r).features.Select(x => (double)x).ToArray())], 1e-6, "prediction engine");
    }

    [TestMethod]
    public void AnImageLoadImagesCannotLoadIsSkippedOrRefusedByRow()
    {
        var ml = new MLContext(seed: 1);
        var rows = Images(4, 10);
        rows[1].file = Path.Combine(_dir, "missing.png");
        var data = ml.Data.LoadFromEnumerable(rows);
        var options = Options();
        options.OnBadImage = BadImageHandling.Skip;
        var output = LoadedImages(ml, options).Fit(data).Transform(data);
        var paths = ml.Transforms.CopyColumns("image", "file").Append(ml.Transforms.FeaturizeImages(options)).Fit(data).Transform(data);
        AssertIdentical(Read(paths, "features"), Read(output, "features"), "the same three rows kept");
        Assert.AreEqual("1", SchemaMetadata.Read(output.Schema)[ImageFeaturizerTransformer.SkippedImagesKey]);
        var refused = Assert.ThrowsExactly<BadImageException>(() => Read(LoadedImages(ml, Options()).Fit(data).Transform(data), "features"));
        TestContext.WriteLine(refused.Message);
        Assert.AreEqual(1, refused.Row);
        Assert.IsFalse(refused.Message.Contains('\n'), "one line");
    }

    public sealed class EmbeddingOnly
    {
        public float[] features = [];
    }

    [TestMethod]
    public void AnImageColumnOfAnotherTypeIsOneLineNamingTheTypesAccepted()
    {
        var ml = new MLContext(seed: 1);
        var estimator = ml.Transforms.FeaturizeImages(Options());
        SchemaErrors.AssertRefused(estimator, [("image", ColumnType.Scalar(ItemKind.String))], "image", ColumnType.Vector(ItemKind.Float32, 3), "ImageFeaturizer");
        var ex = Assert.ThrowsExactly<SchemaException>(() => estimator.Fit(SchemaErrors.View([("image", ColumnType.Scalar(ItemKind.Float32))])));
        TestContext.WriteLine(ex.Message);
        StringAssert.Contains(ex.Message, "must be String (image file paths) or Image (mlContext.Transforms.LoadImages) but is Single");

        // Fitted on images, the transformer (and its saved form) takes images only.
        var rows = Images(2, 9);
        var data = ml.Data.LoadFromEnumerable(rows);
        var model = LoadedImages(ml, Options()).Fit(data);
        var featurizer = SavedForm.Components(model).OfType<ImageFeaturizerTransformer>().Single();
        var paths = ml.Transforms.CopyColumns("image", "file").Fit(data).Transform(data);
        var wrong = Assert.ThrowsExactly<SchemaException>(() => featurizer.Transform(paths));
        SchemaErrors.AssertNames(wrong, "image", "ImageFeaturizer", "paths given to a featuriser fitted on images");
        StringAssert.Contains(wrong.Message, "must be Image (mlContext.Transforms.LoadImages) but is String");
    }

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void MissingOrMistypedImageColumnIsNamed()
    {
        var ml = new MLContext(seed: 1);
        var estimator = ml.Transforms.FeaturizeImages(new ImageFeaturizerOptions { Encoder = _encoderPath, ImageSize = 8, InputColumnName = "photo" });
        SchemaErrors.AssertRefused(estimator, [("photo", ColumnType.Scalar(ItemKind.String))], "photo", ColumnType.Scalar(ItemKind.Float32), "ImageFeaturizer");
    }
}
