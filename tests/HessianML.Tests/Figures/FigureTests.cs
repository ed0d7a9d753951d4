using HessianML.Figures;
using HessianML.Geometry;
using HessianML.Posterior;
using ScottPlot;

namespace HessianML.Tests.Figures;

/// <summary>The figures layer: PNG pictures, heat-map orientation and colour range, categories, ellipses, log-log lines,
/// figure size and determinism, and the report page.</summary>
[TestClass]
public sealed class FigureTests
{
    private static readonly ParameterBox Box = new(0.2, 0.6, -0.3, 0.3);

    /// <summary>A smooth field on the K x K cells of <see cref="Box"/>: psi = x^2 + y^2 + x y, g = (2 + x, 1 / (1 + y^2), 8 - y).</summary>
    private static MetricField Field(int k)
    {
        var c = Box.CellCentres(k, k);
        var f = MetricField.AtPoints(Enumerable.Range(0, k * k).Select(i => c[2 * i]).ToArray(), Enumerable.Range(0, k * k).Select(i => c[2 * i + 1]).ToArray());
        for (int i = 0; i < f.Count; i++)
        {
            double x = f.T1[i], y = f.T2[i];
            (f.Psi[i], f.Dpsi1[i], f.Dpsi2[i]) = (x * x + y * y + x * y, 2 * x + y, 2 * y + x);
            (f.G11[i], f.G12[i], f.G22[i]) = (2 + x, 1 / (1 + y * y), 8 - y);
        }
        return f;
    }

    [TestMethod]
    public void PngRoundTripsPixelsExactly()
    {
        var rgb = new byte[7 * 3 * 3];
        new Random(3).NextBytes(rgb);
        var (w, h, back) = Png.Decode(Png.Encode(rgb, 7, 3));
        Assert.AreEqual((7, 3), (w, h));
        CollectionAssert.AreEqual(rgb, back);
        var ex = Assert.ThrowsExactly<ArgumentException>(() => Png.Encode(rgb, 7, 4));
        StringAssert.Contains(ex.Message, "7 x 4");
    }

    [TestMethod]
    public void ThumbnailsAreTheCentreSquareScaled()
    {
        // 6 x 2: red outer columns, green centre columns; the centre square (columns 2-3) is all green, so its
        // thumbnail is green whatever the resampler, and no red from the cropped-away columns leaks in.
        var rgb = new byte[6 * 2 * 3];
        for (int y = 0; y < 2; y++)
            for (int x = 0; x < 6; x++)
            {
                int p = (y * 6 + x) * 3;
                (rgb[p], rgb[p + 1], rgb[p + 2]) = x is 2 or 3 ? ((byte)0, (byte)200, (byte)0) : ((byte)255, (byte)0, (byte)0);
            }
        string file = Path.Combine(Path.GetTempPath(), $"thumb-{Guid.NewGuid():N}.png");
        try
        {
            Png.Write(file, rgb, 6, 2);
            var thumb = Png.Thumbnail(file, 5)!;
            Assert.AreEqual(5 * 5 * 3, thumb.Length);
            for (int p = 0; p < thumb.Length; p += 3) Assert.AreEqual((0, 200, 0), (thumb[p], thumb[p + 1], thumb[p + 2]), $"pixel {p / 3}");
        }
        finally { File.Delete(file); }
        Assert.IsNull(Png.Thumbnail(file, 5), "a missing file has no thumbnail");
    }

    /// <summary>Renders one panel alone and returns the colour at parameter point (t1, t2).</summary>
    private static Func<double, double, (byte, byte, byte)> Render(IFigurePanel panel)
    {
        using var plot = new Plot();
        panel.Draw(plot);
        var bytes = plot.GetImageBytes(500, 400, ImageFormat.Png);
        var (w, _, rgb) = Png.Decode(bytes);
        var pixels = new Dictionary<(double, double), (byte, byte, byte)>();
        return (t1, t2) =>
        {
            var p = plot.GetPixel(new Coordinates(t1, t2));
            int at = ((int)p.Y * w + (int)p.X) * 3;
            return (rgb[at], rgb[at + 1], rgb[at + 2]);
        };
    }

    private static (byte, byte, byte) Rgb(Color c) => (c.R, c.G, c.B);

