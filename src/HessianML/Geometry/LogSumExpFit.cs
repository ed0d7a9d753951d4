using System.Diagnostics;
using System.Globalization;
using System.Numerics.Tensors;
using HessianML.Posterior;

namespace HessianML.Geometry;

/// <summary>
/// Fits a <see cref="LogSumExpPsi"/> to values of psi at points (the grid values phi that
/// <see cref="LogPosteriorLeastSquares.Solve"/> returns): atoms fixed on an M x M grid covering the range of the
/// gradients; for a given scale the biases are fitted by damped Gauss-Newton (Levenberg-Marquardt) in double, and the
/// scale by a golden-section search on its logarithm, minimising
/// <code>
///     sum_i (f(u_i) - phi_i)^2 + lambda ||D3 b||^2,     f(u) = tau log sum_k exp((&lt;a_k, u&gt; + b_k) / tau)
/// </code>
/// (atoms a_k and biases b_k in units of phi, tau = the scale; D3 the third differences of b along each axis of the atom
/// grid). WHY atoms fixed on a grid: the model is then a discretised Legendre transform, b_k = -psi*(a_k), so the biases
/// have an exact, convex-analytic starting point (the discrete Legendre transform of the values) and the fit is
/// well posed; free atoms would make it a mixture fit with local minima. WHY third differences: a quadratic psi has a
/// quadratic conjugate, which passes unpenalised (as the spline's penalty, <see cref="LogPartitionOptions.Smoothness"/>),
/// while cell-to-cell noise in the values, which the conjugate turns into rough biases, is damped; it also decides the
/// biases of atoms no point's gradient reaches (they extrapolate smoothly instead of drifting).
/// </summary>
public static class LogSumExpFit
{
    /// <summary>Fit settings (see <see cref="LogPartitionOptions"/> for the defaults and why).</summary>
    /// <param name="AtomsPerAxis">M: the atoms are an M x M grid.</param>
    /// <param name="Smoothness">Weight of the third-difference penalty on the biases, relative to the mean diagonal of the data's normal equations.</param>
    /// <param name="Margin">The atom window extends the values' gradient range by this fraction on each side.</param>
    /// <param name="SplineCount">Splines per axis of the penalised spline that estimates the gradient range and curvature.</param>
    /// <param name="MaxIterations">Levenberg-Marquardt steps per bias solve at most.</param>
    /// <param name="Tolerance">A bias solve stops when a step gains less than this fraction of the cost (measured: 1e-4,
    /// 1e-5 and 1e-6 gave the same errors on exact Ising L = 8 values within 0.01, at 1 : 2.2 : 3.8 the time).</param>
    public sealed record Settings(int AtomsPerAxis, double Smoothness, double Margin, int SplineCount, int MaxIterations = 200, double Tolerance = 1e-4)
    {
        /// <summary>The coordinate of t1 the sum is affine in (<see cref="ExponentialCoordinate"/>).</summary>
        public ExponentialCoordinate Axis1 { get; init; } = ExponentialCoordinate.Natural;

        /// <summary>The coordinate of t2 the sum is affine in.</summary>
        public ExponentialCoordinate Axis2 { get; init; } = ExponentialCoordinate.Natural;
    }

    /// <summary>What the fit did: iterations, final data rms and penalty, seconds.</summary>
    public sealed record Report(int Iterations, double Rms, double Penalty, double Scale, double Seconds);

