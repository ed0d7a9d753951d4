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

    // Six cells (t1, t2) in {0, 1, 2} x {0, 1}, index 2 t1 + t2; psi* = t1^2 + t2^2 + t1 t2 (not affine on any four of
    // them) and the estimate's psi = psi* / 2, so the fitted scale is exactly a = 2 with no affine part. The metrics are
    // free numbers (Compare does not check them against psi), chosen so every per-cell figure is computable by hand.
    private static (MetricField Exact, MetricField Estimate) SixCells(
        (double, double, double)[] exactG, (double, double, double)[] estimateG)
    {
        double[] t1 = [0, 0, 1, 1, 2, 2], t2 = [0, 1, 0, 1, 0, 1];
        var exact = MetricField.AtPoints(t1, t2);
        var est = MetricField.AtPoints(t1, t2);
        for (int i = 0; i < 6; i++)
        {
            double x = t1[i], y = t2[i];
            exact.Psi[i] = x * x + y * y + x * y;
            exact.Dpsi1[i] = 2 * x + y;
            exact.Dpsi2[i] = 2 * y + x;
            (est.Psi[i], est.Dpsi1[i], est.Dpsi2[i]) = (exact.Psi[i] / 2, exact.Dpsi1[i] / 2, exact.Dpsi2[i] / 2);
            (exact.G11[i], exact.G12[i], exact.G22[i]) = exactG[i];
            (est.G11[i], est.G12[i], est.G22[i]) = estimateG[i];
        }
        return (exact, est);
    }

    //            exact G* (g11, g12, g22)  estimate G      a G - G*        |a G - G*|_F / |G*|_F   eigenvalues of G
    // cell 0     (1, 0, 1)                 (.5, 0, .5)     0               0                       .5, .5
    // cell 1     (3, 0, 4)                 (1.5, 0, 2.5)   (0, 0, 1)       1 / 5 = 0.2             1.5, 2.5
    // cell 2     (2, 1, 2)                 (1, 0, 1)       (0, -1, 0)      sqrt(2 / 10)            1, 1
    // cell 3     (1, 0, 1)                 (.5, 1, .5)     (0, 2, 0)       sqrt(8 / 2) = 2         -.5, 1.5  indefinite
    // cell 4     (4, 0, 0) singular        (2, 0, -1e-12)  (0, 0, -2e-12)  5e-13                   -1e-12, 2 (within tolerance)
    // cell 5     (1, 0, 1)                 (.5, 0, -.5)    (0, 0, -2)      2 / sqrt 2 = sqrt 2     -.5, .5   indefinite
    private static readonly (double, double, double)[] ExactG = [(1, 0, 1), (3, 0, 4), (2, 1, 2), (1, 0, 1), (4, 0, 0), (1, 0, 1)];
    private static readonly (double, double, double)[] EstimateG = [(0.5, 0, 0.5), (1.5, 0, 2.5), (1, 0, 1), (0.5, 1, 0.5), (2, 0, -1e-12), (0.5, 0, -0.5)];

    [TestMethod]
    public void PerCellMetricFiguresMatchTheHandComputedCells()
    {
        var (exact, est) = SixCells(ExactG, EstimateG);
        var e = MetricFieldErrors.Compare(exact, est);
        Assert.AreEqual(6, e.Points);
        Assert.AreEqual(2.0, e.Scale, 1e-12);
        Assert.AreEqual(0, e.Slope1, 1e-12);
        Assert.AreEqual(0, e.Offset, 1e-12);
        // Sorted per-cell errors: 0, 5e-13, 0.2, sqrt 0.2, sqrt 2, 2: the median is the mean of the middle two.
        Assert.AreEqual((0.2 + Math.Sqrt(0.2)) / 2, e.MedianCellMetricError, 1e-12);
        // Largest |trace G| = 4 (cell 1): cells 3 and 5 (-0.5) are below -4e-9, cell 4 (-1e-12) is not.
        Assert.AreEqual(2.0 / 6, e.IndefiniteFraction, 1e-15);
        // Cell 4's exact G* is singular (eigenvalue 0): not positive definite.
        Assert.AreEqual(1.0 / 6, e.ExactNotPositiveDefiniteFraction, 1e-15);
        // The rms figure from the same cells: sum |a G - G*|^2 = 0 + 1 + 2 + 8 + 4e-24 + 4, sum |G*|^2 = 2 + 25 + 10 + 2 + 16 + 2.
        Assert.AreEqual(Math.Sqrt(15.0 / 57), e.MetricError, 1e-12);
    }

    [TestMethod]
    public void IndefiniteToleranceScalesWithTheLargestTraceInsideTheRegion()
    {
        // Cell 4's estimate now has trace 1e10: over the whole box the tolerance is 1e-9 x 1e10 = 10, so the -0.5
        // eigenvalues of cells 3 and 5 are not counted; inside a region holding cells 0-3 only (largest trace 4) cell 3 is.
        var estimate = EstimateG.ToArray();
        estimate[4] = (1e10, 0, 0);
        var (exact, est) = SixCells(ExactG, estimate);
        var whole = MetricFieldErrors.Compare(exact, est);
        Assert.AreEqual(0, whole.IndefiniteFraction);
        Assert.AreEqual(0, MetricFieldErrors.CountIndefinite(est, Enumerable.Range(0, 6).ToArray()));

        var inner = MetricFieldErrors.Compare(exact, est, new ParameterBox(-0.5, 1.5, -0.5, 1.5));
        Assert.AreEqual(4, inner.Points);
        Assert.AreEqual(2.0, inner.Scale, 1e-12);
        Assert.AreEqual(1.0 / 4, inner.IndefiniteFraction);
        Assert.AreEqual(0, inner.ExactNotPositiveDefiniteFraction, "cell 4, the singular one, is outside");
        // Region errors 0, 0.2, sqrt 0.2, 2.
        Assert.AreEqual((0.2 + Math.Sqrt(0.2)) / 2, inner.MedianCellMetricError, 1e-12);
        // The test is on the estimate's own G, so a positive rescaling of it changes nothing.
        for (int i = 0; i < 6; i++) (est.G11[i], est.G12[i], est.G22[i]) = (7 * est.G11[i], 7 * est.G12[i], 7 * est.G22[i]);
        Assert.AreEqual(1, MetricFieldErrors.CountIndefinite(est, [0, 1, 2, 3]));
    }

    [TestMethod]
    public void MedianCountsUndefinedCellsAsTheWorstAndAnExactCopyHasNoIndefiniteCells()
    {
        var (exact, est) = SixCells(ExactG, EstimateG);
        // Cells 0 and 2 undefined (NaN): sorted errors 0.2, 5e-13 -> 5e-13, 0.2, sqrt 2, 2, inf, inf; median (sqrt 2 + 2) / 2.
        est.G11[0] = double.NaN;
        est.G22[2] = double.NaN;
        Assert.AreEqual((Math.Sqrt(2) + 2) / 2, MetricFieldErrors.Compare(exact, est).MedianCellMetricError, 1e-12);

        var smooth = Exact(10);
        var self = MetricFieldErrors.Compare(smooth, smooth, Box.Inner(0.8));
        Assert.AreEqual(0, self.MedianCellMetricError, 1e-9); // a = 1 up to the normal equations' rounding
        Assert.AreEqual(0, self.IndefiniteFraction);
        Assert.AreEqual(0, self.ExactNotPositiveDefiniteFraction);
    }
}
