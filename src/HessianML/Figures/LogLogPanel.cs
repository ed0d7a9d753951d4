using System.Globalization;
using ScottPlot;

namespace HessianML.Figures;

/// <summary>One line of a <see cref="LogLogPanel"/>: positive x and y values, named in the legend.</summary>
public sealed record LineSeries(string Name, double[] X, double[] Y, Color Colour, bool Dashed = false);

/// <summary>
/// Lines on log-log axes (a power law is a straight line; its slope reads off the decades). ScottPlot has no log axis,
/// so log10 of the data is plotted and the ticks are labelled as powers of ten with log-spaced minor ticks. A point whose
/// x or y is not positive has no logarithm and is left out (the legend says how many).
/// </summary>
public sealed class LogLogPanel(string title, string xLabel, string yLabel, IReadOnlyList<LineSeries> series) : IFigurePanel
{
    public string Title { get; } = title;
    public string XLabel { get; } = xLabel;
    public string YLabel { get; } = yLabel;
    public IReadOnlyList<LineSeries> Series { get; } = series ?? throw new ArgumentNullException(nameof(series));

    /// <summary>Reference lines y = c x^slope through the first point of the first series (e.g. -1 for 1/eps), drawn dotted grey.</summary>
    public IReadOnlyList<double> ReferenceSlopes { get; init; } = [];

    public void Draw(Plot plot)
    {
        foreach (var s in Series)
        {
            if (s.X.Length != s.Y.Length) throw new ArgumentException($"series '{s.Name}' has {s.X.Length} x values and {s.Y.Length} y values");
            var keep = Enumerable.Range(0, s.X.Length).Where(i => s.X[i] > 0 && s.Y[i] > 0 && double.IsFinite(s.X[i]) && double.IsFinite(s.Y[i])).ToArray();
            var line = plot.Add.ScatterLine(keep.Select(i => Math.Log10(s.X[i])).ToArray(), keep.Select(i => Math.Log10(s.Y[i])).ToArray(), s.Colour);
            line.MarkerSize = 7;
            line.MarkerShape = MarkerShape.FilledCircle;
            line.LineWidth = 2;
            line.LinePattern = s.Dashed ? LinePattern.Dashed : LinePattern.Solid;
            int dropped = s.X.Length - keep.Length;
            line.LegendText = dropped == 0 ? s.Name : string.Create(CultureInfo.InvariantCulture, $"{s.Name} ({dropped} point(s) <= 0 left out)");
        }
        if (ReferenceSlopes.Count > 0 && Series.Count > 0 && Series[0].X.Length > 0 && Series[0].X[0] > 0 && Series[0].Y[0] > 0)
        {
            var first = Series[0];
            double x0 = Math.Log10(first.X[0]), y0 = Math.Log10(first.Y[0]);
            double[] xs = [.. first.X.Where(x => x > 0).Select(Math.Log10)];
            double xa = xs.Min(), xb = xs.Max();
            foreach (double slope in ReferenceSlopes)
            {
                var guide = plot.Add.ScatterLine(new[] { xa, xb }, new[] { y0 + slope * (xa - x0), y0 + slope * (xb - x0) }, Colors.Gray);
                guide.LinePattern = LinePattern.Dotted;
                guide.LineWidth = 1.5f;
                guide.LegendText = string.Create(CultureInfo.InvariantCulture, $"slope {slope:G3}");
            }
        }
        foreach (var axis in new IAxis[] { plot.Axes.Bottom, plot.Axes.Left })
            axis.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
            {
                MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
                IntegerTicksOnly = true,
                LabelFormatter = PowerOfTen,
            };
        plot.Legend.FontSize = 12;
        plot.ShowLegend(Alignment.UpperRight);
        plot.Title(Title, 15);
        plot.XLabel(XLabel, 14);
        plot.YLabel(YLabel, 14);
    }

    private static string PowerOfTen(double exponent) => exponent switch
    {
        0 => "1",
        1 => "10",
        _ => string.Create(CultureInfo.InvariantCulture, $"1e{exponent:0}"),
    };
}
