using System.Diagnostics;
using HessianML.Data;
using HessianML.Geometry;
using HessianML.Geometry.Geodesics;
using HessianML.Pipeline;
using HessianML.Posterior;
using HessianML.Systems;
using HessianML.Systems.Diffusion;

namespace HessianML.Evaluation.Diffusion;

/// <summary>The Lipschitz table: finite-difference ratios at a bisected boundary point and at a point far from every boundary.</summary>
/// <param name="Steps">The steps eps.</param>
/// <param name="AtBoundary">|x(p + eps u) - x(p)| / eps at the boundary point, u across the boundary.</param>
/// <param name="FarFromBoundary">The same ratio at the far point, same direction u.</param>
/// <param name="Boundary">The bisected boundary point (between the far point and the nearest point of another phase).</param>
/// <param name="Far">The point farthest from every boundary on a 32 x 32 phase map.</param>
public sealed record LipschitzTable(double[] Steps, double[] AtBoundary, double[] FarFromBoundary, BoundaryPoint Boundary, InteriorPoint Far)
{
    /// <summary>Ratio at the smallest step over the ratio at the largest, at the boundary (grows like 1 / eps there).</summary>
    public double BoundaryGrowth => AtBoundary[^1] / AtBoundary[0];

    /// <summary>The same growth far from the boundaries (near 1: the ratio converges to a derivative).</summary>
    public double FarGrowth => FarFromBoundary[^1] / FarFromBoundary[0];
}

/// <summary>
/// A fitted metric against a reference metric on Cells cells, each at the one best scale
/// (<see cref="MetricFieldErrors.CompareMetrics(MetricField, MetricField, IEnumerable{int})"/>): rms metric error and median
/// per-cell error, as METHOD §7 defines them.
/// </summary>
public sealed record MetricAgreement(int Cells, double Scale, double MetricError, double MedianCellMetricError);

/// <summary>One path between a pair's endpoints, with METHOD §7's scores.</summary>
/// <param name="Name">"linear", "ours", "pullback-output" or "pullback-feature".</param>
/// <param name="T1">a along the path (ends exactly the pair's ends).</param>
/// <param name="T2">b along the path.</param>
/// <param name="Samples">x(z(a, b)) at each point.</param>
/// <param name="LengthOutput">Sum of |x_{i+1} - x_i| (pixel space).</param>
/// <param name="LengthFeature">Sum of |f(x_{i+1}) - f(x_i)| in the fixed feature space.</param>
/// <param name="Curvature">Mean turning angle per unit length in the slice plane (<see cref="CurveEnergy.Curvature"/>).</param>
/// <param name="CurvatureOutput">The same definition for the path of samples in pixel space (<see cref="PathScores.Curvature"/>).</param>
public sealed record InterpolationPath(string Name, double[] T1, double[] T2, double[][] Samples, double LengthOutput, double LengthFeature,
    double Curvature, double CurvatureOutput);

/// <summary>A pair of endpoints, their phases and its four paths (linear, ours, the two pull-backs).</summary>
public sealed record InterpolationPair((double A, double B) From, (double A, double B) To, int FromPhase, int ToPhase,
    IReadOnlyList<InterpolationPath> Paths);

/// <summary>What <see cref="DiffusionRun.Run"/> produced.</summary>
public sealed class DiffusionRunResult
{
    public required DiffusionRunOptions Options { get; init; }

    /// <summary>The fitted pipeline FeatureDistancePosterior -> LogPartition -> FisherMetric.</summary>
    public required Microsoft.ML.Data.TransformerChain<FisherMetricTransformer> Model { get; init; }

    /// <summary>The psi part alone, input <c>t</c>: what <c>model.zip</c> holds (t -> psi, dpsi, g, g_eigen).</summary>
    public FisherMetricTransformer PsiModel => Model.LastTransformer;


    public required GaussianMixture Mixture { get; init; }

    /// <summary>
    /// The generator as a function of the latent: the DDIM sampler itself at eta = 0; at eta &gt; 0 the sampler with one
    /// fixed noise stream for every latent (common random numbers), so that phase maps, Lipschitz ratios, pull-backs and
    /// paths see a function of t. The training data use a stream per row.
    /// </summary>
    public required IGenerator Generator { get; init; }

    public required LatentSlice Slice { get; init; }

    public required RandomFeatureMap FeatureMap { get; init; }

