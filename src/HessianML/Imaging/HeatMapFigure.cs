using System.Globalization;

namespace HessianML.Imaging;

/// <summary>
/// One heat map: values on a K1 x K2 grid (index i * K2 + j, i along t1 drawn left to right, j along t2 drawn bottom
/// to top), with its own colour range unless Min/Max are given (give two panels the same range to compare them).
/// </summary>
public sealed record HeatMapPanel(string Title, double[] Values, int K1, int K2, double? Min = null, double? Max = null);

/// <summary>
/// Panels laid out in a grid, each with a title and a colour bar with its range, saved as one PNG. A NaN value is drawn
/// grey (<see cref="ColorMap.Missing"/>), outside the colour map, so undefined cells (e.g. no log10) stand out.
/// </summary>
public static class HeatMapFigure
{
    private static readonly (byte, byte, byte) White = (255, 255, 255), Black = (0, 0, 0);

    public static Canvas Render(IReadOnlyList<HeatMapPanel> panels, int columns, string? caption = null, int panelSize = 192)
    {
        if (panels.Count == 0) throw new ArgumentException("a figure needs at least one panel");
        if (columns < 1) throw new ArgumentException($"columns {columns} must be at least 1");
        foreach (var p in panels)
            if (p.Values.Length != p.K1 * p.K2)
                throw new ArgumentException($"panel '{p.Title}' has {p.Values.Length} values for a {p.K1} x {p.K2} grid");
        const int margin = 10, titleH = 14, barW = 10, labelW = 48, captionH = 18;
        int rows = (panels.Count + columns - 1) / columns;
        int cellW = panelSize + margin + barW + 4 + labelW + margin, cellH = titleH + panelSize + margin;
        // A caption may have several lines (separated by '\n'), each drawn at twice the font size.
        var captionLines = caption?.Split('\n') ?? [];
        int top = margin + captionLines.Length * captionH;
        var canvas = new Canvas(margin + columns * cellW, top + rows * cellH + margin, White);
        for (int line = 0; line < captionLines.Length; line++)
            canvas.Text(captionLines[line], margin, margin + line * captionH, Black, 2);

        for (int n = 0; n < panels.Count; n++)
        {
            var p = panels[n];
            int x0 = margin + n % columns * cellW, y0 = top + n / columns * cellH;
            canvas.Text(p.Title, x0, y0 + 2, Black);
            var finite = p.Values.Where(double.IsFinite).ToArray();
            double lo = p.Min ?? (finite.Length > 0 ? finite.Min() : 0), hi = p.Max ?? (finite.Length > 0 ? finite.Max() : 1);
            double span = hi > lo ? hi - lo : 1;
            int py = y0 + titleH;
            for (int i = 0; i < p.K1; i++)
                for (int j = 0; j < p.K2; j++)
                {
                    // Integer cell edges so that cells tile the panel exactly whatever K is.
                    int xa = x0 + i * panelSize / p.K1, xb = x0 + (i + 1) * panelSize / p.K1;
                    int ya = py + (p.K2 - 1 - j) * panelSize / p.K2, yb = py + (p.K2 - j) * panelSize / p.K2;
                    canvas.FillRect(xa, ya, xb - xa, yb - ya, ColorMap.Map((p.Values[i * p.K2 + j] - lo) / span));
                }
            int bx = x0 + panelSize + margin;
            for (int y = 0; y < panelSize; y++)
                canvas.FillRect(bx, py + y, barW, 1, ColorMap.Map(1 - (double)y / (panelSize - 1)));
            canvas.Text(Format(hi), bx + barW + 4, py, Black);
            canvas.Text(Format(lo), bx + barW + 4, py + panelSize - BitmapFont.GlyphHeight, Black);
        }
        return canvas;
    }

    public static void Write(string path, IReadOnlyList<HeatMapPanel> panels, int columns, string? caption = null) =>
        Render(panels, columns, caption).SavePng(path);

    private static string Format(double v) => v.ToString(Math.Abs(v) is > 0 and (< 1e-3 or >= 1e5) ? "0.00e0" : "G4",
        CultureInfo.InvariantCulture);
}
