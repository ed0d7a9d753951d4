using System.Text.Json;
using HessianML.Evaluation;
using HessianML.Figures;
using HessianML.Geometry;
using HessianML.Posterior;
using HessianML.Systems.Ising;
using HessianML.Systems.Tasep;
using Microsoft.ML;
using Microsoft.ML.Data;
using HessianML.Tests.Figures;

namespace HessianML.Tests.Evaluation;

/// <summary>
/// `hessian run` and `hessian metric` through the real command line, on tiny settings (a few seconds each): the run
/// folder holds every promised file in its contract format, exact.csv is the exact answer, `metric` on the saved
/// model reproduces metric.csv, errors.json agrees with a recomputation from the written CSVs, and bad input is one
/// line with nothing written.
/// </summary>
[TestClass]
public sealed class RunCommandTests
{
    private string _dir = "";

    [TestInitialize]
    public void Init() => Directory.CreateDirectory(_dir = Path.Combine(Path.GetTempPath(), $"run-cli-{Guid.NewGuid():N}"));

    [TestCleanup]
    public void Cleanup() => Directory.Delete(_dir, recursive: true);

    private static readonly string[] Files =
    [
        EndToEndReport.ModelFileName, EndToEndReport.OursFileName, EndToEndReport.BaselineFileName,
        EndToEndReport.ExactFileName, EndToEndReport.ErrorsFileName, EndToEndFigures.FieldsFileName,
        EndToEndFigures.EllipsesFileName, EndToEndFigures.GeodesicsFileName, ReportPage.FileName,
    ];

    private static readonly string[] Figures = [EndToEndFigures.FieldsFileName, EndToEndFigures.EllipsesFileName, EndToEndFigures.GeodesicsFileName];

