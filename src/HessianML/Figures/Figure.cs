using ScottPlot;
using SkiaSharp;

namespace HessianML.Figures;

/// <summary>One panel of a <see cref="Figure"/>: draws itself into a ScottPlot plot (data, axes, labels, colour bar).</summary>
public interface IFigurePanel
{
    void Draw(Plot plot);
}

/// <summary>
/// A figure: a title over panels laid out in rows, each panel a ScottPlot plot, saved as one PNG. The same panels
/// give the same bytes (ScottPlot and SkiaSharp draw deterministically; the font is chosen by name, not by what the
/// machine happens to list first), so a run with a fixed seed writes identical figures.
/// </summary>
public sealed class Figure
{
    /// <summary>Fonts tried in order; the first one installed is used for every label (ScottPlot's own default here is a serif).</summary>
    private static readonly string[] PreferredFonts = ["DejaVu Sans", "Liberation Sans", "Arial", "Helvetica"];

    /// <summary>The font every figure uses (null: ScottPlot's default).</summary>
    internal static string? Font => FontName.Value;

    private static readonly Lazy<string?> FontName = new(() =>
    {
        var installed = SKFontManager.Default.GetFontFamilies().ToHashSet(StringComparer.OrdinalIgnoreCase);
        return PreferredFonts.FirstOrDefault(installed.Contains);
    });

    public Figure(string title, IReadOnlyList<IFigurePanel> panels, int columns)
    {
        ArgumentNullException.ThrowIfNull(title);
        ArgumentNullException.ThrowIfNull(panels);
        if (panels.Count == 0) throw new ArgumentException($"figure '{title}' has no panels");
        if (columns < 1) throw new ArgumentOutOfRangeException(nameof(columns), $"figure '{title}': columns {columns} must be at least 1");
        (Title, Panels, Columns) = (title, panels, Math.Min(columns, panels.Count));
    }

    public string Title { get; }
    public IReadOnlyList<IFigurePanel> Panels { get; }
    public int Columns { get; }

    /// <summary>Pixels of one panel. Defaults 440 x 380: axis labels, ticks and a colour bar around a square-ish data area.</summary>
    public int PanelWidth { get; init; } = 440;
    public int PanelHeight { get; init; } = 380;

    /// <summary>Lines under the title (what the colours and lines mean), drawn smaller.</summary>
    public string? Caption { get; init; }

    private const int TitleHeight = 34, CaptionLineHeight = 20;

    /// <summary>Pixels above the panels: the title and the caption's lines.</summary>
    public int HeaderHeight => TitleHeight + (Caption?.Split('\n').Length ?? 0) * CaptionLineHeight + 4;

    /// <summary>The figure as PNG bytes.</summary>
    public byte[] ToPng()
    {
        var captionLines = Caption?.Split('\n') ?? [];
        int top = HeaderHeight;
        int rows = (Panels.Count + Columns - 1) / Columns;
        int width = Math.Max(Columns * PanelWidth, TextWidth(Title, captionLines)), height = top + rows * PanelHeight;
        using var surface = SKSurface.Create(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul))
            ?? throw new InvalidOperationException($"figure '{Title}': cannot allocate a {width} x {height} surface");
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        using (var typeface = SKTypeface.FromFamilyName(FontName.Value))
        using (var titleFont = new SKFont(typeface, 20))
        using (var captionFont = new SKFont(typeface, 14))
        using (var ink = new SKPaint { Color = SKColors.Black, IsAntialias = true })
        {
            canvas.DrawText(Title, 12, 25, titleFont, ink);
            for (int i = 0; i < captionLines.Length; i++)
                canvas.DrawText(captionLines[i], 12, TitleHeight + (i + 1) * CaptionLineHeight - 5, captionFont, ink);
        }
        for (int n = 0; n < Panels.Count; n++)
        {
            // Each panel is rendered on its own (a plot rendered into a shared canvas clears all of it) and drawn in place.
            using var plot = new Plot();
            if (FontName.Value is { } font) plot.Font.Set(font);
            Panels[n].Draw(plot);
            using var panel = SKSurface.Create(new SKImageInfo(PanelWidth, PanelHeight, SKColorType.Rgba8888, SKAlphaType.Premul));
            plot.Render(panel);
            using var image = panel.Snapshot();
            canvas.DrawImage(image, n % Columns * PanelWidth, top + n / Columns * PanelHeight);
        }
        using var snapshot = surface.Snapshot();
        using var data = snapshot.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    /// <summary>Pixels a title (20 px) and caption lines (14 px) need, margins included: a figure is never narrower than its words.</summary>
    internal static int TextWidth(string title, IEnumerable<string> captionLines)
    {
        using var typeface = SKTypeface.FromFamilyName(Font);
        using var titleFont = new SKFont(typeface, 20);
        using var captionFont = new SKFont(typeface, 14);
        float widest = titleFont.MeasureText(title);
        foreach (var line in captionLines) widest = Math.Max(widest, captionFont.MeasureText(line));
        return (int)Math.Ceiling(widest) + 24;
    }

    /// <summary>Numbers in figure and page text are written the same on every machine.</summary>
    internal static string Invariant(FormattableString text) => text.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Writes the PNG through a temporary file, so a failure leaves no half-written figure.</summary>
    public void Save(string path) => Png.WriteAtomically(path, ToPng());
}
