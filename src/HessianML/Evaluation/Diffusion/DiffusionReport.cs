using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using HessianML.Data;
using HessianML.Figures;
using HessianML.Pipeline;
using HessianML.Systems.Diffusion;

using HessianML.Pipeline.MlNet;

namespace HessianML.Evaluation.Diffusion;

/// <summary>
/// Writes a <see cref="DiffusionRunResult"/> as the folder <c>hessian run diffusion</c> promises (see the README):
/// <c>model.zip</c>, <c>metric.csv</c>, <c>lipschitz.csv</c>, <c>interpolation.csv</c>, <c>errors.json</c>, the figures
/// <c>phases.png</c>, <c>lipschitz.png</c> (when the slice has a boundary) and <c>paths.png</c>, and <c>report.html</c>
/// (<see cref="DiffusionFigures"/>). Written into a hidden staging folder and moved in at the end, as
/// <see cref="EndToEndReport"/> does, so a failure leaves the folder as it was.
/// </summary>
public static class DiffusionReport
{
    public const string ModelFileName = "model.zip";
    public const string MetricFileName = "metric.csv";
    public const string LipschitzFileName = "lipschitz.csv";
    public const string InterpolationFileName = "interpolation.csv";
    public const string ErrorsFileName = "errors.json";
    public const string PhaseMapFileName = "phases.png";
    public const string PathsFileName = "paths.png";
    public const string LipschitzFigureFileName = "lipschitz.png";

    /// <summary>Every file a run writes, in the order above (lipschitz.png only when the slice has more than one phase).</summary>
    public static readonly string[] FileNames =
    [
        ModelFileName, MetricFileName, LipschitzFileName, InterpolationFileName, ErrorsFileName, PhaseMapFileName, PathsFileName,
        LipschitzFigureFileName, ReportPage.FileName,
    ];

    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Writes the folder; <paramref name="settings"/> (flag name -> value) go into errors.json, <paramref name="commandLine"/>
    /// onto report.html (null: made from code). Returns the paths written.</summary>
    public static IReadOnlyList<string> Write(DiffusionRunResult result, string directory, IReadOnlyDictionary<string, object?> settings,
        string? commandLine = null)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(directory);
        return StagedFolder.Write(directory, staging =>
        {
            string In(string name) => Path.Combine(staging, name);
            ModelFiles.Save(result.PsiModel, ModelFiles.ParameterSchema, In(ModelFileName));
            result.Field.WriteCsv(In(MetricFileName));
            CsvDataFile.Write(LipschitzView(result), In(LipschitzFileName));
            CsvDataFile.Write(InterpolationView(result), In(InterpolationFileName));
            File.WriteAllText(In(ErrorsFileName), ErrorsJson(result, settings).ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
            DiffusionFigures.Write(result, staging, commandLine);
        });
    }

    /// <summary>lipschitz.csv: eps, ratio at the boundary point, ratio at the far point (no rows when the slice has one phase).</summary>
    public static ColumnTable LipschitzView(DiffusionRunResult r)
    {
        var l = r.Lipschitz;
        return new ColumnTable.Builder()
            .AddScalar("eps", l?.Steps ?? [])
            .AddScalar("at_boundary", l?.AtBoundary ?? [])
            .AddScalar("far_from_boundary", l?.FarFromBoundary ?? [])
            .Build();
    }

    /// <summary>interpolation.csv: one row per pair and path.</summary>
    public static ColumnTable InterpolationView(DiffusionRunResult r)
    {
        var rows = r.Pairs.SelectMany((p, i) => p.Paths.Select(q => (Index: i, Pair: p, Path: q))).ToArray();
        double[] Col(Func<(int Index, InterpolationPair Pair, InterpolationPath Path), double> of) => rows.Select(of).ToArray();
        return new ColumnTable.Builder()
            .AddScalar("pair", rows.Select(x => x.Index).ToArray())
            .AddScalar("path", rows.Select(x => x.Path.Name).ToArray())
            .AddScalar("from_a", Col(x => x.Pair.From.A))
            .AddScalar("from_b", Col(x => x.Pair.From.B))
            .AddScalar("to_a", Col(x => x.Pair.To.A))
            .AddScalar("to_b", Col(x => x.Pair.To.B))
            .AddScalar("from_phase", rows.Select(x => x.Pair.FromPhase).ToArray())
            .AddScalar("to_phase", rows.Select(x => x.Pair.ToPhase).ToArray())
            .AddScalar("length_output", Col(x => x.Path.LengthOutput))
            .AddScalar("length_feature", Col(x => x.Path.LengthFeature))
            .AddScalar("curvature", Col(x => x.Path.Curvature))
            .AddScalar("curvature_output", Col(x => x.Path.CurvatureOutput))
            .Build();
    }

