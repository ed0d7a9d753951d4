using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using HessianML.Data;
using HessianML.Geometry;
using HessianML.Figures;
using HessianML.Pipeline;

using HessianML.Pipeline.MlNet;

namespace HessianML.Evaluation;

/// <summary>
/// Writes an <see cref="EndToEndResult"/> as the folder <c>hessian run</c> promises: <c>model.zip</c>, the three
/// metric-field CSVs (<c>metric.csv</c>, <c>baseline-mean-as-stat.csv</c>, <c>exact.csv</c>), <c>errors.json</c>, the
/// figures and <c>report.html</c> (<see cref="EndToEndFigures"/>). Everything is written into a hidden staging folder first and moved in at the end, so
/// a failure leaves the folder as it was, never half a run.
/// </summary>
public static class EndToEndReport
{
    public const string ModelFileName = "model.zip";
    public const string OursFileName = "metric.csv";
    public const string BaselineFileName = "baseline-mean-as-stat.csv";
    public const string PcaVaeFileName = "baseline-pca-vae.csv";
    public const string ExactFileName = "exact.csv";
    public const string ErrorsFileName = "errors.json";
    public const string GeodesicsFileName = "geodesics.csv";

    /// <summary>
    /// Writes the folder. <paramref name="system"/> and <paramref name="settings"/> (flag name -> value) are recorded in
    /// errors.json so a reader knows what made it; <paramref name="axes"/> names t1 and t2 in the pictures and tables;
    /// <paramref name="commandLine"/> goes on report.html (null: made from code). Returns the paths written.
    /// </summary>
    public static IReadOnlyList<string> Write(EndToEndResult result, string directory, string system,
        IReadOnlyDictionary<string, object?> settings, (string T1, string T2) axes, string? commandLine = null)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(directory);
        return StagedFolder.Write(directory, staging =>
        {
            string In(string name) => Path.Combine(staging, name);
            ModelFiles.Save(result.PsiModel, ModelFiles.ParameterSchema, In(ModelFileName));
            result.Ours.WriteCsv(In(OursFileName));
            result.Baseline.WriteCsv(In(BaselineFileName));
            result.PcaVae?.WriteCsv(In(PcaVaeFileName));
            result.Exact?.WriteCsv(In(ExactFileName));
            if (result.Geodesics is { } geodesics) CsvDataFile.Write(geodesics.ToDataView(), In(GeodesicsFileName));
            File.WriteAllText(In(ErrorsFileName), ErrorsJson(result, system, settings, axes).ToJsonString(JsonOptions) + "\n");
            EndToEndFigures.Write(result, staging, system, axes, commandLine);
        });
    }

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };

    /// <summary>The errors.json document: what ran, the posterior's quality, both methods' errors, stage timings.</summary>
    public static JsonObject ErrorsJson(EndToEndResult r, string system, IReadOnlyDictionary<string, object?> settings,
        (string T1, string T2) axes)
    {
        var settingsNode = new JsonObject();
        foreach (var (key, value) in settings) settingsNode[key] = JsonSerializer.SerializeToNode(value);
        var post = r.Posterior;
        var psi = r.Psi;
        var doc = new JsonObject
        {
            ["system"] = system,
            ["axes"] = new JsonArray(axes.T1, axes.T2),
            ["box"] = new JsonArray(r.Box.Lo1, r.Box.Hi1, r.Box.Lo2, r.Box.Hi2),
            ["settings"] = settingsNode,
            ["posterior"] = new JsonObject
            {
                ["grid"] = r.Grid,
                ["network"] = post.Architecture.ToString(),
                ["labels"] = post.LabelKind.ToString(),
                ["train_cross_entropy"] = Finite(post.TrainCrossEntropy),
                ["held_out_cross_entropy"] = Finite(post.HeldOutCrossEntropy),
                ["uniform_cross_entropy"] = post.UniformCrossEntropy,
            },
            ["psi"] = new JsonObject
            {
                ["parametrisation"] = psi.Parametrisation.ToString(),
            },
        };
        if (r.OursErrors is not null && r.BaselineErrors is not null)
        {
            doc["evaluation"] = new JsonObject
            {
                ["grid"] = r.EvaluationGrid,
                ["interior_points"] = r.OursErrors.Interior.Points,
                ["whole_points"] = r.OursErrors.Whole.Points,
                ["definition"] = "METHOD.md section 7: free positive scale a and affine part fitted by least squares; " +
                                 "NRMSE = RMSE / rms of the exact quantity about its own best affine (psi) or mean (derivatives); " +
                                 "metric error = rms(g* - a g) / rms(g*) in the Frobenius norm; " +
                                 "median cell metric error = median over cells of |G* - a G|_F / |G*|_F; " +
                                 "indefinite fraction = share of cells whose fitted G has an eigenvalue below -1e-9 x the largest |trace G| over the cells",
                ["exact_not_positive_definite_fraction"] = new JsonObject
                {
                    ["interior"] = Finite(r.OursErrors.Interior.ExactNotPositiveDefiniteFraction),
                    ["whole"] = Finite(r.OursErrors.Whole.ExactNotPositiveDefiniteFraction),
                },
            };
            doc["methods"] = new JsonObject
            {
                ["ours"] = MethodNode(r.OursErrors),
                ["mean_as_stat"] = MethodNode(r.BaselineErrors),
                ["pca_vae"] = r.PcaVaeErrors is null ? null : MethodNode(r.PcaVaeErrors),
                ["grid_floor"] = r.FloorErrors is null ? null : MethodNode(r.FloorErrors),
            };
        }
        else
        {
            doc["evaluation"] = null;
            doc["methods"] = null;
        }
        if (r.Geodesics is { } g)
        {
            var pairs = new JsonArray();
            foreach (var p in g.Pairs)
                pairs.Add(new JsonObject
                {
                    ["from"] = new JsonArray(p.From.T1, p.From.T2),
                    ["to"] = new JsonArray(p.To.T1, p.To.T2),
                    ["ours"] = Finite(p.Ours),
                    ["adam"] = Finite(p.Adam),
                    ["straight"] = Finite(p.Straight),
                    ["exact_optimum"] = Finite(p.Optimum),
                });
            doc["geodesics"] = new JsonObject
            {
                ["lengths_on"] = $"exact metric, {g.ExactResolution}x{g.ExactResolution} vertex table",
                ["pairs"] = pairs,
                ["floored_nodes"] = g.FlooredNodes,
                ["indefinite_nodes"] = g.IndefiniteNodes,
                ["nodes"] = g.Nodes,
            };
        }
        if (r.Fisher is { } f)
        {
            static JsonObject Node((double Scale, double MetricError, double MedianCellMetricError) e) => new()
            {
                ["scale"] = Finite(e.Scale), ["metric_error"] = Finite(e.MetricError), ["median_cell_metric_error"] = Finite(e.MedianCellMetricError),
            };
            doc["fisher_reference"] = new JsonObject
            {
                ["cells"] = $"interior of the {r.Grid}x{r.Grid} grid",
                ["ours"] = Node(f.Ours),
                ["exact_hessian"] = Node(f.ExactHessian),
            };
        }
        var timings = new JsonObject();
        foreach (var (stage, seconds) in r.Timings) timings[stage] = Math.Round(seconds, 2);
        doc["seconds"] = timings;
        return doc;
    }

    private static JsonObject MethodNode(MethodErrors e) => new()
    {
        ["interior"] = ErrorNode(e.Interior),
        ["whole"] = ErrorNode(e.Whole),
    };

    private static JsonObject ErrorNode(MetricFieldErrors e) => new()
    {
        ["nrmse_psi"] = Finite(e.NrmsePsi),
        ["nrmse_dpsi_dt1"] = Finite(e.NrmseD1),
        ["nrmse_dpsi_dt2"] = Finite(e.NrmseD2),
        ["metric_error"] = Finite(e.MetricError),
        ["median_cell_metric_error"] = Finite(e.MedianCellMetricError),
        ["indefinite_fraction"] = Finite(e.IndefiniteFraction),
        ["rmse_psi"] = Finite(e.RmsePsi),
        ["rmse_dpsi_dt1"] = Finite(e.RmseD1),
        ["rmse_dpsi_dt2"] = Finite(e.RmseD2),
        ["scale"] = Finite(e.Scale),
        ["slope_t1"] = Finite(e.Slope1),
        ["slope_t2"] = Finite(e.Slope2),
        ["offset"] = Finite(e.Offset),
    };

    // JSON has no NaN or infinity: an undefined number is written as null.
    private static double? Finite(double v) => double.IsFinite(v) ? v : null;

    /// <summary>
    /// The error table printed at the end of a run: ours, Mean-as-Stat, PCA-VAE and the grid floor (exact psi on the K x K grid
    /// through the same spline) on the interior and on the whole box, the rms figures and the per-cell metric figures
    /// (median cell metric error, indefinite fraction), then a check line: where the exact metric is not positive definite.
    /// </summary>
    public static string Table(EndToEndResult r, (string T1, string T2) axes)
    {
        if (r.OursErrors is null || r.BaselineErrors is null)
            return "no exact answer for this system and size: errors not computed\n";
        var inv = CultureInfo.InvariantCulture;
        var methods = new List<(string Name, MethodErrors Errors)> { ("ours", r.OursErrors), ("mean-as-stat", r.BaselineErrors) };
        if (r.PcaVaeErrors is not null) methods.Add(("pca-vae", r.PcaVaeErrors));
        if (r.FloorErrors is not null) methods.Add(("grid floor", r.FloorErrors));
        const int w = 14, label = 26;
        var sb = new StringBuilder();
        sb.AppendLine(string.Create(inv,
            $"errors against the exact answer on a {r.EvaluationGrid}x{r.EvaluationGrid} grid (free scale + affine part fitted, METHOD.md section 7)"));
        sb.Append(' ', label).Append("interior".PadRight(w * methods.Count)).AppendLine("whole box");
        sb.Append(' ', label);
        for (int region = 0; region < 2; region++)
            foreach (var (name, _) in methods) sb.Append(name.PadRight(w));
        sb.AppendLine();
        void Row(string name, Func<MetricFieldErrors, double> pick)
        {
            sb.Append(name.PadRight(label));
            foreach (var (_, e) in methods) sb.Append(pick(e.Interior).ToString("F4", inv).PadRight(w));
            foreach (var (_, e) in methods) sb.Append(pick(e.Whole).ToString("F4", inv).PadRight(w));
            sb.AppendLine();
        }
        Row("NRMSE psi", e => e.NrmsePsi);
        Row($"NRMSE d/d{axes.T1}", e => e.NrmseD1);
        Row($"NRMSE d/d{axes.T2}", e => e.NrmseD2);
        Row("metric error", e => e.MetricError);
        Row("median cell metric error", e => e.MedianCellMetricError);
        Row("indefinite fraction", e => e.IndefiniteFraction);
        var (inner, whole) = (r.OursErrors.Interior, r.OursErrors.Whole);
        sb.AppendLine(string.Create(inv,
            $"check: exact metric not positive definite in {inner.ExactNotPositiveDefiniteFraction:F4} of interior cells, " +
            $"{whole.ExactNotPositiveDefiniteFraction:F4} of the whole box (should be 0)"));
        if (r.Fisher is { } f)
            sb.AppendLine(string.Create(inv,
                $"against the Fisher information (not the Hessian of psi here; interior of the {r.Grid}x{r.Grid} grid, best scale each): " +
                $"ours metric error {f.Ours.MetricError:F4}, median cell {f.Ours.MedianCellMetricError:F4}; " +
                $"the exact Hessian of psi {f.ExactHessian.MetricError:F4}, median cell {f.ExactHessian.MedianCellMetricError:F4}"));
        return sb.ToString();
    }
}
