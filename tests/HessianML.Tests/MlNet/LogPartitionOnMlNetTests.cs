using HessianML.Data;
using HessianML.Geometry;
using HessianML.Posterior;
using Microsoft.ML;
using Microsoft.ML.Data;
using static HessianML.Tests.MlNet.MlNetFixtures;

namespace HessianML.Tests.MlNet;

/// <summary>
/// LogPartition as a Microsoft.ML trainer: fitted between stock transforms on posteriors with the grid metadata, its
/// fitted psi saved and loaded (here and in a child process), served row by row, and refusing bad input columns by name.
/// </summary>
[TestClass]
public sealed class LogPartitionOnMlNetTests
{
    private const int K = 10;

    // The spline: it holds the quadratic psi exactly, so the checks below can be float-rounding tight.
    private static readonly LogPartitionOptions Fast = new() { Fit = PsiFit.LogPosteriorLeastSquares, Parametrisation = PsiParametrisation.BSpline, SplineCount = 8 };

    public sealed class PosteriorRow
    {
        [VectorType(2)] public float[] t = new float[2];
        [VectorType(K * K)] public double[] p64 = new double[K * K];
    }

    public sealed class PsiRow
    {
        public double psi;
        public float psi_n;
    }

    /// <summary>The quadratic-psi posteriors with the posterior stored as Float64 in <c>p64</c> (a stock ConvertType turns it back).</summary>
    private static ColumnTable Data(int rows, ulong seed)
    {
        var table = QuadraticPosteriors(rows, seed);
        var p = table.GetColumn<float>("posterior").ToArray().Select(x => (double)x).ToArray();
        return table.DropColumns("posterior").WithVectorColumn("p64", K * K, p);
    }

    private static IEstimator<ITransformer> Chain(MLContext ml) =>
        ml.Transforms.Conversion.ConvertType("posterior", "p64", DataKind.Single)
            .Append(ml.Hessian().LogPartition(Fast))
            .Append(ml.Transforms.Conversion.ConvertType("psi_f", "psi", DataKind.Single))
            .Append(ml.Transforms.NormalizeMinMax("psi_n", "psi_f"));

    private static LogPartitionTransformer FittedPsi(ITransformer model) =>
        ((IEnumerable<ITransformer>)model).OfType<LogPartitionTransformer>().Single();

    [TestMethod]
    public void FitsBetweenStockTransformsOnTheGridMetadata()
    {
        var ml = new MLContext(seed: 1);
        var data = Data(200, 7);
        var model = Chain(ml).Fit(data);
        var output = model.Transform(data);
        var lp = FittedPsi(model);
        Assert.AreEqual(K, lp.Grid, "K read from the schema metadata through the stock ConvertType");
        Assert.AreEqual(new ParameterBox(-1, 1, -1, 1).ToString(), lp.Box.ToString());

        var t = Read(output, "t");
        var f = lp.Evaluate([.. t.Select(x => x[0])], [.. t.Select(x => x[1])]);
        CollectionAssert.AreEqual(f.Psi, Read(output, "psi").Select(x => x[0]).ToArray(), "psi is the fitted psi at each row's t");
        var psiN = Read(output, "psi_n").Select(x => x[0]).ToArray();
        Assert.AreEqual(1, psiN.Max(), 1e-6, "the stock min-max normaliser after ours was fitted on our psi");

        // The fit itself: the exact metric is diag(2, 1) times a free positive scale, so the ratio g11 / g22 is 2.
        var field = lp.Field(new ParameterBox(-0.6, 0.6, -0.6, 0.6), 5);
        double ratio = Enumerable.Range(0, 25).Average(i => field.G11[i] / field.G22[i]);
        // The posteriors are exact (no sampling), cubic splines hold a quadratic exactly and the log-posterior least squares
        // recovers psi up to an affine part: only Float32 rounding of the posteriors is left (measured: 1.3e-9).
        Assert.AreEqual(2.0, ratio, 1e-6, "g11 / g22 of the psi fitted inside an ML.NET chain");
    }

