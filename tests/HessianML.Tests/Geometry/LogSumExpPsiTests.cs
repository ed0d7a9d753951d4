using System.Text.Json;
using HessianML.Evaluation;
using HessianML.Geometry;
using HessianML.Pipeline;
using HessianML.Posterior;
using HessianML.Systems.Ising;
using HessianML.Systems.Tasep;

namespace HessianML.Tests.Geometry;

/// <summary>
/// The log-sum-exp psi (issue 14): exact derivatives, a positive semi-definite metric everywhere, recovery of an exact
/// discrete-family psi from its grid values, the fit's gradient against finite differences, the trainer path.
/// </summary>
[TestClass]
public sealed class LogSumExpPsiTests
{
    private static readonly ParameterBox IsingBox = new(0.25, 0.65, -0.3, 0.3);

    /// <summary>A random log-sum-exp on a box that is not the unit square (so the standardisation is exercised).</summary>
    internal static LogSumExpPsi RandomPsi(int terms = 40, int seed = 3)
    {
        var rng = new Random(seed);
        var atoms = Enumerable.Range(0, 2 * terms).Select(_ => 4 * rng.NextDouble() - 2).ToArray();
        var biases = Enumerable.Range(0, terms).Select(_ => 3 * rng.NextDouble()).ToArray();
        return new LogSumExpPsi(new ParameterBox(0.2, 0.7, -0.3, 0.4), 1.7, atoms, biases);
    }

    /// <summary>A random log-sum-exp in -log t1 (atoms &gt;= 0 there) and natural t2, on a box with t1 &gt; 0.</summary>
    internal static LogSumExpPsi RandomWarpedPsi(int terms = 40, int seed = 4)
    {
        var rng = new Random(seed);
        var atoms = Enumerable.Range(0, 2 * terms).Select(i => i % 2 == 0 ? 3 * rng.NextDouble() : 4 * rng.NextDouble() - 2).ToArray();
        var biases = Enumerable.Range(0, terms).Select(_ => 3 * rng.NextDouble()).ToArray();
        return new LogSumExpPsi(new ParameterBox(0.05, 0.95, -0.3, 0.4), 1.3, atoms, biases, ExponentialCoordinate.NegativeLog);
    }

    /// <summary>Smallest eigenvalue of each 2 x 2 metric, relative to the largest trace over the points.</summary>
    private static double WorstRelativeEigenvalue(MetricField f)
    {
        double maxTrace = Enumerable.Range(0, f.Count).Max(i => Math.Abs(f.G11[i] + f.G22[i]));
        return Enumerable.Range(0, f.Count).Min(i =>
        {
            double half = (f.G11[i] + f.G22[i]) / 2, det = f.G11[i] * f.G22[i] - f.G12[i] * f.G12[i];
            return (half - Math.Sqrt(Math.Max(0, half * half - det))) / maxTrace;
        });
    }