    [TestMethod]
    public void HeatMapPutsT1LeftToRightAndT2BottomToTopOnTheGivenRange()
    {
        // 2 x 2 cells, value = index i * 2 + j; on the range [0, 6] the values 0..3 are 0, 1/6, 1/3, 1/2 of viridis.
        var panel = new HeatMapPanel("test", [0, 1, 2, 3], 2, 2, Box, ("beta", "h"), "value") { Range = (0, 6) };
        var at = Render(panel);
        var viridis = new ScottPlot.Colormaps.Viridis();
        double left = 0.3, right = 0.5, bottom = -0.15, top = 0.15;
        Assert.AreEqual(Rgb(viridis.GetColor(0)), at(left, bottom), "i = 0, j = 0: bottom left");
        Assert.AreEqual(Rgb(viridis.GetColor(1 / 6.0)), at(left, top), "i = 0, j = 1: top left");
        Assert.AreEqual(Rgb(viridis.GetColor(2 / 6.0)), at(right, bottom), "i = 1, j = 0: bottom right");
        Assert.AreEqual(Rgb(viridis.GetColor(3 / 6.0)), at(right, top), "i = 1, j = 1: top right");
    }

    [TestMethod]
    public void AHeatMapWithNoFiniteValueIsGreyNotAnError()
    {
        // e.g. log10 det g of an estimate that is indefinite everywhere (ScottPlot's own heat map throws on it).
        var at = Render(new HeatMapPanel("undefined", [double.NaN, double.NaN, double.NaN, double.NaN], 2, 2, Box, ("beta", "h"), "log10 det g"));
        Assert.AreEqual(Rgb(Colors.Gray), at(0.5, -0.15));
    }

    [TestMethod]
    public void CategoryColoursGiveEveryCategoryItsOwnColour()
    {
        Color[] colours = [Colors.Red, Colors.Green, Colors.Blue, Colors.Orange];
        var map = new CategoryColours(colours);
        // A heat map on the range (-0.5, n - 0.5) asks for position (v + 0.5) / n.
        for (int v = 0; v < colours.Length; v++)
            Assert.AreEqual(colours[v], map.GetColor((v + 0.5) / colours.Length), $"category {v}");
        var panel = new HeatMapPanel("phases", [0, 1, 2, 3], 2, 2, Box, ("a", "b"), "phase") { Colormap = map, Range = (-0.5, 3.5) };
        var at = Render(panel);
        Assert.AreEqual(Rgb(Colors.Blue), at(0.5, -0.15), "phase 2 is drawn in its own colour, not its neighbour's");
    }

    [TestMethod]
    public void EllipsesAreTheUnitBallsScaledToOneSize()
    {
        // g = diag(1, 4) in units of the grid step: the unit ball has semi-axes 1 (along t1) and 1/2 (along t2).
        const int k = 4;
        double s1 = (Box.Hi1 - Box.Lo1) / k, s2 = (Box.Hi2 - Box.Lo2) / k;
        var f = Field(k);
        for (int i = 0; i < f.Count; i++) (f.G11[i], f.G12[i], f.G22[i]) = (1 / (s1 * s1), 0, 4 / (s2 * s2));
        (f.G11[5], f.G12[5], f.G22[5]) = (1, 2, 1); // indefinite: no unit ball
        var ellipses = new MetricEllipses(f, k, Box);
        Assert.AreEqual(1, ellipses.Stride);
        Assert.AreEqual(1, ellipses.IndefiniteCount);
        using var plot = new Plot();
        Assert.IsTrue(ellipses.Draw(plot), "the indefinite cell gets a legend entry");
        var curves = plot.GetPlottables<ScottPlot.Plottables.Scatter>().ToArray();
        Assert.AreEqual(k * k - 1, curves.Length);
        var points = curves[0].Data.GetScatterPoints();
        double width = (points.Max(p => p.X) - points.Min(p => p.X)) / s1, height = (points.Max(p => p.Y) - points.Min(p => p.Y)) / s2;
        // Long axis = Fill spacings along t1; the short one half of it (the polygon's 41 vertices hit both extremes).
        Assert.AreEqual(ellipses.Fill, width, 1e-9);
        Assert.AreEqual(ellipses.Fill / 2, height, 1e-9);
    }

