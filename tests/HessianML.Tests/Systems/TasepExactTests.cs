using HessianML.Posterior;
using HessianML.Systems.Tasep;

namespace HessianML.Tests.Systems;

[TestClass]
public sealed class TasepExactTests
{
    // (alpha, beta) pairs covering alpha + beta < 1 (negative c^2 in the bidiagonal representation), > 1, = 1,
    // alpha = beta below and above 1/2, and the corners of the CLI box.
    private static readonly (double A, double B)[] Rates =
    [
        (0.3, 0.3), (0.7, 0.7), (0.2, 0.65), (0.8, 0.35), (0.25, 0.75), (0.05, 0.95), (0.95, 0.05), (1.0, 1.0), (0.1, 0.12),
    ];

    /// <summary>
    /// f(tau) from the explicit DEHP bidiagonal matrices (dimension L + 1 is exact for words of length L):
    /// D = diag(1/beta, 1, 1, ...) + superdiagonal 1, E = diag(1/alpha, 1, 1, ...) + subdiagonal (c^2 at (1,0), else 1),
    /// c^2 = (alpha + beta - 1)/(alpha beta) — a representation independent of the normal ordering under test.
    /// </summary>
    internal static double FiniteMatrixWeight(int config, int size, double alpha, double beta)
    {
        int dim = size + 1;
        var v = new double[dim];
        var w = new double[dim];
        v[0] = 1;                                   // <W|
        double c2 = (alpha + beta - 1) / (alpha * beta);
        for (int i = 0; i < size; i++)
        {
            Array.Clear(w);
            bool particle = ((config >> i) & 1) == 1;
            for (int j = 0; j < dim; j++)
            {
                if (v[j] == 0) continue;
                if (particle)
                {
                    w[j] += v[j] * (j == 0 ? 1 / beta : 1);   // diagonal of D
                    if (j + 1 < dim) w[j + 1] += v[j];         // superdiagonal of D
                }
                else
                {
                    w[j] += v[j] * (j == 0 ? 1 / alpha : 1);  // diagonal of E
                    if (j >= 1) w[j - 1] += v[j] * (j == 1 ? c2 : 1); // subdiagonal of E
                }
            }
            (v, w) = (w, v);
        }
        return v[0];                                // |V>
    }

    internal static sbyte[] Config(int bits, int size) =>
        Enumerable.Range(0, size).Select(i => (sbyte)((bits >> i) & 1)).ToArray();

    [TestMethod]
    public void ClosedFormZEqualsBruteForceSumOfFiniteMatrixWeights()
    {
        foreach (var (a, b) in Rates)
            for (int size = 1; size <= 9; size++)
            {
                double z = 0;
                for (int s = 0; s < 1 << size; s++) z += FiniteMatrixWeight(s, size, a, b);
                double logZ = TasepExact.LogZ(size, a, b);
                Assert.AreEqual(Math.Log(z), logZ, 1e-11, $"L={size} alpha={a} beta={b}");
                Assert.AreEqual(logZ, new TasepMatrixProduct(size, a, b).LogZ, 1e-12, $"table L={size} alpha={a} beta={b}");
            }
    }

    [TestMethod]
    public void NormalOrderedWeightsEqualFiniteMatrixWeightsPerConfiguration()
    {
        foreach (var (a, b) in Rates)
        {
            const int size = 7;
            var mpa = new TasepMatrixProduct(size, a, b);
            for (int s = 0; s < 1 << size; s++)
            {
                double exact = FiniteMatrixWeight(s, size, a, b);
                Assert.AreEqual(Math.Log(exact), mpa.LogWeight(Config(s, size)), 1e-10, $"config {s} alpha={a} beta={b}");
            }
        }
    }

