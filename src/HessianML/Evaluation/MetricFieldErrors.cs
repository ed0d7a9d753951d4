using HessianML.Geometry;
using HessianML.Posterior;

namespace HessianML.Evaluation;

/// <summary>
/// The error table of METHOD.md §7 for one estimate against the exact answer, after the free positive scale and
/// affine part have been fitted: psi is identifiable only up to psi -> a psi + &lt;b, t&gt; + c (and a finite bundle
/// of N samples learns N psi), so comparing raw values would measure the gauge, not the geometry.
/// <para>
/// Beside the rms figures, two per-cell figures of the metric (the product): <see cref="MedianCellMetricError"/>,
/// the median over the region's cells of || G*_i - a G_i ||_F / || G*_i ||_F, and <see cref="IndefiniteFraction"/>,
/// the share of the region's cells where the estimate's own G has an eigenvalue below -1e-9 x the largest |trace| of
/// that field over the region. The rms metric error is dominated by the cells where g is largest (near a transition);
/// these two say whether the metric is right where it is small, which is most of the map.
/// </para>
/// </summary>
public sealed record MetricFieldErrors(
    int Points,
    double Scale,
    double Slope1,
    double Slope2,
    double Offset,
    double RmsePsi,
    double NrmsePsi,
    double RmseD1,
    double NrmseD1,
    double RmseD2,
    double NrmseD2,
    double MetricError,
    double MedianCellMetricError,
    double IndefiniteFraction,
    double ExactNotPositiveDefiniteFraction)
{
    /// <summary>
    /// A cell's G counts as indefinite when its smallest eigenvalue is below -<see cref="IndefiniteTolerance"/> times
    /// the largest |trace| of the same field over the region (so rounding in a near-singular cell is not counted).
    /// </summary>
    public const double IndefiniteTolerance = 1e-9;

    /// <summary>
    /// Median over the region's cells of the per-cell metric error || G*_i - a G_i ||_F / || G*_i ||_F (Frobenius norm
    /// of the symmetric 2 x 2, the off-diagonal entry counted twice; a the fitted psi scale <see cref="Scale"/>). A cell
    /// whose error is undefined (NaN) counts as the worst; a cell with G* = 0 has error 0 if a G is 0 there too, else
    /// infinity. With an even number of cells, the mean of the two middle values.
    /// </summary>
    public double MedianCellMetricError { get; init; } = MedianCellMetricError;

    /// <summary>
    /// Share of the region's cells where the estimate's G (the fitted metric itself, before the scale a) has its
    /// smallest eigenvalue below -<see cref="IndefiniteTolerance"/> x max over the region of |trace G|. A Hessian of a
    /// convex psi has none; an indefinite cell is a saddle of the fitted psi, where the "metric" is not a metric.
    /// </summary>
    public double IndefiniteFraction { get; init; } = IndefiniteFraction;

    /// <summary>
    /// A check on the reference, not a score: share of the region's cells where the EXACT G* is not positive definite
    /// (smallest eigenvalue &lt;= 0). A log-partition function is convex, so this should be 0; a non-zero value means
    /// the exact answer itself is suspect there (or singular at that precision).
    /// </summary>
    public double ExactNotPositiveDefiniteFraction { get; init; } = ExactNotPositiveDefiniteFraction;

    /// <summary>
    /// Compares <paramref name="estimate"/> with <paramref name="exact"/> at their common points (same order), using
    /// only points inside <paramref name="region"/> when given (e.g. the inner 80% of the box).
    /// </summary>
    public static MetricFieldErrors Compare(MetricField exact, MetricField estimate, ParameterBox? region = null)
    {
        if (exact.Count != estimate.Count)
            throw new ArgumentException($"exact field has {exact.Count} points, the estimate {estimate.Count}");
        for (int i = 0; i < exact.Count; i++)
            if (Math.Abs(exact.T1[i] - estimate.T1[i]) > 1e-9 || Math.Abs(exact.T2[i] - estimate.T2[i]) > 1e-9)
                throw new ArgumentException($"point {i} differs: exact ({exact.T1[i]}, {exact.T2[i]}), " +
                                            $"estimate ({estimate.T1[i]}, {estimate.T2[i]})");
        var use = Enumerable.Range(0, exact.Count)
            .Where(i => region is null || region.Contains(exact.T1[i], exact.T2[i])).ToArray();
        if (use.Length < 4)
            throw new ArgumentException($"only {use.Length} points inside the evaluation region; need at least 4");

        // a psi_hat + b1 t1 + b2 t2 + c ~ psi*: four-parameter least squares.
        var design = use.Select(i => new[] { estimate.Psi[i], exact.T1[i], exact.T2[i], 1.0 }).ToArray();
        var fit = LeastSquares(design, use.Select(i => exact.Psi[i]).ToArray());
        double a = fit[0], b1 = fit[1], b2 = fit[2], c = fit[3];

        // The exact psi's own best affine fit gives the scale against which psi's error is normalised.
        var affineOnly = LeastSquares(use.Select(i => new[] { exact.T1[i], exact.T2[i], 1.0 }).ToArray(),
            use.Select(i => exact.Psi[i]).ToArray());
        double rmsePsi = Rms(use, i => exact.Psi[i] - a * estimate.Psi[i] - b1 * exact.T1[i] - b2 * exact.T2[i] - c);
        double scalePsi = Rms(use, i => exact.Psi[i] - affineOnly[0] * exact.T1[i] - affineOnly[1] * exact.T2[i] - affineOnly[2]);

        double rmseD1 = Rms(use, i => exact.Dpsi1[i] - a * estimate.Dpsi1[i] - b1);
        double rmseD2 = Rms(use, i => exact.Dpsi2[i] - a * estimate.Dpsi2[i] - b2);
        double mean1 = use.Average(i => exact.Dpsi1[i]), mean2 = use.Average(i => exact.Dpsi2[i]);
        double scaleD1 = Rms(use, i => exact.Dpsi1[i] - mean1), scaleD2 = Rms(use, i => exact.Dpsi2[i] - mean2);

        var (metricError, medianCell) = MetricErrors(exact, estimate, use, a);

        return new MetricFieldErrors(use.Length, a, b1, b2, c,
            rmsePsi, Ratio(rmsePsi, scalePsi), rmseD1, Ratio(rmseD1, scaleD1), rmseD2, Ratio(rmseD2, scaleD2),
            metricError, medianCell,
            (double)CountIndefinite(estimate, use) / use.Length,
            (double)use.Count(i => SmallestEigenvalue(exact, i) <= 0) / use.Length);
    }

    /// <summary>
    /// A metric against a reference metric alone, for a reference that is no Hessian of a psi (TASEP's Fisher
    /// information, <see cref="Systems.Tasep.TasepFisherInformation"/>): the scale a minimising sum |a G_est - G_ref|_F^2
    /// over the points (inside <paramref name="region"/> when given), then the metric error and the median per-cell error
    /// of <see cref="Compare"/> at that scale.
    /// </summary>
    public static (double Scale, double MetricError, double MedianCellMetricError) CompareMetrics(MetricField reference,
        MetricField estimate, ParameterBox? region = null)
    {
        ArgumentNullException.ThrowIfNull(reference);
        return CompareMetrics(reference, estimate, Enumerable.Range(0, reference.Count)
            .Where(i => region is null || region.Contains(reference.T1[i], reference.T2[i])));
    }

    /// <summary>
    /// As <see cref="CompareMetrics(MetricField, MetricField, ParameterBox?)"/>, over the points whose indices are
    /// <paramref name="points"/> (e.g. the cells of a diffusion slice away from every phase boundary).
    /// </summary>
    public static (double Scale, double MetricError, double MedianCellMetricError) CompareMetrics(MetricField reference,
        MetricField estimate, IEnumerable<int> points)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(estimate);
        ArgumentNullException.ThrowIfNull(points);
        if (reference.Count != estimate.Count)
            throw new ArgumentException($"reference field has {reference.Count} points, the estimate {estimate.Count}");
        var use = points.ToArray();
        if (use.Length < 1) throw new ArgumentException("no point to compare the metrics at");
        if (use.Any(i => i < 0 || i >= reference.Count))
            throw new ArgumentOutOfRangeException(nameof(points), $"a point index is outside the fields' {reference.Count} points");
        double cross = use.Sum(i => reference.G11[i] * estimate.G11[i] + 2 * reference.G12[i] * estimate.G12[i] + reference.G22[i] * estimate.G22[i]);
        double self = use.Sum(i => Sq(estimate.G11[i]) + 2 * Sq(estimate.G12[i]) + Sq(estimate.G22[i]));
        double a = self > 0 ? cross / self : 0;
        var (error, median) = MetricErrors(reference, estimate, use, a);
        return (a, error, median);
    }

    /// <summary>
    /// |a G_est - G_exact|_F over |G_exact|_F: root mean square over <paramref name="use"/>, and the median of the per-cell
    /// ratios (Frobenius norm of the 2 x 2 symmetric matrix: the off-diagonal entry counts twice; an undefined cell
    /// sorts as the worst).
    /// </summary>
    private static (double Error, double Median) MetricErrors(MetricField exact, MetricField estimate, int[] use, double a)
    {
        double metricNum = Math.Sqrt(use.Average(i =>
            Sq(exact.G11[i] - a * estimate.G11[i]) + 2 * Sq(exact.G12[i] - a * estimate.G12[i]) + Sq(exact.G22[i] - a * estimate.G22[i])));
        double metricDen = Math.Sqrt(use.Average(i => Sq(exact.G11[i]) + 2 * Sq(exact.G12[i]) + Sq(exact.G22[i])));
        var cellErrors = use.Select(i => Ratio(
                Math.Sqrt(Sq(exact.G11[i] - a * estimate.G11[i]) + 2 * Sq(exact.G12[i] - a * estimate.G12[i]) + Sq(exact.G22[i] - a * estimate.G22[i])),
                Math.Sqrt(Sq(exact.G11[i]) + 2 * Sq(exact.G12[i]) + Sq(exact.G22[i]))))
            .Select(e => double.IsNaN(e) ? double.PositiveInfinity : e).ToArray();
        return (Ratio(metricNum, metricDen), Median(cellErrors));
    }

    /// <summary>
    /// Number of the cells <paramref name="use"/> of <paramref name="field"/> whose G has its smallest eigenvalue below
    /// -<see cref="IndefiniteTolerance"/> x the largest |trace G| over those cells (the definition behind
    /// <see cref="IndefiniteFraction"/>). The test is invariant to a positive scale of the field.
    /// </summary>
    public static int CountIndefinite(MetricField field, IReadOnlyCollection<int> use)
    {
        ArgumentNullException.ThrowIfNull(field);
        ArgumentNullException.ThrowIfNull(use);
        if (use.Count == 0) return 0;
        double maxTrace = use.Max(i => Math.Abs(field.G11[i] + field.G22[i]));
        return use.Count(i => SmallestEigenvalue(field, i) < -IndefiniteTolerance * maxTrace);
    }

    private static double SmallestEigenvalue(MetricField f, int i) => FisherMetricTransformer.Eigenvalues(f.G11[i], f.G12[i], f.G22[i]).Low;

    private static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        int n = sorted.Length;
        if (n == 0) return double.NaN;
        double lo = sorted[(n - 1) / 2], hi = sorted[n / 2];
        return lo == hi ? lo : 0.5 * (lo + hi);
    }

    /// <summary>
    /// <paramref name="estimate"/> carried into the exact answer's scale and gauge by the fitted map
    /// psi -> a psi + &lt;b, t&gt; + c (so grad -> a grad + b, g -> a g): what a side-by-side picture should show.
    /// </summary>
    public MetricField Align(MetricField estimate)
    {
        ArgumentNullException.ThrowIfNull(estimate);
        int n = estimate.Count;
        var f = MetricField.AtPoints(estimate.T1, estimate.T2);
        for (int i = 0; i < n; i++)
        {
            f.Psi[i] = Scale * estimate.Psi[i] + Slope1 * estimate.T1[i] + Slope2 * estimate.T2[i] + Offset;
            f.Dpsi1[i] = Scale * estimate.Dpsi1[i] + Slope1;
            f.Dpsi2[i] = Scale * estimate.Dpsi2[i] + Slope2;
            f.G11[i] = Scale * estimate.G11[i];
            f.G12[i] = Scale * estimate.G12[i];
            f.G22[i] = Scale * estimate.G22[i];
        }
        return f;
    }

    private static double Sq(double x) => x * x;

    private static double Ratio(double num, double den) => den > 0 ? num / den : (num > 0 ? double.PositiveInfinity : 0);

    private static double Rms(int[] use, Func<int, double> residual) => Math.Sqrt(use.Average(i => Sq(residual(i))));

    /// <summary>Solves min ||X beta - y|| by the normal equations in double (a handful of columns, well scaled).</summary>
    internal static double[] LeastSquares(double[][] x, double[] y)
    {
        int p = x[0].Length;
        var a = new double[p, p + 1];
        for (int r = 0; r < x.Length; r++)
            for (int i = 0; i < p; i++)
            {
                for (int j = 0; j < p; j++) a[i, j] += x[r][i] * x[r][j];
                a[i, p] += x[r][i] * y[r];
            }
        // Gauss-Jordan with partial pivoting; a (near-)singular system (e.g. a constant estimate) keeps the
        // degenerate coefficient at zero rather than blowing up.
        var beta = new double[p];
        var pivotOf = new int[p];
        Array.Fill(pivotOf, -1);
        double tol = 1e-12 * Enumerable.Range(0, p).Max(i => Math.Abs(a[i, i]));
        int row = 0;
        for (int col = 0; col < p && row < p; col++)
        {
            int best = row;
            for (int r = row + 1; r < p; r++) if (Math.Abs(a[r, col]) > Math.Abs(a[best, col])) best = r;
            if (Math.Abs(a[best, col]) <= tol) continue;
            for (int c = 0; c <= p; c++) (a[row, c], a[best, c]) = (a[best, c], a[row, c]);
            for (int r = 0; r < p; r++)
            {
                if (r == row) continue;
                double f = a[r, col] / a[row, col];
                for (int c = col; c <= p; c++) a[r, c] -= f * a[row, c];
            }
            pivotOf[col] = row++;
        }
        for (int col = 0; col < p; col++)
            if (pivotOf[col] >= 0) beta[col] = a[pivotOf[col], p] / a[pivotOf[col], col];
        return beta;
    }
}