    /// <summary>
    /// Fits psi to <paramref name="values"/> at <paramref name="points"/> (n x 2 row-major, raw t) on
    /// <paramref name="box"/>; <paramref name="report"/> says how it went.
    /// </summary>
    public static LogSumExpPsi Fit(ParameterBox box, double[] points, double[] values, Settings settings, out Report report,
        Action<string>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(box);
        ArgumentNullException.ThrowIfNull(points);
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(settings);
        int n = values.Length;
        if (points.Length != 2 * n) throw new ArgumentException($"{n} values need {2 * n} point coordinates, got {points.Length}");
        if (n < 4) throw new ArgumentException($"a log-sum-exp psi needs at least 4 values, got {n}");
        if (!values.All(double.IsFinite)) throw new ArgumentException("values must be finite");
        if (settings.AtomsPerAxis < 3) throw new ArgumentOutOfRangeException(nameof(settings), "AtomsPerAxis must be >= 3");
        if (!(settings.Smoothness >= 0 && double.IsFinite(settings.Smoothness))) throw new ArgumentOutOfRangeException(nameof(settings), "Smoothness must be finite and >= 0");
        if (!(settings.Margin >= 0 && double.IsFinite(settings.Margin))) throw new ArgumentOutOfRangeException(nameof(settings), "Margin must be finite and >= 0");
        var sw = Stopwatch.StartNew();
        var axes = (settings.Axis1, settings.Axis2);
        // The coordinates the sum is affine in: u = (w(t) - centre) / half-width, w per axis (ExponentialCoordinate).
        var shape = new StandardCoordinates(box, axes.Axis1, axes.Axis2);
        var (c1, c2) = shape.Centre;
        var (h1, h2) = shape.HalfWidth;
        var wBox = new ParameterBox(c1 - h1, c1 + h1, c2 - h2, c2 + h2);
        var u = new double[2 * n];
        var w = new double[2 * n];
        for (int i = 0; i < n; i++)
        {
            (w[2 * i], w[2 * i + 1]) = (StandardCoordinates.Warp(axes.Axis1, points[2 * i]).W, StandardCoordinates.Warp(axes.Axis2, points[2 * i + 1]).W);
            (u[2 * i], u[2 * i + 1]) = ((w[2 * i] - c1) / h1, (w[2 * i + 1] - c2) / h2);
        }
        // A warped axis is not affine in t, so the values' affine gauge in t (METHOD §8: least squares returns N psi up to
        // one) is fitted beside the sum, as columns t_j standardised; a natural axis absorbs it by shifting the atoms.
        bool warp1 = axes.Axis1 == ExponentialCoordinate.NegativeLog, warp2 = axes.Axis2 == ExponentialCoordinate.NegativeLog;
        int p = (warp1 ? 1 : 0) + (warp2 ? 1 : 0);
        var linear = new double[n * p];
        for (int i = 0; i < n; i++)
        {
            int j = 0;
            if (warp1) linear[i * p + j++] = (2 * points[2 * i] - box.Lo1 - box.Hi1) / box.Width1;
            if (warp2) linear[i * p + j] = (2 * points[2 * i + 1] - box.Lo2 - box.Hi2) / box.Width2;
        }

        // 1. Range and curvature of the gradients (in u) from a penalised spline through the values, in w.
        var spline = new SplinePsi(LogPartitionTrainer.SplineLeastSquares(wBox, settings.SplineCount, w, values, 1e-2));
        var sf = spline.Evaluate(Enumerable.Range(0, n).Select(i => w[2 * i]).ToArray(), Enumerable.Range(0, n).Select(i => w[2 * i + 1]).ToArray());
        double lo1 = double.PositiveInfinity, hi1 = double.NegativeInfinity, lo2 = double.PositiveInfinity, hi2 = double.NegativeInfinity;
        for (int i = 0; i < n; i++)
        {
            double g1 = sf.Dpsi1[i] * h1, g2 = sf.Dpsi2[i] * h2;
            (lo1, hi1, lo2, hi2) = (Math.Min(lo1, g1), Math.Max(hi1, g1), Math.Min(lo2, g2), Math.Max(hi2, g2));
        }
        double valueSpread = Math.Max(values.Max() - values.Min(), 1e-300);
        // A flat direction still needs a window of finite width: a tenth of the values' spread per unit of u.
        double floorWidth = 0.1 * valueSpread;
        (lo1, hi1) = Window(lo1, hi1, settings.Margin, floorWidth, warp1);
        (lo2, hi2) = Window(lo2, hi2, settings.Margin, floorWidth, warp2);
        int m = settings.AtomsPerAxis, na = m * m;
        double d1 = (hi1 - lo1) / (m - 1), d2 = (hi2 - lo2) / (m - 1);
        var a = new double[2 * na];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < m; j++) (a[2 * (i * m + j)], a[2 * (i * m + j) + 1]) = (lo1 + i * d1, lo2 + j * d2);