    /// <summary>Our psi, gradient and metric at the K x K cell centres of the unit square (raw: the model's scale and gauge).</summary>
    public required MetricField Field { get; init; }

    /// <summary>The true phase map: phases at the F x F cell centres, index iy * F + ix (ix along a).</summary>
    public required int[] PhaseMap { get; init; }

    public required int PhaseMapGrid { get; init; }

    /// <summary>True boundary cells of the K x K grid (index i * K + j, i along a).</summary>
    public required bool[] TrueBoundary { get; init; }

    /// <summary>Boundary cells read off our metric (same indexing).</summary>
    public required bool[] PredictedBoundary { get; init; }

    /// <summary>Largest eigenvalue of g over its median, per cell (<see cref="PhaseBoundary.RelativeSize"/>).</summary>
    public required double[] RelativeMetricSize { get; init; }

    /// <summary>Otsu's threshold on <see cref="RelativeMetricSize"/>.</summary>
    public required double BoundaryThreshold { get; init; }

    public required BoundaryScore Boundary { get; init; }

    /// <summary>
    /// Our metric against the exact one inside the phases: the pixel pull-back, the Fisher metric of eq. 16's likelihood
    /// (<see cref="DiffusionRun.InsidePhaseAgreement"/>), at the K x K cells with no true boundary cell within
    /// <see cref="DiffusionRunOptions.BoundaryTolerance"/> cells. Null when no cell is that far from a boundary.
    /// </summary>
    public required MetricAgreement? InsidePhase { get; init; }

    /// <summary>
    /// The floor of <see cref="InsidePhase"/>: the Hessian metric nearest to the pixel pull-back at those cells (off the
    /// grid's edge) against it (<see cref="NearestHessianMetric"/>). No psi can do better there, so the gap between the two
    /// is the psi fit's. Null with <see cref="InsidePhase"/>.
    /// </summary>
    public required MetricAgreement? InsidePhaseFloor { get; init; }

    /// <summary>Null when the slice shows one phase only (no boundary to probe).</summary>
    public LipschitzTable? Lipschitz { get; init; }

    /// <summary>Box counts around the bisected boundary point; null without a boundary.</summary>
    public BoxCount? BoxCount { get; init; }

    public required IReadOnlyList<InterpolationPair> Pairs { get; init; }

    /// <summary>Geodesics under our metric (psi's Hessian, tabulated).</summary>
    public required GeodesicSolver Ours { get; init; }

    /// <summary>Geodesics under the pull-back of t -> x (pixel space, Shao et al.).</summary>
    public required GeodesicSolver PullbackOutput { get; init; }

    /// <summary>Geodesics under the pull-back of t -> f(x) (the fixed feature space, Wang et al.).</summary>
    public required GeodesicSolver PullbackFeature { get; init; }

    /// <summary>Rows of the training dataset.</summary>
    public required int TrainingRows { get; init; }

    /// <summary>The fitted posterior (lambda, centroids).</summary>
    public FeatureDistancePosteriorTransformer Posterior => (FeatureDistancePosteriorTransformer)Model.First();

    public FittedPsi Psi => Model.LastTransformer.LogPartition.Psi;

    /// <summary>Wall time of each stage in seconds, in the order they ran.</summary>
    public required IReadOnlyList<(string Stage, double Seconds)> Timings { get; init; }

    /// <summary>The four path names, in the order of every table.</summary>
    public static readonly string[] PathNames = ["ours", "pullback-output", "pullback-feature", "linear"];
}

/// <summary>
/// The known-score diffusion end to end (issue 6; METHOD §4b, §5, §6, §7): generate a latent-slice dataset, fit
/// FeatureDistancePosterior -> LogPartition -> FisherMetric on a K x K grid of the slice [0, 1]^2, read phase boundaries
/// off the metric and score them against the true phase map, measure the Lipschitz ratios and box-counting dimension of
/// a boundary, and compare interpolation paths (linear, geodesics of our metric and of the two pull-back baselines) by
/// their length in pixel and feature space and their curvature. <c>hessian run diffusion</c> is this plus
/// DiffusionReport.
/// </summary>
public static class DiffusionRun
{
    public static DiffusionRunResult Run(DiffusionRunOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options = options.Clone();
        options.Validate();
        var say = options.Progress ?? (_ => { });
        var timings = new List<(string, double)>();
        var clock = Stopwatch.StartNew();
        T Stage<T>(string name, Func<T> work)
        {
            say($"{name}...");
            clock.Restart();
            var result = work();
            timings.Add((name, clock.Elapsed.TotalSeconds));
            return result;
        }

        var settings = options.Slice;
        ulong seed = settings.Seed;
        int k = options.Grid;
        var box = new ParameterBox(0, 1, 0, 1);
        var (mixture, sampler, slice) = DiffusionSliceDataset.CreateSystem(settings);
        IGenerator generator = sampler.IsDeterministic ? sampler : new FixedNoise(sampler);
        var features = new RandomFeatureMap(settings.Dimension, options.FeatureDimension, seed);

        var data = Stage("generate the slice dataset", () => DiffusionSliceDataset.Generate(settings));

        double lambda = options.Lambda ?? PosteriorLambda(data, box, k, options.PosteriorWidth);
        say(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"posterior inverse temperature lambda = {lambda:G4}"));