    /// <summary>Mean of each score per path kind over the pairs, in <see cref="DiffusionRunResult.PathNames"/> order.</summary>
    public static IReadOnlyList<(string Path, double LengthOutput, double LengthFeature, double Curvature, double CurvatureOutput)> Means(DiffusionRunResult r) =>
        DiffusionRunResult.PathNames.Select(name =>
        {
            var paths = r.Pairs.Select(p => p.Paths.First(q => q.Name == name)).ToArray();
            double Mean(Func<InterpolationPath, double> of) => paths.Length == 0 ? double.NaN : paths.Average(of);
            return (name, Mean(q => q.LengthOutput), Mean(q => q.LengthFeature), Mean(q => q.Curvature), Mean(q => q.CurvatureOutput));
        }).ToArray();

    public static JsonObject ErrorsJson(DiffusionRunResult r, IReadOnlyDictionary<string, object?> settings)
    {
        var settingsNode = new JsonObject();
        foreach (var (key, value) in settings) settingsNode[key] = JsonSerializer.SerializeToNode(value);
        var b = r.Boundary;
        var doc = new JsonObject
        {
            ["system"] = "diffusion",
            ["axes"] = new JsonArray("a", "b"),
            ["box"] = new JsonArray(0, 1, 0, 1),
            ["settings"] = settingsNode,
            ["training_rows"] = r.TrainingRows,
            ["phases_seen"] = r.PhaseMap.Distinct().Count(),
            ["posterior"] = new JsonObject { ["kind"] = "feature distance (eq. 16-19), features = the sample", ["grid"] = r.Options.Grid, ["lambda"] = r.Posterior.Lambda, ["width_cells"] = r.Options.Lambda is null ? r.Options.PosteriorWidth : null },
            ["psi"] = new JsonObject { ["parametrisation"] = r.Psi.Parametrisation.ToString(), ["fit"] = r.Options.LogPartition.Fit.ToString() },
            ["boundary"] = new JsonObject
            {
                ["definition"] = "predicted: cells whose largest metric eigenvalue / its median exceeds sqrt(max of that ratio); " +
                                 "true: cells of the K x K grid whose points of the fine phase map are not all in one phase; " +
                                 "precision / recall counting a cell correct / found when a cell of the other map is within the tolerance (Chebyshev distance)",
                ["phase_map_grid"] = r.PhaseMapGrid,
                ["tolerance_cells"] = r.Options.BoundaryTolerance,
                ["threshold_relative_size"] = Finite(r.BoundaryThreshold),
                ["precision"] = Finite(b.Precision),
                ["recall"] = Finite(b.Recall),
                ["predicted_cells"] = b.Predicted,
                ["true_cells"] = b.True,
            },
            ["metric_inside_phases"] = r.InsidePhase is not { } inside ? null : new JsonObject
            {
                ["definition"] = "ours against the pixel pull-back J^T J of t -> x (the Fisher metric of eq. 16's Gaussian likelihood, central differences) " +
                                 "at the K x K cells with no true boundary cell within the tolerance, at the one best scale: rms metric error and median per-cell " +
                                 "error |G_ref - a G|_F / |G_ref|_F (METHOD section 7)",
                ["cells"] = inside.Cells,
                ["scale"] = Finite(inside.Scale),
                ["metric_error"] = Finite(inside.MetricError),
                ["median_cell_metric_error"] = Finite(inside.MedianCellMetricError),
                ["floor"] = r.InsidePhaseFloor is not { } floor ? null : new JsonObject
                {
                    ["definition"] = "the Hessian metric nearest to the pixel pull-back (psi on the K x K cell centres, central differences, " +
                                     "least squares in the per-cell relative error) at the same cells off the grid's edge: no psi does better there",
                    ["cells"] = floor.Cells,
                    ["metric_error"] = Finite(floor.MetricError),
                    ["median_cell_metric_error"] = Finite(floor.MedianCellMetricError),
                },
            },
            ["lipschitz"] = r.Lipschitz is not { } l ? null : new JsonObject
            {
                ["boundary_point"] = new JsonArray(l.Boundary.A, l.Boundary.B),
                ["boundary_phases"] = new JsonArray(l.Boundary.Phase, l.Boundary.OtherPhase),
                ["far_point"] = new JsonArray(l.Far.A, l.Far.B),
                ["eps"] = new JsonArray(l.Steps.Select(v => (JsonNode?)v).ToArray()),
                ["at_boundary"] = new JsonArray(l.AtBoundary.Select(v => (JsonNode?)Finite(v)).ToArray()),
                ["far_from_boundary"] = new JsonArray(l.FarFromBoundary.Select(v => (JsonNode?)Finite(v)).ToArray()),
                ["growth_at_boundary"] = Finite(l.BoundaryGrowth),
                ["growth_far"] = Finite(l.FarGrowth),
            },
            ["box_counting"] = r.BoxCount is not { } c ? null : new JsonObject
            {
                ["window"] = r.Options.BoxCountingWindow,
                ["cell_sizes"] = new JsonArray(c.CellSizes.Select(v => (JsonNode?)v).ToArray()),
                ["counts"] = new JsonArray(c.Counts.Select(v => (JsonNode?)v).ToArray()),
                ["dimension"] = Finite(c.Dimension),
            },
        };
        var means = new JsonObject();
        foreach (var m in Means(r))
            means[m.Path] = new JsonObject
            {
                ["length_output"] = Finite(m.LengthOutput), ["length_feature"] = Finite(m.LengthFeature),
                ["curvature"] = Finite(m.Curvature), ["curvature_output"] = Finite(m.CurvatureOutput),
            };
        doc["interpolation"] = new JsonObject
        {
            ["definition"] = "METHOD section 7: length = sum of distances between consecutive points' samples in pixel space (output) and in the fixed " +
                             "feature space tanh(W x) (feature); curvature = turning angle per unit length in the slice plane, curvature_output the same for the samples in pixel space",
            ["pairs"] = r.Pairs.Count,
            ["points_per_path"] = r.Options.PathPoints,
            ["pullback_resolution"] = r.Options.PullbackResolution,
            ["feature_dimension"] = r.FeatureMap.FeatureDimension,
            ["mean"] = means,
        };
        var timings = new JsonObject();
        foreach (var (stage, seconds) in r.Timings) timings[stage] = Math.Round(seconds, 2);
        doc["seconds"] = timings;
        return doc;
    }

