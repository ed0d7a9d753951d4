using HessianML.Pipeline.MlNet;
using HessianML.Autodiff.Layers;
using HessianML.Geometry;
using HessianML.Onnx;
using HessianML.Pipeline;
using HessianML.Posterior;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace HessianML.Tests.Onnx;

/// <summary>
/// A fitted psi exported to ONNX and run by the real ONNX Runtime gives our psi, grad psi (and, for a spline, the
/// metric) at the same points: inside the box and outside it (where a spline extrapolates its end pieces).
/// </summary>
[TestClass]
public sealed class PsiOnnxExportTests
{
    private static OnnxRuntimeEngine _engine = null!;

    [ClassInitialize]
    public static void ClassInit(TestContext _) => _engine = new OnnxRuntimeEngine(new OnnxRuntimeOptions { LogSeverity = 4 });

    [ClassCleanup]
    public static void ClassCleanup() => _engine?.Dispose();

    /// <summary>Points t (float, as the graph's input is) over the box widened by 20% on each side.</summary>
    private static float[] Points(ParameterBox box, int n, int seed)
    {
        var rng = new Random(seed);
        var t = new float[2 * n];
        for (int i = 0; i < n; i++)
        {
            t[2 * i] = (float)(box.Lo1 + (rng.NextDouble() * 1.4 - 0.2) * box.Width1);
            t[2 * i + 1] = (float)(box.Lo2 + (rng.NextDouble() * 1.4 - 0.2) * box.Width2);
        }
        return t;
    }

    /// <summary>psi, its gradient and the metric from the graph against ours, each within <paramref name="bound"/> relative.</summary>
    private static void AllOutputsAgree(MetricField ours, IReadOnlyDictionary<string, OnnxTensor> outputs, double bound)
    {
        var errors = new[]
        {
            RelativeError(ours.Psi, outputs["psi"].Data, 1, 0),
            RelativeError(ours.Dpsi1, outputs["grad_psi"].Data, 2, 0),
            RelativeError(ours.Dpsi2, outputs["grad_psi"].Data, 2, 1),
            RelativeError(ours.G11, outputs["metric"].Data, 3, 0),
            RelativeError(ours.G12, outputs["metric"].Data, 3, 1),
            RelativeError(ours.G22, outputs["metric"].Data, 3, 2),
        };
        Console.WriteLine("relative errors psi, dpsi1, dpsi2, g11, g12, g22: " + string.Join(", ", errors.Select(e => e.ToString("E2"))));
        foreach (double e in errors) Assert.IsTrue(e < bound, $"relative error {e}");
    }

    private static IReadOnlyDictionary<string, OnnxTensor> Run(FittedPsi psi, float[] t)
    {
        using var session = _engine.CreateSession(PsiOnnxExporter.Build(psi).ToBytes());
        CollectionAssert.AreEquivalent(new[] { "t" }, session.Inputs.Select(i => i.Name).ToArray());
        return session.Run(new Dictionary<string, OnnxTensor> { ["t"] = new OnnxTensor(t, t.Length / 2, 2) });
    }

    /// <summary>Worst |ours - onnx| over the points, relative to the largest |ours| of that quantity.</summary>
    private static double RelativeError(double[] ours, float[] onnx, int stride, int offset)
    {
        double worst = 0, scale = 0;
        for (int i = 0; i < ours.Length; i++)
        {
            worst = Math.Max(worst, Math.Abs(ours[i] - onnx[i * stride + offset]));
            scale = Math.Max(scale, Math.Abs(ours[i]));
        }
        return worst / scale;
    }

    private static MetricField Ours(FittedPsi psi, float[] t)
    {
        int n = t.Length / 2;
        return psi.Evaluate(Enumerable.Range(0, n).Select(i => (double)t[2 * i]).ToArray(),
            Enumerable.Range(0, n).Select(i => (double)t[2 * i + 1]).ToArray());
    }

    [TestMethod]
    public void SplinePsiGradientAndMetricMatchOursInAndOutsideTheBox()
    {
        var psi = Geometry.GeodesicTests.SplinePsi().Psi;
        var t = Points(psi.Box, 200, 1);
        var outputs = Run(psi, t);
        var ours = Ours(psi, t);
        CollectionAssert.AreEqual(new long[] { 200 }, outputs["psi"].Shape.ToArray());
        // The graph computes in double like ours; only the float outputs round: relative 6e-8 of each value.
        AllOutputsAgree(ours, outputs, 2e-7);
    }

