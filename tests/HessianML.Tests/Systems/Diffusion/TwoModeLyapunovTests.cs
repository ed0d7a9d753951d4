using HessianML.Systems.Diffusion;

namespace HessianML.Tests.Systems.Diffusion;

/// <summary>Proposition 4.1: the reverse probability-flow ODE's Lyapunov exponent at the boundary x = 0 grows like mu^2 / s^4.</summary>
[TestClass]
public sealed class DiffusionTwoModeLyapunovTests
{
    private static readonly double[] Stds = [0.5, 0.2, 0.1, 0.05, 0.02, 0.01];

    /// <summary>
    /// The drift derivative measured by central differences of the mixture's closed-form score matches the closed-form
    /// lambda(t); the difference step's error bound is 3e-9 relative (see MeasuredExponent), so 1e-6 is safe.
    /// </summary>
    [TestMethod]
    public void MeasuredExponentMatchesClosedForm()
    {
        foreach (double s in Stds)
            foreach (double t in new[] { 0.0, 1e-4, 1e-2, 0.5 })
            {
                double measured = TwoModeLyapunov.MeasuredExponent(1.0, s, t), formula = TwoModeLyapunov.Exponent(1.0, s, t);
                Assert.AreEqual(formula, measured, 1e-6 * Math.Abs(formula) + 1e-12, $"s {s}, t {t}");
            }
    }

    /// <summary>
    /// As s -> 0 the measured lambda(0) approaches beta(0)/2 mu^2/s^4: exactly, lambda(0) / leading = 1 - s^2 (1 - s^2) / mu^2,
    /// so the tolerance |ratio - 1| &lt;= s^2 / mu^2 (+ 1e-6 for the difference quotient) is derived, not tuned; and the
    /// log-log slope between neighbouring s is -4 up to d log(1 - s^2/mu^2) / d log s, at most 3 s^2 / mu^2 here.
    /// </summary>
    [TestMethod]
    public void ExponentGrowsLikeMuSquaredOverSToTheFourth()
    {
        foreach (double mu in new[] { 1.0, 2.0 })
        {
            double previous = double.NaN;
            foreach (double s in Stds)
            {
                double measured = TwoModeLyapunov.MeasuredExponent(mu, s, 0), leading = TwoModeLyapunov.LeadingTerm(mu, s);
                double ratio = measured / leading;
                Console.WriteLine($"mu {mu}, s {s}: measured lambda(0) = {measured:E6}, beta0 mu^2 / (2 s^4) = {leading:E6}, ratio {ratio:F8}");
                Assert.AreEqual(1.0, ratio, s * s / (mu * mu) + 1e-6, $"mu {mu}, s {s}");
                Assert.AreEqual(1 - s * s * (1 - s * s) / (mu * mu), ratio, 1e-6, "the exact correction");
                if (!double.IsNaN(previous) && s <= 0.1)
                {
                    double slope = Math.Log(measured / previous) / Math.Log(s / (s == 0.1 ? 0.2 : s == 0.05 ? 0.1 : s == 0.02 ? 0.05 : 0.02));
                    Console.WriteLine($"   log-log slope {slope:F5}");
                    Assert.AreEqual(-4.0, slope, 3 * 0.04 / (mu * mu) + 1e-6);
                }
                previous = measured;
            }
        }
    }

    /// <summary>
    /// The same divergence seen through the whole 50-step DDIM map latent -> sample at x_T = 0: the finite-difference
    /// gain of the generator equals the product of the linearised steps, and grows as s shrinks. Tolerance: 1e-6 plus the
    /// rounding floor of the difference quotient. The mixture score's r_1 - r_0 = tanh(m x / v) is known to about 1e-16
    /// absolutely, and at the first step (m_T = sqrt(abar_980) mu = 0.0077 mu) the quotient's h = 1e-4 mu / G makes it
    /// 0.0077 h / v ~ 8e-7 / G, so the relative floor is about 1.3e-10 G; we allow twice that (3e-5 at s = 0.1, G = 1.2e5).
    /// It grows far
    /// more slowly than the continuous-time exp(integral lambda) ~ exp(mu^2 / 2 s^2), because 50 steps stop resolving
    /// the last stretch t ~ s^2 / beta(0).
    /// </summary>
    [TestMethod]
    public void DdimGainAtTheBoundaryMatchesItsLinearisationAndGrows()
    {
        double previous = 0;
        foreach (double s in new[] { 0.5, 0.3, 0.2, 0.1 })
        {
            var g = new KnownScoreDiffusionGenerator(new KnownScoreDiffusionOptions { Mixture = GaussianMixture.TwoModes1D(1.0, s) });
            double measured = TwoModeLyapunov.MeasuredDdimGain(g), formula = TwoModeLyapunov.DdimGainFormula(1.0, s, 50);
            Console.WriteLine($"s {s}: DDIM gain measured {measured:E6}, linearised {formula:E6}, 1000 steps {TwoModeLyapunov.DdimGainFormula(1.0, s, 1000):E3}");
            double tolerance = 1e-6 + 2 * 1.3e-10 * formula;
            Console.WriteLine($"   relative difference {Math.Abs(measured / formula - 1):E2}, tolerance {tolerance:E2}");
            Assert.AreEqual(formula, measured, tolerance * formula, $"s {s}");
            Assert.IsTrue(measured > 2 * previous, $"gain {measured} at s {s} did not grow from {previous}");
            previous = measured;
        }
    }

    [TestMethod]
    public void BadArgumentsNameTheValue()
    {
        var ex = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => TwoModeLyapunov.Exponent(1, 0, 0));
        StringAssert.Contains(ex.Message, "std s 0");
        ex = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => TwoModeLyapunov.Exponent(1, 0.1, 2));
        StringAssert.Contains(ex.Message, "time t 2");
    }
}
