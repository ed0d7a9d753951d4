using HessianML.Data;
using HessianML.Posterior;
using Microsoft.ML;
using Microsoft.ML.Data;
using static HessianML.Tests.MlNet.MlNetFixtures;

namespace HessianML.Tests.MlNet;

/// <summary>
/// FeatureDistancePosterior as a Microsoft.ML estimator: fitted on features a stock normaliser produced, followed by
/// stock transforms, saved and loaded (here and in a child process), served row by row, refusing bad columns by name.
/// </summary>
[TestClass]
public sealed class FeatureDistancePosteriorOnMlNetTests
{
    private const int Grid = 4;

    public sealed class FeatureRow
    {
        [VectorType(2)] public double[] theta = new double[2];
        [VectorType(3)] public float[] raw = new float[3];
    }

    public sealed class PosteriorRow
    {
        public float[] posterior = [];
        [VectorType(Grid * Grid + 2)] public float[] summary = [];
    }

    private static List<FeatureRow> Rows(int n, int seed)
    {
        var (t, f) = NoisyFeatures(n, seed);
        return [.. Enumerable.Range(0, n).Select(i => new FeatureRow { theta = [t[2 * i], t[2 * i + 1]], raw = f[(3 * i)..(3 * i + 3)] })];
    }

    // Before: ConvertType (theta -> Float32 t) and NormalizeMeanVariance (a stock estimator fitted on the raw features).
    // After: Concatenate of our posterior with t.
    private static IEstimator<ITransformer> Chain(MLContext ml) =>
        ml.Transforms.Conversion.ConvertType("t", "theta", DataKind.Single)
            .Append(ml.Transforms.NormalizeMeanVariance("features", "raw"))
            .Append(ml.Hessian().FeatureDistancePosterior(new FeatureDistancePosteriorOptions { Grid = Grid, Seed = 3 }))
            .Append(ml.Transforms.Concatenate("summary", "posterior", "t"));

    private static FeatureDistancePosteriorTransformer Fitted(ITransformer model) =>
        ((IEnumerable<ITransformer>)model).OfType<FeatureDistancePosteriorTransformer>().Single();

    [TestMethod]
    public void FitsOnNormalisedFeaturesAndFeedsStockTransforms()
    {
        var ml = new MLContext(seed: 1);
        var rows = Rows(400, 1);
        var data = ml.Data.LoadFromEnumerable(rows);
        var model = Chain(ml).Fit(data);
        var output = model.Transform(data);
        var fdp = Fitted(model);
        Assert.AreEqual(3, fdp.Posterior.Dimension);

        var features = Read(output, "features");
        var posterior = Read(output, "posterior");
        var split = Read(output, "split");
        var summary = Read(output, "summary");
        var t = Read(output, "t");
        int map = 0;
        for (int r = 0; r < rows.Count; r++)
        {
            // Each row's posterior is the fitted model's at that row's (normalised) features.
            var expected = new float[Grid * Grid];
            fdp.Posterior.Posterior([.. features[r].Select(x => (float)x)], expected);
            CollectionAssert.AreEqual(expected.Select(x => (double)x).ToArray(), posterior[r], $"row {r}");
            Assert.AreEqual(1, posterior[r].Sum(), 1e-5, $"row {r}: a distribution");
            CollectionAssert.AreEqual(posterior[r].Concat(t[r]).ToArray(), summary[r], $"row {r}: the stock Concatenate after ours");
            int best = Array.IndexOf(posterior[r], posterior[r].Max());
            if (best == fdp.Box.CellOf(t[r][0], t[r][1], Grid, Grid)) map++;
        }
        // Held-out rows: TestFraction's default 20%, by PosteriorGrid's seeded rule.
        Assert.AreEqual(80, split.Count(s => s[0] == 1), "the seeded split holds out 20% of the rows");
        // Cells are 0.25 wide and the feature noise 0.05: the posterior's most likely cell is the true one for most rows
        // (measured with this seed: 294 of 400 = 0.735; the bound 0.6 is 6 binomial standard deviations below).
        Assert.IsGreaterThan(0.6, map / (double)rows.Count, $"MAP cell = true cell for {map} of {rows.Count} rows");
    }

    [TestMethod]
    public void SavedAndLoadedGivesTheSameOutputsHereAndInAChildProcess()
    {
        var ml = new MLContext(seed: 1);
        var rows = Rows(60, 2);
        var data = ml.Data.LoadFromEnumerable(rows);
        var model = Chain(ml).Fit(data);
        string dir = TempFolder("fdp");
        try
        {
            string zip = Path.Combine(dir, "model.zip");
            var (loaded, _) = SaveAndLoad(ml, model, data.Schema, zip);
            var after = loaded.Transform(new MLContext().Data.LoadFromEnumerable(rows));
            // The row form gives the posterior, not the split (a property of a whole view); the saved vector's
            // length is not part of the saved schema.
            Assert.IsNull(after.Schema.GetColumnOrNull("split"));
            Assert.AreEqual(new VectorDataViewType(NumberDataViewType.Single), after.Schema["posterior"].Type);

            string[] columns = ["posterior", "summary"];
            // One code path (each row's distances to the centroids) in all three.
            AssertSameFittedLoadedAndChild(model.Transform(data), after, zip, data, dir, columns);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [TestMethod]
    public void PredictionEngineGivesTheBatchOutputs()
    {
        var ml = new MLContext(seed: 1);
        var rows = Rows(80, 3);
        var model = Chain(ml).Fit(ml.Data.LoadFromEnumerable(rows));
        var engine = ml.Model.CreatePredictionEngine<FeatureRow, PosteriorRow>(model);
        var some = rows.Take(10).ToList();
        var predicted = some.Select(engine.Predict).ToList();
        var batch = model.Transform(ml.Data.LoadFromEnumerable(some));
        AssertIdentical(Read(batch, "posterior"), [.. predicted.Select(p => p.posterior.Select(x => (double)x).ToArray())], "posterior");
        AssertIdentical(Read(batch, "summary"), [.. predicted.Select(p => p.summary.Select(x => (double)x).ToArray())], "summary");
    }

    [TestMethod]
    public void MissingOrMistypedInputColumnsAreNamed()
    {
        var ml = new MLContext(seed: 1);
        var estimator = ml.Hessian().FeatureDistancePosterior(new FeatureDistancePosteriorOptions { Grid = Grid, FeaturesColumnName = "embedding" });
        IReadOnlyList<(string, ColumnType)> required = [("t", ColumnType.Vector(ItemKind.Float32, 2)), ("embedding", ColumnType.Vector(ItemKind.Float32, 5))];
        SchemaErrors.AssertRefused(estimator, required, "embedding", ColumnType.Vector(ItemKind.Float64, 5), "FeatureDistancePosterior");
        SchemaErrors.AssertRefused(estimator, required, "t", ColumnType.Scalar(ItemKind.Float32), "FeatureDistancePosterior");
    }
}
