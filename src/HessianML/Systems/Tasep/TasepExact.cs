using HessianML.Geometry;
using HessianML.Posterior;

namespace HessianML.Systems.Tasep;

/// <summary>log Z_L and its exact first and second derivatives in (alpha, beta).</summary>
public readonly record struct TasepLogPartition(
    double LogZ, double DAlpha, double DBeta, double DAlphaAlpha, double DAlphaBeta, double DBetaBeta);

/// <summary>
/// Exact answers for the open-boundary TASEP (METHOD.md §6): the DEHP closed form
/// Z_L = sum_(p=1..L) p (2L-1-p)! / (L! (L-p)!) * h_p, with h_p = (beta^-(p+1) - alpha^-(p+1)) / (beta^-1 - alpha^-1)
/// written as the complete homogeneous sum h_p = sum_(j=0..p) alpha^-(p-j) beta^-j, which has only positive terms
/// and so no cancellation at or near alpha = beta. Z_L is then a positive sum of monomials
/// w = C_p alpha^-n beta^-m (n + m = p), and with pi = w / Z as a probability over (p, j):
/// d log Z / d alpha = -E[n] / alpha, d2 log Z / d alpha2 = (Var n + E n) / alpha^2,
/// d2 log Z / d alpha d beta = Cov(n, m) / (alpha beta) — exact derivatives, computed by max-shifted sums in logs.
/// </summary>
public static class TasepExact
{
    /// <summary>Largest lattice the exact routines accept (O(L^2) terms per point).</summary>
    public const int MaxSize = 2000;

    /// <summary>Throws unless 0 &lt; alpha, beta &lt;= 1 (the range the command line offers) and both are finite.</summary>
    public static void CheckRates(double alpha, double beta)
    {
        if (!(alpha > 0 && alpha <= 1))
            throw new ArgumentOutOfRangeException(nameof(alpha), $"TASEP alpha {alpha} must be in (0, 1]");
        if (!(beta > 0 && beta <= 1))
            throw new ArgumentOutOfRangeException(nameof(beta), $"TASEP beta {beta} must be in (0, 1]");
    }

    private static void CheckSize(int size, int min = 1)
    {
        if (size < min || size > MaxSize)
            throw new ArgumentOutOfRangeException(nameof(size), $"TASEP size {size} must be in [{min}, {MaxSize}]");
    }

    /// <summary>log Z_L (log Z_0 = 0).</summary>
    public static double LogZ(int size, double alpha, double beta) => LogPartition(size, alpha, beta).LogZ;

    /// <summary>log Z_L with its exact gradient and Hessian in (alpha, beta).</summary>
    public static TasepLogPartition LogPartition(int size, double alpha, double beta)
    {
        CheckSize(size, 0);
        CheckRates(alpha, beta);
        if (size == 0) return new TasepLogPartition(0, 0, 0, 0, 0, 0);
        int L = size;
        var logFact = LogFactorials(2 * L);
        double la = -Math.Log(alpha), lb = -Math.Log(beta);
        // Terms t = (p, j), n = p - j powers of 1/alpha, m = j powers of 1/beta.
        int count = L * (L + 3) / 2;
        var logW = new double[count];
        double max = double.NegativeInfinity;
        int t = 0;
        for (int p = 1; p <= L; p++)
        {
            double logC = Math.Log(p) + logFact[2 * L - 1 - p] - logFact[L] - logFact[L - p];
            for (int j = 0; j <= p; j++, t++)
            {
                logW[t] = logC + (p - j) * la + j * lb;
                if (logW[t] > max) max = logW[t];
            }
        }
        // Pass 1: normaliser and means. Pass 2: central moments (two passes: Var = E n^2 - (E n)^2 would lose
        // digits to cancellation, as E n grows like L).
        double sum = 0, sn = 0, sm = 0;
        t = 0;
        for (int p = 1; p <= L; p++)
            for (int j = 0; j <= p; j++, t++)
            {
                double w = Math.Exp(logW[t] - max);
                logW[t] = w;   // reuse as the shifted weight
                sum += w;
                sn += w * (p - j);
                sm += w * j;
            }
        double en = sn / sum, em = sm / sum;
        double vnn = 0, vnm = 0, vmm = 0;
        t = 0;
        for (int p = 1; p <= L; p++)
            for (int j = 0; j <= p; j++, t++)
            {
                double w = logW[t], dn = p - j - en, dm = j - em;
                vnn += w * dn * dn;
                vnm += w * dn * dm;
                vmm += w * dm * dm;
            }
        vnn /= sum; vnm /= sum; vmm /= sum;
        return new TasepLogPartition(
            LogZ: max + Math.Log(sum),
            DAlpha: -en / alpha,
            DBeta: -em / beta,
            DAlphaAlpha: (vnn + en) / (alpha * alpha),
            DAlphaBeta: vnm / (alpha * beta),
            DBetaBeta: (vmm + em) / (beta * beta));
    }

