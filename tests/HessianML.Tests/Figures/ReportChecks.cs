using System.Text.RegularExpressions;
using HessianML.Figures;

namespace HessianML.Tests.Figures;

/// <summary>What every run folder's report.html must satisfy, checked against the folder itself.</summary>
internal static partial class ReportChecks
{
    [GeneratedRegex("(?:href|src)=\"([^\"]*)\"")]
    private static partial Regex Links();

    [GeneratedRegex("<img src=\"([^\"]*)\"")]
    private static partial Regex Images();

    /// <summary>
    /// The page links every file in <paramref name="dir"/> (but itself) and nothing else, relatively; shows exactly
    /// <paramref name="figures"/> as images, each a decodable, non-trivial PNG; and loads nothing from outside.
    /// </summary>
    public static void PageListsTheFolder(string dir, params string[] figures)
    {
        string page = Path.Combine(dir, ReportPage.FileName);
        Assert.IsTrue(File.Exists(page), $"no {ReportPage.FileName} in {dir}");
        string html = File.ReadAllText(page);
        var linked = Links().Matches(html).Select(m => Uri.UnescapeDataString(m.Groups[1].Value)).ToHashSet();
        var present = Directory.GetFiles(dir).Select(Path.GetFileName).OfType<string>().Where(f => f != ReportPage.FileName).ToHashSet();
        CollectionAssert.AreEquivalent(present.Order().ToArray(), linked.Order().ToArray(), "the page links exactly the files in the folder");
        foreach (var link in linked)
            Assert.IsFalse(link.Contains('/') || link.Contains('\\') || link.Contains(':'), $"link {link} is not a plain relative file name");
        Assert.IsFalse(html.Contains("<script", StringComparison.OrdinalIgnoreCase), "no script");
        Assert.IsFalse(html.Contains("http", StringComparison.OrdinalIgnoreCase), "nothing fetched from outside");
        var shown = Images().Matches(html).Select(m => Uri.UnescapeDataString(m.Groups[1].Value)).ToArray();
        CollectionAssert.AreEquivalent(figures, shown, "the page shows every figure once");
        foreach (var figure in figures) AssertFigure(Path.Combine(dir, figure));
    }

    /// <summary>A figure file: a PNG at least 300 x 100 whose pixels are not one flat colour (something was drawn).</summary>
    public static void AssertFigure(string path)
    {
        var (w, h, rgb) = Png.Decode(File.ReadAllBytes(path));
        Assert.IsTrue(w >= 300 && h >= 100, $"{Path.GetFileName(path)} is {w} x {h}");
        var colours = new HashSet<int>();
        for (int p = 0; p < rgb.Length; p += 3) colours.Add(rgb[p] << 16 | rgb[p + 1] << 8 | rgb[p + 2]);
        Assert.IsGreaterThan(20, colours.Count, $"{Path.GetFileName(path)} has {colours.Count} colours: nearly empty");
    }
}