    [TestMethod]
    public void SavedAndLoadedGivesTheSameOutputsHereAndInAChildProcess()
    {
        var ml = new MLContext(seed: 1);
        var data = Data(120, 8);
        var model = Chain(ml).Fit(data);
        string dir = TempFolder("logpartition");
        try
        {
            string zip = Path.Combine(dir, "model.zip");
            var (loaded, schema) = SaveAndLoad(ml, model, ((IDataView)data).Schema, zip);
            Assert.AreEqual(new VectorDataViewType(NumberDataViewType.Double, K * K), schema["p64"].Type);
            string[] columns = ["psi", "psi_n"];
            AssertSameFittedLoadedAndChild(model.Transform(data), loaded.Transform(data), zip, data, dir, columns);
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
        var data = Data(100, 9);
        var model = Chain(ml).Fit(data);
        var rows = ml.Data.CreateEnumerable<PosteriorRow>(data, reuseRowObject: false).Take(10).ToList();
        var engine = ml.Model.CreatePredictionEngine<PosteriorRow, PsiRow>(model);
        var predicted = rows.Select(engine.Predict).ToList();
        var batch = model.Transform(ml.Data.LoadFromEnumerable(rows));
        AssertIdentical(Read(batch, "psi"), [.. predicted.Select(p => new[] { p.psi })], "psi");
        AssertIdentical(Read(batch, "psi_n"), [.. predicted.Select(p => new[] { (double)p.psi_n })], "psi_n");
    }

    [TestMethod]
    public void MissingOrMistypedInputColumnsAreNamed()
    {
        var ml = new MLContext(seed: 1);
        IReadOnlyList<(string, ColumnType)> required =
            [("t", ColumnType.Vector(ItemKind.Float32, 2)), ("posterior", ColumnType.Vector(ItemKind.Float32, K * K))];
        SchemaErrors.AssertRefused(ml.Hessian().LogPartition(Fast), required, "t", ColumnType.Vector(ItemKind.Float64, 2), "LogPartition");
        SchemaErrors.AssertRefused(ml.Hessian().LogPartition(Fast), required, "posterior", ColumnType.Scalar(ItemKind.Float32), "LogPartition");

        // Names and types right, but the posterior is not on the grid the metadata announces: Fit names the column.
        var data = Data(20, 1);
        var short1 = data.WithVectorColumn("posterior", 4, new float[20 * 4]);
        var ex = Assert.ThrowsExactly<SchemaException>(() => ml.Hessian().LogPartition(Fast).Fit(short1));
        SchemaErrors.AssertNames(ex, "posterior", "LogPartition", "posterior of the wrong length");

        // No grid metadata at all (a posterior from elsewhere): the message names the key.
        var bare = new ColumnTable.Builder().AddVector("t", 2, new float[6]).AddVector("posterior", 4, new float[12]).Build();
        var meta = Assert.ThrowsExactly<SchemaException>(() => ml.Hessian().LogPartition(Fast).Fit(bare));
        StringAssert.Contains(meta.Message, "'posterior.grid'");
    }

    [TestMethod]
    public void AStockTransformBetweenLogPartitionAndFisherMetricIsExplainedInOneLine()
    {
        // FisherMetric takes the psi from the view LogPartition produced: a step between them hides it.
        var ml = new MLContext(seed: 1);
        var chain = ml.Hessian().LogPartition(Fast)
            .Append(ml.Transforms.CopyColumns("t2", "t"))
            .Append(ml.Hessian().FisherMetric());
        var ex = Assert.ThrowsExactly<InvalidOperationException>(() => chain.Fit(QuadraticPosteriors(50, 3)));
        StringAssert.Contains(ex.Message, "FisherMetric: no fitted psi");
        StringAssert.Contains(ex.Message, "right after mlContext.Hessian().LogPartition");
        Assert.IsFalse(ex.Message.Contains('\n'));
    }
}
