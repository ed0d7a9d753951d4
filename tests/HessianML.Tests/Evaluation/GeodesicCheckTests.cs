using HessianML.Evaluation;
using HessianML.Geometry;
using HessianML.Geometry.Geodesics;
using HessianML.Posterior;
using HessianML.Systems.Ising;

namespace HessianML.Tests.Evaluation;

[TestClass]
public class GeodesicCheckTests
{
    private static readonly ParameterBox Box = new(0.25, 0.65, -0.3, 0.3);

    [TestMethod]
    public void ExactLengthOfAPolylineIsItsEuclideanLengthUnderTheIdentityMetric()
    {
        var box = new ParameterBox(0, 2, 0, 1);
        int r = 9;
        var ones = Enumerable.Repeat(1.0, r * r).ToArray();
        var table = TabulatedMetric.FromNodeValues(box, r, ones, new double[r * r], ones);
        // (0,0) -> (2,0) -> (2,1): 2 + 1, whatever the densification does at the corner.
        Assert.AreEqual(3.0, GeodesicCheck.ExactLength(table, [0, 2, 2], [0, 0, 1]), 1e-12);
        // A metric 4 I doubles every length.
        var fours = Enumerable.Repeat(4.0, r * r).ToArray();
        table = TabulatedMetric.FromNodeValues(box, r, fours, new double[r * r], fours);
        Assert.AreEqual(2 * Math.Sqrt(5), GeodesicCheck.ExactLength(table, [0, 2], [0, 1]), 1e-12);
    }

    [TestMethod]
    public void TheExactTableSitsOnTheVertexGridOfTheBox()
    {
        // The widened-box trick: cell centres of an r x r grid on the box widened by half a step are the vertices.
        int r = 5;
        double h1 = Box.Width1 / (r - 1) / 2, h2 = Box.Width2 / (r - 1) / 2;
        var centres = new ParameterBox(Box.Lo1 - h1, Box.Hi1 + h1, Box.Lo2 - h2, Box.Hi2 + h2).CellCentres(r, r);
        for (int i = 0; i < r; i++)
            for (int j = 0; j < r; j++)
            {
                Assert.AreEqual(Box.Lo1 + i * Box.Width1 / (r - 1), centres[2 * (i * r + j)], 1e-12);
                Assert.AreEqual(Box.Lo2 + j * Box.Width2 / (r - 1), centres[2 * (i * r + j) + 1], 1e-12);
            }
    }

    [TestMethod]
    public void OnAConvexFitOfTheExactPsiGeodesicsBeatTheStraightLineAndNoNodeIsFloored()
    {
        // psi: a log-sum-exp fitted to the exact L = 4 psi on a 12 x 12 grid (convex by construction, close to exact).
        int k = 12;
        var onGrid = IsingExact.Field(4, Box, k, k);
        var psi = LogSumExpFit.Fit(Box, Box.CellCentres(k, k), onGrid.Psi, new LogPartitionOptions().LogSumExpSettings, out _);
        var options = new GeodesicOptions { Resolution = 33, AdamSteps = 1000 };
        var pairs = GeodesicCheck.DefaultPairs(Box);
        var result = GeodesicCheck.Run(psi, (bx, n) => IsingExact.Field(4, bx, n, n), pairs, options, exactResolution: 17);
        Assert.AreEqual(0, result.FlooredNodes);
        Assert.AreEqual(0, result.IndefiniteNodes);
        Assert.AreEqual(33 * 33, result.Nodes);
        Assert.AreEqual(pairs.Length, result.Pairs.Count);
        foreach (var p in result.Pairs)
        {
            // The optimum is the shortest path on the exact table: nothing is shorter (up to the refinement's own
            // tolerance), and ours on a near-exact metric comes within a few percent of it.
            Assert.IsTrue(p.Optimum <= p.Straight * (1 + 1e-6), $"{p}");
            Assert.IsTrue(p.Ours <= p.Straight * (1 + 1e-3), $"{p}");
            Assert.IsTrue(p.Ours <= p.Optimum * 1.03, $"{p}");
        }
        var table = result.ToDataView();
        Assert.AreEqual(GeodesicCheckResult.CsvColumns.Length, table.Schema.Count);
        StringAssert.Contains(result.Table(), "indefinite at 0 of 1089 nodes");
    }
}
