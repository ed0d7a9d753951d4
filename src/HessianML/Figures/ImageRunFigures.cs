using HessianML.Geometry;
using HessianML.Geometry.Geodesics;
using HessianML.Posterior;

namespace HessianML.Figures;

/// <summary>
/// The figures and report page of a <c>hessian run images</c> folder, and the figures <c>hessian metric</c> and
/// <c>hessian geodesic</c> draw on request: a fitted psi has no exact answer to compare with, so each figure shows ours
/// alone (the fields; the metric as ellipses; geodesics with the released Adam path and the straight line).
/// </summary>
public static class ImageRunFigures
{
    public const string FieldsFileName = "metric.png";
    public const string EllipsesFileName = "ellipses.png";
    public const string GeodesicsFileName = "geodesics.png";
    public const string PicturesFileName = "pictures.png";

    private static readonly (string, string) Axes = ("t1", "t2");

    /// <summary>psi, its gradient, log10 g11, log10 g22 and log10 det g of one field, three panels to a row.</summary>
    public static Figure Fields(string title, MetricField field, int k, ParameterBox box) =>
        MetricFigures.Fields(title, k, box, Axes, [("ours", field)], caption: "cells where a metric quantity is not positive have no log10: grey");

    /// <summary>The pairs' geodesics (ours, released Adam, straight line) over log10 det g of <paramref name="psi"/> on K x K cells.</summary>
    public static (Figure Figure, IReadOnlyList<GeodesicComparison> Pairs) Geodesics(string title, FittedPsi psi, int k,
        IEnumerable<((double, double) From, (double, double) To)> pairs, GeodesicOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(psi);
        var compared = GeodesicComparison.Compute(psi, pairs, options);
        return (MetricFigures.Geodesics(title, k, psi.Box, Axes, [("ours", psi.Field(psi.Box, k))], compared), compared);
    }

