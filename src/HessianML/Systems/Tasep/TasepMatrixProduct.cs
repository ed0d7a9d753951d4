using System.Runtime.CompilerServices;

namespace HessianML.Systems.Tasep;

/// <summary>
/// The open-boundary TASEP stationary measure of Derrida–Evans–Hakim–Pasquier (1993) for one (L, alpha, beta),
/// f(tau) = &lt;W| prod_i (tau_i D + (1 - tau_i) E) |V&gt; with DE = D + E, D|V&gt; = |V&gt;/beta, &lt;W|E = &lt;W|/alpha,
/// evaluated WITHOUT any matrix representation, through normal ordering, so that every number is a sum of positive
/// terms (no cancellation, unlike the bidiagonal representation whose off-diagonal product (alpha+beta-1)/(alpha beta)
/// is negative for alpha + beta &lt; 1):
/// <list type="bullet">
/// <item>A row vector &lt;W|P (P a word in D, E) is kept as coefficients a_m on the basis &lt;W|D^m, m = 0..|P|.</item>
/// <item>Appending D shifts: a'_m = a_(m-1). Appending E uses D^m E = E + D + D^2 + ... + D^m (induction on DE = D + E)
/// and &lt;W|E = &lt;W|/alpha: a'_0 = (sum_m a_m)/alpha, a'_j = sum_(m &gt;= j) a_m for j &gt;= 1.</item>
/// <item>g(m, r) = &lt;W|D^m (D+E)^r|V&gt; obeys g(m, 0) = beta^-m and
/// g(m, r) = g(m+1, r-1) + g(0, r-1)/alpha + sum_(j=1..m) g(j, r-1); Z_L = g(0, L).</item>
/// </list>
/// This gives exact sequential sampling: the marginal weight of a prefix tau_1..tau_k is sum_m a_m g(m, L-k), so
/// each site is drawn from its exact conditional law given the sites before it, O(L^2) work per configuration.
/// Two arithmetic paths, chosen per (L, alpha, beta): with 0 &lt; alpha, beta &lt;= 1, every nonzero a_m and g(m, r) is a sum of products of
/// alpha^-1, beta^-1 &gt;= 1, so all of them lie in [1, Z_L], and Z_L &lt;= (L+1) max(1/alpha, 1/beta)^L 4^(L+1)
/// (h_p &lt;= (p+1) M^p and sum_p C_p is a Catalan number). When that bound is below e^700 the table and the
/// sampler run in plain doubles — no overflow and no underflow are possible, and no exp/log is needed (about 20x
/// faster); otherwise they run in logarithms (Z_L overflows doubles for long lattices or small rates).
/// </summary>
public sealed class TasepMatrixProduct
{
    private readonly double[] _lg;      // log g(m, r), row r (length L - r + 1) at RowStart(r)
    private readonly double[] _lin;     // g(m, r) itself, same layout, when IsLinear
    private readonly double[] _a, _scratch;   // sampling work vectors (coefficients on <W|D^m, linear or log)
    private readonly bool _forceLog;
    private bool _logTableValid;

    /// <summary>True when this (L, alpha, beta) runs in plain doubles (see the class remarks).</summary>
    public bool IsLinear { get; private set; }

    public int Size { get; }
    public double Alpha { get; private set; }
    public double Beta { get; private set; }

    /// <summary>log Z_L = log g(0, L).</summary>
    public double LogZ => IsLinear ? Math.Log(_lin[RowStart(Size)]) : _lg[RowStart(Size)];

    /// <summary>Builds the table for (L, alpha, beta); O(L^2) time and memory.</summary>
    public TasepMatrixProduct(int size, double alpha, double beta) : this(size, alpha, beta, forceLog: false) { }

