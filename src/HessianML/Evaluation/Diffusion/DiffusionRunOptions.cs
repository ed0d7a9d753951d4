using HessianML.Geometry;
using HessianML.Geometry.Geodesics;
using HessianML.Systems.Diffusion;

namespace HessianML.Evaluation.Diffusion;

/// <summary>Settings of <see cref="DiffusionRun"/>. Every default says why; the defaults are `hessian run diffusion`'s.</summary>
public sealed class DiffusionRunOptions
{
    /// <summary>
    /// The system and the training slice dataset, generated exactly as these settings say. Default: the known-score
    /// diffusion's defaults (4 colour-pattern components, d = 192 = 8 x 8 RGB, s = 0.1, 50 DDIM steps, eta 0, seed 1) on a
    /// 96 x 96 grid of points. WHY a grid at eta = 0: the sample is then a function of the point, so a second sample at
    /// the same point adds nothing, and what the centroids mu_k of eq. 16 need is coverage of each cell: a regular grid
    /// gives every cell of the 24 x 24 posterior grid the same 16 points at the same sub-positions (each centroid the
    /// midpoint rule for the cell's mean feature), where 9216 random points would give cells 16 +- 4 and uneven centroids.
    /// For eta &gt; 0 each row draws its own noise stream, so the same grid gives independent samples.
    /// </summary>
    public DiffusionSliceSettings Slice { get; set; } = new() { Grid = 96 };

    /// <summary>Side K of the posterior grid, and of metric.csv and the boundary maps. Default 24 (PosteriorGrid's and METHOD §8's).</summary>
    public int Grid { get; set; } = 24;

    /// <summary>Inverse temperature of the feature-distance posterior; null (default) for the run's rule, set by
    /// <see cref="PosteriorWidth"/> (see <see cref="DiffusionRun.PhaseScaleLambda"/>).</summary>
    public double? Lambda { get; set; }

    /// <summary>
    /// Standard deviation, in cells of the K x K grid, of the posterior of a sample inside a phase (lambda =
    /// K^2 / (2 v^2 width^2), v the slice's median feature speed; see <see cref="DiffusionRun.PhaseScaleLambda"/>).
    /// Default 3. WHY: wide enough that neighbouring cells' posteriors overlap, so the psi fit sees the geometry within
    /// a phase, narrow enough that the posterior knows where in the phase a sample is. Measured (seeds 1-3, 4 pairs
    /// each): with width K (a posterior as wide as the slice) the metric is indefinite at 70% of the cells, flat within
    /// phases, and our geodesics inside a phase come out 4-90% longer in pixels than the straight line; with width 3,
    /// 21-23% indefinite, inside a phase 0-8% longer, and boundary precision 0.96-0.99 became 0.98-1.00 (recall 1.00
    /// throughout). Width 2 lost recall (0.67 on seed 3).
    /// </summary>
    public double PosteriorWidth { get; set; } = 3;

    /// <summary>
    /// The psi fit. Default: JSD (the paper's loss) on a 24-per-axis spline, 40 epochs. WHY JSD: log-posterior least
    /// squares cannot be used here, since at eta = 0 a posterior puts no mass across a boundary, so no row ties the two
    /// sides' gauges together and its linear system is singular (measured: it fails). WHY 24 splines: the boundary is a
    /// crease of psi, which a coarser spline smears and rings around more (measured on the default slice, 30 epochs:
    /// boundary precision at 10 x the median 0.76 with 24, 0.79 with 16 but a ridge twice as wide). WHY 40 epochs: the
    /// fit is most of the run's time (about 0.9 s per epoch on 2 cores) and the ridge is in place by then.
    /// </summary>
    public LogPartitionOptions LogPartition { get; set; } = new() { SplineCount = 24, Epochs = 40 };

    /// <summary>
    /// Side F of the true phase map (cell centres of the unit square), a multiple of <see cref="Grid"/>. Default null: 4 K,
    /// so each cell of the K x K grid is judged a boundary cell from 16 points inside it.
    /// </summary>
    public int? PhaseMapGrid { get; set; }

    /// <summary>Boundary precision / recall tolerance in cells (Chebyshev distance). Default 1 (see <see cref="PhaseBoundary.Score"/>).</summary>
    public int BoundaryTolerance { get; set; } = 1;

    /// <summary>Finite-difference steps of the Lipschitz table. Default 1e-1 .. 1e-6 (the decades the probe is tested on).</summary>
    public IReadOnlyList<double> LipschitzSteps { get; set; } = LipschitzProbe.Decades();

    /// <summary>
    /// Side of the window around the bisected boundary point in which the box-counting dimension is measured, at
    /// resolutions 8, 16, 32, 64. Default 0.1 (a tenth of the slice: (64 + 1)^2 samples, well under a second).
    /// </summary>
    public double BoxCountingWindow { get; set; } = 0.1;

