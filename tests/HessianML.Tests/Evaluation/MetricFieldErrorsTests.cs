using HessianML.Evaluation;
using HessianML.Geometry;
using HessianML.Posterior;

namespace HessianML.Tests.Evaluation;

[TestClass]
public sealed class MetricFieldErrorsTests
{
    private static readonly ParameterBox Box = new(0.25, 0.65, -0.3, 0.3);

    // A convex psi with known derivatives: psi = exp(t1) + t1 t2^2 + t2^4 (Hessian positive on the box).
    private static MetricField Exact(int k)
    {
        var c = Box.CellCentres(k, k);
        var f = MetricField.AtPoints(Enumerable.Range(0, k * k).Select(i => c[2 * i]).ToArray(),
            Enumerable.Range(0, k * k).Select(i => c[2 * i + 1]).ToArray());
        for (int i = 0; i < f.Count; i++)
        {
            double x = f.T1[i], y = f.T2[i];
            f.Psi[i] = Math.Exp(x) + x * y * y + Math.Pow(y, 4);
            f.Dpsi1[i] = Math.Exp(x) + y * y;
            f.Dpsi2[i] = 2 * x * y + 4 * Math.Pow(y, 3);
            f.G11[i] = Math.Exp(x);
            f.G12[i] = 2 * y;
            f.G22[i] = 2 * x + 12 * y * y;
        }
        return f;
    }

    [TestMethod]
    public void ScaledAndTiltedCopyHasNoError()
    {
        var exact = Exact(12);
        var est = MetricField.AtPoints(exact.T1, exact.T2);
        // estimate = (psi* - 0.3 t1 + 2 t2 - 5) / 2.5, i.e. exact = 2.5 est + 0.3 t1 - 2 t2 + 5
        for (int i = 0; i < est.Count; i++)
        {
            est.Psi[i] = (exact.Psi[i] - 0.3 * exact.T1[i] + 2 * exact.T2[i] - 5) / 2.5;
            est.Dpsi1[i] = (exact.Dpsi1[i] - 0.3) / 2.5;
            est.Dpsi2[i] = (exact.Dpsi2[i] + 2) / 2.5;
            est.G11[i] = exact.G11[i] / 2.5; est.G12[i] = exact.G12[i] / 2.5; est.G22[i] = exact.G22[i] / 2.5;
        }
        var e = MetricFieldErrors.Compare(exact, est);
        Assert.AreEqual(2.5, e.Scale, 1e-9);
        Assert.AreEqual(0.3, e.Slope1, 1e-8);
        Assert.AreEqual(-2, e.Slope2, 1e-8);
        Assert.AreEqual(5, e.Offset, 1e-8);
        Assert.AreEqual(0, e.NrmsePsi, 1e-8);
        Assert.AreEqual(0, e.NrmseD1, 1e-8);
        Assert.AreEqual(0, e.NrmseD2, 1e-8);
        Assert.AreEqual(0, e.MetricError, 1e-9);
    }

    [TestMethod]
    public void KnownPerturbationGivesItsRelativeSize()
    {
        var exact = Exact(10);
        var est = MetricField.AtPoints(exact.T1, exact.T2);
        // Metric off by a uniform 10% (relative error exactly 0.1); psi off by a term orthogonal-ish to affine.
        for (int i = 0; i < est.Count; i++)
        {
            est.Psi[i] = exact.Psi[i];
            est.Dpsi1[i] = exact.Dpsi1[i];
            est.Dpsi2[i] = exact.Dpsi2[i];
            est.G11[i] = 1.1 * exact.G11[i]; est.G12[i] = 1.1 * exact.G12[i]; est.G22[i] = 1.1 * exact.G22[i];
        }
        var e = MetricFieldErrors.Compare(exact, est);
        Assert.AreEqual(1.0, e.Scale, 1e-9);
        Assert.AreEqual(0.1, e.MetricError, 1e-9);
        Assert.AreEqual(0, e.NrmsePsi, 1e-9);
    }

    [TestMethod]
    public void DerivativeErrorIsNormalisedByTheSpreadOfTheExactDerivative()
    {
        var exact = Exact(8);
        var est = MetricField.AtPoints(exact.T1, exact.T2);
        Array.Copy(exact.Psi, est.Psi, est.Count);
        Array.Copy(exact.Dpsi2, est.Dpsi2, est.Count);
        // d1 replaced by its mean: the error then equals the spread of d1 itself, NRMSE = 1.
        double mean = exact.Dpsi1.Average();
        Array.Fill(est.Dpsi1, mean);
        var e = MetricFieldErrors.Compare(exact, est);
        Assert.AreEqual(1.0, e.NrmseD1, 1e-6);
        Assert.AreEqual(0, e.NrmseD2, 1e-8);
    }

    [TestMethod]
    public void RegionSelectsInteriorPointsAndMismatchedPointsAreRefused()
    {
        var exact = Exact(10);
        var e = MetricFieldErrors.Compare(exact, exact, Box.Inner(0.8));
        Assert.AreEqual(64, e.Points); // cells 1..8 on each side of 10 have centres inside the inner 80%
        var other = Exact(9);
        var ex = Assert.ThrowsExactly<ArgumentException>(() => MetricFieldErrors.Compare(exact, other));
        StringAssert.Contains(ex.Message, "100 points");
    }
}