    [TestMethod]
    [DataRow(false)]
    [DataRow(true)]
    public void GradientAndHessianMatchFiniteDifferencesInDouble(bool warped)
    {
        var psi = warped ? RandomWarpedPsi() : RandomPsi();
        // Two inside the box, two far outside (t1 > 0 where it is in -log coordinates).
        double[] t1 = warped ? [0.3, 0.55, 0.02, 1.6] : [0.3, 0.55, -0.4, 1.6], t2 = [0.1, -0.25, 0.9, -1.2];
        var f = psi.Evaluate(t1, t2);
        double Psi(double a, double b) => psi.Evaluate([a], [b]).Psi[0];
        (double, double) Grad(double a, double b)
        {
            var g = psi.Evaluate([a], [b]);
            return (g.Dpsi1[0], g.Dpsi2[0]);
        }
        const double h = 1e-5;
        for (int i = 0; i < t1.Length; i++)
        {
            double x = t1[i], y = t2[i];
            double d1 = (Psi(x + h, y) - Psi(x - h, y)) / (2 * h), d2 = (Psi(x, y + h) - Psi(x, y - h)) / (2 * h);
            var (gx1, gx2) = Grad(x + h, y);
            var (gm1, gm2) = Grad(x - h, y);
            var (gy1, gy2) = Grad(x, y + h);
            var (gn1, gn2) = Grad(x, y - h);
            double tolG = 1e-7 * (1 + Math.Abs(f.Dpsi1[i]) + Math.Abs(f.Dpsi2[i]));
            Assert.AreEqual(d1, f.Dpsi1[i], tolG, $"dpsi/dt1 at point {i}");
            Assert.AreEqual(d2, f.Dpsi2[i], tolG, $"dpsi/dt2 at point {i}");
            double tolH = 1e-6 * (1 + Math.Abs(f.G11[i]) + Math.Abs(f.G22[i]));
            Assert.AreEqual((gx1 - gm1) / (2 * h), f.G11[i], tolH, $"g11 at point {i}");
            Assert.AreEqual((gy1 - gn1) / (2 * h), f.G12[i], tolH, $"g12 (d/dt2 of dpsi/dt1) at point {i}");
            Assert.AreEqual((gx2 - gm2) / (2 * h), f.G12[i], tolH, $"g12 (d/dt1 of dpsi/dt2) at point {i}");
            Assert.AreEqual((gy2 - gn2) / (2 * h), f.G22[i], tolH, $"g22 at point {i}");
        }
    }

    [TestMethod]
    public void ValuesAreFiniteWhereTheExponentsOverflowADouble()
    {
        // s * log sum exp with exponents near 1e4: exp alone would overflow; the max-shift keeps everything finite.
        var psi = new LogSumExpPsi(new ParameterBox(0, 1, 0, 1), 2, [5000, 0, -5000, 0, 0, 5000], [0, 0, 0]);
        var f = psi.Evaluate([3, 0.5], [0.5, 3]);
        foreach (var col in f.Columns) Assert.IsTrue(col.All(double.IsFinite), string.Join(",", col));
        Assert.AreEqual(2 * (5000 * 5.0 + Math.Log(1 + Math.Exp(-5000 * 5.0 - 0))), f.Psi[0], 1e-9 * f.Psi[0]);
    }

    [TestMethod]
    public void MetricIsPositiveSemiDefiniteOnADenseGridInsideAndOutsideTheBox()
    {
        var fitted = FitIsing4(out _);
        foreach (var psi in new FittedPsi[] { RandomPsi(), RandomPsi(200, 9), fitted, RandomWarpedPsi(), FitTasep(ExponentialCoordinate.NegativeLog) })
        {
            var b = psi.Box;
            // (A -log axis is defined for t > 0: there the box is widened down to a tenth of its lower edge.)
            double lo1 = psi is LogSumExpPsi { Axis1: ExponentialCoordinate.NegativeLog } ? b.Lo1 / 10 : b.Lo1 - b.Width1;
            double lo2 = psi is LogSumExpPsi { Axis2: ExponentialCoordinate.NegativeLog } ? b.Lo2 / 10 : b.Lo2 - b.Width2;
            var wide = new ParameterBox(lo1, b.Hi1 + b.Width1, lo2, b.Hi2 + b.Width2);
            var f = psi.Field(wide, 90); // 8100 points over the box widened by its own width on every side
            double worst = WorstRelativeEigenvalue(f);
            Assert.IsGreaterThanOrEqualTo(-1e-12, worst, $"{psi.Parametrisation}: smallest eigenvalue / largest trace {worst}");
        }
    }

    /// <summary>The exact psi of the 4 x 4 Ising torus (a finite log-sum-exp) on a 12 x 12 grid, through a 12-atom log-sum-exp.</summary>
    private static LogSumExpPsi FitIsing4(out LogSumExpFit.Report report)
    {
        const int k = 12;
        var exact = IsingExact.Field(4, IsingBox, k, k);
        return LogSumExpFit.Fit(IsingBox, IsingBox.CellCentres(k, k), exact.Psi.Select(v => 64 * v).ToArray(),
            new LogSumExpFit.Settings(12, 1e-3, 0.2, 12), out report);
    }