    [TestMethod]
    public void GeneratorStationaryLawEqualsNormalisedMatrixProductWeights()
    {
        foreach (var (a, b) in Rates)
            foreach (int size in new[] { 3, 6, 8 })
            {
                var pi = TasepGenerator.StationaryLaw(size, a, b);
                var mpa = new TasepMatrixProduct(size, a, b);
                double worst = 0;
                for (int s = 0; s < pi.Length; s++)
                {
                    double p = Math.Exp(mpa.LogWeight(Config(s, size)) - mpa.LogZ);
                    // The MPA sums are positive (accurate to rounding in relative terms); elimination on the generator
                    // is accurate in absolute terms only, so tiny probabilities are compared with that floor.
                    worst = Math.Max(worst, Math.Abs(p - pi[s]) / (1e-9 * p + 1e-13));
                }
                Assert.IsTrue(worst < 1, $"L={size} alpha={a} beta={b}: worst error {worst} x (1e-9 p + 1e-13)");
            }
    }

    [TestMethod]
    public void MatrixProductLawIsStationaryUnderTheGenerator()
    {
        // Balance check without any linear solve: (pi Q)(s) = inflow - outflow must vanish for every configuration.
        foreach (var (a, b) in Rates)
        {
            const int size = 9;
            var mpa = new TasepMatrixProduct(size, a, b);
            var pi = Enumerable.Range(0, 1 << size).Select(s => Math.Exp(mpa.LogWeight(Config(s, size)) - mpa.LogZ)).ToArray();
            var net = new double[pi.Length];
            foreach (var (from, to, rate) in TasepGenerator.Transitions(size, a, b))
            {
                net[to] += rate * pi[from];
                net[from] -= rate * pi[from];
            }
            Assert.AreEqual(1.0, pi.Sum(), 1e-12);
            for (int s = 0; s < pi.Length; s++)
                Assert.AreEqual(0, net[s], 1e-12 * pi[s] * (size + 1), $"config {s} alpha={a} beta={b}");
        }
    }

    [TestMethod]
    public void OnAlphaPlusBetaOneTheLawIsBernoulliAlpha()
    {
        foreach (double a in new[] { 0.2, 0.5, 0.85 })
        {
            const int size = 6;
            double b = 1 - a;
            var pi = TasepGenerator.StationaryLaw(size, a, b);
            var mpa = new TasepMatrixProduct(size, a, b);
            for (int s = 0; s < 1 << size; s++)
            {
                int k = System.Numerics.BitOperations.PopCount((uint)s);
                double bernoulli = Math.Pow(a, k) * Math.Pow(1 - a, size - k);
                Assert.AreEqual(bernoulli, pi[s], 1e-12, $"generator, alpha={a}, config {s}");
                Assert.AreEqual(bernoulli, Math.Exp(mpa.LogWeight(Config(s, size)) - mpa.LogZ), 1e-12, $"MPA, alpha={a}, config {s}");
            }
            CollectionAssert.AreEqual(Enumerable.Repeat(a, size).ToArray(),
                TasepExact.DensityProfile(size, a, b).Select(r => Math.Round(r, 12)).ToArray());
        }
    }

    [TestMethod]
    public void CurrentBoundaryAndProfileDensitiesMatchTheGenerator()
    {
        foreach (var (a, b) in Rates)
        {
            const int size = 7;
            var pi = TasepGenerator.StationaryLaw(size, a, b);
            var rho = new double[size];
            double holeAtFirst = 0;
            for (int s = 0; s < pi.Length; s++)
            {
                for (int i = 0; i < size; i++) rho[i] += ((s >> i) & 1) * pi[s];
                if ((s & 1) == 0) holeAtFirst += pi[s];
            }
            double current = TasepExact.Current(size, a, b);
            Assert.AreEqual(a * holeAtFirst, current, 1e-11, "J = alpha P(tau_1 = 0)");
            Assert.AreEqual(b * rho[size - 1], current, 1e-11, "J = beta <tau_L>");
            Assert.AreEqual(rho[0], TasepExact.FirstSiteDensity(size, a, b), 1e-11);
            Assert.AreEqual(rho[size - 1], TasepExact.LastSiteDensity(size, a, b), 1e-11);
            var profile = TasepExact.DensityProfile(size, a, b);
            for (int i = 0; i < size; i++) Assert.AreEqual(rho[i], profile[i], 1e-11, $"site {i + 1}, alpha={a} beta={b}");
            Assert.AreEqual(current, new TasepMatrixProduct(size, a, b).Current, 1e-12, "table current");
        }
    }