        var hessian = new Microsoft.ML.MLContext(unchecked((int)seed)).Hessian();
        var logPartition = options.LogPartition.Clone();
        logPartition.Progress ??= options.Progress;
        var pipeline = Microsoft.ML.LearningPipelineExtensions.Append(hessian.FeatureDistancePosterior(new FeatureDistancePosteriorOptions
            {
                Grid = k, Box = box, Lambda = lambda, Seed = unchecked((int)seed),
            }), hessian.LogPartition(logPartition))
            .Append(hessian.FisherMetric());
        var model = Stage("fit the pipeline (feature-distance posterior -> psi -> metric)", () => pipeline.Fit(data));
        var psi = model.LastTransformer.LogPartition.Psi;
        var field = psi.Field(box, k);

        int fine = options.EffectivePhaseMapGrid;
        var phaseMap = Stage("true phase map", () => DiffusionSliceDataset.PhaseMap(generator, slice, mixture.Phase, fine));
        var truth = PhaseBoundary.TrueCells(phaseMap, fine, k);
        var (predicted, size, threshold) = PhaseBoundary.FromMetric(field);
        var score = PhaseBoundary.Score(predicted, truth, k, options.BoundaryTolerance);

        LipschitzTable? lipschitz = null;
        BoxCount? boxCount = null;
        if (phaseMap.Distinct().Count() > 1)
        {
            (lipschitz, boxCount) = Stage("Lipschitz probe and box counting", () =>
            {
                var far = LipschitzProbe.FarFromBoundary(generator, slice, mixture.Phase);
                // The nearest point of another phase on the fine map: the segment to it crosses one boundary.
                var pts = DiffusionSliceDataset.GridPoints(fine);
                int other = Enumerable.Range(0, phaseMap.Length).Where(i => phaseMap[i] != far.Phase)
                    .MinBy(i => Sq(pts[i].A - far.A) + Sq(pts[i].B - far.B));
                var edge = LipschitzProbe.BisectBoundary(generator, slice, mixture.Phase, (far.A, far.B), pts[other]);
                var across = (edge.OtherA - edge.A, edge.OtherB - edge.B);
                var steps = options.LipschitzSteps.ToArray();
                var table = new LipschitzTable(steps,
                    LipschitzProbe.Sensitivity(generator, slice, (edge.A, edge.B), across, steps),
                    LipschitzProbe.Sensitivity(generator, slice, (far.A, far.B), across, steps), edge, far);
                var count = LipschitzProbe.BoxCountingDimension(LipschitzProbe.PhaseFunction(generator, slice, mixture.Phase),
                    (edge.A, edge.B), options.BoxCountingWindow, [8, 16, 32, 64]);
                return (table, count);
            });
        }

        void Output(double a, double b, double[] x) => generator.Generate(slice.Latent(a, b), x, 0);
        void Feature(double a, double b, double[] f)
        {
            var x = new double[generator.OutputDimension];
            Output(a, b, x);
            features.Apply(x, f);
        }
        GeodesicOptions Geodesic(int resolution) => new() { Points = options.PathPoints, Resolution = resolution };
        var ours = new GeodesicSolver(new PsiMetricSource(psi), Geodesic(options.GeodesicResolution));
        int r = options.PullbackResolution;
        var outputMetric = PullbackMetric.ForTable(box, generator.OutputDimension, Output, r);
        var featureMetric = PullbackMetric.ForTable(box, features.FeatureDimension, Feature, r);
        var (insidePhase, insidePhaseFloor) = Stage("our metric inside the phases against the pixel pull-back",
            () => InsidePhaseAgreement(field, outputMetric, box, k, PhaseBoundary.InsidePhase(truth, k, options.BoundaryTolerance)));
        var pullOut = new GeodesicSolver(outputMetric, Geodesic(r));
        var pullFeat = new GeodesicSolver(featureMetric, Geodesic(r));
        Stage("tabulate the metrics (ours, pull-back in pixel space, pull-back in feature space)", () =>
        {
            ours.Prepare();
            pullOut.Prepare();
            pullFeat.Prepare();
            return 0;
        });

