using HessianML.Geometry;
using HessianML.Geometry.Geodesics;
using HessianML.Posterior;

namespace HessianML.Figures;

/// <summary>
/// One pair of endpoints and three curves between them, each measured under the same tabulated metric: our geodesic
/// (the global method), the released Adam optimiser's (straight-line start), and the straight line itself.
/// </summary>
public sealed record GeodesicComparison((double T1, double T2) From, (double T1, double T2) To,
    GeodesicPath Ours, GeodesicPath Adam, double[] LineT1, double[] LineT2, double LineLength)
{
    /// <summary>Both diagonals of the box between its corner cells' centres (K x K cells): the pairs the run figures draw.</summary>
    public static ((double, double) From, (double, double) To)[] CornerPairs(ParameterBox box, int k)
    {
        var c = box.CellCentres(k, k);
        (double, double) lo = (c[0], c[1]), hi = (c[^2], c[^1]);
        return [(lo, hi), ((lo.Item1, hi.Item2), (hi.Item1, lo.Item2))];
    }

    /// <summary>
    /// The three curves for each pair under the Fisher metric of <paramref name="psi"/> (one tabulation, shared).
    /// <paramref name="options"/> sets points and resolution; its method is ignored (both are run).
    /// </summary>
    public static IReadOnlyList<GeodesicComparison> Compute(FittedPsi psi, IEnumerable<((double, double) From, (double, double) To)> pairs, GeodesicOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(psi);
        var source = new PsiMetricSource(psi);
        var global = (options ?? new GeodesicOptions()).Clone();
        global.Method = GeodesicMethod.Global;
        var adam = global.Clone();
        adam.Method = GeodesicMethod.Adam;
        var ours = new GeodesicSolver(source, global);
        var released = new GeodesicSolver(source, adam, ours.Metric); // one tabulation for both
        var result = new List<GeodesicComparison>();
        foreach (var (from, to) in pairs)
        {
            int n = global.Points;
            var line = new double[2 * n];
            var (l1, l2) = (new double[n], new double[n]);
            for (int i = 0; i < n; i++)
            {
                double s = (double)i / (n - 1);
                (l1[i], l2[i]) = (from.Item1 + s * (to.Item1 - from.Item1), from.Item2 + s * (to.Item2 - from.Item2));
                (line[2 * i], line[2 * i + 1]) = (l1[i], l2[i]);
            }
            result.Add(new GeodesicComparison(from, to,
                ours.Solve(from.Item1, from.Item2, to.Item1, to.Item2),
                released.Solve(from.Item1, from.Item2, to.Item1, to.Item2),
                l1, l2, CurveEnergy.SegmentLengths(ours.Metric, line).Sum()));
        }
        return result;
    }
}
