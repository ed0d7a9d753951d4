using System.CommandLine;
using HessianML.Cli;
using HessianML.Cli.Infrastructure;
using HessianML.Data;
using HessianML.Geometry;
using HessianML.Systems.Ising;

namespace HessianML.Tests.Systems;

[TestClass]
public sealed class IsingCommandTests
{
    internal static (int Code, string Out, string Err) Run(params string[] args) => CliRunner.Run(args);

    private static string TempDir()
    {
        string dir = Path.Combine(Path.GetTempPath(), "ising-cli-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    [TestMethod]
    public void SimulateWritesArrowReproduciblyAcrossThreadCounts()
    {
        string dir = TempDir();
        try
        {
            string a = Path.Combine(dir, "a.arrow"), b = Path.Combine(dir, "b.arrow");
            var common = new[] { "simulate", "ising", "--size", "4", "--samples", "64", "--sweeps", "3", "--seed", "7",
                "--beta", "0.3:0.5", "--field", "0.1" };
            var r1 = Run([.. common, "--threads", "1", "--out", a]);
            var r2 = Run([.. common, "--threads", "2", "--out", b]);
            Assert.AreEqual(0, r1.Code, r1.Err);
            Assert.AreEqual(0, r2.Code, r2.Err);
            CollectionAssert.AreEqual(File.ReadAllBytes(a), File.ReadAllBytes(b));
            var view = ArrowDataFile.Read(a);
            Assert.AreEqual(64, view.RowCount);
            Assert.AreEqual("ising", view.Schema.Metadata["system"]);
            Assert.AreEqual("7", view.Schema.Metadata["seed"]);
            var t = view.GetColumn<float>("t").Span;
            for (int i = 0; i < 64; i++)
            {
                Assert.IsTrue(t[2 * i] >= 0.3f && t[2 * i] <= 0.5f, $"beta {t[2 * i]}");
                Assert.AreEqual(0.1f, t[2 * i + 1]);
            }
            Assert.AreEqual(16, view.Schema["state"].Type.VectorLength);
        }
        finally { Directory.Delete(dir, true); }
    }

    [TestMethod]
    public void SimulateCsvHasTheContractHeader()
    {
        string dir = TempDir();
        try
        {
            string path = Path.Combine(dir, "x.csv");
            var r = Run("simulate", "ising", "--size", "3", "--samples", "5", "--sweeps", "2", "--out", path);
            Assert.AreEqual(0, r.Code, r.Err);
            var lines = File.ReadAllLines(path);
            Assert.AreEqual("t1,t2,x0,x1,x2,x3,x4,x5,x6,x7,x8", lines[0]);
            Assert.AreEqual(6, lines.Length);
            foreach (var line in lines.Skip(1))
            {
                var cells = line.Split(',');
                Assert.AreEqual(11, cells.Length);
                Assert.IsTrue(cells.Skip(2).All(c => c is "1" or "-1"), line);
            }
        }
        finally { Directory.Delete(dir, true); }
    }

    [TestMethod]
    [DataRow("simulate", "--out", "x.txt")]
    [DataRow("simulate", "--beta", "0.6:0.2")]
    [DataRow("simulate", "--beta", "-0.1:0.2")]
    [DataRow("exact", "--size", "13")]
    [DataRow("exact", "--out", "x.arrow")]
    [DataRow("exact", "--beta", "-0.5:0.2")]
    public void BadInputIsOneLineExitTwoAndNoFile(string verb, string option, string value)
    {
        string dir = TempDir();
        try
        {
            string path = Path.Combine(dir, verb == "exact" ? "f.csv" : "f.arrow");
            var args = new List<string> { verb, "ising", "--out", path };
            if (option == "--out") args[3] = Path.Combine(dir, value);
            else args.AddRange([option, value]);
            if (verb == "simulate") args.AddRange(["--samples", "10", "--size", "4", "--sweeps", "1"]);
            else args.AddRange(option == "--size" ? ["--grid", "2"] : ["--grid", "2", "--size", "3"]);
            var r = Run([.. args]);
            Assert.AreEqual(HessianCli.UsageError, r.Code, r.Err);
            Assert.IsFalse(r.Err.Trim().Contains('\n'), r.Err);
            Assert.AreEqual(0, Directory.GetFiles(dir).Length, "nothing may be written");
            if (option == "--size") StringAssert.Contains(r.Err, "12");
        }
        finally { Directory.Delete(dir, true); }
    }

    [TestMethod]
    public void UnwritablePathFailsBeforeTheWork()
    {
        string dir = TempDir();
        try
        {
            string blocker = Path.Combine(dir, "file");
            File.WriteAllText(blocker, "not a folder");
            var r = Run("simulate", "ising", "--size", "4", "--samples", "10", "--out", Path.Combine(blocker, "sub", "x.arrow"));
            Assert.AreEqual(HessianCli.UsageError, r.Code, r.Err);
            StringAssert.Contains(r.Err, "cannot write");
        }
        finally { Directory.Delete(dir, true); }
    }

    [TestMethod]
    public void ExactWritesTheMetricFieldAtCellCentres()
    {
        string dir = TempDir();
        try
        {
            string path = Path.Combine(dir, "m.csv");
            var r = Run("exact", "ising", "--size", "4", "--beta", "0.3:0.5", "--field", "-0.2:0.2", "--grid", "3", "--out", path);
            Assert.AreEqual(0, r.Code, r.Err);
            var field = MetricField.ReadCsv(path);
            Assert.AreEqual(9, field.Count);
            var p = IsingExact.Evaluate(4, 0.3 + 0.2 / 6, -0.2 + 0.4 / 6);
            Assert.AreEqual(p.Psi, field.Psi[0], 1e-12);
            Assert.AreEqual(p.G22, field.G22[0], 1e-10);
            Assert.AreEqual(0.5 - 0.2 / 6, field.T1[8], 1e-12);
        }
        finally { Directory.Delete(dir, true); }
    }

    [TestMethod]
    public void BenchPrintsARate()
    {
        var r = Run("bench", "ising", "--size", "16", "--sweeps", "4", "--no-peer");
        Assert.AreEqual(0, r.Code, r.Err);
        StringAssert.Contains(r.Out, "M spin-flip attempts/s");
        StringAssert.Contains(r.Out, "estimate:");
    }
}
