using HessianML.Data;
using HessianML.Geometry;
using HessianML.Pipeline.MlNet;
using Microsoft.ML;
using Microsoft.ML.Data;
using static HessianML.Tests.MlNet.MlNetFixtures;

namespace HessianML.Tests.MlNet;

/// <summary>
/// FisherMetric as a Microsoft.ML component: between stock transforms, saved and loaded (here and in a plain ML.NET
/// child process, on the `hessian run` model contract t -> psi, dpsi, g), served by a prediction engine, and refusing
/// a missing or mistyped parameter column by name.
/// </summary>
[TestClass]
public sealed class FisherMetricOnMlNetTests
{
    private static readonly string[] Outputs = ["psi", "dpsi", "g", "g_eigen"];

    public sealed class ThetaRow
    {
        [VectorType(2)] public double[] theta = new double[2];
    }

    public sealed class MetricRow
    {
        public double psi;
        [VectorType(2)] public double[] dpsi = [];
        [VectorType(3)] public double[] g = [];
        [VectorType(2)] public double[] g_eigen = [];
        [VectorType(3)] public float[] g_n = [];
    }

    private static List<ThetaRow> Thetas(int n, int seed)
    {
        var t = PointsInBox(n, seed);
        return [.. Enumerable.Range(0, n).Select(i => new ThetaRow { theta = [t[2 * i], t[2 * i + 1]] })];
    }

    // Before: ConvertType (Float64 theta -> Float32 t). After: ConvertType (g -> Float32) then NormalizeMeanVariance, a
    // stock estimator fitted on our output.
    private static IEstimator<ITransformer> Chain(MLContext ml, LogPartitionTransformer psi) =>
        ml.Transforms.Conversion.ConvertType("t", "theta", DataKind.Single)
            .Append(ml.Hessian().FisherMetric(logPartition: psi))
            .Append(ml.Transforms.Conversion.ConvertType("g_f", "g", DataKind.Single))
            .Append(ml.Transforms.NormalizeMeanVariance("g_n", "g_f", fixZero: false));

    [TestMethod]
    public void FitsAndRunsBetweenStockTransforms()
    {
        var ml = new MLContext(seed: 1);
        var psi = SplinePsi();
        var rows = Thetas(60, 2);
        var data = ml.Data.LoadFromEnumerable(rows);
        var model = Chain(ml, psi).Fit(data);
        var output = model.Transform(data);

        // psi's own derivatives at the Float32 t the stock ConvertType produced.
        var t = Read(output, "t");
        var f = psi.Evaluate([.. t.Select(p => p[0])], [.. t.Select(p => p[1])]);
        var g = Read(output, "g");
        for (int i = 0; i < rows.Count; i++)
        {
            Assert.AreEqual((float)rows[i].theta[0], t[i][0]);
            CollectionAssert.AreEqual(new[] { f.G11[i], f.G12[i], f.G22[i] }, g[i], $"row {i}: g");
        }
        CollectionAssert.AreEqual(f.Psi, Read(output, "psi").Select(x => x[0]).ToArray());

        // The stock normaliser after ours was fitted on our g: each item has mean 0 and variance 1 over the rows.
        var gn = Read(output, "g_n");
        for (int j = 0; j < 3; j++)
        {
            var col = gn.Select(r => r[j]).ToArray();
            double mean = col.Average(), variance = col.Select(x => (x - mean) * (x - mean)).Average();
            Assert.AreEqual(0, mean, 1e-4, $"g_n[{j}] mean (Float32 offset and scale)");
            Assert.AreEqual(1, variance, 2e-2 + 1.0 / col.Length, $"g_n[{j}] variance (NormalizeMeanVariance divides by n - 1)");
        }

        // Our own table in gives the same numbers as ML.NET's enumerable view in (the table path skips the cursor indirection).
        var table = ColumnTable.From(data);
        var fromTable = model.Transform(table);
        foreach (var c in Outputs.Append("g_n")) AssertIdentical(Read(output, c), Read(fromTable, c), $"{c}: table vs enumerable input");
    }

