using HessianML.Data;
using HessianML.Posterior;
using Microsoft.ML;
using Microsoft.ML.Data;
using static HessianML.Tests.MlNet.MlNetFixtures;

namespace HessianML.Tests.MlNet;

/// <summary>
/// PosteriorGrid as a Microsoft.ML estimator, on a few hundred 4 x 4 Ising samples and two epochs: between stock
/// transforms, saved and loaded (here and in a child process), served by a prediction engine, refusing bad columns by
/// name; with bundles of one (row to row on <c>state</c>) and of three (row form on a stacked <c>bundle</c> column).
/// </summary>
[TestClass]
public sealed class PosteriorGridOnMlNetTests
{
    private const int Sites = 16;
    private const int Cells = 16;

    // Batched (fitted Transform) and one-row (saved form) forward passes run the same Float32 network with different
    // batch shapes, so sums may round differently; the softmax outputs are probabilities (< 1), and 1e-6 absolute is a
    // few Float32 ulps of a logit of size ~10 carried through exp. (Measured on these tiny networks: identical.)
    private const double BatchVsRow = 1e-6;

    public sealed class SampleRow
    {
        [VectorType(2)] public double[] theta = new double[2];
        [VectorType(Sites)] public sbyte[] spins = new sbyte[Sites];
    }

    public sealed class BundleRow
    {
        [VectorType(2)] public double[] theta = new double[2];
        [VectorType(Sites)] public sbyte[] spins = new sbyte[Sites];
        [VectorType(3 * Sites)] public sbyte[] bundle = new sbyte[3 * Sites];
    }

    public sealed class PosteriorRow
    {
        public float[] posterior = [];
        public double[] p64 = [];
    }

    /// <summary>Ising samples as an ML.NET app would hold them: Float64 parameters, Int8 spins under another name.</summary>
    private static List<SampleRow> Samples(int n, ulong seed)
    {
        var table = IsingSamples(n, seed);
        var t = table.GetColumn<float>("t").ToArray();
        var s = table.GetColumn<sbyte>("state").ToArray();
        return [.. Enumerable.Range(0, n).Select(i => new SampleRow
        {
            theta = [t[2 * i], t[2 * i + 1]],
            spins = s[(i * Sites)..((i + 1) * Sites)],
        })];
    }

    // Before: ConvertType (theta -> Float32 t), CopyColumns (spins -> state). After: ConvertType (posterior -> Float64 p64).
    // The saved form's posterior is a vector of unknown length after Load (ML.NET rebuilds a custom mapping's output
    // types from its row class alone), so the step after it in a chain that is saved or served row by row must take
    // vectors of any length: ConvertType does, NormalizeMeanVariance does not (see TrainsAndRunsBetweenStockTransforms).
    private static IEstimator<ITransformer> Chain(MLContext ml, int bundle) =>
        ml.Transforms.Conversion.ConvertType("t", "theta", DataKind.Single)
            .Append(ml.Transforms.CopyColumns("state", "spins"))
            .Append(ml.Hessian().PosteriorGrid(TinyGrid(bundle)))
            .Append(ml.Transforms.Conversion.ConvertType("p64", "posterior", DataKind.Double));

    private static PosteriorGridTransformer Fitted(ITransformer model) =>
        model as PosteriorGridTransformer ?? ((IEnumerable<ITransformer>)model).Select(Fitted0).Single(t => t is not null)!;

    private static PosteriorGridTransformer? Fitted0(ITransformer t) =>
        t as PosteriorGridTransformer ?? (t as IEnumerable<ITransformer>)?.Select(Fitted0).SingleOrDefault(x => x is not null);

    [TestMethod]
    public void TrainsAndRunsBetweenStockTransforms()
    {
        var ml = new MLContext(seed: 1);
        var samples = Samples(300, 1);
        var data = ml.Data.LoadFromEnumerable(samples);
        // Batch use (Fit, Transform) takes any stock estimator after ours: a normaliser fitted on our posterior.
        var model = Chain(ml, 1).Append(ml.Transforms.NormalizeMeanVariance("p_n", "posterior", fixZero: false)).Fit(data);
        var grid = Fitted(model);
        Assert.AreEqual(Sites, grid.StateLength, "the state length came through the stock ConvertType");
        Assert.AreEqual("state", grid.RowInputColumn);

        var output = model.Transform(data);
        var all = ReadAll(output, "posterior", "split", "p64", "p_n");
        var posterior = all["posterior"];
        Assert.HasCount(300, posterior);
        foreach (var p in posterior) Assert.AreEqual(1, p.Sum(), 1e-5, "each posterior is a distribution");
        AssertIdentical(posterior, all["p64"], "the stock ConvertType after ours");
        Assert.AreEqual(75, all["split"].Count(s => s[0] == 1), "TestFraction 0.25 of 300 rows held out");
        // The grid metadata rides on the output columns for the LogPartition step a real chain puts next.
        var meta = SchemaMetadata.Read(output.Schema);
        Assert.AreEqual("4", meta[PosteriorGridMetadata.GridKey]);
        Assert.AreEqual("1", meta[PosteriorGridMetadata.BundleKey]);
        // Two epochs on 225 rows already beat the uniform posterior on the training rows.
        Assert.IsLessThan(grid.UniformCrossEntropy, grid.TrainCrossEntropy, "training cross-entropy below log(16)");
        var pn = all["p_n"];
        for (int j = 0; j < Cells; j++)
            Assert.AreEqual(0, pn.Average(r => r[j]), 1e-4, $"p_n[{j}]: the stock normaliser after ours was fitted on our posterior");
    }

