using HessianML.Evaluation;
using HessianML.Posterior;
using HessianML.Systems.Ising;

namespace HessianML.Tests.Evaluation;

[TestClass]
public sealed class MeanAsStatBaselineTests
{
    private static readonly ParameterBox Box = new(0.25, 0.65, -0.3, 0.3);

    [TestMethod]
    public void IntegratingAnExactGradientRecoversTheHessian()
    {
        // psi = 0.5 t^T A t + <b, t>: a cubic spline holds it exactly, so the fit must return A everywhere.
        double a11 = 3, a12 = -0.7, a22 = 1.5, b1 = 0.2, b2 = -0.4;
        var rng = new Random(2);
        int n = 3000;
        var t = new float[2 * n];
        var g = new double[2 * n];
        for (int i = 0; i < n; i++)
        {
            t[2 * i] = (float)(Box.Lo1 + Box.Width1 * rng.NextDouble());
            t[2 * i + 1] = (float)(Box.Lo2 + Box.Width2 * rng.NextDouble());
            g[2 * i] = a11 * t[2 * i] + a12 * t[2 * i + 1] + b1;
            g[2 * i + 1] = a12 * t[2 * i] + a22 * t[2 * i + 1] + b2;
        }
        var spline = MeanAsStatBaseline.IntegrateGradient(t, g, Box, 8, 1e-12);
        foreach (var (x, y) in new[] { (0.3, 0.0), (0.5, 0.2), (0.6, -0.25) })
        {
            var e = spline.Evaluate(x, y);
            Assert.AreEqual(a11, e.D11, 1e-5);
            Assert.AreEqual(a12, e.D12, 1e-5);
            Assert.AreEqual(a22, e.D22, 1e-5);
            Assert.AreEqual(a11 * x + a12 * y + b1, e.D1, 1e-6);
        }
    }

    [TestMethod]
    public void RegressionNetworkLearnsTheParametersFromIsingSamples()
    {
        var data = IsingSimulation.Generate(new IsingSimulationSettings
        {
            Size = 4, BetaLo = Box.Lo1, BetaHi = Box.Hi1, FieldLo = Box.Lo2, FieldHi = Box.Hi2, Samples = 3000, Seed = 5,
        });
        var (psi, rmse) = MeanAsStatBaseline.Fit(data, Box, new MeanAsStatOptions { Epochs = 4, Width = 8 });
        // Predicting the centre of the box has rms error sqrt(1/12) = 0.289 per scaled axis; the field is well
        // determined by the magnetisation, so a working regression must do clearly better.
        Assert.IsTrue(rmse < 0.25, $"regression rms error {rmse}");
        // The integrated psi is convex in h where the susceptibility is: g22 > 0 in the middle of the box.
        Assert.IsTrue(psi.Evaluate(0.45, 0).D22 > 0, "d2 psi / dh2 must be positive");
    }
}