    [TestMethod]
    public void SavedAndLoadedInAFreshContextGivesTheSameOutputs()
    {
        var ml = new MLContext(seed: 1);
        var rows = Thetas(40, 3);
        var data = ml.Data.LoadFromEnumerable(rows);
        var model = Chain(ml, SplinePsi()).Fit(data);
        string dir = TempFolder("fisher");
        try
        {
            var (loaded, schema) = SaveAndLoad(ml, model, data.Schema, Path.Combine(dir, "model.zip"));
            Assert.AreEqual(new VectorDataViewType(NumberDataViewType.Double, 2), schema["theta"].Type, "the saved input schema");
            var batch = ReadAll(model.Transform(data), [.. Outputs, "g_n"]);
            var again = ReadAll(loaded.Transform(new MLContext().Data.LoadFromEnumerable(rows)), [.. Outputs, "g_n"]);
            // Batched (fitted) and row by row (loaded) evaluate the same spline at the same Float32 points.
            foreach (var c in batch.Keys) AssertIdentical(batch[c], again[c], $"{c}: fitted vs loaded");
            (loaded as IDisposable)?.Dispose();
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [TestMethod]
    public void RunModelContractLoadsInAPlainMlNetChildProcess()
    {
        // What `hessian run` writes: the FisherMetric step alone, saved with the input t: Float32[2].
        var psi = SplinePsi();
        var metric = new FisherMetricTransformer(psi);
        var t = PointsInBox(25, 4);
        var input = new ColumnTable.Builder().AddVector("t", 2, t).Build();
        string dir = TempFolder("fisher-probe");
        try
        {
            string zip = Path.Combine(dir, "model.zip");
            ModelFiles.Save(metric, ModelFiles.ParameterSchema, zip);
            var loaded = ModelFiles.Load(zip, out var schema);
            Assert.AreEqual(1, schema.Count, "the contract's input is t alone");
            Assert.AreEqual(new VectorDataViewType(NumberDataViewType.Single, 2), schema["t"].Type);

            var child = RunProbe(zip, input, dir, "psi", "dpsi", "g", "g_eigen");
            var here = ReadAll(loaded.Transform(input), Outputs);
            var batch = ReadAll(metric.Transform(input), Outputs);
            foreach (var c in Outputs)
            {
                AssertIdentical(here[c], child[c], $"{c}: loaded here vs loaded in a child process");
                AssertIdentical(batch[c], child[c], $"{c}: fitted (batch) vs child process");
            }
            var f = psi.Evaluate([.. t.Where((_, i) => i % 2 == 0).Select(x => (double)x)], [.. t.Where((_, i) => i % 2 == 1).Select(x => (double)x)]);
            CollectionAssert.AreEqual(f.Psi, child["psi"].Select(x => x[0]).ToArray(), "the child's psi is psi");
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
        var rows = Thetas(12, 5);
        var data = ml.Data.LoadFromEnumerable(rows);
        var model = Chain(ml, SplinePsi()).Fit(data);
        var engine = ml.Model.CreatePredictionEngine<ThetaRow, MetricRow>(model);
        var predicted = rows.Select(engine.Predict).ToList();
        var batch = model.Transform(data);
        AssertIdentical(Read(batch, "psi"), [.. predicted.Select(p => new[] { p.psi })], "psi");
        AssertIdentical(Read(batch, "dpsi"), [.. predicted.Select(p => p.dpsi)], "dpsi");
        AssertIdentical(Read(batch, "g"), [.. predicted.Select(p => p.g)], "g");
        AssertIdentical(Read(batch, "g_eigen"), [.. predicted.Select(p => p.g_eigen)], "g_eigen");
        AssertIdentical(Read(batch, "g_n"), [.. predicted.Select(p => p.g_n.Select(x => (double)x).ToArray())], "g_n (stock, after ours)");
    }

    [TestMethod]
    public void MissingOrMistypedParameterColumnIsNamedByGetOutputSchemaAndFit()
    {
        var ml = new MLContext(seed: 1);
        var estimator = ml.Hessian().FisherMetric(new FisherMetricOptions { ParameterColumnName = "where" }, SplinePsi());
        SchemaErrors.AssertRefused(estimator, [("where", ColumnType.Vector(ItemKind.Float32, 2))], "where",
            ColumnType.Vector(ItemKind.Float64, 2), "FisherMetric");
        // A shape has no vector lengths; Fit sees them.
        var ex = Assert.ThrowsExactly<SchemaException>(() => estimator.Fit(SchemaErrors.View([("where", ColumnType.Vector(ItemKind.Float32, 3))])));
        SchemaErrors.AssertNames(ex, "where", "FisherMetric", "wrong length, Fit");
        StringAssert.Contains(ex.Message, "must be Vector<Single, 2>");
    }
}
