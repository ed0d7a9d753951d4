using HessianML.Data;
using HessianML.Geometry;
using HessianML.Geometry.Geodesics;
using Microsoft.ML;
using Microsoft.ML.Data;
using static HessianML.Tests.MlNet.MlNetFixtures;

namespace HessianML.Tests.MlNet;

/// <summary>
/// Geodesic as a Microsoft.ML estimator: between stock transforms, after LogPartition in one chain, saved and loaded
/// (here and in a child process), served row by row, refusing bad endpoint columns by name.
/// </summary>
[TestClass]
public sealed class GeodesicOnMlNetTests
{
    private const int Points = 20;

    // A coarser table than the default 129 keeps each test's tabulation and Dijkstra in milliseconds.
    private static GeodesicOptions Options() => new() { Points = Points, Resolution = 33 };

    public sealed class PairRow
    {
        [VectorType(2)] public double[] a = new double[2];
        [VectorType(2)] public double[] b = new double[2];
    }

    public sealed class PathRow
    {
        public float[] path = [];
        public double[] cumulative_length = [];
        public double length;
        public double energy;
        public double curvature;
        [VectorType(3)] public double[] summary = [];
    }

    private static readonly string[] Outputs = ["path", "cumulative_length", "length", "energy", "curvature", "summary"];

    private static List<PairRow> Pairs(int n, int seed)
    {
        var p = PointsInBox(2 * n, seed);
        return [.. Enumerable.Range(0, n).Select(i => new PairRow { a = [p[4 * i], p[4 * i + 1]], b = [p[4 * i + 2], p[4 * i + 3]] })];
    }

    // Before: ConvertType of both endpoints to Float32. After: Concatenate of the three scalars.
    private static IEstimator<ITransformer> Chain(MLContext ml, LogPartitionTransformer psi) =>
        ml.Transforms.Conversion.ConvertType([new InputOutputColumnPair("from", "a"), new InputOutputColumnPair("to", "b")], DataKind.Single)
            .Append(ml.Hessian().Geodesic(Options(), psi))
            .Append(ml.Transforms.Concatenate("summary", "length", "energy", "curvature"));

    [TestMethod]
    public void SolvesBetweenStockTransforms()
    {
        var ml = new MLContext(seed: 1);
        var psi = SplinePsi();
        var pairs = Pairs(6, 1);
        var data = ml.Data.LoadFromEnumerable(pairs);
        var output = Chain(ml, psi).Fit(data).Transform(data);
        var path = Read(output, "path");
        var length = Read(output, "length");
        var summary = Read(output, "summary");
        for (int r = 0; r < pairs.Count; r++)
        {
            Assert.HasCount(2 * Points, path[r]);
            // The path's ends are the Float32 endpoints the stock ConvertType made.
            CollectionAssert.AreEqual(pairs[r].a.Select(x => (double)(float)x).ToArray(), path[r][..2], $"row {r}: start");
            CollectionAssert.AreEqual(pairs[r].b.Select(x => (double)(float)x).ToArray(), path[r][^2..], $"row {r}: end");
            Assert.IsGreaterThan(0, length[r][0]);
            CollectionAssert.AreEqual(new[] { length[r][0], Read(output, "energy")[r][0], Read(output, "curvature")[r][0] }, summary[r]);
        }
    }

