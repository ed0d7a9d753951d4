using HessianML.Onnx;
using HessianML.Tests.MlNet;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace HessianML.Tests.Onnx;

/// <summary>An exported psi is an ordinary ONNX model for ML.NET: <c>ApplyOnnxModel</c> (OnnxTransformer) runs it in a chain.</summary>
[TestClass]
public sealed class PsiOnnxThroughMlNetTests
{
    public sealed class Point
    {
        [VectorType(2)] public float[] t = new float[2];
    }

    [TestMethod]
    public void ApplyOnnxModelRunsTheExportedPsiAndAgreesWithIt()
    {
        var lp = MlNetFixtures.SplinePsi();
        string dir = MlNetFixtures.TempFolder("psi-onnx-mlnet");
        try
        {
            string onnx = Path.Combine(dir, "psi.onnx");
            var ml = new MLContext(seed: 1);
            using (var stream = File.Create(onnx)) ml.Model.ConvertToOnnx(lp, stream);
            var rng = new Random(3);
            var points = Enumerable.Range(0, 50).Select(_ => new Point { t = [(float)rng.NextDouble(), (float)(rng.NextDouble() - 0.5)] }).ToList();
            var data = ml.Data.LoadFromEnumerable(points);
            var names = new[] { PsiOnnxExporter.PsiName, PsiOnnxExporter.GradientName, PsiOnnxExporter.MetricName };
            var model = ml.Transforms.ApplyOnnxModel(names, [PsiOnnxExporter.InputName], onnx).Fit(data);
            var out1 = MlNetFixtures.ReadAll(model.Transform(data), names);
            var exact = lp.Evaluate([.. points.Select(p => (double)p.t[0])], [.. points.Select(p => (double)p.t[1])]);
            for (int i = 0; i < points.Count; i++)
            {
                // The graph computes in double from float inputs and returns float: a few float32 roundings (2^-23 = 1.2e-7 each).
                double[] want = [exact.Psi[i], exact.Dpsi1[i], exact.Dpsi2[i], exact.G11[i], exact.G12[i], exact.G22[i]];
                double[] got = [.. out1[names[0]][i], .. out1[names[1]][i], .. out1[names[2]][i]];
                for (int j = 0; j < want.Length; j++)
                    Assert.AreEqual(want[j], got[j], 1e-6 * Math.Max(1, Math.Abs(want[j])), $"row {i}, output {j}");
            }
            (model as IDisposable)?.Dispose();
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
