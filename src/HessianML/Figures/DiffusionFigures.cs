using System.Globalization;
using HessianML.Evaluation.Diffusion;
using HessianML.Posterior;
using HessianML.Systems.Diffusion;
using ScottPlot;

namespace HessianML.Figures;

/// <summary>
/// The figures and report page of a <c>hessian run diffusion</c> folder (<see cref="DiffusionReport"/>): the phase map
/// with the predicted boundary over the true one, the Lipschitz ratio against eps on log-log axes, the samples along
/// each pair's paths, and report.html.
/// </summary>
public static class DiffusionFigures
{
    private static readonly (string T1, string T2) Axes = ("a", "b");
    private static readonly ParameterBox UnitBox = new(0, 1, 0, 1);

    /// <summary>Phase colours: each phase in its pictures' mean colour, so the map shows what its samples look like.</summary>
    private static Color[] PhaseColours(GaussianMixture mixture)
    {
        var (h, w) = GaussianMixture.ImageShape(mixture.Dimension);
        return Enumerable.Range(0, mixture.Components).Select(k =>
        {
            var rgb = GaussianMixture.ToRgb(mixture.Mean(k), h, w);
            double r = 0, g = 0, b = 0;
            for (int i = 0; i < rgb.Length; i += 3) (r, g, b) = (r + rgb[i], g + rgb[i + 1], b + rgb[i + 2]);
            int n = rgb.Length / 3;
            return new Color((byte)(r / n), (byte)(g / n), (byte)(b / n));
        }).ToArray();
    }

    /// <summary>
    /// The true phase map (fine grid, each phase in its mean colour), the true boundary cells (K x K, grey dots) and the
    /// predicted ones (black squares) over it, and each pair's linear path (dashed white) and our geodesic (black).
    /// </summary>
    public static Figure PhaseMap(DiffusionRunResult r)
    {
        ArgumentNullException.ThrowIfNull(r);
        int f = r.PhaseMapGrid, k = r.Options.Grid, phases = r.Mixture.Components;
        // PhaseMap is row-major with b as the row (index jb * f + ia); the panel wants i along a: i * f + j.
        var values = new double[f * f];
        for (int i = 0; i < f; i++)
            for (int j = 0; j < f; j++)
                values[i * f + j] = r.PhaseMap[j * f + i];
        var paths = r.Pairs.SelectMany((p, n) => p.Paths.Where(q => q.Name is "linear" or "ours").Select(q =>
            new PathOverlay(n > 0 ? null : q.Name == "ours" ? "our geodesics" : "linear paths", q.T1, q.T2,
                q.Name == "ours" ? Colors.Black : Colors.White, Dashed: q.Name == "linear"))).ToArray();
        var map = new HeatMapPanel(
            Figure.Invariant($"true phases ({phases} components), boundary cells on {k}x{k}"), values, f, f, UnitBox, Axes, "phase")
        {
            Colormap = new CategoryColours(PhaseColours(r.Mixture)),
            Range = (-0.5, phases - 0.5),
            IntegerColourTicks = true,
            Paths = paths,
            Marks =
            [
                new CellMarks("true boundary", r.TrueBoundary, k, k, MarkerShape.FilledCircle, Colors.Gray, 4),
                new CellMarks(Figure.Invariant($"predicted boundary (precision {r.Boundary.Precision:F3}, recall {r.Boundary.Recall:F3} within {r.Options.BoundaryTolerance} cell)"),
                    r.PredictedBoundary, k, k, MarkerShape.OpenSquare, Colors.Black, 8),
            ],
            LegendBelow = true,
        };
        return new Figure("diffusion: the metric's phase boundary over the true one", [map], 1)
        {
            Caption = "colour: the true phase of the sample at (a, b), in its pictures' mean colour\n" +
                      "grey dots: true boundary cells; black squares: cells the metric marks (largest eigenvalue above threshold)",
            PanelWidth = 720, PanelHeight = 760,
        };
    }

