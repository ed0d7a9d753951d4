using HessianML.Posterior;

namespace HessianML.Geometry.Geodesics;

/// <summary>
/// A metric sampled once on the R x R vertex grid of its box (corners included) and interpolated bilinearly, with the
/// interpolant's exact gradient. This is the per-model precomputation every geodesic of that model shares: the
/// source (for a fitted psi, a Hessian evaluation) is called R^2 times, after which any g(t) costs a few flops.
/// <para>
/// Indefinite values: a learned psi can be slightly non-convex, and a metric with a non-positive eigenvalue would make
/// paths free (or negative) there. Each tabulated g is therefore replaced by V diag(max(lambda, floor)) V^T with
/// floor = <c>relativeFloor</c> x the largest eigenvalue on the grid (a scale-free floor). A convex combination of
/// SPD matrices is SPD, so the bilinear interpolant is SPD everywhere. <see cref="ClampedCount"/> says how many nodes
/// were clamped.
/// </para>
/// </summary>
public sealed class TabulatedMetric
{
    private readonly double[] _g; // 3 per node, node = i * R + j (i along t1)

    public ParameterBox Box { get; }

    /// <summary>Nodes per side (R); the grid has R - 1 cells per side.</summary>
    public int Resolution { get; }

    public double Step1 { get; }
    public double Step2 { get; }

    /// <summary>Nodes whose metric had an eigenvalue below the floor and was clamped.</summary>
    public int ClampedCount { get; }

    /// <summary>
    /// Of the clamped nodes, those where g was indefinite: smallest eigenvalue below -1e-9 x the largest trace on the grid
    /// (the rest were positive semi-definite but nearly degenerate, e.g. where the true metric is). A convex psi has none.
    /// </summary>
    public int IndefiniteCount { get; }

    /// <summary>The eigenvalue floor used (absolute).</summary>
    public double Floor { get; }

    private TabulatedMetric(ParameterBox box, int r, double[] g, int clamped, double floor, int indefinite)
    {
        (Box, Resolution, _g, ClampedCount, Floor, IndefiniteCount) = (box, r, g, clamped, floor, indefinite);
        Step1 = box.Width1 / (r - 1);
        Step2 = box.Width2 / (r - 1);
    }

    /// <summary>Samples <paramref name="source"/> on the <paramref name="resolution"/>^2 vertex grid and clamps eigenvalues.</summary>
    public static TabulatedMetric Create(IMetricSource source, int resolution, double relativeFloor = 1e-6)
    {
        ArgumentNullException.ThrowIfNull(source);
        var box = source.Box;
        if (!box.IsProper) throw new ArgumentException($"box {box} must have positive width on both axes");
        if (resolution < 3) throw new ArgumentOutOfRangeException(nameof(resolution), $"resolution {resolution} must be at least 3");
        int r = resolution, n = r * r;
        var t1 = new double[n];
        var t2 = new double[n];
        for (int i = 0; i < r; i++)
            for (int j = 0; j < r; j++)
            {
                // The last node is the upper edge exactly (no round-off outside the box).
                t1[i * r + j] = i == r - 1 ? box.Hi1 : box.Lo1 + i * box.Width1 / (r - 1);
                t2[i * r + j] = j == r - 1 ? box.Hi2 : box.Lo2 + j * box.Width2 / (r - 1);
            }
        var (a, b, c) = source.Evaluate(t1, t2);
        return FromNodeValues(box, r, a, b, c, relativeFloor, (k, what) => $"the metric is {what} at t = ({t1[k]}, {t2[k]})");
    }

    /// <summary>
    /// A table from values already known at the R x R vertex grid of <paramref name="box"/> (node k = i * R + j, i along
    /// t1; e.g. an exact answer computed on that grid), clamped as in <see cref="Create"/>.
    /// </summary>
    public static TabulatedMetric FromNodeValues(ParameterBox box, int resolution, double[] g11, double[] g12, double[] g22, double relativeFloor = 1e-6) =>
        FromNodeValues(box, resolution, g11, g12, g22, relativeFloor, (k, what) => $"the metric is {what} at node {k}");

