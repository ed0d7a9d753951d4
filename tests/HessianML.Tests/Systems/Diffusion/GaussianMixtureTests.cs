using HessianML.Systems;
using HessianML.Systems.Diffusion;

namespace HessianML.Tests.Systems.Diffusion;

[TestClass]
public sealed class DiffusionMixtureTests
{
    private static GaussianMixture RandomMixture(int k, int d, double s, ulong seed)
    {
        var rng = new SampleRandom(seed);
        var means = new double[k * d];
        for (int i = 0; i < means.Length; i++) means[i] = 2 * rng.NextDouble() - 1;
        var weights = Enumerable.Range(0, k).Select(_ => 0.2 + rng.NextDouble()).ToArray();
        return new GaussianMixture(new GaussianMixtureOptions { Components = k, Dimension = d, Std = s, Means = means, Weights = weights });
    }

    /// <summary>
    /// The closed-form score (data law and diffused law) against central differences of the closed-form log density.
    /// Step h = 1e-5: the truncation error h^2 |f'''| / 6 is about 1e-10 |f'''| (|f'''| is O(1 / v^2) = O(10) here) and
    /// the rounding error about 1e-16 |log p| / h = 1e-10; so 1e-6 relative to the score's norm leaves a wide margin
    /// while any wrong term (a missing sqrt(abar), a wrong variance) is off by O(1).
    /// </summary>
    [TestMethod]
    public void ScoreMatchesFiniteDifferencesOfLogDensity()
    {
        var mixture = RandomMixture(3, 5, 0.6, 11);
        var rng = new SampleRandom(5);
        double worst = 0;
        foreach (double abar in new[] { 1.0, 0.9, 0.5, 0.05 })
            for (int trial = 0; trial < 6; trial++)
            {
                var x = new double[5];
                for (int i = 0; i < 5; i++) x[i] = 3 * rng.NextDouble() - 1.5;
                var score = new double[5];
                if (abar == 1.0) mixture.Score(x, score); else mixture.DiffusedScore(x, abar, score);
                double h = 1e-5, err = 0, norm = 0;
                for (int i = 0; i < 5; i++)
                {
                    var xp = (double[])x.Clone(); xp[i] += h;
                    var xm = (double[])x.Clone(); xm[i] -= h;
                    double fd = (mixture.DiffusedLogDensity(xp, abar) - mixture.DiffusedLogDensity(xm, abar)) / (2 * h);
                    err += (fd - score[i]) * (fd - score[i]);
                    norm += score[i] * score[i];
                }
                worst = Math.Max(worst, Math.Sqrt(err / Math.Max(norm, 1e-12)));
            }
        Console.WriteLine($"worst relative score error vs FD: {worst:E2}");
        Assert.IsTrue(worst < 1e-6, $"score vs finite differences: relative error {worst:E2}");
    }

    [TestMethod]
    public void LogDensityIsNormalisedAndStableFarFromTheModes()
    {
        // 1D, one component: log N(x; mu, s^2) exactly; then a far point where naive exp underflows.
        var one = new GaussianMixture(new GaussianMixtureOptions { Components = 1, Dimension = 1, Std = 0.5, Means = [0.3] });
        double x = 1.1, expected = -0.5 * Math.Log(2 * Math.PI * 0.25) - (x - 0.3) * (x - 0.3) / (2 * 0.25);
        Assert.AreEqual(expected, one.LogDensity([x]), 1e-12);
        var two = GaussianMixture.TwoModes1D(1, 0.01);
        double far = two.LogDensity([40.0]);
        Assert.IsTrue(double.IsFinite(far) && far < -7e6, $"log density {far} far from the modes");
        var score = new double[1];
        two.Score([40.0], score);
        Assert.AreEqual((1 - 40.0) / 1e-4, score[0], 1e-6 * Math.Abs(score[0]));
    }

    [TestMethod]
    public void PhaseIsTheMostResponsibleComponent()
    {
        var mixture = RandomMixture(4, 3, 0.4, 3);
        var rng = new SampleRandom(9);
        var r = new double[4];
        for (int trial = 0; trial < 200; trial++)
        {
            var x = new double[3];
            for (int i = 0; i < 3; i++) x[i] = 2.4 * rng.NextDouble() - 1.2;
            mixture.Responsibilities(x, 1.0, r);
            Assert.AreEqual(1.0, r.Sum(), 1e-12);
            int argmax = Array.IndexOf(r, r.Max());
            Assert.AreEqual(argmax, mixture.Phase(x));
        }
        for (int k = 0; k < 4; k++) Assert.AreEqual(k, mixture.Phase(mixture.Mean(k)));
    }

    [TestMethod]
    public void PatternMeansAreDistinctImagesInRange()
    {
        var mixture = new GaussianMixture(new GaussianMixtureOptions());
        Assert.AreEqual((8, 8), GaussianMixture.ImageShape(192));
        Assert.AreEqual((2, 4), GaussianMixture.ImageShape(24));
        double closest = double.PositiveInfinity;
        for (int k = 0; k < mixture.Components; k++)
        {
            foreach (double v in mixture.Mean(k)) Assert.IsTrue(v >= -1 && v <= 1, $"mean value {v}");
            for (int j = 0; j < k; j++)
            {
                double d2 = 0;
                for (int i = 0; i < 192; i++) d2 += Math.Pow(mixture.Mean(k)[i] - mixture.Mean(j)[i], 2);
                closest = Math.Min(closest, Math.Sqrt(d2));
            }
        }
        Console.WriteLine($"closest pair of pattern means: {closest:F2} (s = {mixture.Std})");
        Assert.IsTrue(closest > 40 * mixture.Std, $"pattern means only {closest} apart");
        var rgb = GaussianMixture.ToRgb([-2.0, -1.0, 0.0, 1.0, 0.5, 7.0], 1, 2);
        CollectionAssert.AreEqual(new byte[] { 0, 0, 128, 255, 191, 255 }, rgb);
    }

    [TestMethod]
    public void BadMixtureOptionsNameTheValue()
    {
        void Throws(GaussianMixtureOptions o, string fragment)
        {
            var ex = Assert.ThrowsExactly<ArgumentException>(() => new GaussianMixture(o));
            StringAssert.Contains(ex.Message, fragment);
        }
        void ThrowsRange(GaussianMixtureOptions o, string fragment)
        {
            var ex = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new GaussianMixture(o));
            StringAssert.Contains(ex.Message, fragment);
        }
        ThrowsRange(new GaussianMixtureOptions { Components = 0 }, "components 0");
        ThrowsRange(new GaussianMixtureOptions { Std = -0.1 }, "std -0.1");
        ThrowsRange(new GaussianMixtureOptions { Std = double.NaN }, "std NaN");
        Throws(new GaussianMixtureOptions { Dimension = 10 }, "dimension 10 is not a multiple of 3");
        Throws(new GaussianMixtureOptions { Components = 2, Weights = [1, 0] }, "weight 1 is 0");
        Throws(new GaussianMixtureOptions { Components = 2, Weights = [1] }, "1 mixture weights given for 2 components");
        Throws(new GaussianMixtureOptions { Components = 1, Dimension = 2, Means = [0, double.PositiveInfinity] }, "mean entry 1");
        Throws(new GaussianMixtureOptions { Components = 2, Dimension = 2, Means = [0, 1, 2] }, "3 mean entries");
    }
}
