using System.IO.Compression;
using System.Text;
using HessianML.Data;
using HessianML.Geometry;
using HessianML.Geometry.Geodesics;
using HessianML.Pipeline.MlNet;
using HessianML.Posterior;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;
using static HessianML.Tests.MlNet.MlNetFixtures;

namespace HessianML.Tests.MlNet;

/// <summary>
/// ML.NET model zips as HessianML reads them: a damaged, foreign, missing or old-format file is refused in one line
/// naming it (by <see cref="ModelFiles.Load"/> and by `hessian metric --model`, which then writes nothing), and a loaded
/// zip gives back the fitted components themselves (<see cref="SavedForm.Components"/>,
/// <see cref="LogPartitionTransformer.FindIn"/>), which compute exactly what the saved ones did.
/// </summary>
[TestClass]
public sealed class ModelZipTests
{
    private string _dir = null!;

    [TestInitialize]
    public void Init() => _dir = TempFolder("model-zip");

    [TestCleanup]
    public void Cleanup()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    /// <summary>What `hessian run` writes: a FisherMetric step over the spline psi, input t.</summary>
    private string GoodZip(string name = "good.zip")
    {
        string path = Path.Combine(_dir, name);
        ModelFiles.Save(new FisherMetricTransformer(SplinePsi()), ModelFiles.ParameterSchema, path);
        return path;
    }

