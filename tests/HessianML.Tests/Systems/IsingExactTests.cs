using HessianML.Posterior;
using HessianML.Systems.Ising;

namespace HessianML.Tests.Systems;

[TestClass]
public sealed class IsingExactTests
{
    /// <summary>Independent reference: enumerate all 2^(L*L) states of the torus, accumulate raw moments.</summary>
    internal static IsingExactPoint BruteForce(int size, double beta, double field)
    {
        int nSpins = size * size;
        var e = new int[1 << nSpins];
        var m = new int[1 << nSpins];
        double shift = double.NegativeInfinity;
        for (int state = 0; state < e.Length; state++)
        {
            int bonds = 0, spins = 0;
            for (int y = 0; y < size; y++)
                for (int x = 0; x < size; x++)
                {
                    int s = Spin(state, y * size + x);
                    bonds += s * Spin(state, y * size + (x + 1) % size) + s * Spin(state, (y + 1) % size * size + x);
                    spins += s;
                }
            (e[state], m[state]) = (bonds, spins);
            shift = Math.Max(shift, beta * bonds + field * spins);
        }
        double z = 0, se = 0, sm = 0, see = 0, sem = 0, smm = 0;
        for (int state = 0; state < e.Length; state++)
        {
            double w = Math.Exp(beta * e[state] + field * m[state] - shift);
            z += w; se += w * e[state]; sm += w * m[state];
            see += w * e[state] * e[state]; sem += w * e[state] * m[state]; smm += w * m[state] * m[state];
        }
        double me = se / z, mm = sm / z;
        double logZ = Math.Log(z) + shift;
        return new IsingExactPoint(beta, field, logZ, logZ / nSpins, me / nSpins, mm / nSpins,
            (see / z - me * me) / nSpins, (sem / z - me * mm) / nSpins, (smm / z - mm * mm) / nSpins);
    }

    private static int Spin(int state, int i) => ((state >> i) & 1) == 1 ? 1 : -1;

    private static void AssertClose(double expected, double actual, double tol, string what) =>
        Assert.IsTrue(Math.Abs(expected - actual) <= tol * Math.Max(1, Math.Abs(expected)),
            $"{what}: expected {expected:R}, got {actual:R}");

    [TestMethod]
    [DataRow(2, 0.3, 0.0)]
    [DataRow(3, 0.44, 0.1)]
    [DataRow(3, 0.7, -0.25)]
    [DataRow(4, 0.25, 0.3)]
    [DataRow(4, 0.5, 0.03)]
    [DataRow(4, 0.0, -0.2)]
    public void TransferMatrixEqualsBruteForce(int size, double beta, double field)
    {
        var exact = IsingExact.Evaluate(size, beta, field);
        var brute = BruteForce(size, beta, field);
        AssertClose(brute.LogZ, exact.LogZ, 1e-12, "log Z");
        AssertClose(brute.Dpsi1, exact.Dpsi1, 1e-11, "dpsi/dbeta");
        AssertClose(brute.Dpsi2, exact.Dpsi2, 1e-11, "dpsi/dh");
        AssertClose(brute.G11, exact.G11, 1e-9, "g11");
        AssertClose(brute.G12, exact.G12, 1e-9, "g12");
        AssertClose(brute.G22, exact.G22, 1e-9, "g22");
    }

    [TestMethod]
    public void HighTemperatureLimitIsIndependentSpins()
    {
        // beta = 0: psi = log(2 cosh h), mean m = tanh h, var m = 1 - tanh^2 h, bond sum mean 2 tanh^2 h.
        double h = 0.4, th = Math.Tanh(h);
        var p = IsingExact.Evaluate(5, 0, h);
        AssertClose(Math.Log(2 * Math.Cosh(h)), p.Psi, 1e-12, "psi");
        AssertClose(th, p.Dpsi2, 1e-12, "m");
        AssertClose(1 - th * th, p.G22, 1e-10, "var m");
        AssertClose(2 * th * th, p.Dpsi1, 1e-12, "bond mean");
    }

    [TestMethod]
    [DataRow(5, 0.35, 0.12)]
    [DataRow(6, 0.55, -0.05)]
    [DataRow(7, 0.45, 0.0)]
    public void DerivativesMatchFiniteDifferencesOfLogZ(int size, double beta, double field)
    {
        const double d = 1e-4;
        double F(double b, double h) => IsingExact.Evaluate(size, b, h).Psi;
        var p = IsingExact.Evaluate(size, beta, field);
        double f0 = F(beta, field);
        double fpb = F(beta + d, field), fmb = F(beta - d, field), fph = F(beta, field + d), fmh = F(beta, field - d);
        const double d1 = 1e-5; // smaller step for first derivatives: truncation ~ d1^2 psi'''/6 with psi''' ~ 1e3 here
        double fd1 = (F(beta + d1, field) - F(beta - d1, field)) / (2 * d1);
        double fd2 = (F(beta, field + d1) - F(beta, field - d1)) / (2 * d1);
        double fd11 = (fpb - 2 * f0 + fmb) / (d * d), fd22 = (fph - 2 * f0 + fmh) / (d * d);
        double fd12 = (F(beta + d, field + d) - F(beta + d, field - d) - F(beta - d, field + d) + F(beta - d, field - d)) / (4 * d * d);
        // Central differences: O(d^2) truncation ~1e-8 for first derivatives; second differences lose to rounding ~1e-16/d^2.
        AssertClose(fd1, p.Dpsi1, 1e-7, "dpsi/dbeta");
        AssertClose(fd2, p.Dpsi2, 1e-7, "dpsi/dh");
        AssertClose(fd11, p.G11, 2e-5, "g11");
        AssertClose(fd12, p.G12, 2e-5, "g12");
        AssertClose(fd22, p.G22, 2e-5, "g22");
    }