    [TestMethod]
    [DataRow(false)]
    [DataRow(true)]
    public void LogSumExpPsiGradientAndMetricMatchOursInAndOutsideTheBox(bool negativeLog)
    {
        // Computed in double in the graph as by ours (the covariance in shifted rather than centred form; in -log
        // coordinates the chain rule through w = -log t); the float outputs round to relative 6e-8. Measured worst: 4.8e-8.
        var psi = negativeLog ? Geometry.LogSumExpPsiTests.RandomWarpedPsi(200, 9) : Geometry.LogSumExpPsiTests.RandomPsi(200, 9);
        var t = Points(psi.Box, 200, 3);
        if (negativeLog)
            for (int i = 0; i < t.Length; i += 2) t[i] = Math.Max(t[i], 0.01f); // -log t1 needs t1 > 0 (the box starts at 0.05)
        var outputs = Run(psi, t);
        var ours = Ours(psi, t);
        AllOutputsAgree(ours, outputs, 2e-7);
        var meta = PsiOnnxExporter.Build(psi).Build().MetadataProps.ToDictionary(p => p.Key, p => p.Value);
        Assert.AreEqual("LogSumExp", meta["hessianml.psi"]);
    }

    [TestMethod]
    [DataRow(ActivationKind.Relu)]
    [DataRow(ActivationKind.Softplus)]
    [DataRow(ActivationKind.Tanh)]
    public void MlpPsiAndItsHandWrittenGradientMatchOurAutodiff(ActivationKind activation)
    {
        // LayerNorm after each hidden layer, as the paper's network. Evaluated in float in the graph, in double by us:
        // float round-off through 3 layers of width 32 stays below ~1e-6 relative; 1e-5 leaves room.
        var psi = MlpPsi.Untrained(new ParameterBox(0.2, 0.7, -0.3, 0.4), 32, 3, activation, 5);
        var t = Points(psi.Box, 64, 2);
        var outputs = Run(psi, t);
        Assert.IsFalse(outputs.ContainsKey("metric"));
        var ours = Ours(psi, t);
        var errors = new[]
        {
            RelativeError(ours.Psi, outputs["psi"].Data, 1, 0),
            RelativeError(ours.Dpsi1, outputs["grad_psi"].Data, 2, 0),
            RelativeError(ours.Dpsi2, outputs["grad_psi"].Data, 2, 1),
        };
        Console.WriteLine($"{activation}: relative errors psi, dpsi1, dpsi2: " + string.Join(", ", errors.Select(e => e.ToString("E2"))));
        foreach (double e in errors) Assert.IsTrue(e < 1e-5, $"relative error {e}");
    }

    [TestMethod]
    public void TheModelSaysWhatItIsInItsMetadata()
    {
        var psi = Geometry.GeodesicTests.SplinePsi().Psi;
        var model = PsiOnnxExporter.Build(psi).Build();
        var meta = model.MetadataProps.ToDictionary(p => p.Key, p => p.Value);
        Assert.AreEqual("BSpline", meta["hessianml.psi"]);
        Assert.AreEqual("0:1,-0.5:0.5", meta["hessianml.box"]);
        CollectionAssert.AreEquivalent(new[] { "psi", "grad_psi", "metric" }, model.Graph!.Output.Select(o => o.Name).ToArray());
    }

    [TestMethod]
    public void ExportCommandWritesARunnableModelAndRefusesBadInputInOneLine()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"export-cli-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        try
        {
            var lp = Geometry.GeodesicTests.SplinePsi();
            string model = Path.Combine(dir, "model.zip");
            ModelFiles.Save(lp, ModelFiles.ParameterSchema, model);
            string onnx = Path.Combine(dir, "psi.onnx");
            var r = CliRunner.Run("export", "--model", model, "--out", onnx);
            Assert.AreEqual(0, r.Code, r.Err);
            StringAssert.Contains(r.Out, "metric [batch, 3]");
            // The file is the same graph ctx.Model.ConvertToOnnx writes, and it runs.
            using (var stream = new MemoryStream())
            {
                new MLContext().Model.ConvertToOnnx(lp, stream);
                CollectionAssert.AreEqual(stream.ToArray(), File.ReadAllBytes(onnx));
            }
            using (var session = _engine.CreateSession(onnx))
                Assert.AreEqual(lp.Psi.Evaluate([0.5], [0.1]).Psi[0],
                    session.Run(new Dictionary<string, OnnxTensor> { ["t"] = new OnnxTensor(new[] { 0.5f, 0.1f }, 1, 2) })["psi"].Data[0], 1e-6);

            foreach (var (args, message) in new (string[], string)[]
            {
                (["export", "--model", Path.Combine(dir, "none.zip"), "--out", Path.Combine(dir, "a.onnx")], "no such file"),
                (["export", "--model", model, "--out", Path.Combine(dir, "a.txt")], "must end in .onnx"),
                (["export", "--model", onnx, "--out", Path.Combine(dir, "b.onnx")], "--model"),
            })
            {
                var bad = CliRunner.Run(args);
                Assert.AreEqual(2, bad.Code, bad.Err);
                Assert.AreEqual(1, bad.Err.Trim().Split('\n').Length, bad.Err);
                StringAssert.Contains(bad.Err, message);
            }
            Assert.IsFalse(File.Exists(Path.Combine(dir, "a.onnx")) || File.Exists(Path.Combine(dir, "b.onnx")));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
