using System.Text.Json;
using HessianML.Evaluation.Diffusion;
using HessianML.Geometry;
using HessianML.Geometry.Geodesics;
using HessianML.Posterior;
using HessianML.Systems.Diffusion;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace HessianML.Tests.Evaluation;

/// <summary>
/// Issue 6's diffusion run: the boundary scorer on hand-made maps, the pull-back metric against analytic J^T J, the path
/// scores on known curves, and the whole run on a tiny slice (files, numbers, geodesics no longer than the straight line).
/// </summary>
[TestClass]
public sealed class DiffusionRunTests
{
    private static bool[] Cells(int k, params (int I, int J)[] cells)
    {
        var map = new bool[k * k];
        foreach (var (i, j) in cells) map[i * k + j] = true;
        return map;
    }

    [TestMethod]
    public void BoundaryScoreCountsWithinOneCell()
    {
        // Truth: the column i = 2 of a 5 x 5 grid. Predicted: (1, 1) is one cell off (correct), (0, 0) and (4, 4) two
        // cells off (wrong): precision 1/3. (1, 1) finds the truth cells j = 0, 1, 2; j = 3, 4 have no prediction within
        // one cell: recall 3/5.
        const int k = 5;
        var truth = Cells(k, (2, 0), (2, 1), (2, 2), (2, 3), (2, 4));
        var predicted = Cells(k, (0, 0), (1, 1), (4, 4));
        var s = PhaseBoundary.Score(predicted, truth, k);
        Assert.AreEqual(new BoundaryScore(1.0 / 3, 3.0 / 5, 3, 5, 1, 3), s);
        var exact = PhaseBoundary.Score(predicted, truth, k, tolerance: 0);
        Assert.AreEqual((0.0, 0.0), (exact.Precision, exact.Recall), "no predicted cell is a truth cell itself");
        var two = PhaseBoundary.Score(predicted, truth, k, tolerance: 2);
        Assert.AreEqual((1.0, 1.0), (two.Precision, two.Recall));
        var none = PhaseBoundary.Score(new bool[k * k], truth, k);
        Assert.IsTrue(double.IsNaN(none.Precision));
        Assert.AreEqual(0.0, none.Recall);
        Assert.ThrowsExactly<ArgumentException>(() => PhaseBoundary.Score(predicted, new bool[16], k));
    }

    [TestMethod]
    public void InsidePhaseKeepsTheCellsBeyondTheTolerance()
    {
        // One boundary cell (2, 2) of a 5 x 5 grid: within one cell of it are the 9 cells of its 3 x 3 block.
        const int k = 5;
        var truth = Cells(k, (2, 2));
        var inside = PhaseBoundary.InsidePhase(truth, k);
        Assert.HasCount(16, inside);
        foreach (int c in inside) Assert.IsTrue(Math.Max(Math.Abs(c / k - 2), Math.Abs(c % k - 2)) >= 2, $"cell {c}");
        CollectionAssert.AreEqual(inside.Order().ToArray(), inside, "in index order");
        Assert.HasCount(24, PhaseBoundary.InsidePhase(truth, k, tolerance: 0));
        Assert.HasCount(0, PhaseBoundary.InsidePhase(truth, k, tolerance: 2));
        Assert.HasCount(25, PhaseBoundary.InsidePhase(new bool[k * k], k), "no boundary: every cell is inside a phase");
        Assert.ThrowsExactly<ArgumentException>(() => PhaseBoundary.InsidePhase(truth, 4));
    }

