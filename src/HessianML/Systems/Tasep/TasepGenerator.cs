namespace HessianML.Systems.Tasep;

/// <summary>
/// The continuous-time TASEP as a Markov chain on its 2^L configurations, with the stationary law solved directly
/// from the generator (Q^T pi = 0, sum pi = 1) — no matrix-product algebra involved, which is what makes it an
/// independent check of <see cref="TasepMatrixProduct"/>. Configuration index: bit (i-1) holds tau_i.
/// Dense Gaussian elimination, O(8^L / 3): milliseconds for L &lt;= 8, tens of seconds at L = 12.
/// </summary>
public static class TasepGenerator
{
    public const int MaxSize = 12;

    /// <summary>
    /// The generator as (from, to, rate) transitions: entry at site 1 (rate alpha), hops i -&gt; i+1 (rate 1),
    /// exit at site L (rate beta).
    /// </summary>
    public static IEnumerable<(int From, int To, double Rate)> Transitions(int size, double alpha, double beta)
    {
        Check(size, alpha, beta);
        int states = 1 << size;
        for (int s = 0; s < states; s++)
        {
            if ((s & 1) == 0) yield return (s, s | 1, alpha);
            for (int i = 0; i + 1 < size; i++)
                if (((s >> i) & 1) == 1 && ((s >> (i + 1)) & 1) == 0)
                    yield return (s, s ^ (3 << i), 1.0);
            if (((s >> (size - 1)) & 1) == 1) yield return (s, s ^ (1 << (size - 1)), beta);
        }
    }

    /// <summary>The stationary law pi over the 2^L configurations.</summary>
    public static double[] StationaryLaw(int size, double alpha, double beta)
    {
        Check(size, alpha, beta);
        int n = 1 << size;
        // A = Q^T: column `from` loses `rate` on the diagonal and gives it to row `to`.
        var a = new double[n, n];
        foreach (var (from, to, rate) in Transitions(size, alpha, beta))
        {
            a[to, from] += rate;
            a[from, from] -= rate;
        }
        // The rows of Q^T sum to a dependent set (columns of Q sum to zero); replace the last by normalisation.
        var rhs = new double[n];
        for (int j = 0; j < n; j++) a[n - 1, j] = 1;
        rhs[n - 1] = 1;
        Solve(a, rhs);
        return rhs;
    }

    /// <summary>Gaussian elimination with partial pivoting, in place; the solution replaces <paramref name="b"/>.</summary>
    private static void Solve(double[,] a, double[] b)
    {
        int n = b.Length;
        for (int k = 0; k < n; k++)
        {
            int piv = k;
            for (int i = k + 1; i < n; i++)
                if (Math.Abs(a[i, k]) > Math.Abs(a[piv, k])) piv = i;
            if (a[piv, k] == 0) throw new InvalidOperationException("singular TASEP generator system");
            if (piv != k)
            {
                for (int j = 0; j < n; j++) (a[k, j], a[piv, j]) = (a[piv, j], a[k, j]);
                (b[k], b[piv]) = (b[piv], b[k]);
            }
            double inv = 1 / a[k, k];
            for (int i = k + 1; i < n; i++)
            {
                double f = a[i, k] * inv;
                if (f == 0) continue;
                for (int j = k; j < n; j++) a[i, j] -= f * a[k, j];
                b[i] -= f * b[k];
            }
        }
        for (int i = n - 1; i >= 0; i--)
        {
            double s = b[i];
            for (int j = i + 1; j < n; j++) s -= a[i, j] * b[j];
            b[i] = s / a[i, i];
        }
    }

    private static void Check(int size, double alpha, double beta)
    {
        if (size < 1 || size > MaxSize)
            throw new ArgumentOutOfRangeException(nameof(size), $"generator size {size} must be in [1, {MaxSize}]");
        TasepExact.CheckRates(alpha, beta);
    }
}
