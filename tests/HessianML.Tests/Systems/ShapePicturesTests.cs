using HessianML.Evaluation.Diffusion;
using HessianML.Systems;

namespace HessianML.Tests.Systems;

/// <summary>The shape generator: the class switches exactly at the curve, nothing else jumps, and the true boundary map follows the curve.</summary>
[TestClass]
public sealed class ShapePicturesTests
{
    // Corner pixel of the shape's bounding square: inside a square, outside a disc of the same half-width.
    private static bool CornerFilled(double t1, double t2, int side)
    {
        var image = ShapePictures.Render(t1, t2, side);
        double half = (0.2 + 0.15 * t1) * side;
        int x = (int)Math.Floor(side / 2.0 - half + 1), y = x; // one pixel inside the top-left corner of the bounding square
        return image[x, y, 0] != 128 || image[x, y, 1] != 128 || image[x, y, 2] != 128;
    }

    [TestMethod]
    [DataRow(0.0)]
    [DataRow(0.3)]
    [DataRow(0.7)]
    [DataRow(1.0)]
    public void ClassSwitchesAtTheCurve(double t1)
    {
        double c = ShapePictures.Boundary(t1);
        double below = c - 1e-9, above = c + 1e-9;
        Assert.AreEqual(0, ShapePictures.Phase(t1, below));
        Assert.AreEqual(1, ShapePictures.Phase(t1, above));
        Assert.IsFalse(CornerFilled(t1, below, 64), "a disc leaves its bounding square's corners empty");
        Assert.IsTrue(CornerFilled(t1, above, 64), "a square fills them");
        // Within a phase a small step changes colour by at most a level: no other jump.
        var a = ShapePictures.Render(t1, below, 64).Pixels;
        var b = ShapePictures.Render(t1, Math.Max(0, below - 0.003), 64).Pixels;
        Assert.IsLessThanOrEqualTo(1, a.Zip(b, (x, y) => Math.Abs(x - y)).Max());
        CollectionAssert.AreEqual(a, ShapePictures.Render(t1, below, 64).Pixels, "deterministic");
    }

    [TestMethod]
    public void TrueBoundaryCells_FollowTheCurve()
    {
        const int k = 16, fine = 64;
        var cells = PhaseBoundary.TrueCells(ShapePictures.PhaseMap(fine), fine, k);
        for (int i = 0; i < k; i++)
        {
            // The column's boundary cells are exactly those whose t2 range the curve crosses over the column's t1 range.
            double lo = ShapePictures.Boundary((double)i / k), hi = ShapePictures.Boundary((i + 1.0) / k);
            for (int j = 0; j < k; j++)
            {
                double b0 = (double)j / k, b1 = (j + 1.0) / k;
                bool crossed = hi >= b0 - 0.5 / fine && lo <= b1 + 0.5 / fine;
                if (cells[i * k + j]) Assert.IsTrue(crossed, $"cell ({i}, {j}) marked but the curve is not near it");
            }
            // Unmarked only when, in every fine column of it, the switch falls between two coarse cells.
            bool onEdges = Enumerable.Range(i * (fine / k), fine / k).All(ix =>
            {
                int first = Enumerable.Range(0, fine).First(iy => ShapePictures.Phase((ix + 0.5) / fine, (iy + 0.5) / fine) == 1);
                return first % (fine / k) == 0;
            });
            Assert.AreEqual(!onEdges, Enumerable.Range(0, k).Any(j => cells[i * k + j]), $"column {i}");
        }
    }
}