    /// <summary>
    /// Endpoint pairs of the interpolation comparison. Default 4: alternately a pair in different phases and a pair in
    /// the same phase, drawn from the seed (uniform in [0.05, 0.95]^2, at least 0.3 apart).
    /// </summary>
    public int Pairs { get; set; } = 4;

    /// <summary>Points per path (linear and geodesic). Default 90, the released code's n (METHOD §5).</summary>
    public int PathPoints { get; set; } = 90;

    /// <summary>Nodes per side of the table our metric is sampled on for geodesics. Default 129, <see cref="GeodesicOptions.Resolution"/>'s.</summary>
    public int GeodesicResolution { get; set; } = new GeodesicOptions().Resolution;

    /// <summary>
    /// Nodes per side R of the table each pull-back metric is sampled on (and its finite-difference step, half the
    /// spacing: <see cref="PullbackMetric.ForTable"/>). Default 65: the table costs 4 R^2 generations per pull-back
    /// (16 900 at 65, a few seconds on 2 cores; 129 would be four times that), and 64 cells per side are already finer
    /// than the 24-cell grid our own metric is learned on, so the pull-backs are not handicapped by their resolution.
    /// </summary>
    public int PullbackResolution { get; set; } = 65;

    /// <summary>
    /// L-BFGS steps that solve each pull-back baseline to its own minimum on the image path's energy
    /// (<see cref="Geometry.Geodesics.PullbackMetric.Refine"/>), from the table's geodesic and from the straight line.
    /// Default 200; 0 keeps the table's geodesic. WHY: issue 14 measured the table's pull-back geodesics 12% longer in
    /// pixels than the straight line (seed 7), although that length is what they minimise.
    /// </summary>
    public int PullbackRefinementSteps { get; set; } = 200;

    /// <summary>Length m of the fixed feature map (<see cref="RandomFeatureMap"/>). Default 64: a third of d = 192, still a map of pictures, not of pixels.</summary>
    public int FeatureDimension { get; set; } = 64;

    /// <summary>Images drawn along each path in paths.png. Default 10.</summary>
    public int ImagesPerPath { get; set; } = 10;

    /// <summary>Receives one line per stage; null for silence.</summary>
    public Action<string>? Progress { get; set; }

    internal int EffectivePhaseMapGrid => PhaseMapGrid ?? 4 * Grid;

    internal DiffusionRunOptions Clone() => (DiffusionRunOptions)MemberwiseClone();

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first bad option.</summary>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(Slice, nameof(Slice));
        ArgumentNullException.ThrowIfNull(LogPartition, nameof(LogPartition));
        ArgumentNullException.ThrowIfNull(LipschitzSteps, nameof(LipschitzSteps));
        Slice.Validate();
        static void Check(bool ok, string what)
        {
            if (!ok) throw new ArgumentException("diffusion run: " + what);
        }
        Check(Grid >= 4 && Grid <= 128, $"grid {Grid} must be in [4, 128]");
        Check(Lambda is null || (Lambda > 0 && double.IsFinite(Lambda.Value)), $"lambda {Lambda} must be positive and finite");
        Check(PosteriorWidth > 0 && double.IsFinite(PosteriorWidth), $"posterior width {PosteriorWidth} cells must be positive and finite");
        int f = EffectivePhaseMapGrid;
        Check(f >= Grid && f % Grid == 0 && f <= 1024, $"phase-map grid {f} must be a multiple of the grid {Grid}, at most 1024");
        Check(BoundaryTolerance >= 0 && BoundaryTolerance <= Grid, $"boundary tolerance {BoundaryTolerance} must be in [0, {Grid}]");
        Check(LipschitzSteps.Count >= 2 && LipschitzSteps.All(e => e > 0 && e < 1), "Lipschitz steps must be at least two numbers in (0, 1)");
        Check(BoxCountingWindow > 0 && BoxCountingWindow <= 1, $"box-counting window {BoxCountingWindow} must be in (0, 1]");
        Check(Pairs >= 0 && Pairs <= 64, $"pairs {Pairs} must be in [0, 64]");
        Check(PathPoints >= 3 && PathPoints <= 1000, $"path points {PathPoints} must be in [3, 1000]");
        Check(GeodesicResolution >= 9 && GeodesicResolution <= 513, $"geodesic resolution {GeodesicResolution} must be in [9, 513]");
        Check(PullbackResolution >= 9 && PullbackResolution <= 257, $"pull-back resolution {PullbackResolution} must be in [9, 257]");
        Check(PullbackRefinementSteps >= 0 && PullbackRefinementSteps <= 100000, $"pull-back refinement steps {PullbackRefinementSteps} must be in [0, 100000]");
        Check(FeatureDimension >= 1 && FeatureDimension <= 4096, $"feature dimension {FeatureDimension} must be in [1, 4096]");
        Check(ImagesPerPath >= 2 && ImagesPerPath <= PathPoints, $"images per path {ImagesPerPath} must be in [2, path points {PathPoints}]");
    }
}
