using System.Globalization;
using HessianML.Geometry;
using HessianML.Posterior;
using ScottPlot;

namespace HessianML.Figures;

/// <summary>
/// The figures of a metric field: the quantities side by side for several estimates on one colour scale per quantity,
/// the metric as ellipses, and geodesics over log10 det g. Estimates are (name, field at the K x K cell centres).
/// </summary>
public static class MetricFigures
{
    /// <summary>log10 of each value; NaN where it is not positive (no logarithm: drawn grey and counted in the title).</summary>
    public static double[] Log10(double[] values) => values.Select(v => v > 0 ? Math.Log10(v) : double.NaN).ToArray();

    /// <summary>What a fields figure draws, one row each: (title, colour-bar label, values). The metric rows are log10:
    /// the metric spans decades where the system is stiff.</summary>
    public static (string Name, string ColourLabel, bool Log, Func<MetricField, double[]> Of)[] Quantities((string T1, string T2) axes) =>
    [
        ("psi", "psi", false, f => f.Psi),
        ($"dpsi/d{axes.T1}", $"dpsi/d{axes.T1}", false, f => f.Dpsi1),
        ($"dpsi/d{axes.T2}", $"dpsi/d{axes.T2}", false, f => f.Dpsi2),
        ("log10 g11", "log10 g11", true, f => Log10(f.G11)),
        ("log10 g22", "log10 g22", true, f => Log10(f.G22)),
        ("log10 det g", "log10 det g", true, f => Log10(f.Determinant())),
    ];

    /// <summary>
    /// A row per quantity, a column per estimate. Each row shares one colour range: that of <paramref name="reference"/>
    /// (e.g. the exact answer) when given, so equal colours mean equal values and an estimate outside it saturates; else
    /// that of all its panels. One estimate alone is laid out three panels to a row.
    /// </summary>
    public static Figure Fields(string title, int k, ParameterBox box, (string T1, string T2) axes,
        IReadOnlyList<(string Name, MetricField Field)> columns, MetricField? reference = null, string? caption = null)
    {
        ArgumentNullException.ThrowIfNull(columns);
        var panels = new List<IFigurePanel>();
        foreach (var (name, label, log, of) in Quantities(axes))
        {
            var values = columns.Select(c => of(c.Field)).ToArray();
            var range = HeatMapPanel.SharedRange(reference is null ? values : [of(reference)]);
            for (int c = 0; c < columns.Count; c++)
            {
                int undefined = values[c].Count(double.IsNaN);
                string panelTitle = log && undefined > 0
                    ? string.Create(CultureInfo.InvariantCulture, $"{name}, {columns[c].Name} ({undefined} cells <= 0, grey)")
                    : $"{name}, {columns[c].Name}";
                panels.Add(new HeatMapPanel(panelTitle, values[c], k, k, box, axes, label) { Range = range });
            }
        }
        return new Figure(title, panels, columns.Count == 1 ? 3 : columns.Count) { Caption = caption, PanelWidth = 400, PanelHeight = 340 };
    }

    /// <summary>Each estimate's metric as ellipses over its own log10 det g, all on the colour range of the first.</summary>
    public static Figure Ellipses(string title, int k, ParameterBox box, (string T1, string T2) axes,
        IReadOnlyList<(string Name, MetricField Field)> columns)
    {
        ArgumentNullException.ThrowIfNull(columns);
        var dets = columns.Select(c => Log10(c.Field.Determinant())).ToArray();
        var range = HeatMapPanel.SharedRange([dets[0]]);
        var panels = columns.Select((c, i) => (IFigurePanel)new HeatMapPanel($"metric ellipses, {c.Name}", dets[i], k, k, box, axes, "log10 det g")
        {
            Range = range,
            Ellipses = new MetricEllipses(c.Field, k, box),
        }).ToArray();
        return new Figure(title, panels, columns.Count)
        {
            Caption = "each ellipse: the unit ball v'gv = 1 at its centre, scaled to one size (shape and direction only; the colour is the size)",
            PanelWidth = 520, PanelHeight = 460,
        };
    }

    private static readonly Color OursColour = Colors.White, AdamColour = new(255, 120, 40), LineColour = Colors.Black;

    /// <summary>The three curves of each pair (ours solid white, released Adam orange, straight line dashed black) over
    /// each background's log10 det g, one panel per background, all on the colour range of <paramref name="reference"/>
    /// (e.g. the exact answer; null: the first background's).</summary>
    public static Figure Geodesics(string title, int k, ParameterBox box, (string T1, string T2) axes,
        IReadOnlyList<(string Name, MetricField Field)> backgrounds, IReadOnlyList<GeodesicComparison> pairs, MetricField? reference = null)
    {
        ArgumentNullException.ThrowIfNull(backgrounds);
        ArgumentNullException.ThrowIfNull(pairs);
        // One legend entry per kind of curve; the lengths of every pair go in the caption.
        var paths = new List<PathOverlay>();
        foreach (var (p, first) in pairs.Select((p, n) => (p, n == 0)))
        {
            paths.Add(new PathOverlay(first ? "ours (global)" : null, p.Ours.T1, p.Ours.T2, OursColour, Width: 2.5f));
            paths.Add(new PathOverlay(first ? "released Adam" : null, p.Adam.T1, p.Adam.T2, AdamColour));
            paths.Add(new PathOverlay(first ? "straight line" : null, p.LineT1, p.LineT2, LineColour, Dashed: true));
        }
        string lengths = string.Join("; ", pairs.Select((p, n) => Figure.Invariant($"pair {n + 1}: {p.Ours.Length:G4} / {p.Adam.Length:G4} / {p.LineLength:G4}")));
        var dets = backgrounds.Select(b => Log10(b.Field.Determinant())).ToArray();
        var range = HeatMapPanel.SharedRange([reference is null ? dets[0] : Log10(reference.Determinant())]);
        var panels = backgrounds.Select((b, i) => (IFigurePanel)new HeatMapPanel($"geodesics over log10 det g, {b.Name}", dets[i], k, k, box, axes, "log10 det g")
        {
            Range = range,
            Paths = paths,
            LegendBelow = true,
        }).ToArray();
        return new Figure(title, panels, backgrounds.Count)
        {
            Caption = "length under the fitted metric (ours / released Adam / straight line): " + lengths,
            PanelWidth = 560, PanelHeight = 540,
        };
    }
}