    /// <summary>As the public constructor; <paramref name="forceLog"/> pins the log path (tests compare the paths).</summary>
    internal TasepMatrixProduct(int size, double alpha, double beta, bool forceLog)
    {
        if (size < 1) throw new ArgumentOutOfRangeException(nameof(size), $"TASEP size {size} must be at least 1");
        Size = size;
        _forceLog = forceLog;
        _lg = new double[RowStart(size + 1)];
        _lin = new double[RowStart(size + 1)];
        _a = new double[size + 1];
        _scratch = new double[size + 1];
        Reset(alpha, beta);
    }

    /// <summary>Refills the table for new rates, reusing its memory (one table per thread in a simulation).</summary>
    public void Reset(double alpha, double beta)
    {
        TasepExact.CheckRates(alpha, beta);
        (Alpha, Beta) = (alpha, beta);
        int n = Size;
        double bound = Math.Log(n + 1) + n * Math.Log(Math.Max(1 / alpha, 1 / beta)) + (n + 1) * Math.Log(4);
        IsLinear = !_forceLog && bound < 700;
        if (IsLinear)
        {
            FillLinear();
            _logTableValid = false;
            return;
        }
        FillLog();
    }

    private void FillLinear()
    {
        int n = Size;
        double ia = 1 / Alpha, ib = 1 / Beta;
        double p = 1;
        for (int m = 0; m <= n; m++, p *= ib) _lin[m] = p;
        for (int r = 1; r <= n; r++)
        {
            int prev = RowStart(r - 1), cur = RowStart(r);
            double running = ia * _lin[prev];
            for (int m = 0; m <= n - r; m++)
            {
                if (m >= 1) running += _lin[prev + m];
                _lin[cur + m] = _lin[prev + m + 1] + running;
            }
        }
    }

    /// <summary>The log table, from the linear one when that was used (for the exact, non-sampling queries).</summary>
    private void EnsureLogTable()
    {
        if (!IsLinear || _logTableValid) return;
        for (int i = 0; i < _lin.Length; i++) _lg[i] = Math.Log(_lin[i]);
        _logTableValid = true;
    }

    private void FillLog()
    {
        int n = Size;
        double la = -Math.Log(Alpha), lb = -Math.Log(Beta);
        for (int m = 0; m <= n; m++) _lg[m] = m * lb;
        for (int r = 1; r <= n; r++)
        {
            int prev = RowStart(r - 1), cur = RowStart(r);
            // running = log( g(0, r-1)/alpha + sum_(j=1..m) g(j, r-1) ), one LogAdd per entry.
            double running = la + _lg[prev];
            for (int m = 0; m <= n - r; m++)
            {
                if (m >= 1) running = LogAdd(running, _lg[prev + m]);
                _lg[cur + m] = LogAdd(_lg[prev + m + 1], running);
            }
        }
    }

    /// <summary>log Z_k for k = 0..L (Z_k = g(0, k); Z_0 = &lt;W|V&gt; = 1).</summary>
    public double LogZOf(int k) =>
        k < 0 || k > Size ? throw new ArgumentOutOfRangeException(nameof(k))
        : IsLinear ? Math.Log(_lin[RowStart(k)]) : _lg[RowStart(k)];

    /// <summary>Current J = Z_(L-1) / Z_L.</summary>
    public double Current => Math.Exp(LogZOf(Size - 1) - LogZ);

    /// <summary>
    /// log f(tau), the unnormalised stationary weight of one configuration (0/1 per site), O(L^2). Thread-safe (no
    /// shared work vectors). Where <see cref="IsLinear"/>, in plain doubles (every coefficient lies in [0, Z_L], see the
    /// class remarks; about 20x faster, which the exact Bayes posterior's L^2 x cells x samples work needs).
    /// </summary>
    public double LogWeight(ReadOnlySpan<sbyte> config)
    {
        if (config.Length != Size) throw new ArgumentException($"configuration has {config.Length} sites, expected {Size}");
        if (IsLinear) return LinearLogWeight(config);
        EnsureLogTable();
        var a = new double[Size + 1];
        var s = new double[Size + 1];
        a.AsSpan().Fill(double.NegativeInfinity);
        a[0] = 0;
        double la = -Math.Log(Alpha);
        for (int k = 0; k < Size; k++)
        {
            if (config[k] != 0) ShiftRight(a, k);
            else ApplyE(a, s, k, la);
        }
        double total = double.NegativeInfinity;
        double lb = -Math.Log(Beta);
        for (int m = 0; m <= Size; m++) total = LogAdd(total, a[m] + m * lb);
        return total;
    }