    private string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private string OldFormatZip()
    {
        string path = Path.Combine(_dir, "old.zip");
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Create))
        {
            using (var w = new StreamWriter(zip.CreateEntry("manifest.json").Open()))
                w.Write("""{"format":"hessianml-model","formatVersion":1,"components":[]}""");
            zip.CreateEntry("tensors/0/mean.bin").Open().Dispose();
        }
        return path;
    }

    private string ForeignZip()
    {
        string path = Path.Combine(_dir, "foreign.zip");
        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        using var w = new StreamWriter(zip.CreateEntry("readme.txt").Open());
        w.Write("hello");
        return path;
    }

    private static void AssertOneLineNaming(string message, string path, string what)
    {
        StringAssert.Contains(message, path, $"{what}: the message names the file");
        Assert.IsFalse(message.TrimEnd().Contains('\n') || message.Contains('\r'), $"{what}: one line: {message}");
    }

    private (string Name, string Path)[] BadFiles()
    {
        byte[] good = File.ReadAllBytes(GoodZip("source.zip"));
        var noise = new byte[4096];
        new Random(3).NextBytes(noise);
        return
        [
            ("truncated", Write("truncated.zip", good[..(good.Length * 2 / 3)])),
            ("random bytes", Write("random.zip", noise)),
            ("empty", Write("empty.zip", [])),
            ("a zip that is not a model", ForeignZip()),
            ("old format", OldFormatZip()),
        ];
    }

    [TestMethod]
    public void DamagedForeignAndOldFormatZipsAreRefusedInOneLineByModelFilesLoad()
    {
        foreach (var (what, path) in BadFiles())
        {
            var ex = Assert.ThrowsExactly<InvalidDataException>(() => ModelFiles.Load(path, out _), what);
            AssertOneLineNaming(ex.Message, path, what);
            if (what == "old format")
            {
                StringAssert.Contains(ex.Message, "old format (hessianml-model)");
                StringAssert.Contains(ex.Message, "fit it again");
            }
            else
                StringAssert.Contains(ex.Message, "could not be loaded as an ML.NET model", what);
        }
        string missing = Path.Combine(_dir, "nowhere.zip");
        var notFound = Assert.ThrowsExactly<FileNotFoundException>(() => ModelFiles.Load(missing, out _));
        AssertOneLineNaming(notFound.Message, missing, "missing");
    }

    [TestMethod]
    public void TheCommandLineRefusesThemInOneLineAndWritesNothing()
    {
        var cases = BadFiles().Append(("missing", Path.Combine(_dir, "nowhere.zip")));
        foreach (var (what, path) in cases)
        {
            string output = Path.Combine(_dir, $"metric-{what.Replace(' ', '-')}.csv");
            var (code, stdout, stderr) = CliRunner.Run("metric", "--model", path, "--grid", "4", "--out", output);
            Assert.AreNotEqual(0, code, $"{what}: exit code");
            var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.HasCount(1, lines, $"{what}: one line on stderr: {stderr}");
            StringAssert.StartsWith(lines[0], "hessian: error: --model " + path, $"{what}: names the option and the file");
            Assert.AreEqual("", stdout, what);
            Assert.IsFalse(File.Exists(output), $"{what}: nothing written");
            Assert.IsEmpty(Directory.GetFiles(_dir, "*.tmp").Concat(Directory.GetFiles(_dir, ".metric*")), $"{what}: no temporary file left");
        }
    }

    [TestMethod]
    public void TheCommandLineReadsTheRunModelAndNamesAZipWithoutPsi()
    {
        // The positive path: the metric field of the saved psi, as ModelFiles.Load and FindIn recover it.
        var psi = SplinePsi();
        string zip = GoodZip();
        string output = Path.Combine(_dir, "metric.csv");
        var (code, _, stderr) = CliRunner.Run("metric", "--model", zip, "--grid", "4", "--out", output);
        Assert.AreEqual(0, code, stderr);
        var lines = File.ReadAllLines(output);
        Assert.HasCount(17, lines, "a header and 4 x 4 cells");
        var field = psi.Field(psi.Box, 4);
        var first = lines[1].Split(',').Select(s => double.Parse(s, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        Assert.AreEqual(field.Psi[0], first[2], 1e-12 * Math.Abs(field.Psi[0]), "psi at the first cell centre");

        // A valid ML.NET zip with no psi in it: refused, naming the file and what it holds.
        var ml = new MLContext(seed: 1);
        var table = new ColumnTable.Builder().AddVector("t", 2, new float[4]).Build();
        string stock = Path.Combine(_dir, "stock.zip");
        ml.Model.Save(ml.Transforms.CopyColumns("u", "t").Fit(table), ((IDataView)table).Schema, stock);
        var (code2, _, err2) = CliRunner.Run("metric", "--model", stock, "--grid", "4", "--out", Path.Combine(_dir, "stock.csv"));
        Assert.AreNotEqual(0, code2);
        StringAssert.Contains(err2, stock);
        StringAssert.Contains(err2, "no LogPartition or FisherMetric component");
        Assert.IsFalse(File.Exists(Path.Combine(_dir, "stock.csv")));
    }

    [TestMethod]
    public void ComponentsAndFindInRecoverThePsiFromALoadedChain()
    {
        var ml = new MLContext(seed: 1);
        var psi = SplinePsi();
        var data = new ColumnTable.Builder().AddVector("theta", 2, PointsInBox(10, 1)).Build();
        var model = ml.Transforms.CopyColumns("t", "theta")
            .Append(ml.Hessian().FisherMetric(logPartition: psi))
            .Append(ml.Transforms.Concatenate("geometry", "dpsi", "g"))
            .Fit(data);
        var (loaded, _) = SaveAndLoad(ml, model, ((IDataView)data).Schema, Path.Combine(_dir, "chain.zip"));

        // What Load returns holds ML.NET built-ins only; Components turns the saved step back into our transformer.
        var parts = SavedForm.Components(loaded);
        Assert.HasCount(3, parts);
        Assert.IsInstanceOfType<ColumnCopyingTransformer>(parts[0]);
        var fisher = Assert.IsInstanceOfType<FisherMetricTransformer>(parts[1]);
        Assert.IsInstanceOfType<ColumnConcatenatingTransformer>(parts[2]);
        Assert.AreEqual("t", fisher.ParameterColumnName);

        var found = LogPartitionTransformer.FindIn(loaded);
        Assert.AreEqual(psi.Grid, found.Grid);
        Assert.AreEqual(psi.Box.ToString(), found.Box.ToString());
        var t = PointsInBox(50, 2);
        double[] t1 = [.. t.Where((_, i) => i % 2 == 0).Select(x => (double)x)], t2 = [.. t.Where((_, i) => i % 2 == 1).Select(x => (double)x)];
        var expected = psi.Evaluate(t1, t2);
        foreach (var recovered in new[] { found, fisher.LogPartition })
        {
            var actual = recovered.Evaluate(t1, t2);
            CollectionAssert.AreEqual(expected.Psi, actual.Psi, "psi, bit for bit");
            CollectionAssert.AreEqual(expected.G11, actual.G11, "g11");
            CollectionAssert.AreEqual(expected.G12, actual.G12, "g12");
            CollectionAssert.AreEqual(expected.G22, actual.G22, "g22");
        }

        // The recovered component runs batched, as the fitted one did.
        AssertIdentical(Read(model.Transform(data), "g"), Read(fisher.Transform(ml.Transforms.CopyColumns("t", "theta").Fit(data).Transform(data)), "g"), "g");

        // A chain with no psi: FindIn names what it does hold.
        string stock = Path.Combine(_dir, "stock.zip");
        ml.Model.Save(ml.Transforms.CopyColumns("t", "theta").Fit(data), ((IDataView)data).Schema, stock);
        var none = Assert.ThrowsExactly<ArgumentException>(() => LogPartitionTransformer.FindIn(new MLContext().Model.Load(stock, out _)));
        StringAssert.Contains(none.Message, "no LogPartition or FisherMetric component (ColumnCopyingTransformer)");
    }

    [TestMethod]
    public void LoadedZipsGiveBackEachKindOfComponentWithItsState()
    {
        var ml = new MLContext(seed: 1);
        var psi = SplinePsi();
        string Save(ITransformer t, IDataView schemaOf, string name)
        {
            string path = Path.Combine(_dir, name);
            ml.Model.Save(t, schemaOf.Schema, path);
            return path;
        }
        T Recover<T>(string path) => (T)SavedForm.Components(new MLContext().Model.Load(path, out _)).Single();

        // LogPartition alone.
        var points = new ColumnTable.Builder().AddVector("t", 2, PointsInBox(5, 3)).Build();
        var lp = Recover<LogPartitionTransformer>(Save(psi, points, "lp.zip"));
        CollectionAssert.AreEqual(psi.Evaluate([0.3], [0.1]).Psi, lp.Evaluate([0.3], [0.1]).Psi);
        var foundLp = LogPartitionTransformer.FindIn(new MLContext().Model.Load(Path.Combine(_dir, "lp.zip"), out _));
        CollectionAssert.AreEqual(psi.Evaluate([0.3], [0.1]).G22, foundLp.Evaluate([0.3], [0.1]).G22, "FindIn on a LogPartition-only zip");

        // Geodesic: its tabulated metric travels with it, so the recovered solver starts tabulated and identical.
        var pairs = new ColumnTable.Builder().AddVector("from", 2, new float[] { 0.1f, -0.3f }).AddVector("to", 2, new float[] { 0.8f, 0.3f }).Build();
        var geodesic = ml.Hessian().Geodesic(new GeodesicOptions { Points = 10, Resolution = 17 }, psi).Fit(pairs);
        var g = Recover<GeodesicTransformer>(Save(geodesic, pairs, "geodesic.zip"));
        Assert.IsTrue(g.Solver.IsTabulated);
        CollectionAssert.AreEqual(geodesic.Solver.Metric.Values.ToArray(), g.Solver.Metric.Values.ToArray());
        AssertIdentical(Read(geodesic.Transform(pairs), "path"), Read(g.Transform(pairs), "path"), "geodesic path from the recovered component");
        CollectionAssert.AreEqual(psi.Evaluate([0.5], [0.0]).G11, LogPartitionTransformer.FindIn(new MLContext().Model.Load(Path.Combine(_dir, "geodesic.zip"), out _)).Evaluate([0.5], [0.0]).G11);

        // PosteriorGrid with bundles of three: the recovered network draws the same bundles and gives the same batch
        // posteriors and split as the fitted one (the row form cannot: it has no other rows).
        var samples = IsingSamples(120, 4);
        var grid = ml.Hessian().PosteriorGrid(TinyGrid(3)).Fit(samples);
        var pg = Recover<PosteriorGridTransformer>(Save(grid, samples, "grid.zip"));
        Assert.AreEqual(grid.Architecture, pg.Architecture);
        AssertIdentical(Read(grid.Transform(samples), "posterior"), Read(pg.Transform(samples), "posterior"), "posterior from the recovered PosteriorGrid");
        AssertIdentical(Read(grid.Transform(samples), "split"), Read(pg.Transform(samples), "split"), "split from the recovered PosteriorGrid");
    }
}
