using HessianML.Geometry;
using HessianML.Posterior;

namespace HessianML.Tests.Geometry;

[TestClass]
public sealed class LogPosteriorLeastSquaresTests
{
    private static readonly ParameterBox Box = new(0.25, 0.65, -0.3, 0.3);

    private static double Psi(double x, double y) => Math.Exp(2 * x) + Math.Log(Math.Cosh(3 * y)) * (1 + x) + 0.3 * x * y;

    [TestMethod]
    public void RecoversNPsiUpToAffineFromExactExponentialFamilyPosteriors()
    {
        const int k = 12, n = 400, bundle = 4;
        var grid = Box.CellCentres(k, k);
        var rng = new Random(7);
        var post = new float[n * k * k];
        for (int i = 0; i < n; i++)
        {
            // A bundle's natural statistic eta_i: the mean statistic at some t, spread over the box.
            double eta1 = bundle * (2 + 3 * rng.NextDouble()), eta2 = bundle * (-2 + 4 * rng.NextDouble());
            var logits = Enumerable.Range(0, k * k)
                .Select(c => eta1 * grid[2 * c] + eta2 * grid[2 * c + 1] - bundle * Psi(grid[2 * c], grid[2 * c + 1])).ToArray();
            double max = logits.Max(), z = logits.Sum(v => Math.Exp(v - max));
            for (int c = 0; c < k * k; c++) post[i * k * k + c] = (float)(Math.Exp(logits[c] - max) / z);
        }
        var phi = LogPosteriorLeastSquares.Solve(post, n, grid);
        // phi = bundle * psi + affine: the part of (phi - bundle psi) that no affine function explains must be tiny
        // compared with the part of bundle psi itself that no affine function explains (its curvature).
        var target = Enumerable.Range(0, k * k).Select(c => bundle * Psi(grid[2 * c], grid[2 * c + 1])).ToArray();
        double rms = NonAffineRms(Enumerable.Range(0, k * k).Select(c => phi[c] - target[c]).ToArray(), grid);
        double curvature = NonAffineRms(target, grid);
        // float32 posteriors limit log p to ~1e-7 relative; cells far in the tails carry little weight.
        Assert.IsTrue(rms < 1e-6 * curvature, $"rms residual {rms} vs non-affine spread {curvature}");
    }

    [TestMethod]
    public void BatchedAndDirectRowUpdatesGiveTheSameSystem()
    {
        // Wide posteriors' updates go through one matrix product per chunk of rows, narrow ones through the direct loop;
        // forcing either path on the same rows (more than one chunk, some rows sharp, some broad) gives the same phi.
        const int k = 10, n = 600;
        var grid = Box.CellCentres(k, k);
        var rng = new Random(3);
        var post = new float[n * k * k];
        for (int i = 0; i < n; i++)
        {
            double bundle = i % 3 == 0 ? 400 : 4, eta1 = bundle * (2 + 3 * rng.NextDouble()), eta2 = bundle * (-2 + 4 * rng.NextDouble());
            var logits = Enumerable.Range(0, k * k)
                .Select(c => eta1 * grid[2 * c] + eta2 * grid[2 * c + 1] - bundle * Psi(grid[2 * c], grid[2 * c + 1])).ToArray();
            double max = logits.Max(), z = logits.Sum(v => Math.Exp(v - max));
            for (int c = 0; c < k * k; c++) post[i * k * k + c] = (float)(Math.Exp(logits[c] - max) / z);
        }
        var batched = LogPosteriorLeastSquares.SolveBatching(post, n, grid, 1e-10, widePosterior: 0);
        var direct = LogPosteriorLeastSquares.SolveBatching(post, n, grid, 1e-10, widePosterior: int.MaxValue);
        var mixed = LogPosteriorLeastSquares.Solve(post, n, grid);
        double spread = direct.Max() - direct.Min();
        for (int c = 0; c < k * k; c++)
        {
            Assert.AreEqual(direct[c], batched[c], 1e-9 * spread, $"cell {c}");
            Assert.AreEqual(direct[c], mixed[c], 1e-9 * spread, $"cell {c}");
        }
    }

    private static double NonAffineRms(double[] f, double[] grid)
    {
        var x = Enumerable.Range(0, f.Length).Select(c => new[] { grid[2 * c], grid[2 * c + 1], 1.0 }).ToArray();
        var beta = HessianML.Evaluation.MetricFieldErrors.LeastSquares(x, f);
        return Math.Sqrt(Enumerable.Range(0, f.Length)
            .Average(c => Math.Pow(f[c] - beta[0] * grid[2 * c] - beta[1] * grid[2 * c + 1] - beta[2], 2)));
    }

    [TestMethod]
    public void BadPosteriorsAreRefused()
    {
        var grid = Box.CellCentres(4, 4);
        Assert.ThrowsExactly<ArgumentException>(() => LogPosteriorLeastSquares.Solve(new float[15], 1, grid));
        var bad = new float[16];
        bad[3] = -1;
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => LogPosteriorLeastSquares.Solve(bad, 1, grid)).Message, "row 0");
    }

    [TestMethod]
    public void PosteriorsTooSharpToSeeCurvatureAreAClearErrorNotACrash()
    {
        // One-hot posteriors (each on its own cell, as feature-distance posteriors of well-separated features are):
        // no bundle covers three cells, so no grid value is determined.
        var grid = Box.CellCentres(4, 4);
        var sharp = new float[16 * 16];
        for (int i = 0; i < 16; i++) sharp[i * 16 + i] = 1;
        var ex = Assert.ThrowsExactly<ArgumentException>(() => LogPosteriorLeastSquares.Solve(sharp, 16, grid));
        StringAssert.Contains(ex.Message, "16 of 16 grid cells get no weight");
        StringAssert.Contains(ex.Message, "16 of 16 posteriors cover fewer than three");
        StringAssert.Contains(ex.Message, "PsiFit.Jsd");
    }
}
