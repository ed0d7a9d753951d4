using HessianML.Geometry;
using HessianML.Posterior;
using ScottPlot;

namespace HessianML.Figures;

/// <summary>A path drawn over a heat map, in parameter units, named in the legend (a null name: no legend entry, e.g. the
/// second path of a kind already named).</summary>
public sealed record PathOverlay(string? Name, double[] T1, double[] T2, Color Colour, bool Dashed = false, float Width = 2);

/// <summary>
/// Categories 0 .. n-1 as colours, one each, for a heat map with range (-0.5, n - 0.5): value v is drawn colours[v].
/// (ScottPlot's CustomPalette bins [0, 1] into n - 1 parts, so with n colours one category would take its neighbour's.)
/// </summary>
public sealed class CategoryColours(IReadOnlyList<Color> colours) : IColormap
{
    private readonly Color[] _colours = colours.Count > 0 ? [.. colours] : throw new ArgumentException("no category colours");

    public string Name => "categories";

    public Color GetColor(double position) =>
        double.IsNaN(position) ? Colors.Gray : _colours[Math.Clamp((int)Math.Floor(position * _colours.Length), 0, _colours.Length - 1)];
}

/// <summary>Cells of a K1 x K2 grid of the panel's box (which need not be the heat map's grid) marked by a symbol at their
/// centres, flags indexed i * K2 + j like the values, named in the legend.</summary>
public sealed record CellMarks(string Name, bool[] Cells, int K1, int K2, MarkerShape Shape, Color Colour, float Size = 6);

