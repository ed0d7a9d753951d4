using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using HessianML.Data;
using HessianML.Imaging;
using HessianML.Pipeline;
using HessianML.Systems.Diffusion;

using HessianML.Pipeline.MlNet;

namespace HessianML.Evaluation.Diffusion;

/// <summary>
/// Writes a <see cref="DiffusionRunResult"/> as the folder <c>hessian run diffusion</c> promises (see the README):
/// <c>model.zip</c>, <c>metric.csv</c>, <c>lipschitz.csv</c>, <c>interpolation.csv</c>, <c>errors.json</c>,
/// <c>phases.png</c> and <c>paths.png</c>. Written into a hidden staging folder and moved in at the end, as
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

    /// <summary>Every file a run writes, in the order above.</summary>
    public static readonly string[] FileNames =
        [ModelFileName, MetricFileName, LipschitzFileName, InterpolationFileName, ErrorsFileName, PhaseMapFileName, PathsFileName];

    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Writes the folder; <paramref name="settings"/> (flag name -> value) go into errors.json. Returns the paths written.</summary>
    public static IReadOnlyList<string> Write(DiffusionRunResult result, string directory, IReadOnlyDictionary<string, object?> settings)
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
            PhaseMapFigure(result).SavePng(In(PhaseMapFileName));
            PathsFigure(result).SavePng(In(PathsFileName));
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

    /// <summary>The colour of phase k: the mean colour of its pattern, so the map shows what its pictures look like.</summary>
    private static (byte R, byte G, byte B) PhaseColour(GaussianMixture mixture, int k)
    {
        var (h, w) = GaussianMixture.ImageShape(mixture.Dimension);
        var rgb = GaussianMixture.ToRgb(mixture.Mean(k), h, w);
        double r = 0, g = 0, b = 0;
        for (int i = 0; i < rgb.Length; i += 3) { r += rgb[i]; g += rgb[i + 1]; b += rgb[i + 2]; }
        int n = rgb.Length / 3;
        return ((byte)(r / n), (byte)(g / n), (byte)(b / n));
    }

    /// <summary>
    /// phases.png: the true phase map (fine grid, each phase in its pictures' mean colour), the predicted boundary cells
    /// darkened, and for each pair the linear path (white) and our geodesic (black). a left to right, b bottom to top.
    /// </summary>
    public static Canvas PhaseMapFigure(DiffusionRunResult r)
    {
        const int size = 480, margin = 10, top = 28;
        var canvas = new Canvas(size + 2 * margin, size + top + 2 * margin + 12, (255, 255, 255));
        canvas.Text("true phases, predicted boundary darkened", margin, margin, (0, 0, 0));
        canvas.Text("paths: linear white, ours black", margin, margin + 10, (0, 0, 0));
        int f = r.PhaseMapGrid, k = r.Options.Grid;
        bool Predicted(int px, int py) => r.PredictedBoundary[Math.Min(k - 1, px * k / size) * k + Math.Min(k - 1, (size - 1 - py) * k / size)];
        for (int py = 0; py < size; py++)
            for (int px = 0; px < size; px++)
            {
                int ix = Math.Min(f - 1, px * f / size), iy = Math.Min(f - 1, (size - 1 - py) * f / size);
                var c = PhaseColour(r.Mixture, r.PhaseMap[iy * f + ix]);
                if (Predicted(px, py)) c = ((byte)(c.R * 0.45), (byte)(c.G * 0.45), (byte)(c.B * 0.45));
                canvas.FillRect(margin + px, top + py, 1, 1, c);
            }
        foreach (var pair in r.Pairs)
            foreach (var path in pair.Paths.Where(p => p.Name is "linear" or "ours"))
            {
                var colour = path.Name == "linear" ? ((byte)255, (byte)255, (byte)255) : ((byte)0, (byte)0, (byte)0);
                for (int i = 0; i + 1 < path.T1.Length; i++)
                    for (int s = 0; s < 8; s++)
                    {
                        double w = s / 8.0, a = path.T1[i] + w * (path.T1[i + 1] - path.T1[i]), b = path.T2[i] + w * (path.T2[i + 1] - path.T2[i]);
                        canvas.FillRect(margin + (int)(a * (size - 1)) - 1, top + (int)((1 - b) * (size - 1)) - 1, 2, 2, colour);
                    }
            }
        canvas.Text("a ->, b up", margin, top + size + 4, (0, 0, 0));
        return canvas;
    }

    /// <summary>
    /// paths.png: for each pair a block of four rows (linear, ours, pull-back in pixel space, pull-back in feature space),
    /// each row the samples at equally spaced points along the path (geodesics are equidistant in their own metric).
    /// </summary>
    public static Canvas PathsFigure(DiffusionRunResult r)
    {
        const int scale = 4, labelW = 150, margin = 6;
        var (h, w) = GaussianMixture.ImageShape(r.Mixture.Dimension);
        int n = r.Options.ImagesPerPath;
        var rows = r.Pairs.SelectMany((p, i) => new[] { "linear", "ours", "pullback-output", "pullback-feature" }
            .Select(name => (Label: $"pair {i} {name}", Path: p.Paths.First(q => q.Name == name)))).ToArray();
        if (rows.Length == 0)
        {
            var empty = new Canvas(320, 24, (255, 255, 255));
            empty.Text("no interpolation pairs", margin, margin, (0, 0, 0));
            return empty;
        }
        int tileW = n * (w * scale + 1) + 1, tileH = h * scale + 2;
        var canvas = new Canvas(labelW + tileW + margin, rows.Length * (tileH + 2) + 2 * margin, (255, 255, 255));
        for (int row = 0; row < rows.Length; row++)
        {
            var path = rows[row].Path;
            var picks = Enumerable.Range(0, n).Select(j => path.Samples[(int)Math.Round((double)j * (path.Samples.Length - 1) / (n - 1))]).ToArray();
            var (rgb, pw, ph) = GaussianMixture.TileRgb(picks, n, h, w, scale);
            int oy = margin + row * (tileH + 2);
            canvas.Text(rows[row].Label, margin, oy + (ph - 7) / 2, (0, 0, 0));
            for (int y = 0; y < ph; y++)
                for (int x = 0; x < pw; x++)
                {
                    int s = (y * pw + x) * 3;
                    canvas.FillRect(labelW + x, oy + y, 1, 1, (rgb[s], rgb[s + 1], rgb[s + 2]));
                }
        }
        return canvas;
    }
}
