using System.Globalization;
using HessianML.Evaluation;
using HessianML.Geometry;

namespace HessianML.Figures;

/// <summary>
/// The figures and report page of a <c>hessian run ising|tasep</c> folder (<see cref="EndToEndReport"/>): the fields
/// side by side (exact, ours, Mean-as-Stat, PCA-VAE) on one colour scale per quantity, the metric as ellipses, geodesics
/// over log10 det g with the released Adam path and the straight line, and report.html.
/// </summary>
public static class EndToEndFigures
{
    public const string FieldsFileName = "fields.png";
    public const string EllipsesFileName = "ellipses.png";
    public const string GeodesicsFileName = "geodesics.png";

    /// <summary>The goals of issue 4 (README, "Measured"), per system: NRMSE psi, NRMSE of each derivative, metric error.</summary>
    private static readonly Dictionary<string, (double Psi, double Derivative, double Metric)> Goals = new()
    {
        ["ising"] = (0.05, 0.10, 0.30),
        ["tasep"] = (0.05, 0.10, 0.50),
    };

    /// <summary>
    /// The estimates as the figures show them: with an exact answer, each estimate carried into the exact gauge (its
    /// fitted scale and affine part, interior fit: METHOD §7), so equal colours mean equal values; without one, raw.
    /// </summary>
    public static IReadOnlyList<(string Name, MetricField Field)> Columns(EndToEndResult r)
    {
        ArgumentNullException.ThrowIfNull(r);
        var columns = new List<(string, MetricField)>();
        bool aligned = r.Exact is not null && r.OursErrors is not null && r.BaselineErrors is not null;
        if (aligned) columns.Add(("exact", r.Exact!));
        columns.Add(("ours", aligned ? r.OursErrors!.Interior.Align(r.Ours) : r.Ours));
        columns.Add(("Mean-as-Stat", aligned ? r.BaselineErrors!.Interior.Align(r.Baseline) : r.Baseline));
        if (r.PcaVae is not null)
            columns.Add(("PCA-VAE", aligned && r.PcaVaeErrors is not null ? r.PcaVaeErrors.Interior.Align(r.PcaVae) : r.PcaVae));
        return columns;
    }

    public static Figure Fields(EndToEndResult r, string system, (string T1, string T2) axes)
    {
        var columns = Columns(r);
        return MetricFigures.Fields($"{system}: psi, its gradient and the Fisher metric g = Hessian psi on {r.Grid}x{r.Grid} cells",
            r.Grid, r.Box, axes, columns, r.Exact,
            r.Exact is null
                ? "no exact answer: each row on the range of all its panels"
                : "estimates in the exact gauge (fitted scale and affine part, METHOD section 7); each row on the exact answer's colour range");
    }

    /// <summary>Writes the figures, then report.html, into <paramref name="folder"/> (the run's staging folder, after its other files).</summary>
    public static void Write(EndToEndResult r, string folder, string system, (string T1, string T2) axes, string? commandLine)
    {
        ArgumentNullException.ThrowIfNull(r);
        Fields(r, system, axes).Save(Path.Combine(folder, FieldsFileName));
        var columns = Columns(r);
        MetricFigures.Ellipses($"{system}: the Fisher metric as ellipses", r.Grid, r.Box, axes, columns.Take(2).ToArray())
            .Save(Path.Combine(folder, EllipsesFileName));
        var pairs = GeodesicComparison.Compute(r.Psi, GeodesicComparison.CornerPairs(r.Box, r.Grid));
        MetricFigures.Geodesics($"{system}: geodesics of our metric between opposite corners", r.Grid, r.Box, axes,
            columns.Where(c => c.Name is "ours" or "exact").Reverse().ToArray(), pairs, r.Exact).Save(Path.Combine(folder, GeodesicsFileName));

        var tables = new List<ReportTable>();
        if (ErrorTable(r, system, axes) is { } errors) tables.Add(errors);
        tables.Add(GeodesicTable(pairs));
        if (r.Geodesics is { } check)
            tables.Add(new ReportTable(Figure.Invariant($"Geodesics measured on the exact metric ({check.Pairs.Count} pairs, geodesics.csv)"),
                ["pair", "from", "to", "ours", "released Adam", "straight line", "exact optimum"],
                check.Pairs.Select((p, i) => (IReadOnlyList<string>)
                [
                    (i + 1).ToString(CultureInfo.InvariantCulture), Figure.Invariant($"({p.From.T1:G4}, {p.From.T2:G4})"), Figure.Invariant($"({p.To.T1:G4}, {p.To.T2:G4})"),
                    Figure.Invariant($"{p.Ours:G5}"), Figure.Invariant($"{p.Adam:G5}"), Figure.Invariant($"{p.Straight:G5}"), Figure.Invariant($"{p.Optimum:G5}"),
                ]).ToArray()));
        var post = r.Posterior;
        new ReportPage($"hessian run {system}")
        {
            CommandLine = commandLine,
            Summary =
            [
                Figure.Invariant($"{system}, box {axes.T1} in [{r.Box.Lo1}, {r.Box.Hi1}], {axes.T2} in [{r.Box.Lo2}, {r.Box.Hi2}], posterior grid {r.Grid}x{r.Grid}, errors on {r.EvaluationGrid}x{r.EvaluationGrid}."),
                Figure.Invariant($"Posterior held-out cross-entropy {post.HeldOutCrossEntropy:F4} (uniform {post.UniformCrossEntropy:F4}); psi {r.Psi.Parametrisation}."),
            ],
            Tables = tables,
            Figures =
            [
                (FieldsFileName, "psi, dpsi, log10 g11, log10 g22 and log10 det g, one row each, one colour scale per row"),
                (EllipsesFileName, "the metric's unit balls (shape and direction) over log10 det g: ours and the exact answer"),
                (GeodesicsFileName, "our geodesics (global), the released Adam optimiser's and the straight line between opposite corners, over log10 det g"),
            ],
            FileDescriptions = Descriptions,
        }.Write(folder);
    }