    [TestMethod]
    public void LogLogPanelLeavesOutNonPositivePointsAndSaysSo()
    {
        var panel = new LogLogPanel("ratio", "eps", "ratio", [new LineSeries("at boundary", [1e-1, 1e-2, 1e-3], [10, 0, 1000], Colors.Black)]);
        using var plot = new Plot();
        panel.Draw(plot);
        var line = plot.GetPlottables<ScottPlot.Plottables.Scatter>().Single();
        var points = line.Data.GetScatterPoints();
        CollectionAssert.AreEqual(new[] { -1.0, -3.0 }, points.Select(p => p.X).ToArray());
        CollectionAssert.AreEqual(new[] { 1.0, 3.0 }, points.Select(p => p.Y).ToArray());
        StringAssert.Contains(line.LegendText, "1 point(s) <= 0 left out");
    }

    [TestMethod]
    public void FieldsFigureSharesTheReferenceRangeAndIsDeterministic()
    {
        const int k = 6;
        var exact = Field(k);
        var ours = Field(k);
        for (int i = 0; i < ours.Count; i++) ours.G22[i] *= 1.5;
        ours.G11[7] = -1; // no log10 there: counted in the panel's title
        var figure = MetricFigures.Fields("test", k, Box, ("beta", "h"), [("exact", exact), ("ours", ours)], exact);
        var panels = figure.Panels.Cast<HeatMapPanel>().ToArray();
        Assert.AreEqual(6 * 2, panels.Length);
        var g22 = panels.Where(p => p.Title.StartsWith("log10 g22", StringComparison.Ordinal)).ToArray();
        var exactLog = exact.G22.Select(Math.Log10).ToArray();
        foreach (var p in g22) Assert.AreEqual((exactLog.Min(), exactLog.Max()), p.Range, p.Title);
        StringAssert.Contains(panels.Single(p => p.Title.StartsWith("log10 g11, ours", StringComparison.Ordinal)).Title, "1 cells <= 0");
        Assert.IsTrue(double.IsNaN(panels.Single(p => p.Title.StartsWith("log10 det g, ours", StringComparison.Ordinal)).Values[7]));

        var png = figure.ToPng();
        CollectionAssert.AreEqual(png, figure.ToPng(), "the same figure twice gives the same bytes");
        var (w, h, _) = Png.Decode(png);
        Assert.AreEqual(2 * figure.PanelWidth, w);
        Assert.AreEqual(figure.HeaderHeight + 6 * figure.PanelHeight, h, "six rows under the title");
        string file = Path.Combine(Path.GetTempPath(), $"fields-{Guid.NewGuid():N}.png");
        try
        {
            figure.Save(file);
            ReportChecks.AssertFigure(file);
        }
        finally { File.Delete(file); }
    }

    [TestMethod]
    public void ReportPageListsTheFolderAndRefusesAMissingFigure()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"report-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        try
        {
            var figure = MetricFigures.Fields("test", 4, Box, ("beta", "h"), [("ours", Field(4))]);
            figure.Save(Path.Combine(dir, "fields.png"));
            File.WriteAllText(Path.Combine(dir, "metric.csv"), "t1,t2\n");
            File.WriteAllText(Path.Combine(dir, "odd name #1.json"), "{}");
            var page = new ReportPage("hessian run test")
            {
                CommandLine = "hessian run test --seed 1 <&>",
                Tables = [new ReportTable("errors", ["", "ours"], [["metric error", "0.1"]])],
                Figures = [("fields.png", "the fields")],
            };
            page.Write(dir);
            ReportChecks.PageListsTheFolder(dir, "fields.png");
            string html = File.ReadAllText(Path.Combine(dir, ReportPage.FileName));
            StringAssert.Contains(html, "hessian run test --seed 1 &lt;&amp;&gt;");
            StringAssert.Contains(html, "<td>metric error</td><td>0.1</td>");
            StringAssert.Contains(html, "ScottPlot");

            var missing = new ReportPage("x") { Figures = [("absent.png", "not written")] };
            var ex = Assert.ThrowsExactly<InvalidOperationException>(() => missing.Write(dir));
            StringAssert.Contains(ex.Message, "absent.png");
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