    [TestMethod]
    public void TrueCellsAndTheMetricRuleOnHandMadeMaps()
    {
        // A 4 x 4 fine map (index iy * 4 + ix) over a 2 x 2 grid: one odd point at ix = 3, iy = 0 makes cell (i = 1, j = 0),
        // flat index 1 * 2 + 0 = 2, the only boundary cell.
        var fine = new int[16];
        fine[0 * 4 + 3] = 7;
        CollectionAssert.AreEqual(new[] { false, false, true, false }, PhaseBoundary.TrueCells(fine, 4, 2));
        Assert.ThrowsExactly<ArgumentException>(() => PhaseBoundary.TrueCells(fine, 4, 3));

        // The metric rule: g = I except 100 I at one cell and 5 I at another. Sizes relative to the median (1): the
        // threshold is sqrt(100) = 10, so only the first is predicted; a flat metric predicts nothing.
        var f = MetricField.AtPoints(new double[9], new double[9]);
        for (int i = 0; i < 9; i++) (f.G11[i], f.G22[i]) = (1, 1);
        (f.G11[4], f.G22[4]) = (100, 100);
        (f.G11[7], f.G22[7]) = (5, 1);
        var (cells, size, threshold) = PhaseBoundary.FromMetric(f);
        Assert.AreEqual(10, threshold, 1e-12);
        Assert.AreEqual(5, size[7], 1e-12, "the larger eigenvalue over the median");
        CollectionAssert.AreEqual(new[] { false, false, false, false, true, false, false, false, false }, cells);
        (f.G11[4], f.G22[4], f.G11[7]) = (1, 1, 1);
        var flat = PhaseBoundary.FromMetric(f);
        Assert.IsFalse(flat.Cells.Any(c => c), $"threshold {flat.Threshold}, sizes {string.Join(",", flat.Size)}");
    }

    [TestMethod]
    public void PullbackOfAnAffineMapIsATransposeA()
    {
        // F(t) = A t + c: central differences are exact (up to rounding), so g = A^T A to 1e-9 relative.
        var box = new ParameterBox(-1, 2, 0, 1);
        double[,] a = { { 1.5, -0.3 }, { 0.2, 2.0 }, { -0.7, 0.4 }, { 0.0, 1.1 } };
        var source = new PullbackMetric(box, 4, (t1, t2, y) =>
        {
            for (int r = 0; r < 4; r++) y[r] = a[r, 0] * t1 + a[r, 1] * t2 + 0.5 * r;
        }, 1e-3);
        double e11 = 0, e12 = 0, e22 = 0;
        for (int r = 0; r < 4; r++) { e11 += a[r, 0] * a[r, 0]; e12 += a[r, 0] * a[r, 1]; e22 += a[r, 1] * a[r, 1]; }
        var (g11, g12, g22) = source.Evaluate([-1, 0.3, 2], [0, 0.5, 1]);
        for (int i = 0; i < 3; i++)
        {
            Assert.AreEqual(e11, g11[i], 1e-9 * e11);
            Assert.AreEqual(e12, g12[i], 1e-9 * e11);
            Assert.AreEqual(e22, g22[i], 1e-9 * e22);
        }
        // ForTable: the step is half the table spacing (the stencils tile the grid lines).
        Assert.AreEqual(0.5 / 64, PullbackMetric.ForTable(new ParameterBox(0, 1, 0, 2), 1, (_, _, _) => { }, 65).Step, 1e-15);
    }

    [TestMethod]
    public void PullbackOfANonlinearMapMatchesItsJacobian()
    {
        // F(t) = (sin t1, t1 t2, exp t2): J = [[cos t1, 0], [t2, t1], [0, exp t2]], so g11 = cos^2 t1 + t2^2,
        // g12 = t1 t2, g22 = t1^2 + exp(2 t2). Central differences with h = 1e-4 err by h^2 |F'''| / 6 ~ 1e-8 relative
        // (rounding 1e-16 / h = 1e-12); bound 1e-6.
        var box = new ParameterBox(0, 1, 0, 1);
        var source = new PullbackMetric(box, 3, (t1, t2, y) => (y[0], y[1], y[2]) = (Math.Sin(t1), t1 * t2, Math.Exp(t2)), 1e-4);
        double[] t1 = [0.1, 0.5, 0.9], t2 = [0.8, 0.2, 0.6];
        var (g11, g12, g22) = source.Evaluate(t1, t2);
        for (int i = 0; i < 3; i++)
        {
            double c = Math.Cos(t1[i]), e = Math.Exp(2 * t2[i]);
            Assert.AreEqual(c * c + t2[i] * t2[i], g11[i], 1e-6);
            Assert.AreEqual(t1[i] * t2[i], g12[i], 1e-6);
            Assert.AreEqual(t1[i] * t1[i] + e, g22[i], 1e-6 * e);
        }
    }

