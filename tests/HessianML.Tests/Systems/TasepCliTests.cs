using System.CommandLine;
using HessianML.Cli;
using HessianML.Cli.Infrastructure;
using HessianML.Data;
using HessianML.Geometry;
using HessianML.Systems.Tasep;

namespace HessianML.Tests.Systems;

[TestClass]
public sealed class TasepCliTests
{
    private string _dir = "";

    [TestInitialize]
    public void Init() => Directory.CreateDirectory(_dir = Path.Combine(Path.GetTempPath(), $"tasep-cli-{Guid.NewGuid():N}"));

    [TestCleanup]
    public void Cleanup() => Directory.Delete(_dir, recursive: true);

    /// <summary>
    /// Runs `hessian simulate|exact tasep ...` on a root wired like the real one (the parents are added at merge),
    /// with the same error mapping as <see cref="HessianCli.Run"/>.
    /// </summary>
    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var root = new RootCommand("test")
        {
            new Command("simulate") { TasepCommands.Simulate() },
            new Command("exact") { TasepCommands.Exact() },
        };
        var output = new StringWriter();
        var error = new StringWriter();
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0) return (HessianCli.UsageError, "", parse.Errors[0].Message);
        var previous = Console.Out;
        Console.SetOut(output);
        try
        {
            int code = parse.Invoke(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false });
            return (code, output.ToString(), error.ToString());
        }
        catch (Exception ex)
        {
            var (code, message) = CliErrors.Describe(ex);
            return (code, output.ToString(), message);
        }
        finally { Console.SetOut(previous); }
    }

    [TestMethod]
    public void SimulateWritesArrowWithContractAndCsvWithHeader()
    {
        string arrow = Path.Combine(_dir, "t.arrow"), csv = Path.Combine(_dir, "t.csv");
        var r = Run("simulate", "tasep", "--size", "8", "--alpha", "0.1:0.9", "--beta", "0.3", "--samples", "50",
            "--seed", "7", "--out", arrow);
        Assert.AreEqual(0, r.Code, r.Err);
        StringAssert.Contains(r.Out, "wrote 50 TASEP samples");
        var view = ArrowDataFile.Read(arrow);
        Assert.AreEqual(50, view.RowCount);
        Assert.AreEqual("tasep", view.Schema.Metadata["system"]);
        Assert.AreEqual("7", view.Schema.Metadata["seed"]);
        Assert.AreEqual("8", view.Schema.Metadata["size"]);
        var expected = TasepSimulation.Sample(new TasepSimulationSettings(8, 0.1, 0.9, 0.3, 0.3, 50, 7));
        CollectionAssert.AreEqual(expected.T, view.GetColumn<float>("t").ToArray());
        CollectionAssert.AreEqual(expected.States, view.GetColumn<sbyte>("state").ToArray());

        r = Run("simulate", "tasep", "--size", "8", "--alpha", "0.1:0.9", "--beta", "0.3", "--samples", "50",
            "--seed", "7", "--out", csv);
        Assert.AreEqual(0, r.Code, r.Err);
        var lines = File.ReadAllLines(csv);
        Assert.AreEqual("t1,t2,x0,x1,x2,x3,x4,x5,x6,x7", lines[0]);
        Assert.AreEqual(51, lines.Length);
        var first = lines[1].Split(',');
        Assert.AreEqual(expected.T[0], float.Parse(first[0], System.Globalization.CultureInfo.InvariantCulture));
        CollectionAssert.AreEqual(expected.States[..8].Select(s => s.ToString()).ToArray(), first[2..]);
    }

    [TestMethod]
    public void ExactWritesTheMetricFieldCsv()
    {
        string path = Path.Combine(_dir, "field.csv");
        var r = Run("exact", "tasep", "--size", "12", "--alpha", "0.2:0.8", "--beta", "0.1:0.9", "--grid", "5", "--out", path);
        Assert.AreEqual(0, r.Code, r.Err);
        Assert.AreEqual("t1,t2,psi,dpsi_dt1,dpsi_dt2,g11,g12,g22", File.ReadLines(path).First());
        var field = MetricField.ReadCsv(path);
        Assert.AreEqual(25, field.Count);
        Assert.AreEqual(0.26, field.T1[0], 1e-12);
        Assert.AreEqual(0.18, field.T2[0], 1e-12);
        for (int i = 0; i < 25; i += 6)
        {
            var z = TasepExact.LogPartition(12, field.T1[i], field.T2[i]);
            Assert.AreEqual(z.LogZ / 12, field.Psi[i], 1e-14);
            Assert.AreEqual(z.DAlpha / 12, field.Dpsi1[i], 1e-14);
            Assert.AreEqual(z.DBetaBeta / 12, field.G22[i], 1e-12);
        }
    }

    [TestMethod]
    public void BadInputIsOneLineExitTwoAndNothingWritten()
    {
        string path = Path.Combine(_dir, "x.arrow");
        string folder = Directory.CreateDirectory(Path.Combine(_dir, "d.csv")).FullName;
        (string[] Args, string Needle)[] cases =
        [
            (["simulate", "tasep", "--alpha", "0:0.5", "--samples", "5", "--out", path], "(0, 1]"),
            (["simulate", "tasep", "--beta", "0.5:1.5", "--samples", "5", "--out", path], "(0, 1]"),
            (["simulate", "tasep", "--size", "0", "--samples", "5", "--out", path], "--size"),
            (["simulate", "tasep", "--size", "1000000", "--samples", "5", "--out", path], "--size"),
            (["simulate", "tasep", "--samples", "0", "--out", path], "--samples"),
            (["simulate", "tasep", "--samples", "5", "--out", Path.Combine(_dir, "x.parquet")], "extension"),
            (["simulate", "tasep", "--alpha", "0.9:0.2", "--out", path], "LO must not exceed HI"),
            (["exact", "tasep", "--alpha", "0.5:1.01", "--out", Path.Combine(_dir, "f.csv")], "(0, 1]"),
            (["exact", "tasep", "--grid", "0", "--out", Path.Combine(_dir, "f.csv")], "--grid"),
            (["exact", "tasep", "--out", Path.Combine(_dir, "f.arrow")], "extension"),
            (["exact", "tasep", "--out", folder], "directory"),
        ];
        foreach (var (args, needle) in cases)
        {
            var r = Run(args);
            Assert.AreEqual(HessianCli.UsageError, r.Code, string.Join(' ', args));
            StringAssert.Contains(r.Err, needle, string.Join(' ', args));
            Assert.IsFalse(r.Err.TrimEnd().Contains('\n'), "one line: " + r.Err);
        }
        CollectionAssert.AreEqual(new[] { folder }, Directory.GetFileSystemEntries(_dir), "nothing written");
        Assert.AreEqual(0, Directory.GetFileSystemEntries(folder).Length, "nothing written");
    }

    [TestMethod]
    public void UnwritablePathFailsBeforeSampling()
    {
        string blocker = Path.Combine(_dir, "file");
        File.WriteAllText(blocker, "");
        // A path "under" a regular file can never be created.
        var r = Run("simulate", "tasep", "--samples", "5", "--out", Path.Combine(blocker, "x.arrow"));
        Assert.AreEqual(HessianCli.UsageError, r.Code, r.Err);
        Assert.AreEqual(1, Directory.GetFileSystemEntries(_dir).Length);
    }
}