    /// <summary><see cref="LogWeight"/> in plain doubles: the same appends as the log path, a_m the coefficients on &lt;W|D^m.</summary>
    private double LinearLogWeight(ReadOnlySpan<sbyte> config)
    {
        Span<double> a = Size < 2048 ? stackalloc double[Size + 1] : new double[Size + 1];
        a.Clear();
        a[0] = 1;
        double ia = 1 / Alpha;
        for (int k = 0; k < Size; k++)
        {
            if (config[k] != 0) ShiftRightLinear(a, k);
            else ApplyELinear(a, k, ia);
        }
        double total = 0, power = 1, ib = 1 / Beta;
        for (int m = 0; m <= Size; m++, power *= ib) total += a[m] * power;
        return Math.Log(total);
    }

    /// <summary>Exact density profile &lt;tau_i&gt;, i = 1..L (index 0..L-1), in O(L^2).</summary>
    public double[] DensityProfile()
    {
        EnsureLogTable();
        int n = Size;
        var c = new double[n + 1];   // <W| C^(i-1), C = D + E
        var d = new double[n + 1];
        var e = new double[n + 1];
        var s = new double[n + 1];
        c.AsSpan().Fill(double.NegativeInfinity);
        c[0] = 0;
        double la = -Math.Log(Alpha), logZ = LogZ;
        var rho = new double[n];
        for (int i = 1; i <= n; i++)
        {
            int len = i - 1;                               // c has entries 0..len
            Array.Copy(c, d, n + 1);
            ShiftRight(d, len);                            // <W| C^(i-1) D
            int row = RowStart(n - i);
            double num = double.NegativeInfinity;
            for (int j = 1; j <= i; j++) num = LogAdd(num, d[j] + _lg[row + j]);
            rho[i - 1] = Math.Exp(num - logZ);
            Array.Copy(c, e, n + 1);
            ApplyE(e, s, len, la);
            for (int j = 0; j <= i; j++) c[j] = LogAdd(d[j], e[j]);
        }
        return rho;
    }

    /// <summary>
    /// Draws one configuration exactly from the stationary law into <paramref name="state"/> (0/1 per site), site 1
    /// first, each from its conditional law given the sites already drawn. Not thread-safe (uses work vectors).
    /// </summary>
    public void Sample(ref SampleRandom rng, Span<sbyte> state)
    {
        int n = Size;
        if (state.Length != n) throw new ArgumentException($"state has {state.Length} sites, expected {n}");
        if (IsLinear)
        {
            SampleLinear(ref rng, state);
            return;
        }
        double[] a = _a;
        a.AsSpan().Fill(double.NegativeInfinity);
        a[0] = 0;
        double la = -Math.Log(Alpha);
        double logPrefix = LogZ;   // log of the marginal weight of the prefix drawn so far (empty prefix: Z_L)
        for (int k = 1; k <= n; k++)
        {
            // Prefix of length k-1: a has entries 0..k-1. Weight of appending D (a particle at site k), times
            // everything the remaining r = L - k sites can do: sum_j a_(j-1) g(j, r). The hole's weight is the
            // rest of the prefix weight (the two sum to it exactly), so only the particle's sum is needed here;
            // the hole's vector and weight are computed only when a hole is drawn.
            int row = RowStart(n - k);
            double logD = LogSumProducts(a, 0, row + 1, k);
            double pParticle = Math.Exp(logD - logPrefix);
            if (rng.NextDouble() < pParticle)
            {
                state[k - 1] = 1;
                ShiftRight(a, k - 1);
                logPrefix = logD;
            }
            else
            {
                state[k - 1] = 0;
                ApplyE(a, _scratch, k - 1, la);
                // Recomputed rather than taken as prefix - particle, so rounding never accumulates or cancels.
                logPrefix = LogSumProducts(a, 0, row, k);
            }
        }
    }

