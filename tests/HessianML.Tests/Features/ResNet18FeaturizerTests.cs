using HessianML.Data;
using HessianML.Features;
using HessianML.Imaging;
using HessianML.Pipeline.MlNet;
using HessianML.Systems;
using Microsoft.ML;

namespace HessianML.Tests.Features;

/// <summary>
/// The built-in ResNet18 (Microsoft.ML.DnnImageFeaturizer.ResNet18's network, fused and batched) on pictures of the
/// shape generator: 512 finite features, the same on every run, batched equal to one image per call and to ML.NET's own
/// per-row DnnFeaturizeImage chain, through Model.Save / Load, and seeing the generator's class switch.
/// </summary>
[TestClass]
public sealed class ResNet18FeaturizerTests
{
    private string _dir = null!;

    public TestContext TestContext { get; set; } = null!;

    [TestInitialize]
    public void Init() => _dir = TestImages.TempDir("resnet");

    [TestCleanup]
    public void Cleanup()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    // Four pictures at 224 x 224 (ResNet18's input, so no resize stands between ours and ML.NET's chain): two pairs
    // with the same small step in t2, one pair on one side of the boundary, the other across it.
    private static readonly (double T1, double T2)[] Points = [(0.5, 0.2), (0.5, 0.3), (0.5, 0.36), (0.5, 0.46)];

    private ColumnTable Pictures(int side = 224)
    {
        var paths = Points.Select((t, i) =>
        {
            string path = Path.Combine(_dir, $"p{i}.png");
            PngWriter.Write(path, ShapePictures.Render(t.T1, t.T2, side).Pixels, side, side);
            return path;
        }).ToArray();
        return new ColumnTable.Builder().AddScalar("image", paths).Build();
    }

    private static ImageFeaturizerOptions Raw(int batch) => new() { BatchSize = batch, Normalize = false };

    // float32 sums of up to 4608 terms (3 x 3 x 512) through 18 convolutions: ONNX Runtime blocks a batch of 4 and a
    // batch of 1 differently, each sum carries rounding of about sqrt(4608) * 6e-8 = 4e-6 relative, and 18 layers
    // compound it to about 1e-4 of the features' scale; well below the 1e-1 scale on which pictures differ (see Distances).
    private const double Relative = 1e-4;

    private static double MaxRelative(float[] a, float[] b)
    {
        Assert.HasCount(a.Length, b);
        double scale = a.Max(v => Math.Abs(v));
        return a.Zip(b, (x, y) => Math.Abs(x - y)).Max() / scale;
    }

    [TestMethod]
    public void Features_Are512_Finite_Deterministic_AndBatchedEqualsOneByOne()
    {
        var data = Pictures();
        using var batched = new MLContext(1).Transforms.FeaturizeImages(Raw(4)).Fit(data);
        Assert.AreEqual(ResNet18Encoder.Dimension, batched.EmbeddingDimension);
        Assert.AreEqual("resnet18", batched.Encoder);
        var a = batched.Transform(data).GetColumn<float>("features").ToArray();
        var again = batched.Transform(data).GetColumn<float>("features").ToArray();
        Assert.HasCount(Points.Length * 512, a);
        Assert.IsTrue(a.All(float.IsFinite));
        Assert.IsTrue(a.Any(v => v != 0), "a real network gives non-zero features");
        CollectionAssert.AreEqual(a, again, "the same batch twice gives the same bytes");
        using var single = new MLContext(1).Transforms.FeaturizeImages(Raw(1)).Fit(data);
        var one = single.Transform(data).GetColumn<float>("features").ToArray();
        double err = MaxRelative(a, one);
        TestContext.WriteLine($"batch 4 vs batch 1: max |difference| / max |feature| = {err:E2}");
        Assert.IsLessThan(Relative, err);
    }

    /// <summary>Our batched featuriser against ML.NET's own chain, LoadImages -> ExtractPixels -> DnnFeaturizeImage(ResNet18), one row at a time.</summary>
    [TestMethod]
    public void Features_EqualMlNetDnnFeaturizeImage()
    {
        var data = Pictures();
        var ml = new MLContext(1);
        // ResizeImages to the size the pictures already have (DnnFeaturizeImage needs an image of known size).
        var chain = ml.Transforms.LoadImages("img", imageFolder: null, inputColumnName: "image")
            .Append(ml.Transforms.ResizeImages("img", 224, 224))
            .Append(ml.Transforms.ExtractPixels("px", "img"))
            .Append(ml.Transforms.DnnFeaturizeImage("dnn", m => m.ModelSelector.ResNet18(ml, m.OutputColumn, m.InputColumn), "px"));
        var theirs = ColumnTable.From(chain.Fit(data).Transform(data), "dnn").GetColumn<float>("dnn").ToArray();
        using var ours = ml.Transforms.FeaturizeImages(Raw(4)).Fit(data);
        var mine = ours.Transform(data).GetColumn<float>("features").ToArray();
        double err = MaxRelative(theirs, mine);
        TestContext.WriteLine($"ours (batched) vs ML.NET DnnFeaturizeImage (per row): max |difference| / max |feature| = {err:E2}");
        Assert.IsLessThan(Relative, err);
    }

    [TestMethod]
    public void SavedAndLoaded_GivesTheSameFeatures()
    {
        var data = Pictures(side: 48);
        var ml = new MLContext(1);
        // Path and hash, not the 64 MB: the package's files are beside the tests; embedding is tested on a tiny encoder.
        using var fitted = ml.Transforms.FeaturizeImages(new ImageFeaturizerOptions { EmbedEncoder = false }).Fit(data);
        var before = fitted.Transform(data).GetColumn<float>("features").ToArray();
        string zip = Path.Combine(_dir, "resnet.zip");
        ml.Model.Save(fitted, data.MlSchema, zip);
        var loaded = new MLContext().Model.Load(zip, out _);
        var after = ColumnTable.From(loaded.Transform(data), "features").GetColumn<float>("features").ToArray();
        double err = MaxRelative(before, after);
        TestContext.WriteLine($"fitted (batch) vs loaded (row by row): {err:E2}");
        Assert.IsLessThan(Relative, err);
        var inner = (ImageFeaturizerTransformer)SavedForm.Components(loaded).Single();
        Assert.AreEqual(fitted.EncoderSha256, inner.EncoderSha256);
        inner.Dispose();
    }

    /// <summary>The class switch is visible to the network: the same step in t2 moves the features further across the boundary than beside it.</summary>
    [TestMethod]
    public void Distances_SeeTheClassSwitch()
    {
        var data = Pictures(side: 64);
        using var featurizer = new MLContext(1).Transforms.FeaturizeImages().Fit(data); // unit length, as the posterior reads them
        var f = featurizer.Transform(data).GetColumn<float>("features").ToArray();
        double D(int i, int j) => Math.Sqrt(Enumerable.Range(0, 512).Sum(k => Math.Pow(f[i * 512 + k] - f[j * 512 + k], 2)));
        Assert.AreEqual(0, ShapePictures.Phase(Points[0].T1, Points[0].T2));
        Assert.AreEqual(0, ShapePictures.Phase(Points[1].T1, Points[1].T2));
        Assert.AreEqual(0, ShapePictures.Phase(Points[2].T1, Points[2].T2));
        Assert.AreEqual(1, ShapePictures.Phase(Points[3].T1, Points[3].T2));
        double within = D(0, 1), across = D(2, 3);
        TestContext.WriteLine($"step 0.1 in t2: {within:F4} within a phase, {across:F4} across the boundary");
        Assert.IsGreaterThan(2 * within, across);
    }
}