        // 2. Start: tau such that neighbouring atoms blend where the curvature is typical (median over the points of
        //    the spacing^2 / curvature), biases the discrete Legendre transform b_k = min_i (phi_i - <a_k, u_i>).
        var ratios = new List<double>(n);
        for (int i = 0; i < n; i++)
        {
            double k11 = sf.G11[i] * h1 * h1, k22 = sf.G22[i] * h2 * h2;
            if (k11 > 0) ratios.Add(d1 * d1 / k11);
            if (k22 > 0) ratios.Add(d2 * d2 / k22);
        }
        ratios.Sort();
        double tau = ratios.Count > 0 ? ratios[ratios.Count / 2] : 0.01 * valueSpread;
        tau = Math.Clamp(tau, 1e-6 * valueSpread, valueSpread);
        var b = new double[na];
        for (int k = 0; k < na; k++)
        {
            double best = double.PositiveInfinity;
            for (int i = 0; i < n; i++) best = Math.Min(best, values[i] - a[2 * k] * u[2 * i] - a[2 * k + 1] * u[2 * i + 1]);
            b[k] = best;
        }

        // 3. Biases for a fixed tau by Levenberg-Marquardt (a few Gauss-Newton steps from the Legendre start), tau by
        //    golden section on log tau around its start. WHY not one joint Gauss-Newton in (b, log tau): tau and the
        //    biases are strongly coupled (tau sets how many atoms blend, the biases must follow), and the joint
        //    iteration crept along that valley for hundreds of steps where this search takes about a dozen solves.
        var problem = new Problem(a, u, values, m, settings.Smoothness, linear, p);
        var theta = new double[na + p];
        b.CopyTo(theta, 0);
        problem.SetLambda(theta, tau);
        int iterations = 0;
        var cache = new Dictionary<double, (double Cost, double[] B)>();
        double F(double logTau)
        {
            if (cache.TryGetValue(logTau, out var c)) return c.Cost;
            var start = cache.Count == 0 ? theta : cache.MinBy(kv => Math.Abs(kv.Key - logTau)).Value.B; // warm start
            var r = problem.Solve(start, Math.Exp(logTau), settings.MaxIterations, settings.Tolerance);
            iterations += r.Iterations;
            cache[logTau] = (r.Cost, r.B);
            progress?.Invoke(string.Create(CultureInfo.InvariantCulture,
                $"log-sum-exp fit: scale {Math.Exp(logTau):G4}: cost {r.Cost:G6} in {r.Iterations} steps ({sw.Elapsed.TotalSeconds:F1} s)"));
            return r.Cost;
        }
        // Bracket on a factor-2 ladder, then golden section down to a factor of 1.05.
        double ladder = Math.Log(2), mid = Math.Log(tau), lo = mid - ladder, hi = mid + ladder;
        double flo = F(lo), fmid = F(mid), fhi = F(hi);
        for (int guard = 0; guard < 12 && !(fmid <= flo && fmid <= fhi); guard++)
        {
            if (flo < fmid) { (hi, fhi) = (mid, fmid); (mid, fmid) = (lo, flo); lo -= ladder; flo = F(lo); }
            else { (lo, flo) = (mid, fmid); (mid, fmid) = (hi, fhi); hi += ladder; fhi = F(hi); }
        }
        const double golden = 0.3819660112501051;
        while (hi - lo > Math.Log(1.05))
        {
            double x = mid - lo > hi - mid ? mid - golden * (mid - lo) : mid + golden * (hi - mid);
            double fx = F(x);
            if (fx < fmid)
            {
                if (x < mid) hi = mid; else lo = mid;
                (mid, fmid) = (x, fx);
            }
            else if (x < mid) lo = x;
            else hi = x;
        }
        tau = Math.Exp(mid);
        theta = cache[mid].B;
        double rms = Math.Sqrt(problem.Data(theta, tau) / n);
        report = new Report(iterations, rms, problem.Lambda * problem.Penalty(theta), tau, sw.Elapsed.TotalSeconds);
        // Store as psi = tau * LSE(<a/tau, u> + b/tau); the fitted affine gauge (warped axes) is dropped: psi is defined
        // up to one, and neither the metric nor the Bregman posterior sees it.
        return new LogSumExpPsi(box, tau, a.Select(x => x / tau).ToArray(), theta.Take(na).Select(x => x / tau).ToArray(),
            axes.Axis1, axes.Axis2);
    }


    /// <summary>
    /// The model at one point: f(u) = tau log sum_k exp((&lt;a_k, u&gt; + b_k) / tau), max-shifted, with df/db_k = w_k
    /// (the softmax weights, written to <paramref name="weights"/>) and df/d log tau = tau * entropy(w).
    /// </summary>
    internal static double Model(double[] a, ReadOnlySpan<double> b, double tau, double u1, double u2, double[] weights, out double dLogTau)
    {
        double lse = Lse(a, b, tau, u1, u2, weights);
        double entropy = 0;
        for (int k = 0; k < a.Length / 2; k++)
            if (weights[k] > 0) entropy -= weights[k] * Math.Log(weights[k]);
        dLogTau = tau * entropy;
        return tau * lse;
    }

    /// <summary>
    /// The least-squares problem in theta = (biases b, linear coefficients l) for a fixed tau: data
    /// sum_i (f(u_i) + &lt;l, x_i&gt; - phi_i)^2 plus lambda ||D3 b||^2 (x_i: <paramref name="p"/> linear columns per point,
    /// none for natural axes), its gradient and Gauss-Newton normal equations, and a Levenberg-Marquardt solve.
    /// </summary>
    internal sealed class Problem(double[] a, double[] u, double[] values, int m, double smoothness, double[] linear, int p)
    {
        private readonly int _n = values.Length, _na = m * m, _nt = m * m + p;
        private readonly List<(int[] Index, double[] Coef)> _penalty = ThirdDifferences(m);

        public double Lambda { get; private set; }

        public double Data(double[] b, double tau)
        {
            double s = 0;
            for (int i = 0; i < _n; i++)
            {
                double e = tau * Lse(a, b, tau, u[2 * i], u[2 * i + 1], null) + Linear(b, i) - values[i];
                s += e * e;
            }
            return s;
        }

        /// <summary>&lt;l, x_i&gt;, l the last p entries of theta.</summary>
        private double Linear(double[] theta, int i)
        {
            double s = 0;
            for (int j = 0; j < p; j++) s += theta[_na + j] * linear[i * p + j];
            return s;
        }

        public double Penalty(double[] b)
        {
            double s = 0;
            foreach (var (idx, coef) in _penalty)
            {
                double d = 0;
                for (int q = 0; q < 4; q++) d += coef[q] * b[idx[q]];
                s += d * d;
            }
            return s;
        }

        /// <summary>The objective: data + lambda * penalty.</summary>
        public double Cost(double[] b, double tau) => Data(b, tau) + Lambda * Penalty(b);

        /// <summary>The penalty weight: smoothness times the mean diagonal of the data's normal equations at (b, tau).</summary>
        public void SetLambda(double[] b, double tau)
        {
            var w = new double[_na];
            double trace = 0;
            for (int i = 0; i < _n; i++)
            {
                Lse(a, b, tau, u[2 * i], u[2 * i + 1], w);
                for (int k = 0; k < _na; k++) trace += w[k] * w[k];
            }
            Lambda = smoothness * trace / _na;
        }

        /// <summary>
        /// Half the gradient of <see cref="Cost"/> in b (J^T r + lambda D^T D b) and, when <paramref name="jtj"/> is given,
        /// the Gauss-Newton matrix J^T J + lambda D^T D (na x na).
        /// </summary>
        public double[] Gradient(double[] b, double tau, double[]? jtj)
        {
            int na = _nt; // rows of the normal equations: biases, then the linear coefficients
            var grad = new double[na];
            var w = new double[na];
            var nz = new List<int>(na);
            for (int i = 0; i < _n; i++)
            {
                double r = Model(a, b.AsSpan(0, _na), tau, u[2 * i], u[2 * i + 1], w, out _) + Linear(b, i) - values[i];
                for (int j = 0; j < p; j++) w[_na + j] = linear[i * p + j];
                nz.Clear();
                for (int k = 0; k < _na; k++) if (w[k] > 1e-14) nz.Add(k); // the rest cannot move f measurably
                for (int j = 0; j < p; j++) nz.Add(_na + j);
                foreach (int k in nz)
                {
                    grad[k] += w[k] * r;
                    if (jtj is not null) foreach (int l in nz) jtj[k * na + l] += w[k] * w[l];
                }
            }
            foreach (var (idx, coef) in _penalty)
            {
                double d = 0;
                for (int q = 0; q < 4; q++) d += coef[q] * b[idx[q]];
                for (int q = 0; q < 4; q++)
                {
                    grad[idx[q]] += Lambda * coef[q] * d;
                    if (jtj is not null) for (int r = 0; r < 4; r++) jtj[idx[q] * na + idx[r]] += Lambda * coef[q] * coef[r];
                }
            }
            return grad;
        }

        /// <summary>
        /// Levenberg-Marquardt (Marquardt's diagonal scaling) from <paramref name="b0"/>; stops when a step gains less than
        /// <paramref name="tolerance"/> of the cost, or no damping finds a gain.
        /// </summary>
        public (double[] B, double Cost, int Iterations) Solve(double[] b0, double tau, int maxIterations, double tolerance)
        {
            int na = _nt;
            var b = (double[])b0.Clone();
            var jtj = new double[na * na];
            double cost = Cost(b, tau), mu = 1e-3;
            int it = 0;
            while (it < maxIterations)
            {
                it++;
                Array.Clear(jtj);
                var grad = Gradient(b, tau, jtj);
                for (int k = 0; k < na; k++) grad[k] = -grad[k];
                double diagMax = 0;
                for (int k = 0; k < na; k++) diagMax = Math.Max(diagMax, jtj[k * na + k]);
                bool improved = false, converged = false;
                for (int tries = 0; tries < 30 && !improved; tries++)
                {
                    var sys = (double[])jtj.Clone();
                    // The floor 1e-9 * max keeps atoms that no point weighs (and no penalty ties) from a singular system.
                    for (int k = 0; k < na; k++) sys[k * na + k] += mu * (jtj[k * na + k] + 1e-9 * diagMax);
                    double[] step;
                    try
                    {
                        step = CholeskySolve(sys, grad, na);
                    }
                    catch (InvalidOperationException)
                    {
                        mu *= 10;
                        continue;
                    }
                    var trialB = new double[na];
                    for (int k = 0; k < na; k++) trialB[k] = b[k] + step[k];
                    double trial = Cost(trialB, tau);
                    if (trial < cost)
                    {
                        converged = cost - trial <= tolerance * cost;
                        (b, cost) = (trialB, trial);
                        mu = Math.Max(mu / 3, 1e-12);
                        improved = true;
                    }
                    else mu *= 4;
                }
                if (!improved || converged) break;
            }
            return (b, cost, it);
        }
    }

    /// <summary>
    /// Solves the symmetric positive definite system a x = b (a overwritten by its Cholesky factor): row-major, the
    /// inner products over contiguous row prefixes by TensorPrimitives.Dot
    /// (SIMD). Throws <see cref="InvalidOperationException"/> when a pivot is not positive.
    /// </summary>
    internal static double[] CholeskySolve(double[] a, double[] b, int n)
    {
        for (int j = 0; j < n; j++)
        {
            var rowJ = a.AsSpan(j * n, j);
            double d = a[j * n + j] - TensorPrimitives.Dot(rowJ, rowJ);
            if (!(d > 0)) throw new InvalidOperationException($"system is not positive definite at row {j}");
            d = Math.Sqrt(d);
            a[j * n + j] = d;
            for (int i = j + 1; i < n; i++)
                a[i * n + j] = (a[i * n + j] - TensorPrimitives.Dot(a.AsSpan(i * n, j), rowJ)) / d;
        }
        var x = (double[])b.Clone();
        for (int i = 0; i < n; i++) x[i] = (x[i] - TensorPrimitives.Dot(a.AsSpan(i * n, i), x.AsSpan(0, i))) / a[i * n + i];
        for (int i = n - 1; i >= 0; i--)
        {
            double s = x[i];
            for (int p = i + 1; p < n; p++) s -= a[p * n + i] * x[p];
            x[i] = s / a[i * n + i];
        }
        return x;
    }

    /// <summary>
    /// The atoms' window on one axis: the gradients' range widened (<see cref="Widen"/>); on a -log axis it starts at 0
    /// (atoms &gt;= 0 keep psi convex in t) and reaches the largest gradient magnitude seen, because the values' affine
    /// gauge in t, fitted later, can shift the gradients seen now either way.
    /// </summary>
    private static (double Lo, double Hi) Window(double lo, double hi, double margin, double floorWidth, bool negativeLog)
    {
        if (!negativeLog) return Widen(lo, hi, margin, floorWidth);
        double top = Math.Max(Math.Max(Math.Abs(lo), Math.Abs(hi)), floorWidth);
        return (0, top * (1 + 2 * margin));
    }

    private static (double Lo, double Hi) Widen(double lo, double hi, double margin, double floorWidth)
    {
        double mid = (lo + hi) / 2, half = Math.Max((hi - lo) / 2, floorWidth / 2);
        half *= 1 + 2 * margin;
        return (mid - half, mid + half);
    }

    /// <summary>log sum_k exp(z_k), z_k = (&lt;a_k, u&gt; + b_k) / tau, max-shifted; fills the softmax weights when asked.</summary>
    private static double Lse(double[] a, ReadOnlySpan<double> b, double tau, double u1, double u2, double[]? weights)
    {
        int na = a.Length / 2; // b may carry more entries after the biases (the linear coefficients)
        double max = double.NegativeInfinity;
        for (int k = 0; k < na; k++) max = Math.Max(max, (a[2 * k] * u1 + a[2 * k + 1] * u2 + b[k]) / tau);
        double sum = 0;
        for (int k = 0; k < na; k++)
        {
            double e = Math.Exp((a[2 * k] * u1 + a[2 * k + 1] * u2 + b[k]) / tau - max);
            if (weights is not null) weights[k] = e;
            sum += e;
        }
        if (weights is not null) for (int k = 0; k < na; k++) weights[k] /= sum;
        return max + Math.Log(sum);
    }

    /// <summary>Third differences (-1, 3, -3, 1) along each axis of an m x m grid of atoms (index i * m + j).</summary>
    private static List<(int[] Index, double[] Coef)> ThirdDifferences(int m)
    {
        var list = new List<(int[], double[])>();
        double[] c = [-1, 3, -3, 1];
        for (int i = 0; i < m; i++)
            for (int j = 0; j + 3 < m; j++)
            {
                list.Add(([i * m + j, i * m + j + 1, i * m + j + 2, i * m + j + 3], c));
                list.Add(([j * m + i, (j + 1) * m + i, (j + 2) * m + i, (j + 3) * m + i], c));
            }
        return list;
    }
}