/// <summary>
/// A quantity on the K1 x K2 cell centres of a parameter box as a heat map: axes in parameter units named by
/// <see cref="AxisNames"/>, a colour bar named by <see cref="ColourLabel"/> (quantity and scale, e.g. "log10 det g"),
/// and optional overlays: paths, metric ellipses, marked cells. Values are indexed i * K2 + j, i along t1 (left to right),
/// j along t2 (bottom to top), as <see cref="Geometry.FittedPsi.Field"/> lays them out. NaN cells are drawn grey.
/// </summary>
public sealed class HeatMapPanel : IFigurePanel
{
    public HeatMapPanel(string title, double[] values, int k1, int k2, ParameterBox box, (string T1, string T2) axisNames, string colourLabel)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(box);
        if (k1 < 1 || k2 < 1 || values.Length != k1 * k2)
            throw new ArgumentException($"heat map '{title}' has {values.Length} values for a {k1} x {k2} grid");
        (Title, Values, K1, K2, Box, AxisNames, ColourLabel) = (title, values, k1, k2, box, axisNames, colourLabel);
    }

    public string Title { get; }
    public double[] Values { get; }
    public int K1 { get; }
    public int K2 { get; }
    public ParameterBox Box { get; }
    public (string T1, string T2) AxisNames { get; }
    public string ColourLabel { get; }

    /// <summary>Colour range; null: the finite values' own range. Give panels one range to compare them by colour.</summary>
    public (double Lo, double Hi)? Range { get; init; }

    /// <summary>Colour-bar ticks at whole numbers only (categories such as phases). Default false.</summary>
    public bool IntegerColourTicks { get; init; }

    /// <summary>Colour map; default viridis (perceptually uniform, readable in grey).</summary>
    public IColormap Colormap { get; init; } = new ScottPlot.Colormaps.Viridis();

    public IReadOnlyList<PathOverlay> Paths { get; init; } = [];

    /// <summary>The metric drawn as ellipses (its unit balls, see <see cref="MetricEllipses"/>); null for none.</summary>
    public MetricEllipses? Ellipses { get; init; }

    /// <summary>Cells to mark (e.g. a predicted and a true boundary), drawn in order.</summary>
    public IReadOnlyList<CellMarks> Marks { get; init; } = [];

    /// <summary>Legend under the plot instead of inside it (many paths would hide the data). Default false.</summary>
    public bool LegendBelow { get; init; }

    /// <summary>The colour range a set of value arrays shares: min and max of their finite values (0..1 when none is finite).</summary>
    public static (double Lo, double Hi) SharedRange(IEnumerable<double[]> values)
    {
        double lo = double.PositiveInfinity, hi = double.NegativeInfinity;
        foreach (var v in values)
            foreach (double x in v)
                if (double.IsFinite(x)) (lo, hi) = (Math.Min(lo, x), Math.Max(hi, x));
        if (lo > hi) return (0, 1);
        return hi > lo ? (lo, hi) : (lo - 0.5, hi + 0.5);
    }

    public void Draw(Plot plot)
    {
        if (Values.Any(double.IsFinite)) DrawMap(plot);
        else
        {
            // Nothing to colour (ScottPlot's heat map needs one finite value): the whole box grey, as an undefined cell is.
            var grey = plot.Add.Rectangle(Box.Lo1, Box.Hi1, Box.Lo2, Box.Hi2);
            grey.FillColor = Colors.Gray;
            grey.LineWidth = 0;
            grey.LegendText = $"{ColourLabel}: undefined in every cell";
            plot.ShowLegend(Alignment.UpperLeft);
        }
        DrawOverlays(plot);
    }

    private void DrawMap(Plot plot)
    {
        // ScottPlot's heat map puts row 0 at the top: row r is t2 index K2 - 1 - r, column c is t1 index c.
        var grid = new double[K2, K1];
        for (int i = 0; i < K1; i++)
            for (int j = 0; j < K2; j++)
                grid[K2 - 1 - j, i] = Values[i * K2 + j];
        var map = plot.Add.Heatmap(grid);
        map.Extent = new CoordinateRect(Box.Lo1, Box.Hi1, Box.Lo2, Box.Hi2);
        map.Colormap = Colormap;
        map.NaNCellColor = Colors.Gray;
        var (lo, hi) = Range ?? SharedRange([Values]);
        map.ManualRange = new ScottPlot.Range(lo, hi);
        var bar = plot.Add.ColorBar(map);
        bar.Label = ColourLabel;
        bar.LabelStyle.FontSize = 13;
        if (IntegerColourTicks) bar.Axis.TickGenerator = new ScottPlot.TickGenerators.NumericFixedInterval(1);
    }

    private void DrawOverlays(Plot plot)
    {
        bool legend = Ellipses?.Draw(plot) ?? false;
        foreach (var marks in Marks)
        {
            var (m1, m2) = (marks.K1, marks.K2);
            if (marks.Cells.Length != m1 * m2) throw new ArgumentException($"heat map '{Title}': {marks.Cells.Length} '{marks.Name}' flags for {m1} x {m2} cells");
            var xs = new List<double>();
            var ys = new List<double>();
            for (int i = 0; i < m1; i++)
                for (int j = 0; j < m2; j++)
                    if (marks.Cells[i * m2 + j])
                    {
                        xs.Add(Box.Lo1 + (i + 0.5) * (Box.Hi1 - Box.Lo1) / m1);
                        ys.Add(Box.Lo2 + (j + 0.5) * (Box.Hi2 - Box.Lo2) / m2);
                    }
            var markers = plot.Add.Markers(xs.ToArray(), ys.ToArray(), marks.Shape, marks.Size, marks.Colour);
            markers.LegendText = marks.Name;
            legend = true;
        }
        foreach (var path in Paths)
        {
            var line = plot.Add.ScatterLine(path.T1, path.T2, path.Colour);
            line.LineWidth = path.Width;
            line.LinePattern = path.Dashed ? LinePattern.Dashed : LinePattern.Solid;
            if (path.Name is null) continue;
            line.LegendText = path.Name;
            legend = true;
        }
        if (legend)
        {
            plot.Legend.FontSize = 11;
            plot.Legend.BackgroundColor = new Color(215, 215, 215); // white paths stay visible in the legend
            if (LegendBelow) plot.ShowLegend(Edge.Bottom);
            else plot.ShowLegend(Alignment.UpperLeft);
        }
        plot.Axes.SetLimits(Box.Lo1, Box.Hi1, Box.Lo2, Box.Hi2);
        plot.Title(Title, 15);
        plot.XLabel(AxisNames.T1, 14);
        plot.YLabel(AxisNames.T2, 14);
    }
}

