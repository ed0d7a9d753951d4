namespace HessianML.Geometry.Geodesics;

/// <summary>One geodesic: points (ends exactly the requested ends), metric arc length at each point, total length,
/// discrete energy of the output polyline (METHOD §5, no smoothness term) and curvature (METHOD §7).</summary>
public sealed record GeodesicPath(double[] T1, double[] T2, double[] CumulativeLength, double Length, double Energy, double Curvature)
{
    public int Count => T1.Length;
}

/// <summary>
/// Geodesics of one metric. The per-model work (tabulating g, the graph's edge costs) is done once, lazily and
/// thread-safely, and shared by every <see cref="Solve"/> call, which may run concurrently. Lengths, energies and
/// curvatures are measured with the tabulated (interpolated, floored) metric the paths were optimised under.
/// </summary>
public sealed class GeodesicSolver
{
    private readonly Lazy<TabulatedMetric> _metric;
    private readonly Lazy<MetricGraph> _graph;

    public GeodesicSolver(IMetricSource source, GeodesicOptions? options = null)
    {
        Source = source ?? throw new ArgumentNullException(nameof(source));
        Options = (options ?? new GeodesicOptions()).Clone();
        Options.Validate();
        _metric = new(() => TabulatedMetric.Create(source, Options.Resolution, Options.EigenvalueFloor));
        _graph = new(() => new MetricGraph(_metric.Value, Options.Neighbours));
    }

    /// <summary>A solver whose tabulation is already done (read back from a model file): the source is never sampled.</summary>
    internal GeodesicSolver(IMetricSource source, GeodesicOptions options, TabulatedMetric table) : this(source, options)
    {
        if (table.Resolution != Options.Resolution)
            throw new InvalidDataException($"metric table has {table.Resolution} nodes per side, the options say {Options.Resolution}");
        _metric = new(table); // (the graph's Lazy from the chained constructor reads this field, so it uses the table)
    }

    public IMetricSource Source { get; }

    /// <summary>Whether the metric has been tabulated (or read back with the model), so no more source evaluations are needed.</summary>
    public bool IsTabulated => _metric.IsValueCreated;

    public GeodesicOptions Options { get; }

    /// <summary>The tabulated metric (computed on first use).</summary>
    public TabulatedMetric Metric => _metric.Value;

    /// <summary>Does the per-model precomputation now (otherwise the first <see cref="Solve"/> does it).</summary>
    public void Prepare()
    {
        _ = _metric.Value;
        if (Options.Method == GeodesicMethod.Global) _ = _graph.Value;
    }

    /// <summary>The geodesic from a to b. Both must lie in the box (an <see cref="ArgumentException"/> otherwise).</summary>
    public GeodesicPath Solve(double a1, double a2, double b1, double b2)
    {
        var box = Source.Box;
        foreach (var (p, q, name) in new[] { (a1, a2, "start"), (b1, b2, "end") })
            if (!double.IsFinite(p) || !double.IsFinite(q) || !box.Contains(p, q))
                throw new ArgumentException($"geodesic {name} ({p}, {q}) is outside the box {box}");
        var metric = Metric;
        int n = Options.Points;
        double[] curve;
        if (Options.Method == GeodesicMethod.Global)
        {
            var (t1, t2) = _graph.Value.ShortestPath(a1, a2, b1, b2);
            var poly = new double[2 * t1.Length];
            for (int i = 0; i < t1.Length; i++) (poly[2 * i], poly[2 * i + 1]) = (t1[i], t2[i]);
            var refined = CurveEnergy.Resample(metric, poly, Math.Max(n, Options.MinimumRefinementPoints));
            CurveOptimizer.Lbfgs(metric, refined, 0, Options.RefinementSteps);
            curve = refined;
        }
        else
        {
            curve = new double[2 * n];
            for (int i = 0; i < n; i++)
            {
                double s = (double)i / (n - 1);
                (curve[2 * i], curve[2 * i + 1]) = (a1 + s * (b1 - a1), a2 + s * (b2 - a2));
            }
            (curve[^2], curve[^1]) = (b1, b2);
            CurveOptimizer.Adam(metric, curve, Options.Smoothness, Options.AdamSteps, Options.AdamLearningRate);
        }
        double length = CurveEnergy.SegmentLengths(metric, curve).Sum();
        var x = CurveEnergy.Resample(metric, curve, n);
        (x[0], x[1], x[^2], x[^1]) = (a1, a2, b1, b2);
        var p1 = new double[n];
        var p2 = new double[n];
        var cumulative = new double[n];
        for (int i = 0; i < n; i++)
        {
            (p1[i], p2[i]) = (x[2 * i], x[2 * i + 1]);
            cumulative[i] = length * i / (n - 1); // equidistant in metric length along the optimised curve
        }
        cumulative[^1] = length;
        return new GeodesicPath(p1, p2, cumulative, length, CurveEnergy.Evaluate(metric, x, 0, default), CurveEnergy.Curvature(x));
    }
}