    [TestMethod]
    public void DerivativesEqualFiniteDifferences()
    {
        // Includes alpha = beta exactly, where the textbook quotient form is 0/0.
        foreach (var (a, b) in Rates.Where(r => r.A < 1 && r.B < 1).Append((0.4, 0.4)).Append((0.6, 0.6000001)))
            foreach (int size in new[] { 5, 40 })
            {
                const double h = 1e-4;
                double F(double x, double y) => TasepExact.LogZ(size, x, y);
                var z = TasepExact.LogPartition(size, a, b);
                double scale = 1 + Math.Abs(z.LogZ);
                double fa = (F(a + h, b) - F(a - h, b)) / (2 * h);
                double fb = (F(a, b + h) - F(a, b - h)) / (2 * h);
                double faa = (F(a + h, b) - 2 * F(a, b) + F(a - h, b)) / (h * h);
                double fbb = (F(a, b + h) - 2 * F(a, b) + F(a, b - h)) / (h * h);
                double fab = (F(a + h, b + h) - F(a + h, b - h) - F(a - h, b + h) + F(a - h, b - h)) / (4 * h * h);
                string at = $"L={size} alpha={a} beta={b}";
                Assert.AreEqual(fa, z.DAlpha, 1e-6 * scale / a, "d/dalpha " + at);
                Assert.AreEqual(fb, z.DBeta, 1e-6 * scale / b, "d/dbeta " + at);
                // Second differences carry rounding ~ eps |F| / h^2 plus truncation ~ h^2 F''''.
                double tol2 = 1e-4 * scale / (a * b * Math.Min(a, b) * Math.Min(a, b));
                Assert.AreEqual(faa, z.DAlphaAlpha, tol2, "d2/dalpha2 " + at);
                Assert.AreEqual(fbb, z.DBetaBeta, tol2, "d2/dbeta2 " + at);
                Assert.AreEqual(fab, z.DAlphaBeta, tol2, "d2/dalpha dbeta " + at);
            }
    }

    [TestMethod]
    public void StableAcrossAlphaEqualsBetaAndEqualToTheLimitFormula()
    {
        foreach (double a in new[] { 0.1, 0.3, 0.5, 0.9 })
            foreach (int size in new[] { 3, 40, 300 })
            {
                // At alpha = beta the DEHP factor is (p + 1) alpha^-p: evaluate that form independently, in logs.
                var logFact = TasepExact.LogFactorials(2 * size);
                double max = double.NegativeInfinity;
                var terms = new double[size];
                for (int p = 1; p <= size; p++)
                {
                    terms[p - 1] = Math.Log(p) + logFact[2 * size - 1 - p] - logFact[size] - logFact[size - p]
                        + Math.Log(p + 1) - p * Math.Log(a);
                    max = Math.Max(max, terms[p - 1]);
                }
                double limit = max + Math.Log(terms.Sum(t => Math.Exp(t - max)));
                var at = TasepExact.LogPartition(size, a, a);
                Assert.AreEqual(limit, at.LogZ, 1e-12 * Math.Abs(limit), $"alpha = beta = {a}, L = {size}");
                // Just off the diagonal the value and the derivatives move continuously (no cancellation blow-up).
                var off = TasepExact.LogPartition(size, a, a * (1 + 1e-9));
                Assert.AreEqual(at.LogZ + at.DBeta * a * 1e-9, off.LogZ, 1e-12 * Math.Abs(limit));
                Assert.AreEqual(at.DAlphaAlpha, off.DAlphaAlpha, 1e-6 * Math.Abs(at.DAlphaAlpha));
                Assert.AreEqual(at.DAlphaBeta, off.DAlphaBeta, 1e-6 * Math.Abs(at.DAlphaAlpha));
                // Symmetry Z(alpha, beta) = Z(beta, alpha) (particle-hole plus reflection).
                var swapped = TasepExact.LogPartition(size, a * (1 + 1e-9), a);
                Assert.AreEqual(off.LogZ, swapped.LogZ, 1e-13 * Math.Abs(limit));
                Assert.AreEqual(off.DAlpha, swapped.DBeta, 1e-9 * Math.Abs(off.DAlpha));
            }
    }