    [TestMethod]
    public void OnsagerKnownValues()
    {
        // beta -> 0: log 2; at beta_c: psi = 2G/pi + ln(2)/2 (G Catalan's constant).
        AssertClose(Math.Log(2), IsingExact.OnsagerPsi(0), 1e-14, "beta 0");
        const double catalan = 0.915965594177219015054603514932;
        AssertClose(2 * catalan / Math.PI + Math.Log(2) / 2, IsingExact.OnsagerPsi(IsingExact.CriticalBeta), 1e-9, "beta_c");
    }

    [TestMethod]
    [DataRow(0.3)]
    [DataRow(0.6)]
    public void TransferMatrixTendsToOnsager(double beta)
    {
        double onsager = IsingExact.OnsagerPsi(beta);
        double previous = double.PositiveInfinity;
        foreach (int size in new[] { 4, 6, 8, 10 })
        {
            double error = Math.Abs(IsingExact.Evaluate(size, beta, 0).Psi - onsager);
            Assert.IsTrue(error < previous, $"L = {size}: error {error} did not decrease from {previous}");
            previous = error;
        }
        // Away from beta_c finite-size corrections fall exponentially in L; below beta_c the torus at h = 0 sums both
        // ordered states, so psi exceeds Onsager by log(2)/N plus an exponentially small rest.
        double expectedGap = beta > IsingExact.CriticalBeta ? Math.Log(2) / 100 : 0;
        double gap = IsingExact.Evaluate(10, beta, 0).Psi - onsager;
        Assert.IsTrue(Math.Abs(gap - expectedGap) < 2e-4, $"L = 10: psi - Onsager = {gap}, expected {expectedGap}");
    }

    [TestMethod]
    public void FieldGridMatchesPointwiseAndOrder()
    {
        var box = new ParameterBox(0.3, 0.5, -0.2, 0.2);
        var field = IsingExact.Field(4, box, 2, 3);
        Assert.AreEqual(6, field.Count);
        for (int k = 0; k < field.Count; k++)
        {
            Assert.AreEqual(box.Centre1(k / 3, 2), field.T1[k], 1e-15);
            Assert.AreEqual(box.Centre2(k % 3, 3), field.T2[k], 1e-15);
            var p = IsingExact.Evaluate(4, field.T1[k], field.T2[k]);
            Assert.AreEqual(p.Psi, field.Psi[k], 1e-14);
            Assert.AreEqual(p.G22, field.G22[k], 1e-12);
        }
    }

    [TestMethod]
    public void LargeTorusUsesSeveralColumnBlocks()
    {
        // L = 9 has 512 row states, two column blocks of 256: combining blocks in log space must not change psi.
        var p = IsingExact.Evaluate(9, 0.4, 0.05);
        var coarse = IsingExact.Evaluate(9, 0.4 + 1e-5, 0.05);
        Assert.IsTrue(Math.Abs((coarse.Psi - p.Psi) / 1e-5 - p.Dpsi1) < 1e-4, "gradient across blocks");
        Assert.IsTrue(p.G11 > 0 && p.G22 > 0 && p.G11 * p.G22 > p.G12 * p.G12, "metric positive definite");
    }

    [TestMethod]
    [DataRow(2, 0.3, 0.1)]
    [DataRow(3, 0.44, -0.2)]
    [DataRow(4, 0.25, 0.3)]
    [DataRow(5, 0.6, 0.05)]
    [DataRow(6, 0.41, -0.12)]
    [DataRow(8, 0.44, 0.0)]
    [DataRow(8, 0.65, 0.3)]
    [DataRow(9, 0.3, -0.3)]
    public void OneColumnPerRowOrbitGivesThePlainTrace(int size, double beta, double field)
    {
        // The symmetry-reduced trace (one column per orbit of cyclic shifts and reversal, weighted by its size), also
        // split into blocks of 3 columns, against all 2^L columns in one block: the same sum in another order.
        var plain = IsingExact.Evaluate(size, beta, field, symmetric: false, blockWidth: 1 << size);
        foreach (var p in new[] { IsingExact.Evaluate(size, beta, field), IsingExact.Evaluate(size, beta, field, symmetric: true, blockWidth: 3) })
        {
            AssertClose(plain.LogZ, p.LogZ, 1e-13, "log Z");
            AssertClose(plain.Dpsi1, p.Dpsi1, 1e-12, "dpsi/dbeta");
            AssertClose(plain.Dpsi2, p.Dpsi2, 1e-12, "dpsi/dh");
            AssertClose(plain.G11, p.G11, 1e-11, "g11");
            AssertClose(plain.G12, p.G12, 1e-11, "g12");
            AssertClose(plain.G22, p.G22, 1e-11, "g22");
        }
    }

    [TestMethod]
    public void RejectsOutOfRange()
    {
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => IsingExact.Evaluate(IsingExact.MaxSize + 1, 0.3, 0));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => IsingExact.Evaluate(4, -0.1, 0));
    }
}