    private static double? Finite(double v) => double.IsFinite(v) ? v : null;

    /// <summary>The short table `hessian run diffusion` prints.</summary>
    public static string Table(DiffusionRunResult r)
    {
        var sb = new StringBuilder();
        var b = r.Boundary;
        sb.AppendLine(string.Create(Inv,
            $"phase boundaries from the metric ({r.Options.Grid}x{r.Options.Grid} cells, {r.PhaseMap.Distinct().Count()} phases seen, lambda {r.Posterior.Lambda:G4}): " +
            $"precision {b.Precision:F3}, recall {b.Recall:F3} within {r.Options.BoundaryTolerance} cell ({b.Predicted} predicted, {b.True} true)"));
        if (r.InsidePhase is { } inside)
        {
            sb.Append(string.Create(Inv,
                $"metric inside the phases ({inside.Cells} cells) against the pixel pull-back J^T J (eq. 16's Fisher metric), best scale: " +
                $"metric error {inside.MetricError:F3}, median cell {inside.MedianCellMetricError:F3}"));
            if (r.InsidePhaseFloor is { } floor)
                sb.Append(string.Create(Inv, $" (the nearest Hessian metric, {floor.Cells} cells: {floor.MetricError:F3}, {floor.MedianCellMetricError:F3})"));
            sb.AppendLine();
        }
        if (r.Lipschitz is { } l)
        {
            sb.AppendLine("Lipschitz ratio |x(p + eps u) - x(p)| / eps:");
            sb.AppendLine("  eps       " + string.Join("", l.Steps.Select(e => e.ToString("0E0", Inv).PadLeft(10))));
            sb.AppendLine("  boundary  " + string.Join("", l.AtBoundary.Select(v => v.ToString("G3", Inv).PadLeft(10))));
            sb.AppendLine("  far       " + string.Join("", l.FarFromBoundary.Select(v => v.ToString("G3", Inv).PadLeft(10))));
        }
        else sb.AppendLine("one phase on this slice: no boundary to probe");
        if (r.BoxCount is { } c) sb.AppendLine(string.Create(Inv, $"box-counting dimension of the boundary: {c.Dimension:F3}"));
        sb.AppendLine(string.Create(Inv, $"interpolation, mean over {r.Pairs.Count} pairs ({r.Options.PathPoints} points per path):"));
        sb.AppendLine("  path              length_output  length_feature  curvature  curvature_output");
        foreach (var m in Means(r))
            sb.AppendLine(string.Create(Inv, $"  {m.Path,-18}{m.LengthOutput,13:F3}{m.LengthFeature,16:F3}{m.Curvature,11:F3}{m.CurvatureOutput,18:F3}"));
        return sb.ToString();
    }
}