    /// <summary>
    /// Along each pair's three curves, the data picture nearest in t (distances in units of the box's sides) to each of
    /// <paramref name="perPath"/> equally spaced points: what the data looks like along a path when there is no generator
    /// to render the picture at the point itself. <paramref name="t"/> holds each row's (t1, t2), <paramref name="files"/>
    /// its picture; every picture is centre-cropped square and scaled to <paramref name="side"/> pixels. A file that
    /// cannot be read is drawn black and counted in the caption.
    /// </summary>
    public static ImageStrip NearestPictures(IReadOnlyList<GeodesicComparison> pairs, ParameterBox box, float[] t, string[] files,
        int perPath = 10, int side = 64)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        if (t.Length != 2 * files.Length) throw new ArgumentException($"{t.Length / 2} parameter rows for {files.Length} pictures");
        double w1 = box.Hi1 - box.Lo1, w2 = box.Hi2 - box.Lo2;
        int Nearest(double a, double b)
        {
            int best = 0;
            double bestD = double.PositiveInfinity;
            for (int r = 0; r < files.Length; r++)
            {
                double d1 = (t[2 * r] - a) / w1, d2 = (t[2 * r + 1] - b) / w2, d = d1 * d1 + d2 * d2;
                if (d < bestD) (best, bestD) = (r, d);
            }
            return best;
        }
        var cache = new Dictionary<int, byte[]>();
        int unreadable = 0;
        byte[] Picture(int row)
        {
            if (cache.TryGetValue(row, out var rgb)) return rgb;
            rgb = Png.Thumbnail(files[row], side);
            if (rgb is null) unreadable++;
            return cache[row] = rgb ?? new byte[side * side * 3];
        }
        IReadOnlyList<byte[]> Along(double[] p1, double[] p2) => Enumerable.Range(0, perPath).Select(j =>
        {
            // Equal steps of the path's own parametrisation (ours: equal metric length; the straight line: equal t steps).
            double u = (double)j * (p1.Length - 1) / Math.Max(1, perPath - 1);
            int i = Math.Min(p1.Length - 2, (int)u);
            double f = u - i;
            return Picture(Nearest(p1[i] + f * (p1[i + 1] - p1[i]), p2[i] + f * (p2[i + 1] - p2[i])));
        }).ToArray();
        var rows = pairs.SelectMany((p, n) => new[]
        {
            new ImageRow($"pair {n + 1}: ours (global)", Along(p.Ours.T1, p.Ours.T2)),
            new ImageRow($"pair {n + 1}: released Adam", Along(p.Adam.T1, p.Adam.T2)),
            new ImageRow($"pair {n + 1}: straight line", Along(p.LineT1, p.LineT2)),
        }).ToArray();
        return new ImageStrip("images: the data's pictures along each path", rows, side, side)
        {
            Scale = 1,
            Caption = $"at {perPath} equally spaced points of each path, the data picture whose t is nearest (no generator renders the point itself)" +
                      (unreadable > 0 ? $"\n{unreadable} picture file(s) could not be read: drawn black" : ""),
        };
    }

    /// <summary>
    /// Writes metric.png, ellipses.png, geodesics.png (both diagonals between the corner cells), pictures.png when
    /// <paramref name="pictures"/> gives each row's t and picture file, and report.html into <paramref name="folder"/>
    /// (the run's staging folder, after its other files). <paramref name="facts"/> are the run's settings and findings
    /// (name, value) for the page.
    /// </summary>
    public static void Write(FittedPsi psi, int k, int points, string folder, (float[] T, string[] Files)? pictures,
        IReadOnlyList<(string Name, string Value)> facts, string? commandLine)
    {
        ArgumentNullException.ThrowIfNull(psi);
        var box = psi.Box;
        var field = psi.Field(box, k);
        Fields($"images: psi, its gradient and the Fisher metric on {k}x{k} cells", field, k, box).Save(Path.Combine(folder, FieldsFileName));
        MetricFigures.Ellipses("images: the Fisher metric as ellipses", k, box, Axes, [("ours", field)]).Save(Path.Combine(folder, EllipsesFileName));
        var (figure, pairs) = Geodesics("images: geodesics between opposite corners", psi, k,
            GeodesicComparison.CornerPairs(box, k), new GeodesicOptions { Points = points });
        figure.Save(Path.Combine(folder, GeodesicsFileName));
        if (pictures is { } p) NearestPictures(pairs, box, p.T, p.Files).Save(Path.Combine(folder, PicturesFileName));
        new ReportPage("hessian run images")
        {
            CommandLine = commandLine,
            Summary =
            [
                "The method on image embeddings: features -> feature-distance posterior (eq. 16-19) -> psi -> Fisher metric. " +
                "No exact answer exists to score against.",
                pictures is null
                    ? "Pictures along the paths are not drawn: the features file has no image column."
                    : "Pictures along the paths are the data's own, nearest in t to points of the path: there is no generator to " +
                      "render the picture at a point between the data's parameters.",
            ],
            Tables = [new ReportTable("Run", ["", "value"], facts.Select(f => (IReadOnlyList<string>)[f.Name, f.Value]).ToArray()), EndToEndFigures.GeodesicTable(pairs)],
            Figures =
            [
                (FieldsFileName, "psi, its gradient, log10 g11, log10 g22 and log10 det g"),
                (EllipsesFileName, "the metric's unit balls (shape and direction) over log10 det g"),
                (GeodesicsFileName, "our geodesics (global), the released Adam optimiser's and the straight line between opposite corners, over log10 det g"),
                .. pictures is null ? Array.Empty<(string, string)>()
                    : [(PicturesFileName, "along each of those paths, the data picture nearest in t to equally spaced points")],
            ],
            FileDescriptions = new Dictionary<string, string>
            {
                ["model.zip"] = ReportPage.ModelDescription,
                ["metric.csv"] = ReportPage.MetricFieldDescription,
                ["geodesic-1.csv"] = "our geodesic along the first diagonal (index,t1,t2,cumulative_length)",
                ["geodesic-2.csv"] = "our geodesic along the second diagonal",
                ["summary.json"] = "settings, lambda, geodesic lengths, fit time",
                [FieldsFileName] = "figure: the fields",
                [EllipsesFileName] = "figure: the metric as ellipses",
                [GeodesicsFileName] = "figure: geodesics over log10 det g",
                [PicturesFileName] = "figure: the data's pictures along the paths",
            },
        }.Write(folder);
    }
}