    [TestMethod]
    public void PsiApproachesThePhaseFormulasForLargeL()
    {
        // Low density, high density, maximal current; the finite-size correction is O(log L / L).
        foreach (var (a, b) in new[] { (0.2, 0.7), (0.35, 0.9), (0.8, 0.3), (0.7, 0.8), (0.95, 0.6) })
        {
            double limit = TasepExact.LimitPsi(a, b);
            double err500 = Math.Abs(TasepExact.LogZ(500, a, b) / 500 - limit);
            double err2000 = Math.Abs(TasepExact.LogZ(2000, a, b) / 2000 - limit);
            Assert.IsTrue(err2000 < 2 * Math.Log(2000) / 2000, $"alpha={a} beta={b}: |psi - limit| = {err2000}");
            Assert.IsTrue(err2000 < err500, $"alpha={a} beta={b}: error does not shrink ({err500} -> {err2000})");
        }
        Assert.AreEqual(Math.Log(4), TasepExact.LimitPsi(0.6, 0.9), 1e-15);
        Assert.AreEqual(-Math.Log(0.3 * 0.7), TasepExact.LimitPsi(0.3, 0.9), 1e-15);
        Assert.AreEqual(-Math.Log(0.1 * 0.9), TasepExact.LimitPsi(0.9, 0.1), 1e-15);
    }

    [TestMethod]
    public void LongLatticesDoNotOverflow()
    {
        var z = TasepExact.LogPartition(2000, 0.01, 0.02);
        Assert.IsTrue(double.IsFinite(z.LogZ) && z.LogZ > 700 * 5, $"log Z = {z.LogZ}");
        Assert.IsTrue(double.IsFinite(z.DAlphaAlpha) && double.IsFinite(z.DAlphaBeta) && double.IsFinite(z.DBetaBeta));
        var mpa = new TasepMatrixProduct(300, 0.01, 0.02);
        Assert.AreEqual(TasepExact.LogZ(300, 0.01, 0.02), mpa.LogZ, 1e-12 * mpa.LogZ);
        Assert.IsTrue(mpa.DensityProfile().All(r => r is >= 0 and <= 1));
    }

    [TestMethod]
    public void MetricFieldOnGridIsPsiOverLAtCellCentres()
    {
        var box = new ParameterBox(0.1, 0.9, 0.2, 0.8);
        var field = TasepExact.MetricFieldOnGrid(20, box, 4);
        Assert.AreEqual(16, field.Count);
        Assert.AreEqual(0.4, field.T1[5], 1e-15);    // i = 1: 0.1 + 1.5 * 0.2
        Assert.AreEqual(0.425, field.T2[5], 1e-15);  // j = 1: 0.2 + 1.5 * 0.15
        var z = TasepExact.LogPartition(20, field.T1[5], field.T2[5]);
        Assert.AreEqual(z.LogZ / 20, field.Psi[5], 1e-15);
        Assert.AreEqual(z.DAlphaBeta / 20, field.G12[5], 1e-15);
        Assert.IsTrue(field.G11.All(g => g > 0) && field.G22.All(g => g > 0));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => TasepExact.LogZ(10, 0, 0.5));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => TasepExact.LogZ(10, 0.5, 1.5));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => TasepExact.LogZ(TasepExact.MaxSize + 1, 0.5, 0.5));
    }
}
