using HessianML.Geometry;
using HessianML.Posterior;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace HessianML.Tests.MlNet;

/// <summary>LogPartition and FisherMetric as Microsoft.ML components: chains with stock transforms, zips, prediction engines.</summary>
[TestClass]
public sealed class PsiComponentsOnMlNetTests
{
    public sealed class Point
    {
        [VectorType(2)] public float[] theta = new float[2];
    }

    public sealed class Metric
    {
        public double psi;
        [VectorType(2)] public double[] dpsi = [];
        [VectorType(3)] public double[] g = [];
        [VectorType(5)] public double[] geometry = [];
    }

    private static List<Point> Points(int n, int seed)
    {
        var rng = new Random(seed);
        return [.. Enumerable.Range(0, n).Select(_ => new Point { theta = [(float)(0.05 + 0.9 * rng.NextDouble()), (float)(-0.45 + 0.9 * rng.NextDouble())] })];
    }

    // Stock transform before (CopyColumns theta -> t) and after (Concatenate dpsi, g -> geometry) our component.
    private static IEstimator<ITransformer> Pipeline(MLContext ml, LogPartitionTransformer psi) =>
        ml.Transforms.CopyColumns("t", "theta")
            .Append(ml.Hessian().FisherMetric(logPartition: psi))
            .Append(ml.Transforms.Concatenate("geometry", "dpsi", "g"));

    private static List<Metric> Outputs(MLContext ml, ITransformer model, IDataView data) =>
        [.. ml.Data.CreateEnumerable<Metric>(model.Transform(data), reuseRowObject: false)];

    private static void AssertMatchesPsi(LogPartitionTransformer psi, List<Point> points, List<Metric> rows, double tolerance)
    {
        var f = psi.Evaluate([.. points.Select(p => (double)p.theta[0])], [.. points.Select(p => (double)p.theta[1])]);
        for (int i = 0; i < points.Count; i++)
        {
            double[] expected = [f.Psi[i], f.Dpsi1[i], f.Dpsi2[i], f.G11[i], f.G12[i], f.G22[i]];
            double[] actual = [rows[i].psi, .. rows[i].dpsi, .. rows[i].g];
            for (int j = 0; j < expected.Length; j++)
                Assert.AreEqual(expected[j], actual[j], tolerance * Math.Max(1, Math.Abs(expected[j])), $"row {i}, output {j}");
            CollectionAssert.AreEqual(actual[1..], rows[i].geometry, $"row {i}: the stock Concatenate after ours");
        }
    }

    [TestMethod]
    public void FisherMetricSitsBetweenStockTransformsAndGivesPsisDerivatives()
    {
        var ml = new MLContext(seed: 1);
        var psi = MlNetFixtures.SplinePsi();
        var points = Points(40, 2);
        var data = ml.Data.LoadFromEnumerable(points);
        var model = Pipeline(ml, psi).Fit(data);
        AssertMatchesPsi(psi, points, Outputs(ml, model, data), 0);
    }

    [TestMethod]
    public void SavedChainLoadsInAFreshContextWithTheSameOutputs()
    {
        var ml = new MLContext(seed: 1);
        var psi = MlNetFixtures.SplinePsi();
        var points = Points(40, 3);
        var data = ml.Data.LoadFromEnumerable(points);
        var model = Pipeline(ml, psi).Fit(data);
        string path = Path.Combine(Path.GetTempPath(), $"hml-mlnet-{Guid.NewGuid():N}.zip");
        try
        {
            ml.Model.Save(model, data.Schema, path);
            var fresh = new MLContext();
            var loaded = fresh.Model.Load(path, out var schema);
            Assert.IsNotNull(schema.GetColumnOrNull("theta"));
            var before = Outputs(ml, model, data);
            var after = Outputs(fresh, loaded, fresh.Data.LoadFromEnumerable(points));
            // Batched (fitted) and row by row (loaded) evaluate the same spline: equal to rounding.
            AssertMatchesPsi(psi, points, after, 1e-12);
            for (int i = 0; i < before.Count; i++) Assert.AreEqual(before[i].psi, after[i].psi, 1e-12 * Math.Max(1, Math.Abs(before[i].psi)));
            (loaded as IDisposable)?.Dispose();
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void PredictionEngineServesSingleRowsOnAFittedChain()
    {
        var ml = new MLContext(seed: 1);
        var psi = MlNetFixtures.SplinePsi();
        var points = Points(5, 4);
        var model = Pipeline(ml, psi).Fit(ml.Data.LoadFromEnumerable(points));
        var engine = ml.Model.CreatePredictionEngine<Point, Metric>(model);
        AssertMatchesPsi(psi, points, [.. points.Select(engine.Predict)], 1e-12);
    }

    [TestMethod]
    public void AMissingOrMistypedParameterColumnIsNamedBeforeAnyWork()
    {
        var ml = new MLContext(seed: 1);
        var psi = MlNetFixtures.SplinePsi();
        var data = ml.Data.LoadFromEnumerable(Points(3, 5));
        var missing = Assert.ThrowsExactly<HessianML.Data.SchemaException>(() => ((IEstimator<FisherMetricTransformer>)ml.Hessian().FisherMetric(logPartition: psi)).Fit(data));
        StringAssert.Contains(missing.Message, "'t'");
        var mistyped = ml.Transforms.Conversion.ConvertType("t", "theta", DataKind.Double).Fit(data).Transform(data);
        var wrong = Assert.ThrowsExactly<HessianML.Data.SchemaException>(() => ((IEstimator<FisherMetricTransformer>)ml.Hessian().FisherMetric(logPartition: psi)).Fit(mistyped));
        StringAssert.Contains(wrong.Message, "'t' must be Vector<Single, 2>");
    }

    [TestMethod]
    public void LogPartitionThenFisherMetricFitAsOneMlNetChain()
    {
        // Exact posteriors of a quadratic psi behind a stock transform: the chain passes the fitted psi on by itself.
        var ml = new MLContext(seed: 1);
        var box = new ParameterBox(-1, 1, -1, 1);
        const int k = 10;
        var c = box.CellCentres(k, k);
        var psiGrid = Enumerable.Range(0, k * k).Select(i => 0.5 * (2 * c[2 * i] * c[2 * i] + c[2 * i + 1] * c[2 * i + 1])).ToArray();
        var (t, p) = SyntheticPosteriors.Generate(box, k, psiGrid, (a, b) => (2 * a, b), 12, 200, 7);
        IDataView view = SyntheticPosteriors.ToDataView(box, k, t, p);
        var model = ml.Transforms.CopyColumns("t_copy", "t")
            .Append(ml.Hessian().LogPartition(new LogPartitionOptions { Fit = PsiFit.LogPosteriorLeastSquares, SplineCount = 8 }))
            .Append(ml.Hessian().FisherMetric())
            .Fit(view);
        var g = ml.Data.CreateEnumerable<Metric>(model.Transform(view), reuseRowObject: false, ignoreMissingColumns: true).Select(r => r.g).ToList();
        // The exact metric is diag(2, 1) up to the fit's free positive scale: the ratio is scale-free.
        double ratio = g.Average(x => x[0] / x[2]);
        Assert.AreEqual(2.0, ratio, 0.2, "g11 / g22 of a psi fitted and differentiated inside one ML.NET chain");
    }
}