    private static TabulatedMetric FromNodeValues(ParameterBox box, int r, double[] a, double[] b, double[] c, double relativeFloor,
        Func<int, string, string> where)
    {
        ArgumentNullException.ThrowIfNull(box);
        if (r < 3) throw new ArgumentOutOfRangeException(nameof(r), $"resolution {r} must be at least 3");
        if (!(relativeFloor > 0 && relativeFloor < 1)) throw new ArgumentOutOfRangeException(nameof(relativeFloor));
        int n = r * r;
        if (a.Length != n || b.Length != n || c.Length != n)
            throw new ArgumentException($"a {r} x {r} metric table needs {n} values of each entry, got {a.Length}, {b.Length}, {c.Length}");
        double top = 0, trace = 0;
        for (int k = 0; k < n; k++)
        {
            if (!double.IsFinite(a[k]) || !double.IsFinite(b[k]) || !double.IsFinite(c[k]))
                throw new ArgumentException(where(k, "not finite"));
            top = Math.Max(top, FisherMetricTransformer.Eigenvalues(a[k], b[k], c[k]).High);
            trace = Math.Max(trace, a[k] + c[k]);
        }
        if (!(top > 0)) throw new ArgumentException("the metric has no positive eigenvalue anywhere on the box");
        double floor = relativeFloor * top;
        var g = new double[3 * n];
        int clamped = 0, indefinite = 0;
        for (int k = 0; k < n; k++)
        {
            double ak = a[k], bk = b[k], ck = c[k];
            var (lo, hi) = FisherMetricTransformer.Eigenvalues(ak, bk, ck);
            if (lo >= floor)
            {
                (g[3 * k], g[3 * k + 1], g[3 * k + 2]) = (ak, bk, ck);
                continue;
            }
            clamped++;
            if (lo < -1e-9 * trace) indefinite++;
            // Unit eigenvector of the larger eigenvalue: (b, hi - a) or (hi - c, b), whichever is better conditioned.
            double v1, v2;
            if (Math.Abs(bk) < 1e-300 && Math.Abs(hi - ak) < 1e-300 && Math.Abs(hi - ck) < 1e-300) (v1, v2) = (1, 0);
            else if (Math.Abs(hi - ak) > Math.Abs(hi - ck)) (v1, v2) = (bk, hi - ak);
            else (v1, v2) = (hi - ck, bk);
            double norm = Math.Sqrt(v1 * v1 + v2 * v2);
            if (norm == 0) (v1, v2, norm) = (1, 0, 1);
            (v1, v2) = (v1 / norm, v2 / norm);
            double l1 = Math.Max(hi, floor), l0 = Math.Max(lo, floor);
            // g = l1 v v^T + l0 w w^T with w perpendicular to v.
            g[3 * k] = l1 * v1 * v1 + l0 * v2 * v2;
            g[3 * k + 1] = (l1 - l0) * v1 * v2;
            g[3 * k + 2] = l1 * v2 * v2 + l0 * v1 * v1;
        }
        return new TabulatedMetric(box, r, g, clamped, floor, indefinite);
    }

    /// <summary>The table itself: g11, g12, g22 per node, node = i * R + j (i along t1). Saved with a geodesic model.</summary>
    internal ReadOnlySpan<double> Values => _g;

