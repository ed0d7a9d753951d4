using HessianML.Posterior;

namespace HessianML.Tests.Posterior;

[TestClass]
public sealed class FeatureDistancePosteriorTests
{
    [TestMethod]
    public void PosteriorIsTheSoftmaxOfScaledSquaredDistancesToCellMeans()
    {
        var box = new ParameterBox(0, 1, 0, 1);
        // Feature = (t1, t2, t1 * t2) with two samples per cell of a 3 x 3 grid; one cell left empty.
        var t = new List<float>();
        var f = new List<float>();
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++)
            {
                if (i == 2 && j == 2) continue;
                foreach (double off in new[] { 0.1, 0.2 })
                {
                    float a = (float)((i + off) / 3), b = (float)((j + off) / 3);
                    t.AddRange([a, b]);
                    f.AddRange([a, b, a * b]);
                }
            }
        var model = FeatureDistancePosterior.Fit(f.ToArray(), 3, t.ToArray(), box, 3, 3, lambda: 20);
        Assert.AreEqual(0, model.CellCounts[8]);
        CollectionAssert.AreEqual(model.Centroids.AsSpan(5 * 3, 3).ToArray(), model.Centroids.AsSpan(8 * 3, 3).ToArray(),
            "the empty corner cell takes the nearest filled cell's centroid (tie broken by lower index)");
        float[] x = [0.5f, 0.5f, 0.25f];
        var p = new float[9];
        model.Posterior(x, p);
        var logits = Enumerable.Range(0, 9).Select(c =>
            -20 * Enumerable.Range(0, 3).Sum(d => Math.Pow(x[d] - model.Centroids[c * 3 + d], 2))).ToArray();
        double z = logits.Sum(Math.Exp);
        for (int c = 0; c < 9; c++)
            Assert.AreEqual(Math.Exp(logits[c]) / z, p[c], 1e-6);
        Assert.AreEqual(4, Array.IndexOf(p, p.Max()), "the centre cell is the most probable");
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => FeatureDistancePosterior.Fit(f.ToArray(), 3, t.ToArray(), box, 3, 3, 0));
    }
}
