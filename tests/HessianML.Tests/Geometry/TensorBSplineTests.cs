using HessianML.Evaluation;
using HessianML.Geometry;
using HessianML.Posterior;

namespace HessianML.Tests.Geometry;

[TestClass]
public sealed class TensorBSplineTests
{
    private static readonly ParameterBox Box = new(0.25, 0.65, -0.3, 0.3);

    [TestMethod]
    public void BasisIsAPartitionOfUnityWithExactDerivatives()
    {
        var s = new CubicBSpline1D(-1, 2, 9);
        Span<double> v = stackalloc double[4], d1 = stackalloc double[4], d2 = stackalloc double[4];
        Span<double> vp = stackalloc double[4], vm = stackalloc double[4], tmp = stackalloc double[4], tmp2 = stackalloc double[4];
        var rng = new Random(1);
        for (int trial = 0; trial < 200; trial++)
        {
            double x = -1 + 3 * rng.NextDouble(), eps = 1e-5;
            int f = s.Evaluate(x, v, d1, d2);
            Assert.AreEqual(1.0, v[0] + v[1] + v[2] + v[3], 1e-12);
            Assert.AreEqual(0.0, d1[0] + d1[1] + d1[2] + d1[3], 1e-10);
            // Central differences inside one piece (both sides use the same four functions).
            if (s.Evaluate(x + eps, vp, tmp, tmp2) != f || s.Evaluate(x - eps, vm, tmp, tmp2) != f) continue;
            for (int a = 0; a < 4; a++)
                Assert.AreEqual((vp[a] - vm[a]) / (2 * eps), d1[a], 1e-7, $"d1 of basis {a} at {x}");
            s.Evaluate(x + eps, tmp, vp, tmp2);
            s.Evaluate(x - eps, tmp, vm, tmp2);
            for (int a = 0; a < 4; a++)
                Assert.AreEqual((vp[a] - vm[a]) / (2 * eps), d2[a], 1e-5, $"d2 of basis {a} at {x}");
        }
    }

    [TestMethod]
    public void ReproducesCubicPolynomialsExactlyWithTheirMetric()
    {
        // Least-squares fit of a bicubic polynomial psi must be exact: the tensor basis spans it.
        var spline = new TensorBSpline(Box, 6, 7);
        static double F(double x, double y) => 2 * x * x * x - x * y + 3 * y * y * y + y * y * x + 0.5;
        var pts = Box.CellCentres(20, 20);
        int n = pts.Length / 2, p = spline.CoefficientCount;
        var x = new double[n][];
        var y = new double[n];
        Span<int> idx = stackalloc int[16];
        Span<double> w = stackalloc double[96];
        for (int i = 0; i < n; i++)
        {
            x[i] = new double[p];
            spline.BasisRow(pts[2 * i], pts[2 * i + 1], idx, w[..16], w[16..32], w[32..48], w[48..64], w[64..80], w[80..]);
            for (int r = 0; r < 16; r++) x[i][idx[r]] += w[r];
            y[i] = F(pts[2 * i], pts[2 * i + 1]);
        }
        var c = MetricFieldErrors.LeastSquares(x, y);
        c.CopyTo(spline.Coefficients, 0);
        foreach (var (t1, t2) in new[] { (0.3, 0.1), (0.61, -0.29), (0.45, 0.0) })
        {
            var e = spline.Evaluate(t1, t2);
            Assert.AreEqual(F(t1, t2), e.Value, 1e-9);
            Assert.AreEqual(6 * t1 * t1 - t2 + t2 * t2, e.D1, 1e-8);
            Assert.AreEqual(-t1 + 9 * t2 * t2 + 2 * t2 * t1, e.D2, 1e-8);
            Assert.AreEqual(12 * t1, e.D11, 1e-7);
            Assert.AreEqual(-1 + 2 * t2, e.D12, 1e-7);
            Assert.AreEqual(18 * t2 + 2 * t1, e.D22, 1e-7);
        }
    }

    [TestMethod]
    public void TooFewBasisFunctionsOrAFlatBoxAreRefused()
    {
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new TensorBSpline(Box, 3, 5));
        Assert.ThrowsExactly<ArgumentException>(() => new TensorBSpline(new ParameterBox(0, 1, 0.5, 0.5), 5, 5));
        Assert.ThrowsExactly<ArgumentException>(() => new TensorBSpline(Box, 5, 5, new double[24]));
    }
}
