using System.Text.Json;
using HessianML.Cli;
using HessianML.Evaluation.Diffusion;
using HessianML.Geometry;

namespace HessianML.Tests.Evaluation;

/// <summary>`hessian run diffusion` through the real command line: a tiny run writes the folder; bad input is one line, exit 2, nothing written.</summary>
[TestClass]
public sealed class DiffusionRunCommandTests
{
    private string _dir = "";

    [TestInitialize]
    public void Init() => Directory.CreateDirectory(_dir = Path.Combine(Path.GetTempPath(), $"run-diffusion-{Guid.NewGuid():N}"));

    [TestCleanup]
    public void Cleanup() => Directory.Delete(_dir, recursive: true);

    [TestMethod]
    public void RunDiffusionWritesTheFolder()
    {
        string dir = Path.Combine(_dir, "run");
        var r = CliRunner.Run("run", "diffusion", "--components", "3", "--dim", "27", "--grid", "8", "--epochs", "5", "--splines", "8",
            "--pairs", "1", "--pullback-resolution", "17", "--seed", "1", "--out", dir);
        Assert.AreEqual(0, r.Code, r.Err);
        foreach (string f in DiffusionReport.FileNames) Assert.IsTrue(File.Exists(Path.Combine(dir, f)), $"missing {f}");
        Assert.AreEqual(0, Directory.GetDirectories(dir).Length, "the staging folder is gone");
        string[] figures = [DiffusionReport.PhaseMapFileName, DiffusionReport.LipschitzFigureFileName, DiffusionReport.PathsFileName];
        HessianML.Tests.Figures.ReportChecks.PageListsTheFolder(dir, figures);
        // The same seed again: the same figures, byte for byte.
        string again = Path.Combine(_dir, "again");
        var r2 = CliRunner.Run("run", "diffusion", "--components", "3", "--dim", "27", "--grid", "8", "--epochs", "5", "--splines", "8",
            "--pairs", "1", "--pullback-resolution", "17", "--seed", "1", "--out", again);
        Assert.AreEqual(0, r2.Code, r2.Err);
        foreach (string f in figures)
            CollectionAssert.AreEqual(File.ReadAllBytes(Path.Combine(dir, f)), File.ReadAllBytes(Path.Combine(again, f)), $"{f} differs between two runs of one seed");
        StringAssert.Contains(r.Out, "precision");
        StringAssert.Contains(r.Out, "pullback-feature");
        Assert.AreEqual(64, MetricField.ReadCsv(Path.Combine(dir, DiffusionReport.MetricFileName)).Count);
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, DiffusionReport.ErrorsFileName)));
        var settings = doc.RootElement.GetProperty("settings");
        Assert.AreEqual(32, settings.GetProperty("slice_grid").GetInt32(), "slice grid 0 means 4 K");
        Assert.AreEqual(27, settings.GetProperty("dim").GetInt32());
    }

    [TestMethod]
    public void BadInputIsOneLineExitTwoAndNothingWritten()
    {
        string file = Path.Combine(_dir, "a-file");
        File.WriteAllText(file, "x");
        string dir = Path.Combine(_dir, "never");
        foreach (var (args, fragment) in new (string[], string)[]
                 {
                     (["--grid", "2"], "--grid 2"),
                     (["--eta", "1.5"], "eta 1.5"),
                     (["--dim", "10"], "not a multiple of 3"),
                     (["--components", "0"], "components 0"),
                     (["--lambda", "-1"], "--lambda -1"),
                     (["--pairs", "100"], "--pairs 100"),
                     (["--slice-grid", "-1"], "--slice-grid -1"),
                     (["--epochs", "0"], "--epochs 0"),
                     (["--grid", "x"], "x"),
                 })
        {
            var r = CliRunner.Run(["run", "diffusion", .. args, "--out", dir]);
            Assert.AreEqual(HessianCli.UsageError, r.Code, string.Join(" ", args) + ": " + r.Err);
            Assert.AreEqual(1, r.Err.Trim().Split('\n').Length, r.Err);
            StringAssert.StartsWith(r.Err, "hessian: error:");
            StringAssert.Contains(r.Err, fragment);
            Assert.IsFalse(Directory.Exists(dir), string.Join(' ', args));
        }
        var onFile = CliRunner.Run("run", "diffusion", "--out", file);
        Assert.AreEqual(HessianCli.UsageError, onFile.Code);
        StringAssert.Contains(onFile.Err, "is a file");
        Assert.AreEqual("x", File.ReadAllText(file));
    }
}