        var pairs = Stage("interpolation paths", () =>
        {
            var list = new List<InterpolationPair>();
            foreach (var (from, to, pf, pt) in Endpoints(generator, slice, mixture, options.Pairs, seed))
            {
                var paths = new List<InterpolationPath>();
                foreach (string name in DiffusionRunResult.PathNames)
                {
                    var solver = name switch { "ours" => ours, "pullback-output" => pullOut, "pullback-feature" => pullFeat, _ => null };
                    var (t1, t2) = solver is null ? Linear(from, to, options.PathPoints) : Points(solver.Solve(from.A, from.B, to.A, to.B));
                    if (name != "ours" && solver is not null)
                        (t1, t2) = SolveToMinimum(name == "pullback-output" ? outputMetric : featureMetric, (t1, t2), Linear(from, to, options.PathPoints),
                            options.PullbackRefinementSteps);
                    paths.Add(Score(name, t1, t2, generator, slice, features));
                }
                list.Add(new InterpolationPair(from, to, pf, pt, paths));
            }
            return list;
        });

        return new DiffusionRunResult
        {
            Options = options,
            Model = model,
            Mixture = mixture,
            Generator = generator,
            Slice = slice,
            FeatureMap = features,
            Field = field,
            PhaseMap = phaseMap,
            PhaseMapGrid = fine,
            TrueBoundary = truth,
            PredictedBoundary = predicted,
            RelativeMetricSize = size,
            BoundaryThreshold = threshold,
            Boundary = score,
            InsidePhase = insidePhase,
            InsidePhaseFloor = insidePhaseFloor,
            Lipschitz = lipschitz,
            BoxCount = boxCount,
            Pairs = pairs,
            Ours = ours,
            PullbackOutput = pullOut,
            PullbackFeature = pullFeat,
            TrainingRows = data.RowCount,
            Timings = timings,
        };
    }

    /// <summary>
    /// Endpoint pairs from the seed: uniform in [0.05, 0.95]^2, at least 0.3 apart, alternately in different phases and
    /// in the same phase (all in the same phase when the slice shows one). WHY both kinds: between phases every path
    /// must cross a boundary and the question is where; within a phase the straight line may still leave it, and a
    /// geodesic of a metric that sees boundaries should not.
    /// </summary>
    public static IReadOnlyList<((double A, double B) From, (double A, double B) To, int FromPhase, int ToPhase)> Endpoints(
        IGenerator generator, LatentSlice slice, GaussianMixture mixture, int count, ulong seed)
    {
        var rng = new SampleRandom(Gaussian.Derive(seed, 0x7061697273UL)); // "pairs"
        var phaseAt = LipschitzProbe.PhaseFunction(generator, slice, mixture.Phase);
        var result = new List<((double, double), (double, double), int, int)>();
        for (int p = 0; p < count; p++)
        {
            bool wantDifferent = p % 2 == 0;
            ((double, double), (double, double), int, int)? fallback = null;
            for (int attempt = 0; attempt < 200; attempt++)
            {
                var a = (rng.Uniform(0.05, 0.95), rng.Uniform(0.05, 0.95));
                var b = (rng.Uniform(0.05, 0.95), rng.Uniform(0.05, 0.95));
                if (Sq(a.Item1 - b.Item1) + Sq(a.Item2 - b.Item2) < 0.09) continue;
                int pa = phaseAt(a.Item1, a.Item2), pb = phaseAt(b.Item1, b.Item2);
                fallback ??= (a, b, pa, pb);
                if ((pa != pb) == wantDifferent) { fallback = (a, b, pa, pb); break; }
            }
            if (fallback is { } pair) result.Add(pair);
        }
        return result;
    }

    private static (double[] T1, double[] T2) Linear((double A, double B) from, (double A, double B) to, int n)
    {
        var (t1, t2) = (new double[n], new double[n]);
        for (int i = 0; i < n; i++)
        {
            double s = (double)i / (n - 1);
            (t1[i], t2[i]) = (from.A + s * (to.A - from.A), from.B + s * (to.B - from.B));
        }
        (t1[^1], t2[^1]) = (to.A, to.B);
        return (t1, t2);
    }

    private static (double[] T1, double[] T2) Points(GeodesicPath path) => (path.T1, path.T2);

    /// <summary>
    /// A pull-back baseline solved to its own minimum (<see cref="PullbackMetric.Refine"/>): the image-path energy refined
    /// from the table's geodesic and from the straight line, the one with the shorter image path kept (the table finds
    /// the route across phases; the straight line is often already near the minimum inside one). WHY length, not energy,
    /// decides: across a jump of the map the two disagree, and the baseline's claim is the shortest image path.
    /// </summary>
    public static (double[] T1, double[] T2) SolveToMinimum(PullbackMetric metric, (double[] T1, double[] T2) table,
        (double[] T1, double[] T2) straight, int steps)
    {
        if (steps == 0) return table;
        double[] Interleave((double[] T1, double[] T2) p) => Enumerable.Range(0, p.T1.Length).SelectMany(i => new[] { p.T1[i], p.T2[i] }).ToArray();
        // Central differences of a hundredth of the table's own step: a derivative, not the table's jump-sized stencil.
        double h = metric.Step / 100;
        var a = Interleave(table);
        var b = Interleave(straight);
        var best = metric.Refine(a, steps, h).Length <= metric.Refine(b, steps, h).Length ? a : b;
        return (Enumerable.Range(0, best.Length / 2).Select(i => best[2 * i]).ToArray(),
            Enumerable.Range(0, best.Length / 2).Select(i => best[2 * i + 1]).ToArray());
    }

    /// <summary>Generates along the path and scores it (METHOD §7).</summary>
    public static InterpolationPath Score(string name, double[] t1, double[] t2, IGenerator generator, LatentSlice slice, RandomFeatureMap features)
    {
        int n = t1.Length;
        var x = new double[n][];
        Parallel.For(0, n, i =>
        {
            x[i] = new double[generator.OutputDimension];
            generator.Generate(slice.Latent(t1[i], t2[i]), x[i], 0);
        });
        var f = x.Select(v => features.Apply(v)).ToArray();
        var plane = new double[2 * n];
        for (int i = 0; i < n; i++) (plane[2 * i], plane[2 * i + 1]) = (t1[i], t2[i]);
        return new InterpolationPath(name, t1, t2, x, PathScores.Length(x), PathScores.Length(f), CurveEnergy.Curvature(plane), PathScores.Curvature(x));
    }

    /// <summary>
    /// Our metric (<paramref name="field"/>, at the K x K cell centres of <paramref name="box"/>) against the pixel pull-back
    /// J^T J of t -> x at the cells inside a phase (<paramref name="cells"/>), at the best scale
    /// (<see cref="MetricFieldErrors.CompareMetrics(MetricField, MetricField, IEnumerable{int})"/>), and the floor: the
    /// nearest Hessian metric to J^T J there (<see cref="NearestHessianMetric"/>, at those cells off the grid's edge). Nulls
    /// when no cell is inside a phase (the floor also when none is off the edge). WHY this reference: the features here
    /// are the sample itself, and eq. 16's posterior exp(-lambda |x - mu(t')|^2) is the Bayes posterior of the likelihood
    /// x ~ N(mu(t), I / (2 lambda)), whose Fisher metric is 2 lambda J^T J: inside a phase, where x(t) is smooth, that is the
    /// exact answer. WHY the floor: J^T J need not be a Hessian in (a, b), and a fitted metric always is.
    /// </summary>
    public static (MetricAgreement? Ours, MetricAgreement? Floor) InsidePhaseAgreement(MetricField field, PullbackMetric pixels,
        ParameterBox box, int k, int[] cells)
    {
        ArgumentNullException.ThrowIfNull(field);
        ArgumentNullException.ThrowIfNull(pixels);
        ArgumentNullException.ThrowIfNull(cells);
        if (cells.Length == 0) return (null, null);
        var reference = MetricField.AtPoints([.. field.T1], [.. field.T2]);
        var (t1, t2) = (cells.Select(c => field.T1[c]).ToArray(), cells.Select(c => field.T2[c]).ToArray());
        var (g11, g12, g22) = pixels.Evaluate(t1, t2);
        for (int n = 0; n < cells.Length; n++)
            (reference.G11[cells[n]], reference.G12[cells[n]], reference.G22[cells[n]]) = (g11[n], g12[n], g22[n]);
        var (scale, error, median) = MetricFieldErrors.CompareMetrics(reference, field, cells);
        var ours = new MetricAgreement(cells.Length, scale, error, median);
        if (!cells.Any(c => NearestHessianMetric.OffTheEdge(c, k))) return (ours, null);
        var (used, nearest) = NearestHessianMetric.Fit(reference, box, k, cells);
        var (floorScale, floorError, floorMedian) = MetricFieldErrors.CompareMetrics(reference, nearest, used);
        return (ours, new MetricAgreement(used.Length, floorScale, floorError, floorMedian));
    }

    /// <summary>The run's inverse temperature: a posterior <paramref name="widthCells"/> cells wide inside a phase,
    /// <see cref="PhaseScaleLambda"/> x (K / width)^2 (see <see cref="DiffusionRunOptions.PosteriorWidth"/>).</summary>
    public static double PosteriorLambda(ColumnTable data, ParameterBox box, int k, double widthCells) =>
        PhaseScaleLambda(data, box, k) * Math.Pow(k / widthCells, 2);

    /// <summary>
    /// The slice-wide inverse temperature: lambda = 1 / (2 v^2), v^2 the median over neighbouring cells of the K x K grid
    /// of |mu_k - mu_k'|^2 / |t_k - t_k'|^2, the squared speed of t -> mean feature. Within a phase, where the feature
    /// moves at about speed v, the posterior exp(-lambda |f - mu(t')|^2) is then a Gaussian in t' of standard deviation
    /// 1 / (v sqrt(2 lambda)) = 1, as wide as the slice; across a boundary, where the sample jumps by |dx| much larger
    /// than v times a cell, exp(-lambda |dx|^2) cuts it off. The run scales it by (K / width)^2 so that the standard
    /// deviation is <see cref="DiffusionRunOptions.PosteriorWidth"/> cells (why 3: see there). The median ignores the few
    /// neighbour pairs that straddle a boundary. (The feature-distance
    /// posterior's own default, d / (2 m), is the Gaussian noise rule: on a deterministic slice m is dominated by the
    /// boundary cells' spread and the posterior comes out sharp within phases, measured: the metric then varies by less
    /// than a factor 2 over the slice and shows no boundary.)
    /// </summary>
    public static double PhaseScaleLambda(ColumnTable data, ParameterBox box, int k)
    {
        ArgumentNullException.ThrowIfNull(data);
        var t = data.GetColumn<float>("t").Span;
        var f = data.GetColumn<float>("features").Span;
        int d = f.Length / Math.Max(1, data.RowCount);
        var mu = FeatureDistancePosterior.Fit(f, d, t, box, k, k, 1).Centroids;
        double h1 = box.Width1 / k, h2 = box.Width2 / k;
        var speeds = new List<double>(2 * k * k);
        for (int i = 0; i < k; i++)
            for (int j = 0; j < k; j++)
            {
                if (i + 1 < k) speeds.Add(SquaredDistance(mu, (i * k + j) * d, ((i + 1) * k + j) * d, d) / (h1 * h1));
                if (j + 1 < k) speeds.Add(SquaredDistance(mu, (i * k + j) * d, (i * k + j + 1) * d, d) / (h2 * h2));
            }
        speeds.Sort();
        double v2 = speeds.Count == 0 ? 0 : speeds[speeds.Count / 2];
        if (!(v2 > 0))
            throw new ArgumentException("the slice's mean features do not move between neighbouring cells: no scale for lambda; give DiffusionRunOptions.Lambda");
        return 1 / (2 * v2);
    }

    private static double SquaredDistance(float[] a, int i, int j, int d)
    {
        double s = 0;
        for (int c = 0; c < d; c++) s += Sq(a[i + c] - a[j + c]);
        return s;
    }

    private static double Sq(double v) => v * v;

    /// <summary>A stochastic sampler with one fixed noise stream: a deterministic function of the latent (common random numbers).</summary>
    private sealed class FixedNoise(IGenerator inner) : IGenerator
    {
        public int LatentDimension => inner.LatentDimension;
        public int OutputDimension => inner.OutputDimension;
        public bool IsDeterministic => true;
        public void Generate(ReadOnlySpan<double> latent, Span<double> output, ulong noiseStream) => inner.Generate(latent, output, 0);
    }
}
