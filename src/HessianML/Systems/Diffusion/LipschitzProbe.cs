namespace HessianML.Systems.Diffusion;

/// <summary>A point of a slice found next to a phase boundary by <see cref="LipschitzProbe.BisectBoundary"/>.</summary>
/// <param name="A">Slice coordinate a of the point on the first endpoint's side.</param>
/// <param name="B">Slice coordinate b of that point.</param>
/// <param name="OtherA">a of the point on the other side, within <paramref name="Width"/>.</param>
/// <param name="OtherB">b of that point.</param>
/// <param name="Phase">Phase at (A, B).</param>
/// <param name="OtherPhase">Phase at (OtherA, OtherB).</param>
/// <param name="Width">Distance between the two points in slice coordinates (at most the tolerance asked for).</param>
public sealed record BoundaryPoint(double A, double B, double OtherA, double OtherB, int Phase, int OtherPhase, double Width);

/// <summary>A point of a slice whose phase is the same at every grid cell centre within <see cref="Distance"/>.</summary>
public sealed record InteriorPoint(double A, double B, int Phase, double Distance);

/// <summary>Box counts of a phase boundary: cell sizes, boundary-cell counts and the fitted dimension.</summary>
/// <param name="CellSizes">Side of the cells at each resolution.</param>
/// <param name="Counts">Number of cells the boundary passes through (corners not all in one phase).</param>
/// <param name="Dimension">Least-squares slope of log N against log(1 / size); 1 for a smooth curve, up to 2.</param>
public sealed record BoxCount(double[] CellSizes, int[] Counts, double Dimension);

/// <summary>
/// Sensitivity of a deterministic generator to its latent along a 2D slice, the paper's section 4.2 observations made
/// into numbers: finite-difference ratios |x(z(p + eps u)) - x(z(p))| / eps, which stay bounded inside a phase (they
/// converge to the directional derivative) and grow like 1 / eps at a phase boundary until eps reaches the width of
/// the transition; bisection onto a boundary; a point far from every boundary; and the box-counting dimension of the
/// boundary.
/// </summary>
public static class LipschitzProbe
{
    /// <summary>The decades 1e-1, 1e-2, ..., 1e-6 (the brief's range).</summary>
    public static double[] Decades(int first = 1, int last = 6) =>
        Enumerable.Range(first, last - first + 1).Select(k => Math.Pow(10, -k)).ToArray();

    /// <summary>
    /// |x(z(p + eps u)) - x(z(p))| / eps for each eps, with u = <paramref name="direction"/> scaled to unit length in
    /// (a, b): the finite-difference Lipschitz ratio of slice coordinates -> sample, in Euclidean norm.
    /// </summary>
    public static double[] Sensitivity(IGenerator generator, LatentSlice slice, (double A, double B) point,
        (double A, double B) direction, IReadOnlyList<double> eps)
    {
        CheckDeterministic(generator, slice);
        ArgumentNullException.ThrowIfNull(eps);
        double norm = Math.Sqrt(direction.A * direction.A + direction.B * direction.B);
        if (!(norm > 0) || !double.IsFinite(norm))
            throw new ArgumentException($"direction ({direction.A}, {direction.B}) must be a finite non-zero vector");
        var (ua, ub) = (direction.A / norm, direction.B / norm);
        var x0 = Sample(generator, slice, point.A, point.B);
        var result = new double[eps.Count];
        for (int k = 0; k < eps.Count; k++)
        {
            double e = eps[k];
            if (!(e > 0) || !double.IsFinite(e)) throw new ArgumentException($"step {e} must be positive and finite");
            var x1 = Sample(generator, slice, point.A + e * ua, point.B + e * ub);
            double ss = 0;
            for (int i = 0; i < x0.Length; i++) ss += (x1[i] - x0[i]) * (x1[i] - x0[i]);
            result[k] = Math.Sqrt(ss) / e;
        }
        return result;
    }

    /// <summary>
    /// Bisects the segment p -> q (whose ends must lie in different phases) down to <paramref name="tolerance"/>:
    /// the returned pair straddles a boundary. If the midpoint falls in a third phase, that phase becomes the far end's.
    /// </summary>
    public static BoundaryPoint BisectBoundary(IGenerator generator, LatentSlice slice, PhaseLabeller phaseOf,
        (double A, double B) p, (double A, double B) q, double tolerance = 1e-9)
    {
        CheckDeterministic(generator, slice);
        ArgumentNullException.ThrowIfNull(phaseOf);
        if (!(tolerance > 0)) throw new ArgumentOutOfRangeException(nameof(tolerance), $"tolerance {tolerance} must be positive");
        int pp = PhaseAt(generator, slice, phaseOf, p.A, p.B), pq = PhaseAt(generator, slice, phaseOf, q.A, q.B);
        if (pp == pq)
            throw new ArgumentException($"both ends ({p.A}, {p.B}) and ({q.A}, {q.B}) are in phase {pp}: no boundary to bisect");
        double width = Distance(p, q);
        // Each halving needs one sample; 200 caps a tolerance below what doubles can resolve.
        for (int it = 0; it < 200 && width > tolerance; it++)
        {
            var m = ((p.A + q.A) / 2, (p.B + q.B) / 2);
            if (m == p || m == q) break;
            int pm = PhaseAt(generator, slice, phaseOf, m.Item1, m.Item2);
            if (pm == pp) p = m;
            else { q = m; pq = pm; }
            width = Distance(p, q);
        }
        return new BoundaryPoint(p.A, p.B, q.A, q.B, pp, pq, width);
    }