    /// <summary>A table read back from a model file (see <see cref="Values"/>); refuses a wrong size or a non-SPD entry.</summary>
    internal static TabulatedMetric Restore(ParameterBox box, int resolution, double[] values, int clamped, double floor, int indefinite)
    {
        if (resolution < 3 || values.Length != 3L * resolution * resolution)
            throw new InvalidDataException($"metric table: {values.Length} values do not fill a {resolution} x {resolution} grid");
        for (int k = 0; k < values.Length; k += 3)
        {
            double a = values[k], b = values[k + 1], c = values[k + 2];
            if (!(a > 0 && c > 0 && a * c - b * b > 0))
                throw new InvalidDataException($"metric table: node {k / 3} ({a}, {b}, {c}) is not positive definite");
        }
        return new TabulatedMetric(box, resolution, values, clamped, floor, indefinite);
    }

    /// <summary>Tabulated g at node (i, j).</summary>
    public (double G11, double G12, double G22) Node(int i, int j)
    {
        int k = 3 * (i * Resolution + j);
        return (_g[k], _g[k + 1], _g[k + 2]);
    }

    /// <summary>The interpolated metric at t (clamped into the box).</summary>
    public (double G11, double G12, double G22) At(double t1, double t2)
    {
        Span<double> g = stackalloc double[3];
        Interpolate(t1, t2, g, default, default);
        return (g[0], g[1], g[2]);
    }

    /// <summary>
    /// Bilinear interpolant of g at t (clamped into the box) into <paramref name="g"/> (3), and, when the spans are
    /// not empty, its exact partial derivatives d g / d t1 and d g / d t2 (3 each). On a cell edge the derivative of
    /// the cell the point is floored into is used (the interpolant is only C0 there).
    /// </summary>
    public void Interpolate(double t1, double t2, Span<double> g, Span<double> d1, Span<double> d2)
    {
        double u = (Math.Clamp(t1, Box.Lo1, Box.Hi1) - Box.Lo1) / Step1;
        double v = (Math.Clamp(t2, Box.Lo2, Box.Hi2) - Box.Lo2) / Step2;
        int r = Resolution;
        int i = Math.Min((int)u, r - 2), j = Math.Min((int)v, r - 2);
        double fu = u - i, fv = v - j;
        int k00 = 3 * (i * r + j), k01 = k00 + 3, k10 = k00 + 3 * r, k11 = k10 + 3;
        bool grad = !d1.IsEmpty;
        for (int c = 0; c < 3; c++)
        {
            double a = _g[k00 + c], b = _g[k01 + c], e = _g[k10 + c], f = _g[k11 + c];
            g[c] = (1 - fu) * ((1 - fv) * a + fv * b) + fu * ((1 - fv) * e + fv * f);
            if (grad)
            {
                d1[c] = ((1 - fv) * (e - a) + fv * (f - b)) / Step1;
                d2[c] = ((1 - fu) * (b - a) + fu * (f - e)) / Step2;
            }
        }
    }

    /// <summary>
    /// Sub-segments a straight segment p -> q is cut into so that each spans at most one table cell per axis. WHY: the
    /// table is bilinear, so a segment longer than a cell can jump over a costly ridge or into a cheap (floored) region
    /// that its midpoint alone does not see; refined paths make such long segments exactly where the metric is small.
    /// </summary>
    public int Subdivisions(double p1, double p2, double q1, double q2) =>
        Math.Max(1, (int)Math.Ceiling(Math.Max(Math.Abs(q1 - p1) / Step1, Math.Abs(q2 - p2) / Step2) - 1e-9));

    /// <summary>Metric length of the straight segment p -> q: the midpoint rule on each of its <see cref="Subdivisions"/>.</summary>
    public double SegmentLength(double p1, double p2, double q1, double q2)
    {
        int n = Subdivisions(p1, p2, q1, q2);
        double d1 = (q1 - p1) / n, d2 = (q2 - p2) / n, length = 0;
        for (int s = 0; s < n; s++)
        {
            double w = (s + 0.5) / n;
            var (a, b, c) = At(p1 + w * (q1 - p1), p2 + w * (q2 - p2));
            length += Math.Sqrt(Math.Max(0, a * d1 * d1 + 2 * b * d1 * d2 + c * d2 * d2));
        }
        return length;
    }
}