    [TestMethod]
    public void BundlesOfOneSaveLoadAndServeRowByRow()
    {
        var ml = new MLContext(seed: 1);
        var samples = Samples(200, 2);
        var data = ml.Data.LoadFromEnumerable(samples);
        var model = Chain(ml, 1).Fit(data);
        string dir = TempFolder("posterior-grid");
        try
        {
            string zip = Path.Combine(dir, "model.zip");
            var (loaded, _) = SaveAndLoad(ml, model, data.Schema, zip);
            var some = samples.Take(20).ToList();
            var input = ml.Data.LoadFromEnumerable(some);
            var batch = ReadAll(model.Transform(input), "posterior", "p64");
            var after = loaded.Transform(input);
            Assert.IsNull(after.Schema.GetColumnOrNull("split"), "the split is a whole-view column: the row form has none");
            var here = ReadAll(after, "posterior", "p64");
            var child = RunProbe(zip, input, dir, "posterior", "p64");

            var engine = ml.Model.CreatePredictionEngine<SampleRow, PosteriorRow>(model);
            var predicted = some.Select(engine.Predict).ToList();
            double[][] engineRows = [.. predicted.Select(p => p.posterior.Select(x => (double)x).ToArray())];

            // One row at a time everywhere but the batch: the fitted engine, the loaded model and the child agree exactly.
            AssertIdentical(engineRows, here["posterior"], "posterior: prediction engine (fitted) vs loaded");
            AssertIdentical(here["posterior"], child["posterior"], "posterior: loaded here vs child process");
            AssertIdentical(here["p64"], child["p64"], "p64: loaded here vs child process");
            AssertClose(batch["posterior"], here["posterior"], BatchVsRow, "posterior: batch vs row");
            AssertClose(batch["p64"], here["p64"], BatchVsRow, "p64: batch vs row");
            AssertIdentical(here["p64"], [.. predicted.Select(p => p.p64)], "p64: loaded vs engine");
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [TestMethod]
    public void LargerBundlesRunBatchedAndRowByRowOnAStackedBundleColumn()
    {
        const int kb = 3;
        var ml = new MLContext(seed: 1);
        var samples = Samples(200, 3);
        var data = ml.Data.LoadFromEnumerable(samples);
        var model = Chain(ml, kb).Fit(data);
        var grid = Fitted(model);
        Assert.AreEqual("bundle", grid.RowInputColumn);
        Assert.IsFalse(((ITransformer)model).IsRowToRowMapper, "a bundle of three needs the other rows: not row to row");
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.Model.CreatePredictionEngine<SampleRow, PosteriorRow>(model));

        // The batch posterior of each row is conditioned on the bundle Transform drew for it; stack those states.
        var output = model.Transform(data);
        var batch = ReadAll(output, "posterior", "p64");
        Assert.AreEqual("3", SchemaMetadata.Read(output.Schema)[PosteriorGridMetadata.BundleKey]);
        var table = ColumnTable.From(output, "t", "state");
        var bundles = grid.Bundles(table);
        var states = table.GetColumn<sbyte>("state").ToArray();
        var rows = samples.Select((s, r) => new BundleRow
        {
            theta = s.theta,
            spins = s.spins,
            bundle = [.. bundles[r].SelectMany(m => states[(m * Sites)..((m + 1) * Sites)])],
        }).Take(25).ToList();
        Assert.IsTrue(bundles.All(b => b.Length == kb));

        string dir = TempFolder("posterior-grid-bundle");
        try
        {
            string zip = Path.Combine(dir, "model.zip");
            var (loaded, _) = SaveAndLoad(ml, model, data.Schema, zip);
            var input = ml.Data.LoadFromEnumerable(rows);
            var here = ReadAll(loaded.Transform(input), "posterior", "p64");
            var child = RunProbe(zip, input, dir, "posterior", "p64");
            var engine = ml.Model.CreatePredictionEngine<BundleRow, PosteriorRow>(loaded);
            double[][] engineRows = [.. rows.Select(r => engine.Predict(r).posterior.Select(x => (double)x).ToArray())];

            AssertIdentical(here["posterior"], engineRows, "posterior: loaded vs its prediction engine");
            AssertIdentical(here["posterior"], child["posterior"], "posterior: loaded here vs child process");
            AssertIdentical(here["p64"], child["p64"], "p64: loaded here vs child process");
            AssertClose(batch["posterior"][..rows.Count], here["posterior"], BatchVsRow, "posterior: batch vs stacked-bundle row form");
            AssertClose(batch["p64"][..rows.Count], here["p64"], BatchVsRow, "p64: batch vs stacked-bundle row form");
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [TestMethod]
    public void MissingOrMistypedInputColumnsAreNamed()
    {
        var ml = new MLContext(seed: 1);
        IReadOnlyList<(string, ColumnType)> required = [("t", ColumnType.Vector(ItemKind.Float32, 2)), ("state", ColumnType.Vector(ItemKind.Int8, Sites))];
        SchemaErrors.AssertRefused(ml.Hessian().PosteriorGrid(TinyGrid(1)), required, "state", ColumnType.Vector(ItemKind.Float32, Sites), "PosteriorGrid");
        SchemaErrors.AssertRefused(ml.Hessian().PosteriorGrid(TinyGrid(1)), required, "t", ColumnType.Vector(ItemKind.Float64, 2), "PosteriorGrid");
    }
}