    [TestMethod]
    public void RefineSolvesThePullbackToItsOwnMinimum()
    {
        // F(t) = A t (A = [[2, 1], [0, 1], [1, 0]]): the image path's shortest route is the straight segment at constant
        // speed, energy |A (b - a)|^2 / (M - 1). From a zig-zag of M = 21 points the refinement must reach that minimum
        // (its gradient's central differences of a linear map are exact) and the equally spaced points of the segment.
        var box = new ParameterBox(0, 1, 0, 1);
        var metric = new PullbackMetric(box, 3, (t1, t2, y) => (y[0], y[1], y[2]) = (2 * t1 + t2, t2, t1), 1e-3);
        const int m = 21;
        var curve = new double[2 * m];
        for (int i = 0; i < m; i++)
            (curve[2 * i], curve[2 * i + 1]) = (0.1 + 0.8 * i / (m - 1), i == 0 || i == m - 1 ? 0.2 : 0.2 + 0.3 * (i % 2) + 0.2 * i / (m - 1));
        (curve[^2], curve[^1]) = (0.9, 0.4);
        double d1 = 0.8, d2 = 0.2, image = (2 * d1 + d2) * (2 * d1 + d2) + d2 * d2 + d1 * d1;
        var (energy, length) = metric.Refine(curve, 500, 1e-6);
        Assert.AreEqual(image / (m - 1), energy, 1e-9 * image, "the minimum energy");
        Assert.AreEqual(Math.Sqrt(image), length, 1e-9 * Math.Sqrt(image), "the image segment's length");
        for (int i = 1; i < m - 1; i++)
        {
            double s = (double)i / (m - 1);
            Assert.AreEqual(0.1 + s * d1, curve[2 * i], 1e-5, $"point {i} t1");
            Assert.AreEqual(0.2 + s * d2, curve[2 * i + 1], 1e-5, $"point {i} t2");
        }
    }

    [TestMethod]
    public void PathScoresOfKnownCurves()
    {
        // A straight path in R^3: length 3 (|(1, 2, 2)|), curvature 0. A circle of radius 2 in a plane of R^3 by 400
        // chords: curvature 1/2 (a regular polygon turns 2 pi over its perimeter 2 r n sin(pi/n)), length 4 pi to 1e-4.
        var line = Enumerable.Range(0, 11).Select(i => new[] { 0.1 * i, 0.2 * i, 0.2 * i }).ToArray();
        Assert.AreEqual(3, PathScores.Length(line), 1e-12);
        Assert.AreEqual(0, PathScores.Curvature(line), 1e-7);
        int n = 400;
        var circle = Enumerable.Range(0, n + 1).Select(i => new[] { 2 * Math.Cos(2 * Math.PI * i / n), 1.0, 2 * Math.Sin(2 * Math.PI * i / n) }).ToArray();
        double perimeter = 2 * 2 * n * Math.Sin(Math.PI / n);
        Assert.AreEqual(perimeter, PathScores.Length(circle), 1e-9);
        Assert.AreEqual(4 * Math.PI, PathScores.Length(circle), 1e-3);
        Assert.AreEqual(2 * Math.PI * (n - 1) / n / perimeter, PathScores.Curvature(circle), 1e-9, "n - 1 turns of 2 pi / n each");
        var feature = new RandomFeatureMap(6, 4, 3);
        CollectionAssert.AreEqual(feature.Apply([1, 2, 3, 4, 5, 6]), new RandomFeatureMap(6, 4, 3).Apply([1, 2, 3, 4, 5, 6]), "fixed by the seed");
        Assert.IsTrue(feature.Apply([100, -100, 100, -100, 100, -100]).All(v => Math.Abs(v) <= 1), "tanh features are bounded");
    }

    internal static DiffusionRunOptions Tiny() => new()
    {
        Slice = new DiffusionSliceSettings { Components = 3, Dimension = 27, Grid = 32, Seed = 1 },
        Grid = 8,
        LogPartition = new LogPartitionOptions { SplineCount = 8, Epochs = 15 },
        Pairs = 2,
        PathPoints = 30,
        GeodesicResolution = 33,
        PullbackResolution = 17,
    };

