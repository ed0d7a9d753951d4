using HessianML.Geometry;
using HessianML.Posterior;

namespace HessianML.Evaluation;

/// <summary>
/// The error table of METHOD.md §7 for one estimate against the exact answer, after the free positive scale and
/// affine part have been fitted: psi is identifiable only up to psi -> a psi + &lt;b, t&gt; + c (and a finite bundle
/// of N samples learns N psi), so comparing raw values would measure the gauge, not the geometry.
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
    double MetricError)
{
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

        // Frobenius norm of the 2 x 2 symmetric matrix: the off-diagonal entry counts twice.
        double metricNum = Math.Sqrt(use.Average(i =>
            Sq(exact.G11[i] - a * estimate.G11[i]) + 2 * Sq(exact.G12[i] - a * estimate.G12[i]) + Sq(exact.G22[i] - a * estimate.G22[i])));
        double metricDen = Math.Sqrt(use.Average(i => Sq(exact.G11[i]) + 2 * Sq(exact.G12[i]) + Sq(exact.G22[i])));

        return new MetricFieldErrors(use.Length, a, b1, b2, c,
            rmsePsi, Ratio(rmsePsi, scalePsi), rmseD1, Ratio(rmseD1, scaleD1), rmseD2, Ratio(rmseD2, scaleD2),
            Ratio(metricNum, metricDen));
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