    /// <summary>|x(p + eps u) - x(p)| / eps against eps at the boundary point and far from it, log-log, with a 1/eps guide.</summary>
    public static Figure Lipschitz(DiffusionRunResult r)
    {
        ArgumentNullException.ThrowIfNull(r);
        var l = r.Lipschitz ?? throw new InvalidOperationException("the slice has one phase: no Lipschitz table to draw");
        var panel = new LogLogPanel("Lipschitz ratio of the generator along the slice", "eps (step in the slice)", "|x(p + eps u) - x(p)| / eps",
        [
            new LineSeries(Figure.Invariant($"at a boundary point ({l.Boundary.A:F3}, {l.Boundary.B:F3})"), l.Steps, l.AtBoundary, Colors.Black),
            new LineSeries(Figure.Invariant($"far from any boundary ({l.Far.A:F3}, {l.Far.B:F3})"), l.Steps, l.FarFromBoundary, new Color(30, 120, 200)),
        ])
        { ReferenceSlopes = [-1] };
        return new Figure("diffusion: a phase boundary is a jump of the generator", [panel], 1)
        {
            Caption = "at a boundary the ratio grows like 1/eps (slope -1, no Lipschitz constant); inside a phase it stays flat",
            PanelWidth = 720, PanelHeight = 520,
        };
    }

    /// <summary>For each pair, the samples at equally spaced points along each path (linear, ours, the two pull-backs).</summary>
    public static ImageStrip Paths(DiffusionRunResult r)
    {
        ArgumentNullException.ThrowIfNull(r);
        var (h, w) = GaussianMixture.ImageShape(r.Mixture.Dimension);
        int n = r.Options.ImagesPerPath;
        var rows = r.Pairs.SelectMany((p, i) => new[] { "linear", "ours", "pullback-output", "pullback-feature" }.Select(name =>
        {
            var path = p.Paths.First(q => q.Name == name);
            var picks = Enumerable.Range(0, n).Select(j => path.Samples[(int)Math.Round((double)j * (path.Samples.Length - 1) / Math.Max(1, n - 1))]);
            return new ImageRow(Figure.Invariant($"pair {i + 1}: {name}"), picks.Select(s => GaussianMixture.ToRgb(s, h, w)).ToArray());
        })).ToArray();
        return new ImageStrip("diffusion: the samples along each path", rows, w, h)
        {
            Caption = Figure.Invariant($"{n} samples per path at equal steps of its own parametrisation (geodesics: equal metric length), first to last endpoint"),
        };
    }