/// <summary>
/// A metric field drawn as ellipses on a coarse grid: at every <c>stride</c>-th cell centre of a K x K field the unit
/// ball {v : v' g v = 1}, scaled so that its long axis spans <see cref="Fill"/> of the spacing between ellipses. Every
/// ellipse gets the same long axis, so the picture shows the metric's anisotropy and directions; its size is the heat
/// map's job (log10 det g underneath). Where g is not positive definite there is no unit ball: a red x.
/// </summary>
public sealed class MetricEllipses
{
    /// <summary>Ellipses of <paramref name="field"/>, g at the K x K cell centres of <paramref name="box"/> (index i * K + j),
    /// at most <paramref name="maxPerSide"/> per side (default 12: each stays big enough to read its shape).</summary>
    public MetricEllipses(MetricField field, int k, ParameterBox box, int maxPerSide = 12)
    {
        ArgumentNullException.ThrowIfNull(field);
        ArgumentNullException.ThrowIfNull(box);
        if (k < 1 || field.Count != k * k) throw new ArgumentException($"metric ellipses: {field.Count} points for a {k} x {k} grid");
        if (maxPerSide < 1) throw new ArgumentOutOfRangeException(nameof(maxPerSide), $"metric ellipses: {maxPerSide} per side");
        (Field, K, Box) = (field, k, box);
        Stride = (k + maxPerSide - 1) / maxPerSide;
        // The centre cells of each stride x stride block, so the ellipses sit evenly over the box.
        Cells = [.. from i in Enumerable.Range(0, k / Stride) from j in Enumerable.Range(0, k / Stride)
                     select (i * Stride + Stride / 2) * k + j * Stride + Stride / 2];
    }

    public MetricField Field { get; }
    public int K { get; }
    public ParameterBox Box { get; }
    public int Stride { get; }

    /// <summary>Indices of the cells that get an ellipse.</summary>
    public int[] Cells { get; }

    /// <summary>Long axis (diameter) as a fraction of the spacing between ellipses (an odd number of cells; an even spacing
    /// counts one cell less). Default 0.85: neighbours never touch and none crosses the box's edge.</summary>
    public double Fill { get; init; } = 0.85;

    /// <summary>How many of the drawn cells have no unit ball (g not positive definite).</summary>
    public int IndefiniteCount => Cells.Count(c => !(Eigen(c, 1, 1).Small > 0));

    private (double Large, double Small, double Angle) Eigen(int c, double s1, double s2)
    {
        // g in units of the spacing (t = s u): G' = S g S, so both axes count in spacings.
        double a = Field.G11[c] * s1 * s1, b = Field.G12[c] * s1 * s2, d = Field.G22[c] * s2 * s2;
        double mean = (a + d) / 2, radius = Math.Sqrt((a - d) * (a - d) / 4 + b * b);
        return (mean + radius, mean - radius, 0.5 * Math.Atan2(2 * b, a - d));
    }

    /// <summary>Draws the ellipses; true when a legend entry (the red x) was added.</summary>
    internal bool Draw(Plot plot)
    {
        // The unit of the ellipses' size: the spacing between them, less one cell when it is even, because then the
        // ellipse sits on a cell half a cell off its block's centre and the full spacing would cross the box's edge.
        int span = Stride % 2 == 1 ? Stride : Stride - 1;
        double s1 = span * (Box.Hi1 - Box.Lo1) / K, s2 = span * (Box.Hi2 - Box.Lo2) / K;
        var bad1 = new List<double>();
        var bad2 = new List<double>();
        const int vertices = 41;
        foreach (int c in Cells)
        {
            var (large, small, angle) = Eigen(c, s1, s2);
            if (!(small > 0) || !double.IsFinite(large))
            {
                bad1.Add(Field.T1[c]);
                bad2.Add(Field.T2[c]);
                continue;
            }
            // Unit-ball semi-axes are 1/sqrt(eigenvalue): the short one along the large eigenvalue's direction (cos, sin).
            double longAxis = Fill / 2, shortAxis = longAxis * Math.Sqrt(small / large);
            double cos = Math.Cos(angle), sin = Math.Sin(angle);
            var x = new double[vertices];
            var y = new double[vertices];
            for (int v = 0; v < vertices; v++)
            {
                double phi = 2 * Math.PI * v / (vertices - 1);
                double p = shortAxis * Math.Cos(phi), q = longAxis * Math.Sin(phi);
                x[v] = Field.T1[c] + s1 * (p * cos - q * sin);
                y[v] = Field.T2[c] + s2 * (p * sin + q * cos);
            }
            var line = plot.Add.ScatterLine(x, y, Colors.White);
            line.LineWidth = 1.2f;
        }
        if (bad1.Count > 0)
        {
            var m = plot.Add.Markers(bad1.ToArray(), bad2.ToArray(), MarkerShape.Eks, 7, Colors.Red);
            m.LegendText = "g not positive definite";
        }
        return bad1.Count > 0;
    }
}
