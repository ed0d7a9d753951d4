using HessianML.Pipeline.MlNet;
using System.Globalization;
using HessianML.Geometry.Geodesics;
using HessianML.Pipeline;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace HessianML.Tests.Geometry;

/// <summary>`hessian geodesic` through the real command line: the CSV contract (exact endpoints, N rows, cumulative
/// length from 0 to the length) and one-line errors with exit code 2 and nothing written.</summary>
[TestClass]
public sealed class GeodesicCommandTests
{
    private string _dir = "";
    private string _model = "";

    [TestInitialize]
    public void Init()
    {
        Directory.CreateDirectory(_dir = Path.Combine(Path.GetTempPath(), $"geodesic-cli-{Guid.NewGuid():N}"));
        _model = Path.Combine(_dir, "model.zip");
        var psi = GeodesicTests.SplinePsi();
        ModelFiles.Save(psi, ModelFiles.ParameterSchema, _model);
    }

    [TestCleanup]
    public void Cleanup() => Directory.Delete(_dir, recursive: true);

    [TestMethod]
    public void WritesThePathWithTheExactEndpoints()
    {
        string csv = Path.Combine(_dir, "path.csv");
        var r = CliRunner.Run("geodesic", "--model", _model, "--from", "0.1,-0.3", "--to", "0.93,0.41", "--points", "17", "--out", csv);
        Assert.AreEqual(0, r.Code, r.Err);
        var lines = File.ReadAllLines(csv);
        Assert.AreEqual("index,t1,t2,cumulative_length", lines[0]);
        Assert.AreEqual(18, lines.Length);
        double[] Row(int i) => lines[i].Split(',').Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        CollectionAssert.AreEqual(new[] { 0, 0.1, -0.3, 0 }, Row(1));
        var last = Row(17);
        Assert.AreEqual((16.0, 0.93, 0.41), (last[0], last[1], last[2]));
        // Same numbers as the library's solver on the same psi.
        var p = new GeodesicTransformer(GeodesicTests.SplinePsi(), new GeodesicOptions { Points = 17 }).Solve(0.1, -0.3, 0.93, 0.41);
        Assert.AreEqual(p.Length, last[3]);
        for (int i = 1; i < 16; i++) Assert.AreEqual(p.T1[i], Row(i + 1)[1]);
        StringAssert.Contains(r.Out, "length");
    }

    [TestMethod]
    public void BadInputIsOneLineExitTwoAndNothingWritten()
    {
        string csv = Path.Combine(_dir, "bad.csv");
        string junk = Path.Combine(_dir, "junk.zip");
        File.WriteAllText(junk, "not a model");
        string[][] cases =
        [
            ["--model", _model, "--from", "0.1,-0.6", "--to", "0.5,0", "--out", csv], // outside the box (t2 in [-0.5, 0.5])
            ["--model", _model, "--from", "0.1,0", "--to", "1.5,0", "--out", csv],
            ["--model", _model, "--from", "0.1,0", "--to", "0.5,0", "--points", "1", "--out", csv],
            ["--model", junk, "--from", "0.1,0", "--to", "0.5,0", "--out", csv],
            ["--model", Path.Combine(_dir, "missing.zip"), "--from", "0.1,0", "--to", "0.5,0", "--out", csv],
            ["--model", _model, "--from", "0.1;0", "--to", "0.5,0", "--out", csv],
        ];
        foreach (var args in cases)
        {
            var r = CliRunner.Run(["geodesic", .. args]);
            Assert.AreEqual(2, r.Code, string.Join(' ', args) + ": " + r.Err);
            Assert.AreEqual(1, r.Err.Trim().Split('\n').Length, r.Err);
            Assert.IsFalse(File.Exists(csv), string.Join(' ', args));
        }
    }

    [TestMethod]
    public void AdamMethodRunsFromTheCommandLine()
    {
        string csv = Path.Combine(_dir, "adam.csv");
        var r = CliRunner.Run("geodesic", "--model", _model, "--from", "0.2,0", "--to", "0.8,0.2", "--points", "10", "--method", "adam", "--out", csv);
        Assert.AreEqual(0, r.Code, r.Err);
        Assert.AreEqual(11, File.ReadAllLines(csv).Length);
    }

    [TestMethod]
    public void PairsFromACsvShareOneTabulationAndEachPathKeepsItsEnds()
    {
        string pairs = Path.Combine(_dir, "pairs.csv"), csv = Path.Combine(_dir, "paths.csv");
        File.WriteAllText(pairs, "from_t1,from_t2,to_t1,to_t2\n0.1,-0.3,0.93,0.41\n0.5,0.25,0.2,-0.4\n0.7,0,0.7,0\n");
        var r = CliRunner.Run("geodesic", "--model", _model, "--pairs", pairs, "--points", "11", "--out", csv);
        Assert.AreEqual(0, r.Code, r.Err);
        StringAssert.Contains(r.Out, "wrote 3 geodesics of 11 points");
        var lines = File.ReadAllLines(csv);
        Assert.AreEqual("pair,index,t1,t2,cumulative_length", lines[0]);
        Assert.AreEqual(1 + 3 * 11, lines.Length);
        double[] Row(int i) => lines[i].Split(',').Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        CollectionAssert.AreEqual(new[] { 1, 0, 0.5, 0.25, 0 }, Row(1 + 11).Select(x => Math.Round(x, 6)).ToArray());
        var end = Row(1 + 2 * 11 - 1);
        Assert.AreEqual((1.0, 10.0, 0.2, -0.4), (end[0], end[1], Math.Round(end[2], 6), Math.Round(end[3], 6)));
        Assert.AreEqual(0, Row(3 * 11)[4]); // from == to: length 0
        // The first pair's length equals the one-path command's (same endpoints up to float rounding of the CSV's).
        var single = CliRunner.Run("geodesic", "--model", _model, "--from", "0.1,-0.3", "--to", "0.93,0.41", "--points", "11", "--out", Path.Combine(_dir, "one.csv"));
        double oneLength = double.Parse(File.ReadAllLines(Path.Combine(_dir, "one.csv"))[^1].Split(',')[3], CultureInfo.InvariantCulture);
        Assert.AreEqual(oneLength, Row(11)[4], 1e-5 * oneLength, single.Out);
    }

    [TestMethod]
    public void BadPairsAreOneLineErrors()
    {
        string pairs = Path.Combine(_dir, "pairs.csv"), csv = Path.Combine(_dir, "paths.csv");
        File.WriteAllText(pairs, "from_t1,from_t2,to_t1,to_t2\n0.1,-0.3,0.93,0.41\n0.5,0.25,1.5,-0.4\n");
        File.WriteAllText(Path.Combine(_dir, "nocol.csv"), "a,b\n1,2\n");
        foreach (var (args, message) in new (string[], string)[]
        {
            (["--pairs", pairs], "row 1"),
            (["--pairs", Path.Combine(_dir, "nocol.csv")], "from_t1"),
            (["--pairs", Path.Combine(_dir, "none.csv")], "no such file"),
            (["--pairs", pairs, "--from", "0.1,0.1"], "either --from and --to"),
            (["--from", "0.1,0.1"], "either --from and --to"),
        })
        {
            var r = CliRunner.Run(["geodesic", "--model", _model, "--out", csv, .. args]);
            Assert.AreEqual(2, r.Code, $"{string.Join(' ', args)}: {r.Err}");
            Assert.AreEqual(1, r.Err.Trim().Split('\n').Length, r.Err);
            StringAssert.Contains(r.Err, message);
            Assert.IsFalse(File.Exists(csv));
        }
    }
}
