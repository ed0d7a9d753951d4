using HessianML.Cli;
using HessianML.Data;

namespace HessianML.Tests.Systems.Diffusion;

[TestClass]
public sealed class DiffusionCliTests
{
    private string _dir = "";

    [TestInitialize]
    public void Init() => Directory.CreateDirectory(_dir = Path.Combine(Path.GetTempPath(), $"diffusion-cli-{Guid.NewGuid():N}"));

    [TestCleanup]
    public void Cleanup() => Directory.Delete(_dir, recursive: true);

    [TestMethod]
    public void SimulateDiffusionWritesTheSliceDataset()
    {
        string path = Path.Combine(_dir, "d.arrow");
        var r = CliRunner.Run("simulate", "diffusion", "--components", "3", "--dim", "27", "--steps", "20", "--grid", "6",
            "--seed", "5", "--out", path);
        Assert.AreEqual(0, r.Code, r.Err);
        StringAssert.Contains(r.Out, "wrote 36 diffusion samples");
        var view = ArrowDataFile.Read(path);
        Assert.AreEqual(36, view.RowCount);
        Assert.AreEqual("diffusion", view.Schema.Metadata["system"]);
        Assert.AreEqual("6", view.Schema.Metadata["grid"]);
        Assert.AreEqual(27, view.Schema["features"].Type.VectorLength);
    }

    [TestMethod]
    public void BadInputIsOneLineExitTwoAndNothingWritten()
    {
        string path = Path.Combine(_dir, "bad.arrow");
        foreach (var (args, fragment) in new (string[], string)[]
                 {
                     (["--eta", "1.5"], "eta 1.5"),
                     (["--dim", "10"], "dimension 10 is not a multiple of 3"),
                     (["--grid", "4", "--samples", "9"], "not both"),
                     (["--components", "0"], "components 0"),
                 })
        {
            var r = CliRunner.Run(["simulate", "diffusion", .. args, "--out", path]);
            Assert.AreEqual(HessianCli.UsageError, r.Code, string.Join(" ", args));
            StringAssert.Contains(r.Err, fragment);
            Assert.AreEqual(1, r.Err.Trim().Split('\n').Length, r.Err);
            Assert.IsFalse(File.Exists(path));
        }
        var csv = CliRunner.Run("simulate", "diffusion", "--out", Path.Combine(_dir, "x.csv"));
        Assert.AreEqual(HessianCli.UsageError, csv.Code);
        StringAssert.Contains(csv.Err, "Arrow");
    }
}
