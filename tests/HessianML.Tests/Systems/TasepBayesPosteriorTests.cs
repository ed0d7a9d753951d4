using HessianML.Evaluation;
using HessianML.Geometry;
using HessianML.Posterior;
using HessianML.Systems;
using HessianML.Systems.Tasep;

namespace HessianML.Tests.Systems;

[TestClass]
public sealed class TasepBayesPosteriorTests
{
    [TestMethod]
    public void PosteriorIsTheNormalisedProductOfTheGeneratorsStationaryLaws()
    {
        // L = 6, a 3 x 3 grid, bundles of two configurations: p(t_k | x, y) ∝ pi_k(x) pi_k(y), pi_k the stationary law
        // solved from the Markov generator at cell centre k (no matrix-product algebra).
        const int size = 6, k = 3;
        var box = new ParameterBox(0.1, 0.9, 0.2, 0.8);
        var centres = box.CellCentres(k, k);
        var laws = Enumerable.Range(0, k * k).Select(c => TasepGenerator.StationaryLaw(size, centres[2 * c], centres[2 * c + 1])).ToArray();
        int[] configs = [0b000000, 0b101101, 0b111111, 0b010011];
        var states = configs.SelectMany(s => TasepExactTests.Config(s, size)).ToArray();
        var posterior = TasepBayesPosterior.OnGrid(states, size, 2, box, k);
        Assert.HasCount(2 * k * k, posterior);
        for (int r = 0; r < 2; r++)
        {
            var expected = laws.Select(pi => pi[configs[2 * r]] * pi[configs[2 * r + 1]]).ToArray();
            double sum = expected.Sum();
            for (int c = 0; c < k * k; c++) Assert.AreEqual(expected[c] / sum, posterior[r * k * k + c], 1e-6, $"bundle {r}, cell {c}");
        }
        Assert.ThrowsExactly<ArgumentException>(() => TasepBayesPosterior.OnGrid(states, size, 3, box, k));
    }

    /// <summary>
    /// psi fitted, as <c>hessian run tasep</c> fits it (log-posterior least squares, log-sum-exp in -log coordinates), to
    /// the EXACT Bayes posteriors of exact samples on the default L = 40 box: the best a posterior network could hand the
    /// fit. Measured here (interior of a 48 x 48 grid; psi / d/dalpha / d/dbeta / metric / median per-cell):
    /// run tasep's own 24 000 samples one at a time, 0.112 / 0.170 / 0.170 / 0.40 / 0.25; 3 000 bundles of 8 drawn at one
    /// t each, 0.085 / 0.176 / 0.178 / 0.39 / 0.35; the grid floor (exact psi through the same fit) 0.0003 / 0.0015 /
    /// 0.0015 / 0.019 / 0.002. So even perfect posteriors miss issue 14's TASEP goals (0.05 / 0.10 / 0.10 / 0.30): the
    /// error is that of forcing a family that is not exponential into the exponential-family form the fit assumes.
    /// Checked: every goal but the median is missed by both, with the measured figures within 20% (fixed seeds).
    /// </summary>
    [TestMethod]
    public void ExactPosteriorsDoNotReachTheTasepGoals()
    {
        const int size = 40, k = 24;
        var box = new ParameterBox(0.05, 0.95, 0.05, 0.95);
        var options = new LogPartitionOptions
        {
            Fit = PsiFit.LogPosteriorLeastSquares,
            Coordinate1 = ExponentialCoordinate.NegativeLog,
            Coordinate2 = ExponentialCoordinate.NegativeLog,
        };
        var exact = TasepExact.MetricFieldOnGrid(size, box, 2 * k);
        var centres = box.CellCentres(k, k);
        MetricFieldErrors Score(float[] posteriors, int rows) =>
            LogPartitionEvaluation.Compare(exact, LogPartitionTrainer.FitGridValues(options, box, centres,
                LogPosteriorLeastSquares.Solve(posteriors, rows, centres)), box).Interior;

        // run tasep's data set (seed 1), one sample per posterior.
        var (_, states) = TasepSimulation.Sample(new TasepSimulationSettings(size, 0.05, 0.95, 0.05, 0.95, 24000, 1));
        var single = Score(TasepBayesPosterior.OnGrid(states, size, 1, box, k), 24000);

        // Bundles of 8 drawn at one t each.
        const int bundles = 3000, members = 8;
        var bundled = new sbyte[bundles * members * size];
        Parallel.For(0, bundles, b =>
        {
            var rng = SampleRandom.ForStream(777, (ulong)b);
            var table = new TasepMatrixProduct(size, box.Lo1 + box.Width1 * rng.NextDouble(), box.Lo2 + box.Width2 * rng.NextDouble());
            for (int m = 0; m < members; m++) table.Sample(ref rng, bundled.AsSpan((b * members + m) * size, size));
        });
        var eight = Score(TasepBayesPosterior.OnGrid(bundled, size, members, box, k), bundles);

        foreach (var (name, e, measured) in new[]
                 {
                     ("one sample", single, new[] { 0.112, 0.170, 0.170, 0.40 }),
                     ("bundles of 8", eight, new[] { 0.085, 0.176, 0.178, 0.39 }),
                 })
        {
            Console.WriteLine($"{name}: psi {e.NrmsePsi:F4} d/dalpha {e.NrmseD1:F4} d/dbeta {e.NrmseD2:F4} metric {e.MetricError:F4} median {e.MedianCellMetricError:F4}");
            Assert.IsGreaterThan(0.05, e.NrmsePsi, name);
            Assert.IsGreaterThan(0.10, e.NrmseD1, name);
            Assert.IsGreaterThan(0.10, e.NrmseD2, name);
            Assert.IsGreaterThan(0.30, e.MetricError, name);
            double[] got = [e.NrmsePsi, e.NrmseD1, e.NrmseD2, e.MetricError];
            for (int i = 0; i < 4; i++) Assert.AreEqual(measured[i], got[i], 0.2 * measured[i], $"{name}, figure {i}");
        }
    }
}
