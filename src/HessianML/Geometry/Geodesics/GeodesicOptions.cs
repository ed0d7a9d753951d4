namespace HessianML.Geometry.Geodesics;

/// <summary>How a geodesic is found.</summary>
public enum GeodesicMethod
{
    /// <summary>Dijkstra on the metric grid (global), then L-BFGS on the energy, then resampling. The default.</summary>
    Global,

    /// <summary>The released method (METHOD §5): straight-line start, Adam, smoothness term. Local only; for comparison.</summary>
    Adam,
}

/// <summary>Options of <see cref="GeodesicEstimator"/> and <see cref="GeodesicSolver"/>. Every default says why.</summary>
public sealed class GeodesicOptions
{
    /// <summary>Column of path starts (Float32 vector[2]). Default "from".</summary>
    public string FromColumnName { get; set; } = "from";

    /// <summary>Column of path ends (Float32 vector[2]). Default "to".</summary>
    public string ToColumnName { get; set; } = "to";

    /// <summary>Points per output path, ends included. Default 90: the released code's n (METHOD §5).</summary>
    public int Points { get; set; } = 90;

    /// <summary>Global (default: finds the shortest geodesic, not the local minimum nearest the straight line) or Adam.</summary>
    public GeodesicMethod Method { get; set; } = GeodesicMethod.Global;

    /// <summary>
    /// Nodes per side of the grid the metric is tabulated on (and Dijkstra runs on). Default 129 (128 cells): the
    /// bilinear interpolant's relative error is O(h^2) ~ 1e-4 for smooth metrics, far below a fitted psi's own metric
    /// error, and tabulating plus all edge costs take tens of milliseconds for a spline psi.
    /// </summary>
    public int Resolution { get; set; } = 129;

    /// <summary>Grid neighbours, 8 or 16. Default 16: the grid path's worst direction error drops from ~8% to ~3%, so it starts
    /// the refinement closer to the geodesic (in the right basin) for twice the edges.</summary>
    public int Neighbours { get; set; } = 16;

    /// <summary>Maximum L-BFGS iterations of the global method's refinement. Default 2000: it usually stops on its own
    /// tolerance after a few hundred; each iteration costs O(points).</summary>
    public int RefinementSteps { get; set; } = 2000;

    /// <summary>Points used during the global refinement (then resampled to <see cref="Points"/>); at least Points.
    /// Default 65: enough that a short output path (small Points) is still the length of the curve, not of its chords.</summary>
    public int MinimumRefinementPoints { get; set; } = 65;

    /// <summary>Adam steps of the released method. Default 5000 (released).</summary>
    public int AdamSteps { get; set; } = 5000;

    /// <summary>Adam learning rate of the released method. Default 0.01 (released).</summary>
    public double AdamLearningRate { get; set; } = 0.01;

    /// <summary>Weight of the released smoothness term sum |dt_{j+1} - dt_j|^2, used by the Adam method only. Default 0.1
    /// (released). The global method uses none: the term biases the minimiser away from the geodesic.</summary>
    public double Smoothness { get; set; } = 0.1;

    /// <summary>Eigenvalue floor relative to the largest eigenvalue on the grid (see <see cref="TabulatedMetric"/>).
    /// Default 1e-6: keeps path costs positive where a learned psi is slightly non-convex, without changing convex regions.</summary>
    public double EigenvalueFloor { get; set; } = 1e-6;

    public GeodesicOptions Clone() => (GeodesicOptions)MemberwiseClone();

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first bad option.</summary>
    public void Validate()
    {
        if (string.IsNullOrEmpty(FromColumnName) || string.IsNullOrEmpty(ToColumnName))
            throw new ArgumentException("geodesic: column names must not be empty");
        if (Points < 2) throw new ArgumentException($"geodesic: Points {Points} must be at least 2");
        if (Resolution < 3 || Resolution > 4097) throw new ArgumentException($"geodesic: Resolution {Resolution} must be in [3, 4097]");
        if (Neighbours != 8 && Neighbours != 16) throw new ArgumentException($"geodesic: Neighbours {Neighbours} must be 8 or 16");
        if (RefinementSteps < 0) throw new ArgumentException($"geodesic: RefinementSteps {RefinementSteps} must be >= 0");
        if (MinimumRefinementPoints < 2) throw new ArgumentException($"geodesic: MinimumRefinementPoints {MinimumRefinementPoints} must be >= 2");
        if (AdamSteps < 0) throw new ArgumentException($"geodesic: AdamSteps {AdamSteps} must be >= 0");
        if (!(AdamLearningRate > 0)) throw new ArgumentException($"geodesic: AdamLearningRate {AdamLearningRate} must be positive");
        if (!(Smoothness >= 0)) throw new ArgumentException($"geodesic: Smoothness {Smoothness} must be >= 0");
        if (!(EigenvalueFloor > 0 && EigenvalueFloor < 1)) throw new ArgumentException($"geodesic: EigenvalueFloor {EigenvalueFloor} must be in (0, 1)");
        if (!Enum.IsDefined(Method)) throw new ArgumentException($"geodesic: unknown method {Method}");
    }
}