    /// <summary>Writes the figures, then report.html, into <paramref name="folder"/> (the run's staging folder, after its other files).</summary>
    public static void Write(DiffusionRunResult r, string folder, string? commandLine)
    {
        ArgumentNullException.ThrowIfNull(r);
        PhaseMap(r).Save(Path.Combine(folder, DiffusionReport.PhaseMapFileName));
        Paths(r).Save(Path.Combine(folder, DiffusionReport.PathsFileName));
        var figures = new List<(string, string)>
        {
            (DiffusionReport.PhaseMapFileName, "the true phase map with the true and the predicted boundary cells, and each pair's linear path and our geodesic"),
        };
        if (r.Lipschitz is not null)
        {
            Lipschitz(r).Save(Path.Combine(folder, DiffusionReport.LipschitzFigureFileName));
            figures.Add((DiffusionReport.LipschitzFigureFileName, "the Lipschitz ratio against eps, log-log: at a boundary point and far from any"));
        }
        figures.Add((DiffusionReport.PathsFileName, "the generated samples along each pair's paths: linear, ours, the pixel and the feature pull-back"));

        var b = r.Boundary;
        var tables = new List<ReportTable>
        {
            new("Phase boundary from the metric", ["", "value"],
            [
                ["phases seen in the slice", r.PhaseMap.Distinct().Count().ToString(CultureInfo.InvariantCulture)],
                [Figure.Invariant($"precision within {r.Options.BoundaryTolerance} cell"), Figure.Invariant($"{b.Precision:F3}")],
                [Figure.Invariant($"recall within {r.Options.BoundaryTolerance} cell"), Figure.Invariant($"{b.Recall:F3}")],
                ["cells predicted / true", Figure.Invariant($"{b.Predicted} / {b.True}")],
                ["box-counting dimension of the boundary", r.BoxCount is { } c ? Figure.Invariant($"{c.Dimension:F3}") : "-"],
                ["posterior lambda", Figure.Invariant($"{r.Posterior.Lambda:G4}")],
            ]),
        };
        if (r.InsidePhase is { } inside)
            tables.Add(new ReportTable("Metric inside the phases against the pixel pull-back J^T J (the Fisher metric of eq. 16's likelihood), best scale",
                ["", "cells", "metric error", "median per-cell error"],
                new[] { ("ours", inside), ("the nearest Hessian metric (the floor of any psi)", r.InsidePhaseFloor) }
                    .Where(row => row.Item2 is not null)
                    .Select(row => (IReadOnlyList<string>)[row.Item1, Figure.Invariant($"{row.Item2!.Cells}"),
                        Figure.Invariant($"{row.Item2.MetricError:F3}"), Figure.Invariant($"{row.Item2.MedianCellMetricError:F3}")]).ToArray()));
        if (r.Lipschitz is { } l)
            tables.Add(new ReportTable("Lipschitz ratio |x(p + eps u) - x(p)| / eps", ["eps", "at the boundary point", "far from any boundary"],
                l.Steps.Select((e, i) => (IReadOnlyList<string>)[Figure.Invariant($"{e:0E0}"), Figure.Invariant($"{l.AtBoundary[i]:G4}"), Figure.Invariant($"{l.FarFromBoundary[i]:G4}")]).ToArray()));
        tables.Add(new ReportTable(Figure.Invariant($"Interpolation, mean over {r.Pairs.Count} pairs (METHOD section 7)"),
            ["path", "length in pixels", "length in features", "curvature (plane)", "curvature (pixels)"],
            DiffusionReport.Means(r).Select(m => (IReadOnlyList<string>)[m.Path, Figure.Invariant($"{m.LengthOutput:F3}"), Figure.Invariant($"{m.LengthFeature:F3}"),
                Figure.Invariant($"{m.Curvature:F3}"), Figure.Invariant($"{m.CurvatureOutput:F3}")]).ToArray()));
        new ReportPage("hessian run diffusion")
        {
            CommandLine = commandLine,
            Summary =
            [
                Figure.Invariant($"DDIM ({r.Options.Slice.DdimSteps} steps, eta {r.Options.Slice.Eta}) with the exact score of a {r.Mixture.Components}-component Gaussian mixture in d = {r.Mixture.Dimension}, over a 2D latent slice (a, b) in [0, 1]^2; posterior grid {r.Options.Grid}x{r.Options.Grid}, {r.TrainingRows} training rows."),
            ],
            Tables = tables,
            Figures = figures,
            FileDescriptions = new Dictionary<string, string>
            {
                [DiffusionReport.ModelFileName] = ReportPage.ModelDescription,
                [DiffusionReport.MetricFileName] = ReportPage.MetricFieldDescription,
                [DiffusionReport.LipschitzFileName] = "the Lipschitz table: eps, ratio at the boundary point, ratio far from it",
                [DiffusionReport.InterpolationFileName] = "per pair and path: lengths in pixel and feature space, curvatures",
                [DiffusionReport.ErrorsFileName] = "settings, boundary scores, Lipschitz growth, box-counting dimension, interpolation means, timings",
                [DiffusionReport.PhaseMapFileName] = "figure: phase map and boundaries",
                [DiffusionReport.LipschitzFigureFileName] = "figure: Lipschitz ratio against eps",
                [DiffusionReport.PathsFileName] = "figure: samples along the paths",
            },
        }.Write(folder);
    }
}
