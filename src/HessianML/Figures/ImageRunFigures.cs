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
    /// Writes metric.png, ellipses.png, geodesics.png (both diagonals between the corner cells) and report.html into
    /// <paramref name="folder"/> (the run's staging folder, after its other files). <paramref name="facts"/> are the
    /// run's settings and findings (name, value) for the page.
    /// </summary>
    public static void Write(FittedPsi psi, int k, int points, string folder, IReadOnlyList<(string Name, string Value)> facts, string? commandLine)
    {
        ArgumentNullException.ThrowIfNull(psi);
        var box = psi.Box;
        var field = psi.Field(box, k);
        Fields($"images: psi, its gradient and the Fisher metric on {k}x{k} cells", field, k, box).Save(Path.Combine(folder, FieldsFileName));
        MetricFigures.Ellipses("images: the Fisher metric as ellipses", k, box, Axes, [("ours", field)]).Save(Path.Combine(folder, EllipsesFileName));
        var (figure, pairs) = Geodesics("images: geodesics between opposite corners", psi, k,
            GeodesicComparison.CornerPairs(box, k), new GeodesicOptions { Points = points });
        figure.Save(Path.Combine(folder, GeodesicsFileName));
        new ReportPage("hessian run images")
        {
            CommandLine = commandLine,
            Summary =
            [
                "The method on image embeddings: features -> feature-distance posterior (eq. 16-19) -> psi -> Fisher metric. " +
                "No exact answer exists to score against.",
                "Pictures along the paths are not drawn: the features file holds embeddings and image paths, not a generator " +
                "that could render the picture at a point between the data's parameters.",
            ],
            Tables = [new ReportTable("Run", ["", "value"], facts.Select(f => (IReadOnlyList<string>)[f.Name, f.Value]).ToArray()), EndToEndFigures.GeodesicTable(pairs)],
            Figures =
            [
                (FieldsFileName, "psi, its gradient, log10 g11, log10 g22 and log10 det g"),
                (EllipsesFileName, "the metric's unit balls (shape and direction) over log10 det g"),
                (GeodesicsFileName, "our geodesics (global), the released Adam optimiser's and the straight line between opposite corners, over log10 det g"),
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
            },
        }.Write(folder);
    }
}