    [TestMethod]
    public void TinyRunWritesEverythingWithSaneNumbers()
    {
        var r = DiffusionRun.Run(Tiny());
        Console.WriteLine(DiffusionReport.Table(r));
        // Measured (this seed): 3 phases, precision 1.0 and recall 1.0 (17 predicted, 12 true cells), lambda 0.98;
        // Lipschitz ratio growth 6.2e4 at the boundary (15.3 -> 9.4e5), 0.96 far; box-counting dimension 0.988. Bounds
        // leave room: precision and recall >= 0.6, growth > 1e3 at the boundary and within 20% of 1 far.
        Assert.IsTrue(r.PhaseMap.Distinct().Count() >= 2, "the test slice must show a boundary");
        Assert.IsGreaterThanOrEqualTo(0.6, r.Boundary.Recall, r.Boundary.ToString());
        Assert.IsGreaterThanOrEqualTo(0.6, r.Boundary.Precision, r.Boundary.ToString());
        Assert.IsNotNull(r.Lipschitz);
        Assert.IsGreaterThan(1e3, r.Lipschitz.BoundaryGrowth);
        Assert.AreEqual(1, r.Lipschitz.FarGrowth, 0.2);
        Assert.AreEqual(1, r.BoxCount!.Dimension, 0.2, "the exact-score boundary is a smooth curve");
        // Inside the phases, our metric against the pixel pull-back (eq. 16's Fisher metric), at InsidePhase's cells, and
        // a flat metric (the identity) against the same reference for scale. Measured (this seed, 8 x 8 cells, 15 epochs):
        // 32 cells, ours metric error 0.804 and median per-cell 0.642, the identity 0.720 and 0.701, the nearest Hessian
        // metric (12 of those cells off the grid's edge) 0.022 and 0.018: on so coarse a grid
        // most cells are a boundary's neighbours and ours is barely better per cell (on the default 24 x 24 run, seed 7:
        // median 0.23 against the identity's 0.66). Bound: ours below the flat metric per cell.
        Assert.IsNotNull(r.InsidePhase);
        var insideCells = PhaseBoundary.InsidePhase(r.TrueBoundary, 8);
        Assert.AreEqual(insideCells.Length, r.InsidePhase.Cells);
        var flat = MetricField.AtPoints([.. r.Field.T1], [.. r.Field.T2]);
        Array.Fill(flat.G11, 1.0);
        Array.Fill(flat.G22, 1.0);
        var (flatAgreement, floor) = DiffusionRun.InsidePhaseAgreement(flat, (PullbackMetric)r.PullbackOutput.Source, new ParameterBox(0, 1, 0, 1), 8, insideCells);
        Console.WriteLine($"inside the phases: ours {r.InsidePhase}, flat {flatAgreement}, nearest Hessian metric {floor}");
        Assert.IsLessThan(flatAgreement!.MedianCellMetricError, r.InsidePhase.MedianCellMetricError);
        // The floor does not depend on the estimate, and no psi (ours included) beats it at its cells.
        Assert.AreEqual(r.InsidePhaseFloor, floor);
        Assert.IsNotNull(floor);
        Assert.IsLessThanOrEqualTo(r.InsidePhase.MedianCellMetricError, floor.MedianCellMetricError);
        Assert.AreEqual(2, r.Pairs.Count);
        Assert.AreNotEqual(r.Pairs[0].FromPhase, r.Pairs[0].ToPhase, "pair 0 crosses phases");
        Assert.AreEqual(r.Pairs[1].FromPhase, r.Pairs[1].ToPhase, "pair 1 stays in one");

        // Each geodesic is no longer than the straight line under its own (tabulated) metric: the solver minimises that
        // length, and the straight line is a candidate. Slack 1e-9 relative for the resampling's rounding.
        foreach (var pair in r.Pairs)
        {
            var line = pair.Paths.First(p => p.Name == "linear");
            var poly = new double[2 * line.T1.Length];
            for (int i = 0; i < line.T1.Length; i++) (poly[2 * i], poly[2 * i + 1]) = (line.T1[i], line.T2[i]);
            foreach (var (name, solver) in new[] { ("ours", r.Ours), ("pullback-output", r.PullbackOutput), ("pullback-feature", r.PullbackFeature) })
            {
                double straight = CurveEnergy.SegmentLengths(solver.Metric, poly).Sum();
                var geodesic = solver.Solve(pair.From.A, pair.From.B, pair.To.A, pair.To.B);
                Assert.IsLessThanOrEqualTo(straight * (1 + 1e-9), geodesic.Length, $"{name}: geodesic {geodesic.Length} vs straight {straight}");
                var path = pair.Paths.First(p => p.Name == name);
                Assert.AreEqual((pair.From.A, pair.To.B), (path.T1[0], path.T2[^1]), "paths end exactly at the pair's ends");
            }
            // The pixel-space pull-back's metric length is the pixel length to first order, so its geodesic is not much
            // longer in pixel space than the straight line (it may be shorter). Measured per pair below; bound 10%.
            var pull = pair.Paths.First(p => p.Name == "pullback-output");
            Console.WriteLine($"pair {pair.FromPhase}->{pair.ToPhase}: pixel length pull-back {pull.LengthOutput:F4}, linear {line.LengthOutput:F4}");
            Assert.IsLessThanOrEqualTo(1.1 * line.LengthOutput, pull.LengthOutput);
        }

        string dir = Path.Combine(Path.GetTempPath(), $"diffusion-run-{Guid.NewGuid():N}");
        try
        {
            var written = DiffusionReport.Write(r, dir, new Dictionary<string, object?> { ["seed"] = 1 });
            CollectionAssert.AreEquivalent(DiffusionReport.FileNames, written.Select(Path.GetFileName).ToArray());
            Assert.AreEqual(0, Directory.GetDirectories(dir).Length, "the staging folder is gone");
            var csv = MetricField.ReadCsv(Path.Combine(dir, DiffusionReport.MetricFileName));
            Assert.AreEqual(64, csv.Count);
            for (int i = 0; i < 64; i++) Assert.AreEqual(r.Field.G11[i], csv.G11[i]);
            var loaded = LogPartitionTransformer.FindIn(new MLContext().Model.Load(Path.Combine(dir, DiffusionReport.ModelFileName), out _));
            Assert.AreEqual(r.Field.G22[10], loaded.Field(new ParameterBox(0, 1, 0, 1), 8).G22[10], 1e-12 * Math.Abs(r.Field.G22[10]));
            Assert.AreEqual(7, File.ReadAllLines(Path.Combine(dir, DiffusionReport.LipschitzFileName)).Length, "header + 6 decades");
            var rows = File.ReadAllLines(Path.Combine(dir, DiffusionReport.InterpolationFileName));
            Assert.AreEqual(1 + 2 * 4, rows.Length);
            StringAssert.StartsWith(rows[0], "pair,path,from_a,from_b,to_a,to_b,from_phase,to_phase,length_output,length_feature,curvature,curvature_output");
            using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, DiffusionReport.ErrorsFileName)));
            var b = doc.RootElement.GetProperty("boundary");
            Assert.AreEqual(r.Boundary.Recall, b.GetProperty("recall").GetDouble());
            Assert.AreEqual(r.Lipschitz.BoundaryGrowth, doc.RootElement.GetProperty("lipschitz").GetProperty("growth_at_boundary").GetDouble());
            Assert.AreEqual(4, doc.RootElement.GetProperty("interpolation").GetProperty("mean").EnumerateObject().Count());
            var inside = doc.RootElement.GetProperty("metric_inside_phases");
            Assert.AreEqual(r.InsidePhase.Cells, inside.GetProperty("cells").GetInt32());
            Assert.AreEqual(r.InsidePhase.MedianCellMetricError, inside.GetProperty("median_cell_metric_error").GetDouble());
            Assert.AreEqual(r.InsidePhaseFloor!.MedianCellMetricError, inside.GetProperty("floor").GetProperty("median_cell_metric_error").GetDouble());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