    [TestMethod]
    public void RunIsingWritesTheFolderAndMetricReproducesIt()
    {
        string dir = Path.Combine(_dir, "ising");
        var r = CliRunner.Run("run", "ising", "--size", "4", "--samples", "1200", "--grid", "6", "--eval-grid", "8",
            "--epochs", "2", "--seed", "3", "--out", dir);
        Assert.AreEqual(0, r.Code, r.Err);
        foreach (string f in Files) Assert.IsTrue(File.Exists(Path.Combine(dir, f)), $"missing {f}");
        Assert.AreEqual(0, Directory.GetDirectories(dir).Length, "the staging folder is gone");
        // fields.png: exact, ours, Mean-as-Stat, PCA-VAE side by side, six quantities, one row each.
        var (width, _, _) = Png.Decode(File.ReadAllBytes(Path.Combine(dir, EndToEndFigures.FieldsFileName)));
        Assert.AreEqual(4 * 400, width);
        ReportChecks.PageListsTheFolder(dir, Figures);
        StringAssert.Contains(File.ReadAllText(Path.Combine(dir, ReportPage.FileName)), "hessian run ising --size 4");
        StringAssert.Contains(r.Out, "metric error");
        StringAssert.Contains(r.Out, "NRMSE d/dbeta");
        StringAssert.Contains(r.Out, "median cell metric error");
        StringAssert.Contains(r.Out, "indefinite fraction");
        StringAssert.Contains(r.Out, "exact metric not positive definite in 0.0000 of interior cells, 0.0000 of the whole box");

        // exact.csv is the transfer-matrix field at the K x K cell centres.
        var box = new ParameterBox(0.25, 0.65, -0.3, 0.3);
        var exact = MetricField.ReadCsv(Path.Combine(dir, EndToEndReport.ExactFileName));
        var direct = IsingExact.Field(4, box, 6, 6);
        Assert.AreEqual(36, exact.Count);
        for (int i = 0; i < exact.Count; i++)
        {
            Assert.AreEqual(direct.T1[i], exact.T1[i], 1e-12);
            Assert.AreEqual(direct.G22[i], exact.G22[i], 1e-12 * Math.Abs(direct.G22[i]) + 1e-15);
        }

        // `hessian metric` on the saved model gives metric.csv again (same box, same K).
        string again = Path.Combine(_dir, "again.csv");
        string metricFigure = Path.Combine(_dir, "again.png");
        var m = CliRunner.Run("metric", "--model", Path.Combine(dir, EndToEndReport.ModelFileName), "--grid", "6", "--out", again, "--figure", metricFigure);
        Assert.AreEqual(0, m.Code, m.Err);
        CollectionAssert.AreEqual(File.ReadAllLines(Path.Combine(dir, EndToEndReport.OursFileName)), File.ReadAllLines(again));
        ReportChecks.AssertFigure(metricFigure);

        // `hessian geodesic --figure`: the path over log10 det g; a figure name that is not .png is refused before any work.
        string path = Path.Combine(_dir, "path.csv"), pathFigure = Path.Combine(_dir, "path.png");
        var g = CliRunner.Run("geodesic", "--model", Path.Combine(dir, EndToEndReport.ModelFileName), "--from", "0.3,-0.2", "--to", "0.6,0.2",
            "--points", "20", "--out", path, "--figure", pathFigure);
        Assert.AreEqual(0, g.Code, g.Err);
        ReportChecks.AssertFigure(pathFigure);
        string refused = Path.Combine(_dir, "refused.csv");
        var bad = CliRunner.Run("geodesic", "--model", Path.Combine(dir, EndToEndReport.ModelFileName), "--from", "0.3,-0.2", "--to", "0.6,0.2",
            "--out", refused, "--figure", Path.Combine(_dir, "path.jpg"));
        Assert.AreEqual(2, bad.Code);
        StringAssert.Contains(bad.Err, "--figure");
        StringAssert.Contains(bad.Err, ".png");
        Assert.AreEqual(1, bad.Err.Trim().Split('\n').Length, "one line");
        Assert.IsFalse(File.Exists(refused), "nothing written");

        // errors.json: the interior numbers are those of METHOD §7 recomputed from the saved model on the evaluation grid.
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, EndToEndReport.ErrorsFileName)));
        var root = doc.RootElement;
        Assert.AreEqual("ising", root.GetProperty("system").GetString());
        // The Ising defaults: the exponential-family head, fitted by log-posterior least squares, a log-sum-exp psi.
        Assert.AreEqual("ExponentialFamily", root.GetProperty("posterior").GetProperty("network").GetString());
        Assert.AreEqual("lsq", root.GetProperty("settings").GetProperty("fit").GetString());
        Assert.AreEqual("LogSumExp", root.GetProperty("psi").GetProperty("parametrisation").GetString());
        Assert.AreEqual(24, root.GetProperty("settings").GetProperty("splines").GetInt32());
        Assert.AreEqual(8, root.GetProperty("evaluation").GetProperty("grid").GetInt32());
        var loaded = LogPartitionTransformer.FindIn(new MLContext().Model.Load(Path.Combine(dir, EndToEndReport.ModelFileName), out _));
        var recomputed = EndToEndRun.Compare(IsingExact.Field(4, box, 8, 8), loaded.Psi, box).Interior;
        var ours = root.GetProperty("methods").GetProperty("ours").GetProperty("interior");
        Assert.AreEqual(recomputed.MetricError, ours.GetProperty("metric_error").GetDouble(), 1e-12);
        Assert.AreEqual(recomputed.NrmsePsi, ours.GetProperty("nrmse_psi").GetDouble(), 1e-12);
        Assert.AreEqual(recomputed.MedianCellMetricError, ours.GetProperty("median_cell_metric_error").GetDouble(), 1e-12);
        Assert.AreEqual(recomputed.IndefiniteFraction, ours.GetProperty("indefinite_fraction").GetDouble(), 1e-12);
        foreach (string method in new[] { "ours", "mean_as_stat", "pca_vae", "grid_floor" })
            foreach (string region in new[] { "interior", "whole" })
            {
                var node = root.GetProperty("methods").GetProperty(method).GetProperty(region);
                Assert.IsGreaterThan(0, node.GetProperty("median_cell_metric_error").GetDouble(), $"{method} {region}");
                double indefinite = node.GetProperty("indefinite_fraction").GetDouble();
                Assert.IsTrue(indefinite is >= 0 and <= 1, $"{method} {region}: {indefinite}");
            }
        var check = root.GetProperty("evaluation").GetProperty("exact_not_positive_definite_fraction");
        Assert.AreEqual(0, check.GetProperty("interior").GetDouble());
        Assert.AreEqual(0, check.GetProperty("whole").GetDouble());
        Assert.IsTrue(root.GetProperty("methods").GetProperty("mean_as_stat").GetProperty("whole").GetProperty("metric_error").GetDouble() > 0);
        // The second baseline of METHOD §7 has its CSV and its row, on the same cells as ours.
        Assert.IsTrue(root.GetProperty("methods").GetProperty("pca_vae").GetProperty("whole").GetProperty("metric_error").GetDouble() > 0);
        Assert.AreEqual(File.ReadAllLines(Path.Combine(dir, EndToEndReport.OursFileName)).Length,
            File.ReadAllLines(Path.Combine(dir, EndToEndReport.PcaVaeFileName)).Length);
        double heldOut = root.GetProperty("posterior").GetProperty("held_out_cross_entropy").GetDouble();
        Assert.IsTrue(heldOut < root.GetProperty("posterior").GetProperty("uniform_cross_entropy").GetDouble(), $"held-out CE {heldOut}");
    }

    [TestMethod]
    public void RunTasepUsesTheExactMatrixProductAnswer()
    {
        string dir = Path.Combine(_dir, "tasep");
        var r = CliRunner.Run("run", "tasep", "--size", "6", "--samples", "800", "--grid", "5", "--eval-grid", "6",
            "--epochs", "1", "--psi", "spline", "--fit", "lsq", "--out", dir);
        Assert.AreEqual(0, r.Code, r.Err);
        foreach (string f in Files) Assert.IsTrue(File.Exists(Path.Combine(dir, f)), $"missing {f}");
        ReportChecks.PageListsTheFolder(dir, Figures);
        StringAssert.Contains(r.Out, "NRMSE d/dalpha");
        StringAssert.Contains(r.Out, "median cell metric error");
        StringAssert.Contains(r.Out, "indefinite fraction");
        using (var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, EndToEndReport.ErrorsFileName))))
        {
            Assert.AreEqual("ExponentialFamily", doc.RootElement.GetProperty("posterior").GetProperty("network").GetString(), "TASEP: the head in -log coordinates");
            // The Fisher reference (1000 exact samples per cell) against the same comparison on enumerated Fisher information:
            // the exact Hessian of psi scores the same within the sampling noise.
            StringAssert.Contains(r.Out, "against the Fisher information");
            var box = new ParameterBox(0.05, 0.95, 0.05, 0.95);
            var enumerated = MetricField.AtCellCentres(box, 5);
            for (int i = 0; i < enumerated.Count; i++)
            {
                var f = TasepFisherInformation.Exact(6, enumerated.T1[i], enumerated.T2[i]);
                (enumerated.G11[i], enumerated.G12[i], enumerated.G22[i]) = (f.G11, f.G12, f.G22);
            }
            var expected = MetricFieldErrors.CompareMetrics(enumerated, TasepExact.MetricFieldOnGrid(6, box, 5), box.Inner(0.8));
            double written = doc.RootElement.GetProperty("fisher_reference").GetProperty("exact_hessian").GetProperty("metric_error").GetDouble();
            Assert.AreEqual(expected.MetricError, written, 0.05);
            Assert.IsTrue(doc.RootElement.GetProperty("fisher_reference").GetProperty("ours").GetProperty("metric_error").GetDouble() > 0);
        }
        var exact = MetricField.ReadCsv(Path.Combine(dir, EndToEndReport.ExactFileName));
        var direct = TasepExact.MetricFieldOnGrid(6, new ParameterBox(0.05, 0.95, 0.05, 0.95), 5);
        for (int i = 0; i < exact.Count; i++) Assert.AreEqual(direct.Psi[i], exact.Psi[i], 1e-12);
    }

    [TestMethod]
    public void WithoutAnExactAnswerTheRunStillWritesEverythingElse()
    {
        // L = 13 is past the transfer matrix (2^L row states): no exact.csv, errors left out and said so.
        string dir = Path.Combine(_dir, "big");
        var r = CliRunner.Run("run", "ising", "--size", "13", "--samples", "300", "--grid", "4", "--eval-grid", "4",
            "--epochs", "1", "--out", dir);
        Assert.AreEqual(0, r.Code, r.Err);
        StringAssert.Contains(r.Out, "no exact answer");
        Assert.IsFalse(File.Exists(Path.Combine(dir, EndToEndReport.ExactFileName)));
        foreach (string f in Files.Where(f => f != EndToEndReport.ExactFileName))
            Assert.IsTrue(File.Exists(Path.Combine(dir, f)), $"missing {f}");
        ReportChecks.PageListsTheFolder(dir, Figures);
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, EndToEndReport.ErrorsFileName)));
        Assert.AreEqual(JsonValueKind.Null, doc.RootElement.GetProperty("methods").ValueKind);
    }

    [TestMethod]
    public void BadInputIsOneLineAndWritesNothing()
    {
        string file = Path.Combine(_dir, "a-file");
        File.WriteAllText(file, "x");
        string dir = Path.Combine(_dir, "never");
        foreach (var args in new[]
                 {
                     new[] { "run", "ising", "--out", file },
                     new[] { "run", "ising", "--fit", "lsq", "--psi", "mlp", "--out", dir },
                     new[] { "run", "ising", "--eval-grid", "1", "--out", dir },
                     new[] { "run", "ising", "--grid", "2", "--out", dir },
                     new[] { "run", "ising", "--beta", "0.4", "--out", dir },
                     new[] { "run", "tasep", "--alpha", "0:0.5", "--out", dir },
                     new[] { "run", "tasep", "--psi", "cubic", "--out", dir },
                     new[] { "run", "tasep", "--learning-rate", "-1", "--out", dir },
                     new[] { "run", "ising", "--splines", "3", "--out", dir },
                     new[] { "run", "ising", "--bundle", "3", "--neighbours", "2", "--out", dir },
                     new[] { "run", "tasep", "--bundle", "0", "--out", dir },
                     new[] { "run", "ising", "--channels", "0", "--out", dir },
                     new[] { "run", "tasep", "--fisher-samples", "1", "--out", dir },
                 })
        {
            var r = CliRunner.Run(args);
            Assert.AreEqual(2, r.Code, string.Join(' ', args) + ": " + r.Err);
            Assert.AreEqual(1, r.Err.Trim().Split('\n').Length, r.Err);
            StringAssert.StartsWith(r.Err, "hessian: error:");
            Assert.IsFalse(Directory.Exists(dir), string.Join(' ', args));
        }
        Assert.AreEqual("x", File.ReadAllText(file));
    }

    [TestMethod]
    public void MetricRefusesMissingModelsForeignFilesAndPointsOutsideTheBox()
    {
        string dir = Path.Combine(_dir, "m");
        var r = CliRunner.Run("run", "tasep", "--size", "4", "--samples", "300", "--grid", "4", "--epochs", "0",
            "--eval-grid", "4", "--out", dir);
        Assert.AreEqual(0, r.Code, r.Err);
        string model = Path.Combine(dir, EndToEndReport.ModelFileName), csv = Path.Combine(_dir, "f.csv");
        foreach (var (args, expect) in new[]
                 {
                     (new[] { "metric", "--model", Path.Combine(_dir, "nope.zip"), "--out", csv }, "no such file"),
                     (new[] { "metric", "--model", Path.Combine(dir, EndToEndReport.ErrorsFileName), "--out", csv }, "errors.json"),
                     (new[] { "metric", "--model", model, "--t1", "0.01:0.5", "--out", csv }, "outside the box"),
                     (new[] { "metric", "--model", model, "--out", Path.Combine(_dir, "f.arrow") }, ".csv"),
                 })
        {
            var m = CliRunner.Run(args);
            Assert.AreEqual(2, m.Code, m.Err);
            StringAssert.Contains(m.Err, expect);
            Assert.IsFalse(File.Exists(csv));
        }
        var ok = CliRunner.Run("metric", "--model", model, "--grid", "3", "--t1", "0.2:0.4", "--t2", "0.5:0.9", "--out", csv);
        Assert.AreEqual(0, ok.Code, ok.Err);
        var f = MetricField.ReadCsv(csv);
        Assert.AreEqual(9, f.Count);
        Assert.AreEqual(0.2 + 0.2 / 6, f.T1[0], 1e-12);
    }

    [TestMethod]
    public void AlignCarriesAnEstimateIntoTheExactGauge()
    {
        // estimate = 2 psi* - 3 t1 + t2 + 5 (a valid psi of the same geometry): the fit finds a = 1/2 and Align undoes it.
        var box = new ParameterBox(0.3, 0.5, -0.2, 0.2);
        var exact = IsingExact.Field(3, box, 5, 5);
        var est = MetricField.AtPoints(exact.T1, exact.T2);
        for (int i = 0; i < exact.Count; i++)
        {
            est.Psi[i] = 2 * exact.Psi[i] - 3 * exact.T1[i] + exact.T2[i] + 5;
            est.Dpsi1[i] = 2 * exact.Dpsi1[i] - 3;
            est.Dpsi2[i] = 2 * exact.Dpsi2[i] + 1;
            (est.G11[i], est.G12[i], est.G22[i]) = (2 * exact.G11[i], 2 * exact.G12[i], 2 * exact.G22[i]);
        }
        var e = MetricFieldErrors.Compare(exact, est);
        Assert.AreEqual(0.5, e.Scale, 1e-9);
        Assert.IsTrue(e.MetricError < 1e-9 && e.NrmsePsi < 1e-7, $"{e}");
        var aligned = e.Align(est);
        for (int i = 0; i < exact.Count; i++)
        {
            Assert.AreEqual(exact.Psi[i], aligned.Psi[i], 1e-8);
            Assert.AreEqual(exact.Dpsi2[i], aligned.Dpsi2[i], 1e-8);
            Assert.AreEqual(exact.G12[i], aligned.G12[i], 1e-9);
        }
    }
}