    private static readonly ParameterBox TasepBox = new(0.05, 0.95, 0.05, 0.95);

    /// <summary>
    /// The exact psi of the L = 12 TASEP on a 12 x 12 grid plus an affine term in t (the gauge least squares leaves), through a
    /// 12-atom log-sum-exp in the given coordinates.
    /// </summary>
    private static LogSumExpPsi FitTasep(ExponentialCoordinate axis) => FitTasep(axis, out _);

    private static LogSumExpPsi FitTasep(ExponentialCoordinate axis, out LogSumExpFit.Report report)
    {
        const int k = 12;
        var exact = TasepExact.MetricFieldOnGrid(12, TasepBox, k);
        var values = Enumerable.Range(0, exact.Count).Select(i => 48 * exact.Psi[i] + 3 * exact.T1[i] - 7 * exact.T2[i] + 1).ToArray();
        return LogSumExpFit.Fit(TasepBox, TasepBox.CellCentres(k, k), values,
            new LogSumExpFit.Settings(12, 1e-3, 0.2, 12) { Axis1 = axis, Axis2 = axis }, out report);
    }

    [TestMethod]
    public void RecoversTheExactTasepPsiInNegativeLogCoordinatesWhereNaturalOnesCannot()
    {
        // TASEP's Z_L is a polynomial in 1/alpha, 1/beta with positive coefficients, so in -log coordinates its psi is a
        // log-sum-exp; in (alpha, beta) its curvature spans decades and a 12 x 12 atom grid cannot follow it. Measured
        // (L = 12, values 48 psi + an affine gauge on a 12 x 12 grid, scored on 24 x 24): NRMSE psi 0.0009, derivatives
        // 0.0019, metric 0.0049 in -log coordinates; 0.075, 0.081, 0.131 in natural ones.
        var exact = TasepExact.MetricFieldOnGrid(12, TasepBox, 24);
        var warped = FitTasep(ExponentialCoordinate.NegativeLog, out var report);
        var (inner, _) = LogPartitionEvaluation.Compare(exact, warped, TasepBox);
        var (natural, _) = LogPartitionEvaluation.Compare(exact, FitTasep(ExponentialCoordinate.Natural), TasepBox);
        Console.WriteLine($"-log:    {inner}; {report}");
        Console.WriteLine($"natural: {natural}");
        Assert.IsLessThan(0.01, inner.NrmsePsi, inner.ToString());
        Assert.IsLessThan(0.03, inner.NrmseD1, inner.ToString());
        Assert.IsLessThan(0.03, inner.NrmseD2, inner.ToString());
        Assert.IsLessThan(0.1, inner.MetricError, inner.ToString());
        Assert.IsLessThan(0.05, inner.MedianCellMetricError, inner.ToString());
        Assert.AreEqual(0, inner.IndefiniteFraction);
        Assert.IsLessThan(natural.MedianCellMetricError / 2, inner.MedianCellMetricError, "-log coordinates beat natural ones");
        Assert.AreEqual(1 / 48.0, inner.Scale, 0.05 / 48, "the values were 48 psi");
        Assert.IsTrue(warped.Atoms.All(a => a >= 0), "atoms >= 0 on -log axes");
    }