    /// <summary>The same draw as the log path, in plain doubles (all values in {0} or [1, e^700]).</summary>
    private void SampleLinear(ref SampleRandom rng, Span<sbyte> state)
    {
        int n = Size;
        double[] a = _a, lin = _lin;
        Array.Clear(a);
        a[0] = 1;
        double ia = 1 / Alpha;
        double prefix = lin[RowStart(n)];
        for (int k = 1; k <= n; k++)
        {
            int row = RowStart(n - k);
            double wD = 0;
            for (int j = 0; j < k; j++) wD += a[j] * lin[row + 1 + j];
            if (rng.NextDouble() * prefix < wD)
            {
                state[k - 1] = 1;
                ShiftRightLinear(a, k - 1);
                prefix = wD;
            }
            else
            {
                state[k - 1] = 0;
                ApplyELinear(a, k - 1, ia);
                double w = 0;
                for (int j = 0; j < k; j++) w += a[j] * lin[row + j];
                prefix = w;
            }
        }
    }

    /// <summary>log sum_(j&lt;count) exp(v[from + j] + lg[tableFrom + j]), shifted by its largest term.</summary>
    private double LogSumProducts(double[] v, int from, int tableFrom, int count)
    {
        double m = double.NegativeInfinity;
        for (int j = 0; j < count; j++) m = Math.Max(m, v[from + j] + _lg[tableFrom + j]);
        double sum = 0;
        for (int j = 0; j < count; j++) sum += Math.Exp(v[from + j] + _lg[tableFrom + j] - m);
        return m + Math.Log(sum);
    }

    /// <summary>Row r of the table starts at sum_(q &lt; r) (L - q + 1).</summary>
    private int RowStart(int r) => r * (Size + 1) - r * (r - 1) / 2;

    /// <summary>Appends D to a vector with entries 0..len: a'_m = a_(m-1).</summary>
    private static void ShiftRight(double[] a, int len)
    {
        for (int j = len + 1; j >= 1; j--) a[j] = a[j - 1];
        a[0] = double.NegativeInfinity;
    }

    /// <summary><see cref="ShiftRight"/> in plain doubles: appends D to a vector with entries 0..len.</summary>
    private static void ShiftRightLinear(Span<double> a, int len)
    {
        for (int j = len + 1; j >= 1; j--) a[j] = a[j - 1];
        a[0] = 0;
    }

    /// <summary><see cref="ApplyE"/> in plain doubles (in place: the suffix sums overwrite a from the top).</summary>
    private static void ApplyELinear(Span<double> a, int len, double invAlpha)
    {
        double acc = 0;
        for (int j = len; j >= 1; j--)
        {
            acc += a[j];
            a[j] = acc;
        }
        a[0] = (acc + a[0]) * invAlpha;
    }

    /// <summary>Appends E to a vector with entries 0..len: a'_0 = (sum a)/alpha, a'_j = sum_(m &gt;= j) a_m.</summary>
    private static void ApplyE(double[] a, double[] suffix, int len, double logInvAlpha)
    {
        double acc = double.NegativeInfinity;
        for (int j = len; j >= 0; j--)
        {
            acc = LogAdd(acc, a[j]);
            suffix[j] = acc;
        }
        a[0] = logInvAlpha + suffix[0];
        for (int j = 1; j <= len; j++) a[j] = suffix[j];
        // a[len + 1] is left as it was (-inf): E does not lengthen the vector.
    }

    /// <summary>log(e^x + e^y), exact for -inf arguments.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static double LogAdd(double x, double y)
    {
        if (x < y) (x, y) = (y, x);
        if (double.IsNegativeInfinity(y)) return x;
        return x + Math.Log(1 + Math.Exp(y - x));
    }
}
