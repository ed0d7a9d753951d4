using System.Globalization;
using System.Text;
using HessianML.Data;
using HessianML.Geometry;
using HessianML.Geometry.Geodesics;
using HessianML.Posterior;

namespace HessianML.Evaluation;

/// <summary>One endpoint pair of a <see cref="GeodesicCheck"/>: every path's length measured on the exact metric.</summary>
/// <param name="From">Start (t1, t2).</param>
/// <param name="To">End (t1, t2).</param>
/// <param name="Ours">Our geodesic (global method) on the fitted metric.</param>
/// <param name="Adam">The released optimiser (Adam from the straight line) on the same fitted metric.</param>
/// <param name="Straight">The straight line.</param>
/// <param name="Optimum">The global method on the exact metric itself: the shortest length the table allows.</param>
public sealed record GeodesicPairLengths((double T1, double T2) From, (double T1, double T2) To,
    double Ours, double Adam, double Straight, double Optimum);

/// <summary>What <see cref="GeodesicCheck.Run"/> measured: per pair lengths, and how many fitted-metric nodes were floored.</summary>
public sealed record GeodesicCheckResult(IReadOnlyList<GeodesicPairLengths> Pairs, int FlooredNodes, int IndefiniteNodes, int Nodes, int ExactResolution)
{
    public static readonly string[] CsvColumns =
        ["pair", "from_t1", "from_t2", "to_t1", "to_t2", "ours", "adam", "straight", "exact_optimum"];

    /// <summary>The rows as a table (lengths on the exact metric), for <c>geodesics.csv</c>.</summary>
    public ColumnTable ToDataView()
    {
        double[] Col(Func<GeodesicPairLengths, double> f) => Pairs.Select(f).ToArray();
        double[][] columns =
        [
            Enumerable.Range(0, Pairs.Count).Select(i => (double)i).ToArray(),
            Col(p => p.From.T1), Col(p => p.From.T2), Col(p => p.To.T1), Col(p => p.To.T2),
            Col(p => p.Ours), Col(p => p.Adam), Col(p => p.Straight), Col(p => p.Optimum),
        ];
        var builder = new ColumnTable.Builder();
        foreach (var (name, column) in CsvColumns.Zip(columns)) builder.AddScalar(name, column);
        return builder.Build();
    }

    /// <summary>Printed lines: one per pair, then the floor count.</summary>
    public string Table()
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine(string.Create(inv,
            $"geodesics, lengths on the exact metric ({ExactResolution}x{ExactResolution} table): ours (global) / released Adam / straight line / exact optimum"));
        for (int i = 0; i < Pairs.Count; i++)
        {
            var p = Pairs[i];
            sb.AppendLine(string.Create(inv,
                $"  ({p.From.T1:G4}, {p.From.T2:G4}) -> ({p.To.T1:G4}, {p.To.T2:G4}): {p.Ours:F4} / {p.Adam:F4} / {p.Straight:F4} / {p.Optimum:F4}"));
        }
        sb.AppendLine(string.Create(inv,
            $"fitted metric's table: indefinite at {IndefiniteNodes} of {Nodes} nodes (0 expected: psi is convex); eigenvalue floor (1e-6 x the largest) fired at {FlooredNodes}"));
        return sb.ToString();
    }
}

/// <summary>
/// The issue-14 check of geodesics on a fitted metric: for fixed endpoint pairs across the box, our geodesic, the
/// released Adam method (both on the FITTED metric) and the straight line, all measured on the EXACT metric, beside the
/// exact metric's own shortest path. A fitted metric that is right gives geodesics close to that optimum and no longer
/// than the straight line. Lengths are measured on a bilinear table of the exact metric at the vertex grid (computed on
/// a box widened by half a cell so the exact answer's cell centres are the table's vertices), each path densified to
/// <see cref="MeasurePoints"/> points first so every path is measured alike.
/// </summary>
public static class GeodesicCheck
{
    /// <summary>Points each path is resampled to (linearly in t) before its exact length is summed.</summary>
    public const int MeasurePoints = 721;

    /// <summary>
    /// The default pairs, on the inner <paramref name="interiorFraction"/> of the box: both diagonals, across t2 at the
    /// middle of t1, and across t2 at the inner upper edge of t1 (for Ising, h across 0 at low temperature, where the
    /// ridge is).
    /// </summary>
    public static ((double, double) From, (double, double) To)[] DefaultPairs(ParameterBox box, double interiorFraction = 0.8)
    {
        double m1 = (1 - interiorFraction) / 2 * box.Width1, m2 = (1 - interiorFraction) / 2 * box.Width2;
        double lo1 = box.Lo1 + m1, hi1 = box.Hi1 - m1, lo2 = box.Lo2 + m2, hi2 = box.Hi2 - m2, c1 = (box.Lo1 + box.Hi1) / 2;
        return [((lo1, lo2), (hi1, hi2)), ((lo1, hi2), (hi1, lo2)), ((c1, lo2), (c1, hi2)), ((hi1, lo2), (hi1, hi2))];
    }