    [TestMethod]
    public void TakesItsPsiFromTheLogPartitionStepBeforeIt()
    {
        // Exact posteriors of the quadratic psi = t1^2 + t2^2 / 2: the metric is constant, so geodesics are straight
        // segments of length sqrt(d' G d), G = c diag(2, 1) with c the fit's free positive scale. Few rows: exact
        // posteriors pin psi down from any number of them, and EstimatorChain.Fit also transforms the training view
        // with the last step (our Transform is eager: it solves every row's geodesic).
        var ml = new MLContext(seed: 1);
        var table = QuadraticPosteriors(12, 7);
        int n = table.RowCount;
        var from = new float[2 * n];
        var to = new float[2 * n];
        for (int i = 0; i < n; i++) (from[2 * i], from[2 * i + 1], to[2 * i], to[2 * i + 1]) = (-0.5f, -0.6f + 0.1f * i, 0.7f - 0.05f * i, 0.5f);
        var data = table.WithVectorColumn("from", 2, from).WithVectorColumn("to", 2, to);
        var model = ml.Hessian().LogPartition(new LogPartitionOptions { Fit = PsiFit.LogPosteriorLeastSquares, Parametrisation = PsiParametrisation.BSpline, SplineCount = 8 })
            .Append(ml.Hessian().Geodesic(Options()))
            .Fit(data);
        var lp = ((IEnumerable<ITransformer>)model).OfType<LogPartitionTransformer>().Single();
        Assert.AreSame(lp, model.LastTransformer.LogPartition, "the chain handed the fitted psi on");

        var output = model.Transform(data);
        var path = Read(output, "path");
        var length = Read(output, "length");
        double c = lp.Evaluate([0.0], [0.0]).G22[0];
        for (int r = 0; r < n; r++)
        {
            double d1 = to[2 * r] - from[2 * r], d2 = to[2 * r + 1] - from[2 * r + 1];
            double exact = Math.Sqrt(c * (2 * d1 * d1 + d2 * d2));
            // A constant metric is tabulated exactly and the refinement converges on the segment: measured relative
            // length errors ~4e-8 and points ~6e-7 (of the length) off the segment; the bounds leave factors over 100.
            Assert.AreEqual(exact, length[r][0], 1e-5 * exact, $"row {r}: the length of the straight segment");
            for (int i = 0; i < Points; i++)
            {
                double x = path[r][2 * i] - from[2 * r], y = path[r][2 * i + 1] - from[2 * r + 1];
                double off = Math.Abs(x * d2 - y * d1) / (d1 * d1 + d2 * d2);
                Assert.IsLessThan(1e-4, off, $"row {r} point {i}: off the straight segment by {off} of its length");
            }
        }
    }

    [TestMethod]
    public void SavedAndLoadedGivesTheSameOutputsHereAndInAChildProcess()
    {
        var ml = new MLContext(seed: 1);
        var pairs = Pairs(5, 2);
        var data = ml.Data.LoadFromEnumerable(pairs);
        var model = Chain(ml, SplinePsi()).Fit(data);
        string dir = TempFolder("geodesic");
        try
        {
            string zip = Path.Combine(dir, "model.zip");
            var (loaded, _) = SaveAndLoad(ml, model, data.Schema, zip);
            var after = loaded.Transform(new MLContext().Data.LoadFromEnumerable(pairs));
            Assert.AreEqual(new VectorDataViewType(NumberDataViewType.Single), after.Schema["path"].Type, "variable-size after Load");
            // The metric table travels in the zip, so the loaded solver starts from the same numbers.
            AssertSameFittedLoadedAndChild(model.Transform(data), after, zip, data, dir, Outputs);
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
        var pairs = Pairs(4, 3);
        var data = ml.Data.LoadFromEnumerable(pairs);
        var model = Chain(ml, SplinePsi()).Fit(data);
        var engine = ml.Model.CreatePredictionEngine<PairRow, PathRow>(model);
        var predicted = pairs.Select(engine.Predict).ToList();
        var batch = model.Transform(data);
        AssertIdentical(Read(batch, "path"), [.. predicted.Select(p => p.path.Select(x => (double)x).ToArray())], "path");
        AssertIdentical(Read(batch, "cumulative_length"), [.. predicted.Select(p => p.cumulative_length)], "cumulative_length");
        AssertIdentical(Read(batch, "length"), [.. predicted.Select(p => new[] { p.length })], "length");
        AssertIdentical(Read(batch, "energy"), [.. predicted.Select(p => new[] { p.energy })], "energy");
        AssertIdentical(Read(batch, "curvature"), [.. predicted.Select(p => new[] { p.curvature })], "curvature");
        AssertIdentical(Read(batch, "summary"), [.. predicted.Select(p => p.summary)], "summary");
    }

    [TestMethod]
    public void MissingOrMistypedEndpointColumnsAreNamed()
    {
        var ml = new MLContext(seed: 1);
        var estimator = ml.Hessian().Geodesic(new GeodesicOptions { FromColumnName = "start", ToColumnName = "end" }, SplinePsi());
        IReadOnlyList<(string, ColumnType)> required = [("start", ColumnType.Vector(ItemKind.Float32, 2)), ("end", ColumnType.Vector(ItemKind.Float32, 2))];
        SchemaErrors.AssertRefused(estimator, required, "start", ColumnType.Vector(ItemKind.Float64, 2), "Geodesic");
        SchemaErrors.AssertRefused(estimator, required, "end", ColumnType.Scalar(ItemKind.String), "Geodesic");
    }
}