    [TestMethod]
    public void NegativeLogAxesRefuseNegativeAtomsAndBoxesReachingZero()
    {
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() =>
            new LogSumExpPsi(TasepBox, 1, [0.5, -0.1], [0], ExponentialCoordinate.Natural, ExponentialCoordinate.NegativeLog)).Message, "< 0 on t2");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() =>
            new LogSumExpPsi(new ParameterBox(0, 1, 0.1, 1), 1, [0.5, 0.1], [0], ExponentialCoordinate.NegativeLog)).Message, "t1 > 0");
        Assert.AreEqual(ExponentialCoordinate.NegativeLog, new LogSumExpPsi(TasepBox, 1, [0.5, -0.1], [0], ExponentialCoordinate.NegativeLog).Axis1);
    }

    [TestMethod]
    public void RecoversTheExactIsingPsiFromItsGridValuesWithAPositiveMetric()
    {
        // L = 4 (16 spins), values 64 psi (a bundle of 4) on a 12 x 12 grid: what log-posterior least squares returns from
        // exact posteriors. Measured (12 atoms per axis): NRMSE psi 0.0064, d/dbeta 0.017, d/dh 0.017, metric 0.084; the
        // penalised spline through the same values: 0.0042, 0.008, 0.013, 0.086, and an indefinite metric in places.
        var psi = FitIsing4(out var report);
        var exact = IsingExact.Field(4, IsingBox, 24, 24);
        var (inner, _) = LogPartitionEvaluation.Compare(exact, psi, IsingBox);
        var spline = LogPartitionTrainer.FitGridValues(new LogPartitionOptions { Parametrisation = PsiParametrisation.BSpline, SplineCount = 12 },
            IsingBox, IsingBox.CellCentres(12, 12), IsingExact.Field(4, IsingBox, 12, 12).Psi.Select(v => 64 * v).ToArray());
        var (splineInner, _) = LogPartitionEvaluation.Compare(exact, spline, IsingBox);
        Console.WriteLine($"log-sum-exp: {inner}; {report}");
        Console.WriteLine($"spline:      {splineInner}");
        double splineWorst = WorstRelativeEigenvalue(spline.Field(IsingBox, 48)), worst = WorstRelativeEigenvalue(psi.Field(IsingBox, 48));
        Console.WriteLine($"smallest eigenvalue / largest trace on 48 x 48: log-sum-exp {worst}, spline {splineWorst}");
        Assert.IsLessThan(0.01, inner.NrmsePsi, inner.ToString());
        Assert.IsLessThan(0.03, inner.NrmseD1, inner.ToString());
        Assert.IsLessThan(0.03, inner.NrmseD2, inner.ToString());
        Assert.IsLessThan(0.12, inner.MetricError, inner.ToString());
        Assert.IsLessThan(1.2 * splineInner.MetricError, inner.MetricError, "as good as the spline through the same values");
        Assert.AreEqual(1 / 64.0, inner.Scale, 0.05 / 64, "the values were 64 psi");
        Assert.IsGreaterThanOrEqualTo(-1e-12, worst);
        Assert.IsLessThan(-1e-3, splineWorst, "the spline's metric is indefinite somewhere: the convex fit's is not");
    }

    [TestMethod]
    public void FitObjectiveGradientMatchesFiniteDifferencesInDouble()
    {
        // The model's derivatives (df/db_k = softmax weight, df/dlog tau = tau * entropy) and the objective's gradient
        // (J^T r + lambda D^T D b) that the Gauss-Newton steps use, against central differences in double.
        var rng = new Random(5);
        const int m = 4, n = 7;
        var a = Enumerable.Range(0, 2 * m * m).Select(_ => 6 * rng.NextDouble() - 3).ToArray();
        var b = Enumerable.Range(0, m * m).Select(_ => rng.NextDouble()).ToArray();
        var u = Enumerable.Range(0, 2 * n).Select(_ => 2 * rng.NextDouble() - 1).ToArray();
        var values = Enumerable.Range(0, n).Select(_ => 3 * rng.NextDouble()).ToArray();
        const double tau = 0.7, h = 1e-6;
        var w = new double[m * m];
        double f0 = LogSumExpFit.Model(a, b, tau, u[0], u[1], w, out double dLogTau);
        var scratch = new double[m * m];
        for (int k = 0; k < m * m; k++)
        {
            var bp = (double[])b.Clone();
            var bm = (double[])b.Clone();
            bp[k] += h;
            bm[k] -= h;
            double fd = (LogSumExpFit.Model(a, bp, tau, u[0], u[1], scratch, out _) - LogSumExpFit.Model(a, bm, tau, u[0], u[1], scratch, out _)) / (2 * h);
            Assert.AreEqual(fd, w[k], 1e-8, $"df/db_{k}");
        }
        double fdTau = (LogSumExpFit.Model(a, b, tau * Math.Exp(h), u[0], u[1], scratch, out _) - LogSumExpFit.Model(a, b, tau * Math.Exp(-h), u[0], u[1], scratch, out _)) / (2 * h);
        Assert.AreEqual(fdTau, dLogTau, 1e-8 * (1 + Math.Abs(f0)), "df/dlog tau");

        // With one linear column (the affine gauge of a -log axis): its coefficient is the last entry of theta.
        var linear = Enumerable.Range(0, n).Select(_ => 2 * rng.NextDouble() - 1).ToArray();
        var problem = new LogSumExpFit.Problem(a, u, values, m, 0.3, linear, 1);
        b = [.. b, 0.4];
        problem.SetLambda(b, tau);
        Assert.IsGreaterThan(0, problem.Lambda);
        var grad = problem.Gradient(b, tau, null);
        Assert.HasCount(m * m + 1, grad);
        for (int k = 0; k < m * m + 1; k++)
        {
            var bp = (double[])b.Clone();
            var bm = (double[])b.Clone();
            bp[k] += h;
            bm[k] -= h;
            double fd = (problem.Cost(bp, tau) - problem.Cost(bm, tau)) / (2 * h) / 2; // Gradient is half the cost's
            Assert.AreEqual(fd, grad[k], 1e-7 * (1 + Math.Abs(fd)), $"d cost / d b_{k}");
        }
    }

    [TestMethod]
    public void TrainerFitsLogSumExpThroughLeastSquaresAndAsTheConvexProjectionOfTheJsdSpline()
    {
        // Exact posteriors of the L = 4 Ising model on a 12 x 12 grid (bundle 64): least squares returns 64 psi on the
        // grid, and the log-sum-exp goes through it. Measured: see the console line (the values are the same as in
        // RecoversTheExactIsingPsiFromItsGridValuesWithAPositiveMetric up to the least-squares solve's float rounding).
        var (box, k) = (IsingBox, 12);
        var exactGrid = IsingExact.Field(4, box, k, k);
        var (t, p) = SyntheticPosteriors.Generate(box, k, exactGrid.Psi, (x, y) =>
        {
            var e = IsingExact.Evaluate(4, x, y);
            return (e.Dpsi1, e.Dpsi2);
        }, 64, 300, 17);
        var o = new LogPartitionOptions { Fit = PsiFit.LogPosteriorLeastSquares, SplineCount = 12, LogSumExpAtoms = 12 };
        Assert.AreEqual(PsiParametrisation.Auto, o.Parametrisation, "the default");
        Assert.AreEqual(PsiParametrisation.LogSumExp, o.EffectiveParametrisation, "Auto under least squares");
        var psi = LogPartitionTrainer.FitPsi(o, box, k, Array.ConvertAll(t, x => (double)x), p);
        Assert.IsInstanceOfType<LogSumExpPsi>(psi);
        var (inner, _) = LogPartitionEvaluation.Compare(IsingExact.Field(4, box, 24, 24), psi, box);
        Console.WriteLine(inner);
        Assert.IsLessThan(0.12, inner.MetricError, inner.ToString());
        Assert.IsLessThan(0.01, inner.NrmsePsi, inner.ToString());

        // Under JSD the spline is fitted and the log-sum-exp goes through its grid values: close to them (its convex
        // projection), with a metric that is positive semi-definite where the spline's need not be.
        var jsd = new LogPartitionOptions { Fit = PsiFit.Jsd, SplineCount = 12, LogSumExpAtoms = 12, Epochs = 30 };
        Assert.AreEqual(PsiParametrisation.LogSumExp, jsd.EffectiveParametrisation, "Auto under JSD");
        var tt = Array.ConvertAll(t, x => (double)x);
        var projected = LogPartitionTrainer.FitPsi(jsd, box, k, tt, p);
        jsd.Parametrisation = PsiParametrisation.BSpline;
        var spline = LogPartitionTrainer.FitPsi(jsd, box, k, tt, p);
        Assert.IsInstanceOfType<LogSumExpPsi>(projected);
        var (a, b) = (projected.Field(box, k).Psi, spline.Field(box, k).Psi);
        double mean = b.Average(), spread = Math.Sqrt(b.Average(v => (v - mean) * (v - mean)));
        double rms = Math.Sqrt(a.Zip(b, (x, y) => (x - y) * (x - y)).Average());
        Assert.IsLessThan(0.01 * spread, rms, $"the projection goes through the spline's values: rms {rms} against spread {spread}");
        Assert.IsGreaterThanOrEqualTo(-1e-12, WorstRelativeEigenvalue(projected.Field(box, 48)));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new LogPartitionTrainer(new LogPartitionOptions { Fit = PsiFit.LogPosteriorLeastSquares, LogSumExpAtoms = 2 }));
    }

    [TestMethod]
    public void AffineValuesGiveAFlatMetricNotAFailure()
    {
        // No curvature anywhere (the degenerate case of the start's curvature estimate): the fit still returns a psi that
        // reproduces the values, with a metric that is tiny against what the gradient range would give a curved psi.
        var box = new ParameterBox(0, 1, -1, 1);
        var grid = box.CellCentres(8, 8);
        var values = Enumerable.Range(0, 64).Select(i => 2 + 3 * grid[2 * i] - 5 * grid[2 * i + 1]).ToArray();
        var psi = LogSumExpFit.Fit(box, grid, values, new LogSumExpFit.Settings(6, 1e-3, 0.2, 6), out var report);
        var f = psi.Evaluate([.. Enumerable.Range(0, 64).Select(i => grid[2 * i])], [.. Enumerable.Range(0, 64).Select(i => grid[2 * i + 1])]);
        for (int i = 0; i < 64; i++) Assert.AreEqual(values[i], f.Psi[i], 0.01, $"value {i}; {report}");
        Assert.AreEqual(3, f.Dpsi1.Average(), 0.05);
        Assert.AreEqual(-5, f.Dpsi2.Average(), 0.05);
        Assert.IsLessThan(0.1, f.G11.Concat(f.G22).Max(), "a flat psi has (almost) no metric");
    }

    [TestMethod]
    public void StatesSavedBeforeLogSumExpExistedStillLoad()
    {
        // A SavedPsi written before Terms and Scale were added has neither field: both default.
        const string old = """{"Parametrisation":"BSpline","Lo1":0,"Hi1":1,"Lo2":-0.5,"Hi2":0.5,"Hidden":0,"Depth":0,"Activation":"Relu","LayerNorm":false,"SplineCount1":5,"SplineCount2":5}""";
        var s = JsonSerializer.Deserialize<FittedPsi.SavedPsi>(old, ComponentStateWriter.Json)!;
        Assert.AreEqual(PsiParametrisation.BSpline, s.Parametrisation);
        Assert.AreEqual(5, s.SplineCount2);
        Assert.AreEqual(0, s.Terms);
        Assert.AreEqual(0.0, s.Scale);
        var lse = RandomPsi().Describe();
        Assert.AreEqual(40, lse.Terms);
        Assert.AreEqual(1.7, lse.Scale);
        Assert.AreEqual(lse, JsonSerializer.Deserialize<FittedPsi.SavedPsi>(JsonSerializer.Serialize(lse, ComponentStateWriter.Json), ComponentStateWriter.Json));
        Assert.AreEqual(ExponentialCoordinate.Natural, s.Axis1, "states saved before the axes existed are natural");
        var warped = RandomWarpedPsi().Describe();
        Assert.AreEqual(ExponentialCoordinate.NegativeLog, warped.Axis1);
        Assert.AreEqual(warped, JsonSerializer.Deserialize<FittedPsi.SavedPsi>(JsonSerializer.Serialize(warped, ComponentStateWriter.Json), ComponentStateWriter.Json));
    }
}
