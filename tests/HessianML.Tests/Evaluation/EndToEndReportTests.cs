using HessianML.Evaluation;
using HessianML.Geometry;
using HessianML.Imaging;
using HessianML.Posterior;

namespace HessianML.Tests.Evaluation;

/// <summary>fields.png from tiny fields: layout and size, log10 metric rows, non-positive cells grey.</summary>
[TestClass]
public sealed class EndToEndReportTests
{
    // The layout of HeatMapFigure.Render: margin 10, title 14, panel 192, colour bar 10 + 4 + labels 48 + margin 10;
    // each caption line 18.
    private const int CellW = 192 + 10 + 10 + 4 + 48 + 10, CellH = 14 + 192 + 10;

    private static MetricField Field(ParameterBox box, int k, Func<double, double, (double G11, double G12, double G22)> g)
    {
        var c = box.CellCentres(k, k);
        var f = MetricField.AtPoints(Enumerable.Range(0, k * k).Select(i => c[2 * i]).ToArray(),
            Enumerable.Range(0, k * k).Select(i => c[2 * i + 1]).ToArray());
        for (int i = 0; i < f.Count; i++)
        {
            double x = f.T1[i], y = f.T2[i];
            (f.Psi[i], f.Dpsi1[i], f.Dpsi2[i]) = (x * x + y * y + x * y, 2 * x + y, 2 * y + x);
            (f.G11[i], f.G12[i], f.G22[i]) = g(x, y);
        }
        return f;
    }

    [TestMethod]
    public void HeatMapsDrawTheMetricAsLog10WithNonPositiveCellsGrey()
    {
        const int k = 2;
        var box = new ParameterBox(0, 1, 0, 1);
        var exact = Field(box, k, (x, y) => (1 + 10 * x, 0.1, 1 + 100 * y));
        // Ours: the exact metric at half scale (the fit finds a = 2 from psi / 2), except cell (i = 1, j = 0), index 2,
        // which is indefinite: det = 1 - 4 < 0 (its g11 and g22 stay positive).
        var ours = Field(box, k, (x, y) => (0.5 + 5 * x, 0.05, 0.5 + 50 * y));
        for (int i = 0; i < ours.Count; i++) ours.Psi[i] /= 2;
        (ours.G11[2], ours.G12[2], ours.G22[2]) = (1, 2, 1);
        var baseline = Field(box, k, (x, y) => (1, 0, 1));
        var oursErrors = new MethodErrors(MetricFieldErrors.Compare(exact, ours), MetricFieldErrors.Compare(exact, ours));
        var baseErrors = new MethodErrors(MetricFieldErrors.Compare(exact, baseline), MetricFieldErrors.Compare(exact, baseline));
        Assert.AreEqual(2.0, oursErrors.Interior.Scale, 1e-9);
        Assert.AreEqual(0.25, oursErrors.Interior.IndefiniteFraction);

        var canvas = EndToEndReport.HeatMaps(k, ours, baseline, exact, oursErrors, baseErrors, ("t1", "t2"));
        // Three columns (exact, ours, mean-as-stat), six rows, a two-line caption.
        Assert.AreEqual(10 + 3 * CellW, canvas.Width);
        Assert.AreEqual(10 + 2 * 18 + 6 * CellH + 10, canvas.Height);

        // Centre of cell (i, j) of the panel in row `row`, column `col` (t1 left to right, t2 bottom to top).
        (int X, int Y) Cell(int row, int col, int i, int j) =>
            (10 + col * CellW + i * 96 + 48, 10 + 2 * 18 + row * CellH + 14 + (k - 1 - j) * 96 + 48);
        (byte, byte, byte) At((int X, int Y) p) => canvas[p.X, p.Y];
        const int detRow = 5, g22Row = 4;
        Assert.AreEqual(ColorMap.Missing, At(Cell(detRow, 1, 1, 0)), "ours: det g < 0 at (1, 0) is grey");
        Assert.AreNotEqual(ColorMap.Missing, At(Cell(detRow, 0, 1, 0)), "exact: det g > 0 there");
        Assert.AreNotEqual(ColorMap.Missing, At(Cell(detRow, 1, 0, 0)), "ours elsewhere is coloured");
        // log10 g22 of the exact field spans log10(1 + 25) .. log10(1 + 75); ours, aligned (x 2), equals it at (0, 0)
        // and (0, 1): the low and high ends of the shared colour range.
        Assert.AreEqual(ColorMap.Map(0), At(Cell(g22Row, 0, 0, 0)));
        Assert.AreEqual(ColorMap.Map(1), At(Cell(g22Row, 0, 0, 1)));
        Assert.AreEqual(ColorMap.Map(0), At(Cell(g22Row, 1, 0, 0)));
        Assert.AreEqual(ColorMap.Map(1), At(Cell(g22Row, 1, 0, 1)));
        // Mean-as-Stat is flat g22 = 1 x its scale; whatever it is, it is one colour across the panel.
        Assert.AreEqual(At(Cell(g22Row, 2, 0, 0)), At(Cell(g22Row, 2, 1, 1)));
    }
}
