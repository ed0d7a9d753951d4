using HessianML.Evaluation;
using HessianML.Geometry;
using HessianML.Systems.Tasep;

namespace HessianML.Tests.Systems;

[TestClass]
public sealed class TasepFisherInformationTests
{
    [TestMethod]
    public void OneSiteIsABernoulliWithTheAnalyticFisherInformation()
    {
        // L = 1: occupied with p = alpha / (alpha + beta); I = grad p grad p^T / (p (1 - p)).
        foreach (var (a, b) in new[] { (0.3, 0.6), (0.05, 0.95), (0.9, 0.2), (1.0, 1.0) })
        {
            var f = TasepFisherInformation.Exact(1, a, b);
            double s = (a + b) * (a + b);
            Assert.AreEqual(b / (a * s), f.G11, 1e-7 * b / (a * s), $"({a}, {b})");
            Assert.AreEqual(-1 / s, f.G12, 1e-7 / s, $"({a}, {b})");
            Assert.AreEqual(a / (b * s), f.G22, 1e-7 * a / (b * s), $"({a}, {b})");
        }
    }

    [TestMethod]
    public void ExactSamplesAgreeWithEnumerationWithinTheirStandardError()
    {
        foreach (var (a, b) in new[] { (0.3, 0.6), (0.8, 0.7), (0.15, 0.1) })
        {
            var exact = TasepFisherInformation.Exact(6, a, b);
            var mc = TasepFisherInformation.Sampled(6, a, b, 20000, seed: 11);
            Assert.AreEqual(exact.G11, mc.G11, 4.5 * mc.Se11, $"({a}, {b}) g11");
            Assert.AreEqual(exact.G12, mc.G12, 4.5 * mc.Se12, $"({a}, {b}) g12");
            Assert.AreEqual(exact.G22, mc.G22, 4.5 * mc.Se22, $"({a}, {b}) g22");
        }
    }

    [TestMethod]
    public void HessianOfLogZExceedsTheFisherInformation()
    {
        // Hess_t (1/L) log Z_L - I_t is PSD (class remarks); in the low-density bulk the sites are nearly Bernoulli(alpha), so
        // the ratio of the alpha-alpha entries approaches (1 - alpha)/alpha + alpha/(1 - alpha) (log Z_L ~ -L log(alpha (1 - alpha)),
        // I ~ L / (alpha (1 - alpha))): the two differ by factors of 2 to 10 across the box, not by one scale.
        const int L = 12;
        foreach (var (a, b) in new[] { (0.05, 0.95), (0.15, 0.6), (0.3, 0.3), (0.7, 0.8), (0.9, 0.9), (0.6, 0.1) })
        {
            var z = TasepExact.LogPartition(L, a, b);
            var f = TasepFisherInformation.Exact(L, a, b);
            double d11 = z.DAlphaAlpha / L - f.G11, d12 = z.DAlphaBeta / L - f.G12, d22 = z.DBetaBeta / L - f.G22;
            double tr = d11 + d22, det = d11 * d22 - d12 * d12;
            double scale = Math.Abs(z.DAlphaAlpha / L) + Math.Abs(z.DBetaBeta / L);
            Assert.IsGreaterThanOrEqualTo(-1e-7 * scale, tr / 2 - Math.Sqrt(tr * tr / 4 - det), $"({a}, {b}): smallest eigenvalue of Hess - I");
        }
        foreach (var (a, b) in new[] { (0.1, 0.6), (0.2, 0.7) })
        {
            double ratio = TasepExact.LogPartition(L, a, b).DAlphaAlpha / L / TasepFisherInformation.Exact(L, a, b).G11;
            double bulk = (1 - a) / a + a / (1 - a);
            Assert.AreEqual(bulk, ratio, 0.15 * bulk, $"({a}, {b})");
        }
    }

    [TestMethod]
    public void MetricOnlyComparisonFitsOneScale()
    {
        var reference = MetricField.AtPoints([0.1, 0.2], [0.3, 0.4]);
        var estimate = MetricField.AtPoints([0.1, 0.2], [0.3, 0.4]);
        for (int i = 0; i < 2; i++) { (reference.G11[i], reference.G22[i]) = (2, 2); (estimate.G11[i], estimate.G22[i]) = (1, 1); }
        var same = MetricFieldErrors.CompareMetrics(reference, estimate);
        Assert.AreEqual(2, same.Scale, 1e-12);
        Assert.AreEqual(0, same.MetricError, 1e-12);
        // (1, 0, 1) against (1, 0, 0): a = 1, residual (0, 0, 1), error 1/sqrt(2) at each point.
        for (int i = 0; i < 2; i++) { (reference.G11[i], reference.G22[i]) = (1, 1); (estimate.G11[i], estimate.G22[i]) = (1, 0); }
        var off = MetricFieldErrors.CompareMetrics(reference, estimate);
        Assert.AreEqual(1, off.Scale, 1e-12);
        Assert.AreEqual(Math.Sqrt(0.5), off.MetricError, 1e-12);
        Assert.AreEqual(Math.Sqrt(0.5), off.MedianCellMetricError, 1e-12);
        // Over chosen points only: point 1 made wrong, and left out, changes nothing; taken alone, its own numbers.
        (estimate.G11[1], estimate.G22[1]) = (5, -3);
        var first = MetricFieldErrors.CompareMetrics(reference, estimate, [0]);
        Assert.AreEqual(1, first.Scale, 1e-12);
        Assert.AreEqual(Math.Sqrt(0.5), first.MetricError, 1e-12);
        Assert.AreEqual(Math.Sqrt(0.5), first.MedianCellMetricError, 1e-12);
        // (1, 0, 1) against (5, 0, -3): a = 2 / 34, residual (1 - 10/34, 0, 1 + 6/34).
        var alone = MetricFieldErrors.CompareMetrics(reference, estimate, [1]);
        double a = 2.0 / 34;
        Assert.AreEqual(a, alone.Scale, 1e-12);
        Assert.AreEqual(Math.Sqrt((Math.Pow(1 - 5 * a, 2) + Math.Pow(1 + 3 * a, 2)) / 2), alone.MetricError, 1e-12);
        Assert.ThrowsExactly<ArgumentException>(() => MetricFieldErrors.CompareMetrics(reference, estimate, Array.Empty<int>()));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => MetricFieldErrors.CompareMetrics(reference, estimate, [2]));
    }
}