    public static GeodesicCheckResult Run(FittedPsi psi, Func<ParameterBox, int, MetricField> exact,
        ((double, double) From, (double, double) To)[] pairs, GeodesicOptions? options = null, int exactResolution = 65)
    {
        ArgumentNullException.ThrowIfNull(psi);
        ArgumentNullException.ThrowIfNull(exact);
        var box = psi.Box;
        var o = (options ?? new GeodesicOptions()).Clone();
        // Exact answer at the r x r vertices of the box: the cell centres of an r x r grid on the box widened by half a step.
        int r = exactResolution;
        double h1 = box.Width1 / (r - 1) / 2, h2 = box.Width2 / (r - 1) / 2;
        var onVertices = exact(new ParameterBox(box.Lo1 - h1, box.Hi1 + h1, box.Lo2 - h2, box.Hi2 + h2), r);
        var exactTable = TabulatedMetric.FromNodeValues(box, r, onVertices.G11, onVertices.G12, onVertices.G22, o.EigenvalueFloor);

        o.Method = GeodesicMethod.Global;
        var ours = new GeodesicSolver(new PsiMetricSource(psi), o);
        var adamOptions = o.Clone();
        adamOptions.Method = GeodesicMethod.Adam;
        var adam = new GeodesicSolver(new PsiMetricSource(psi), adamOptions, ours.Metric); // one tabulation for both
        var exactOptions = o.Clone();
        exactOptions.Resolution = r;
        var optimum = new GeodesicSolver(new TableMetricSource(exactTable), exactOptions, exactTable);

        var rows = new List<GeodesicPairLengths>();
        foreach (var ((a1, a2), (b1, b2)) in pairs)
        {
            double Exact(GeodesicPath p) => ExactLength(exactTable, p.T1, p.T2);
            rows.Add(new GeodesicPairLengths((a1, a2), (b1, b2),
                Exact(ours.Solve(a1, a2, b1, b2)), Exact(adam.Solve(a1, a2, b1, b2)),
                ExactLength(exactTable, [a1, b1], [a2, b2]), Exact(optimum.Solve(a1, a2, b1, b2))));
        }
        return new GeodesicCheckResult(rows, ours.Metric.ClampedCount, ours.Metric.IndefiniteCount, ours.Metric.Resolution * ours.Metric.Resolution, r);
    }

    /// <summary>Length of the polyline (t1[i], t2[i]) on <paramref name="table"/>, densified to <see cref="MeasurePoints"/> points by arc length in t.</summary>
    public static double ExactLength(TabulatedMetric table, double[] t1, double[] t2)
    {
        int n = t1.Length;
        var cum = new double[n];
        for (int i = 1; i < n; i++) cum[i] = cum[i - 1] + Math.Sqrt(Sq(t1[i] - t1[i - 1]) + Sq(t2[i] - t2[i - 1]));
        var x = new double[2 * MeasurePoints];
        int seg = 0;
        for (int q = 0; q < MeasurePoints; q++)
        {
            double s = cum[^1] * q / (MeasurePoints - 1);
            while (seg < n - 2 && cum[seg + 1] < s) seg++;
            double span = cum[seg + 1] - cum[seg], f = span > 0 ? Math.Clamp((s - cum[seg]) / span, 0, 1) : 0;
            (x[2 * q], x[2 * q + 1]) = (t1[seg] + f * (t1[seg + 1] - t1[seg]), t2[seg] + f * (t2[seg + 1] - t2[seg]));
        }
        return CurveEnergy.SegmentLengths(table, x).Sum();

        static double Sq(double v) => v * v;
    }

    /// <summary>A tabulated metric as a source (its own interpolant), so the solver can run on an exact table.</summary>
    private sealed class TableMetricSource(TabulatedMetric table) : IMetricSource
    {
        public ParameterBox Box => table.Box;

        public (double[] G11, double[] G12, double[] G22) Evaluate(double[] t1, double[] t2)
        {
            int n = t1.Length;
            var (a, b, c) = (new double[n], new double[n], new double[n]);
            for (int i = 0; i < n; i++) (a[i], b[i], c[i]) = table.At(t1[i], t2[i]);
            return (a, b, c);
        }
    }
}