    /// <summary>
    /// The cell centre of a G x G phase map of the unit square farthest from any centre of another phase (ties: the
    /// first in row order); <see cref="InteriorPoint.Distance"/> is that distance less one cell diagonal, a
    /// conservative radius within which the map saw no other phase.
    /// </summary>
    public static InteriorPoint FarFromBoundary(IGenerator generator, LatentSlice slice, PhaseLabeller phaseOf, int grid = 32)
    {
        CheckDeterministic(generator, slice);
        var map = DiffusionSliceDataset.PhaseMap(generator, slice, phaseOf, grid);
        var pts = DiffusionSliceDataset.GridPoints(grid);
        int best = 0;
        double bestD = -1;
        for (int i = 0; i < map.Length; i++)
        {
            double nearest = double.PositiveInfinity;
            for (int j = 0; j < map.Length; j++)
                if (map[j] != map[i]) nearest = Math.Min(nearest, Distance(pts[i], pts[j]));
            if (nearest > bestD) { bestD = nearest; best = i; }
        }
        double radius = double.IsPositiveInfinity(bestD) ? double.PositiveInfinity : bestD - Math.Sqrt(2) / grid;
        return new InteriorPoint(pts[best].A, pts[best].B, map[best], radius);
    }

    /// <summary>
    /// Box counts of the phase boundary in the square of side <paramref name="size"/> centred on
    /// <paramref name="centre"/>, at each resolution G of <paramref name="grids"/>: phases at the (G+1)^2 cell corners,
    /// a cell counts when its corners are not all in one phase. N ~ (1 / size)^D gives D by least squares; a smooth
    /// boundary gives 1, a boundary that fills the area 2. Call again with smaller sizes to see whether the dimension
    /// holds under repeated zoom (the paper's Fig. 6).
    /// </summary>
    public static BoxCount BoxCountingDimension(Func<double, double, int> phaseAt, (double A, double B) centre, double size,
        IReadOnlyList<int> grids, int maxThreads = -1)
    {
        ArgumentNullException.ThrowIfNull(phaseAt);
        ArgumentNullException.ThrowIfNull(grids);
        if (!(size > 0) || !double.IsFinite(size)) throw new ArgumentOutOfRangeException(nameof(size), $"box size {size} must be positive and finite");
        if (grids.Count < 2) throw new ArgumentException($"box counting needs at least two resolutions, got {grids.Count}");
        var sizes = new double[grids.Count];
        var counts = new int[grids.Count];
        for (int k = 0; k < grids.Count; k++)
        {
            int g = grids[k];
            if (g < 1 || g > 4096) throw new ArgumentOutOfRangeException(nameof(grids), $"resolution {g} must be in [1, 4096]");
            double lo = centre.A - size / 2, bo = centre.B - size / 2, h = size / g;
            var corner = new int[(g + 1) * (g + 1)];
            Parallel.For(0, g + 1, new ParallelOptions { MaxDegreeOfParallelism = maxThreads }, iy =>
            {
                for (int ix = 0; ix <= g; ix++) corner[iy * (g + 1) + ix] = phaseAt(lo + ix * h, bo + iy * h);
            });
            int n = 0;
            for (int iy = 0; iy < g; iy++)
            for (int ix = 0; ix < g; ix++)
            {
                int c = corner[iy * (g + 1) + ix];
                if (corner[iy * (g + 1) + ix + 1] != c || corner[(iy + 1) * (g + 1) + ix] != c || corner[(iy + 1) * (g + 1) + ix + 1] != c) n++;
            }
            sizes[k] = h;
            counts[k] = n;
        }
        // Slope of log N against log(1 / h) over the resolutions with a non-empty count.
        var xs = new List<double>();
        var ys = new List<double>();
        for (int k = 0; k < sizes.Length; k++)
            if (counts[k] > 0) { xs.Add(-Math.Log(sizes[k])); ys.Add(Math.Log(counts[k])); }
        double dim = double.NaN;
        if (xs.Count >= 2)
        {
            double mx = xs.Average(), my = ys.Average(), sxy = 0, sxx = 0;
            for (int i = 0; i < xs.Count; i++) { sxy += (xs[i] - mx) * (ys[i] - my); sxx += (xs[i] - mx) * (xs[i] - mx); }
            dim = sxy / sxx;
        }
        return new BoxCount(sizes, counts, dim);
    }

    /// <summary>The phase at slice point (a, b), as a function for <see cref="BoxCountingDimension"/> (thread-safe).</summary>
    public static Func<double, double, int> PhaseFunction(IGenerator generator, LatentSlice slice, PhaseLabeller phaseOf)
    {
        CheckDeterministic(generator, slice);
        ArgumentNullException.ThrowIfNull(phaseOf);
        return (a, b) => PhaseAt(generator, slice, phaseOf, a, b);
    }

    private static int PhaseAt(IGenerator generator, LatentSlice slice, PhaseLabeller phaseOf, double a, double b) =>
        phaseOf(Sample(generator, slice, a, b));

    private static double[] Sample(IGenerator generator, LatentSlice slice, double a, double b)
    {
        var z = slice.Latent(a, b);
        var x = new double[generator.OutputDimension];
        generator.Generate(z, x, 0);
        return x;
    }

    private static double Distance((double A, double B) p, (double A, double B) q) =>
        Math.Sqrt((p.A - q.A) * (p.A - q.A) + (p.B - q.B) * (p.B - q.B));

    private static void CheckDeterministic(IGenerator generator, LatentSlice slice)
    {
        ArgumentNullException.ThrowIfNull(generator);
        ArgumentNullException.ThrowIfNull(slice);
        if (!generator.IsDeterministic)
            throw new ArgumentException("the Lipschitz probe needs a deterministic generator (eta = 0): a stochastic sample is not a function of the latent");
        if (slice.Dimension != generator.LatentDimension)
            throw new ArgumentException($"slice dimension {slice.Dimension} differs from the generator's latent dimension {generator.LatentDimension}");
    }
}