    /// <summary>What each file of a run folder holds.</summary>
    public static readonly IReadOnlyDictionary<string, string> Descriptions = new Dictionary<string, string>
    {
        [EndToEndReport.ModelFileName] = ReportPage.ModelDescription,
        [EndToEndReport.OursFileName] = ReportPage.MetricFieldDescription,
        [EndToEndReport.BaselineFileName] = "the Mean-as-Stat baseline's field, same columns",
        [EndToEndReport.PcaVaeFileName] = "the PCA-VAE baseline's field, same columns",
        [EndToEndReport.ExactFileName] = "the exact field, same columns",
        [EndToEndReport.ErrorsFileName] = "settings, posterior quality, every method's errors, stage timings",
        [EndToEndReport.GeodesicsFileName] = "geodesic lengths on the exact metric: ours, released Adam, straight line, exact optimum",
        [FieldsFileName] = "figure: the fields side by side",
        [EllipsesFileName] = "figure: the metric as ellipses",
        [GeodesicsFileName] = "figure: geodesics over log10 det g",
    };

    private static ReportTable? ErrorTable(EndToEndResult r, string system, (string T1, string T2) axes)
    {
        if (r.OursErrors is null || r.BaselineErrors is null) return null;
        var methods = new List<(string, MethodErrors)> { ("ours", r.OursErrors), ("Mean-as-Stat", r.BaselineErrors) };
        if (r.PcaVaeErrors is not null) methods.Add(("PCA-VAE", r.PcaVaeErrors));
        if (r.FloorErrors is not null) methods.Add(("grid floor", r.FloorErrors));
        (double Psi, double Derivative, double Metric)? goal = Goals.TryGetValue(system, out var g) ? g : null;
        static string F(double v) => v.ToString("F4", CultureInfo.InvariantCulture);
        string G(Func<(double Psi, double Derivative, double Metric), double> of) => goal is { } x ? "<= " + of(x).ToString("F2", CultureInfo.InvariantCulture) : "";
        var rows = new (string Name, string Goal, Func<MetricFieldErrors, double> Of)[]
        {
            ("NRMSE psi", G(x => x.Psi), e => e.NrmsePsi),
            ($"NRMSE d/d{axes.T1}", G(x => x.Derivative), e => e.NrmseD1),
            ($"NRMSE d/d{axes.T2}", G(x => x.Derivative), e => e.NrmseD2),
            ("metric error", G(x => x.Metric), e => e.MetricError),
            ("median cell metric error", "", e => e.MedianCellMetricError),
            ("indefinite fraction", "", e => e.IndefiniteFraction),
        };
        return new ReportTable(
            Figure.Invariant($"Errors against the exact answer on a {r.EvaluationGrid}x{r.EvaluationGrid} grid, interior (inner 80% of the box) / whole box (METHOD section 7)"),
            ["", "goal (interior)", .. methods.Select(m => m.Item1)],
            rows.Select(row => (IReadOnlyList<string>)[row.Name, row.Goal, .. methods.Select(m => F(row.Of(m.Item2.Interior)) + " / " + F(row.Of(m.Item2.Whole)))]).ToArray());
    }

    /// <summary>Lengths of the three curves of each pair under the fitted metric.</summary>
    public static ReportTable GeodesicTable(IReadOnlyList<GeodesicComparison> pairs) => new(
        "Geodesics between opposite corners: length under the fitted metric",
        ["pair", "from", "to", "ours (global)", "released Adam", "straight line"],
        pairs.Select((p, i) => (IReadOnlyList<string>)
        [
            (i + 1).ToString(CultureInfo.InvariantCulture), Figure.Invariant($"({p.From.T1:G4}, {p.From.T2:G4})"), Figure.Invariant($"({p.To.T1:G4}, {p.To.T2:G4})"),
            Figure.Invariant($"{p.Ours.Length:G5}"), Figure.Invariant($"{p.Adam.Length:G5}"), Figure.Invariant($"{p.LineLength:G5}"),
        ]).ToArray());
}