    /// <summary>Current J = Z_(L-1) / Z_L.</summary>
    public static double Current(int size, double alpha, double beta)
    {
        CheckSize(size);
        return Math.Exp(LogZ(size - 1, alpha, beta) - LogZ(size, alpha, beta));
    }

    /// <summary>&lt;tau_1&gt; = 1 - J / alpha.</summary>
    public static double FirstSiteDensity(int size, double alpha, double beta) => 1 - Current(size, alpha, beta) / alpha;

    /// <summary>&lt;tau_L&gt; = J / beta.</summary>
    public static double LastSiteDensity(int size, double alpha, double beta) => Current(size, alpha, beta) / beta;

    /// <summary>Exact density profile &lt;tau_i&gt; (matrix-product algebra, O(L^2)).</summary>
    public static double[] DensityProfile(int size, double alpha, double beta)
    {
        CheckSize(size);
        return new TasepMatrixProduct(size, alpha, beta).DensityProfile();
    }

    /// <summary>Mean density (1/L) sum_i &lt;tau_i&gt;.</summary>
    public static double MeanDensity(int size, double alpha, double beta) => DensityProfile(size, alpha, beta).Average();

    /// <summary>
    /// lim (1/L) log Z_L: log(1/(alpha(1-alpha))) in the low-density phase (alpha &lt; 1/2, alpha &lt; beta),
    /// log(1/(beta(1-beta))) in the high-density phase, log 4 in the maximal-current phase (alpha, beta &gt;= 1/2).
    /// </summary>
    public static double LimitPsi(double alpha, double beta)
    {
        CheckRates(alpha, beta);
        double x = Math.Min(Math.Min(alpha, beta), 0.5);
        return -Math.Log(x * (1 - x));
    }

    /// <summary>
    /// psi = (1/L) log Z_L, its gradient and Hessian at the K x K cell centres of <paramref name="box"/> (t1 = alpha,
    /// t2 = beta; row-major, t2 fastest), computed in parallel.
    /// </summary>
    public static MetricField MetricFieldOnGrid(int size, ParameterBox box, int grid)
    {
        CheckSize(size);
        ArgumentNullException.ThrowIfNull(box);
        CheckRates(box.Lo1, box.Lo2);
        CheckRates(box.Hi1, box.Hi2);
        var field = MetricField.AtCellCentres(box, grid);
        var (t1, t2, count) = (field.T1, field.T2, field.Count);
        double inv = 1.0 / size;
        Parallel.For(0, count, i =>
        {
            var z = LogPartition(size, t1[i], t2[i]);
            field.Psi[i] = z.LogZ * inv;
            field.Dpsi1[i] = z.DAlpha * inv;
            field.Dpsi2[i] = z.DBeta * inv;
            field.G11[i] = z.DAlphaAlpha * inv;
            field.G12[i] = z.DAlphaBeta * inv;
            field.G22[i] = z.DBetaBeta * inv;
        });
        return field;
    }

    /// <summary>log k! for k = 0..n, by summing logs (exact to rounding; no gamma function needed).</summary>
    internal static double[] LogFactorials(int n)
    {
        var f = new double[n + 1];
        for (int k = 2; k <= n; k++) f[k] = f[k - 1] + Math.Log(k);
        return f;
    }
}
