using HessianML.Posterior;

namespace HessianML.Geometry.Geodesics;

/// <summary>
/// The pull-back metric of a map F : box -> R^m, g(t) = J(t)^T J(t) with J = dF/dt by central finite differences
/// (METHOD §7's baseline: Shao et al. 2018 with F = the generated image, Wang et al. 2021 with F = features of it).
/// Path length under g is then the length of the image path F(t(s)) in R^m, to first order.
/// </summary>
/// <remarks>
/// <para>
/// The step h. A deterministic generator's map jumps at a phase boundary, where no derivative exists; what a finite
/// difference sees there depends on h. Give <see cref="ForTable"/> the resolution of the table a geodesic solver will
/// sample this metric on, and h is half the table spacing: then the stencils [t - h, t + h] of neighbouring table
/// nodes tile each grid line without gaps or overlaps, so every boundary a line crosses falls inside exactly one node's
/// stencil and shows there as g ~ |jump|^2 / (2h)^2; the path that crosses it pays about |jump|, its length in R^m.
/// A smaller h lets boundaries slip between stencils (the metric is blind to them); a larger one smears each over
/// several nodes.
/// </para>
/// <para>Cost: four evaluations of F per point (F at t +- h e1, t +- h e2), points in parallel; F must be thread-safe.</para>
/// </remarks>
public sealed class PullbackMetric : IMetricSource
{
    private readonly Action<double, double, double[]> _map;

    /// <param name="box">The box the metric lives on. Stencils that reach past its edges evaluate F there (F must accept it).</param>
    /// <param name="outputDimension">m, the length of F(t).</param>
    /// <param name="map">F: writes F(t1, t2) into the buffer (length m). Called concurrently.</param>
    /// <param name="step">The central-difference step h, in t units (see the remarks).</param>
    public PullbackMetric(ParameterBox box, int outputDimension, Action<double, double, double[]> map, double step)
    {
        Box = box ?? throw new ArgumentNullException(nameof(box));
        _map = map ?? throw new ArgumentNullException(nameof(map));
        if (outputDimension < 1) throw new ArgumentOutOfRangeException(nameof(outputDimension), $"output dimension {outputDimension} must be at least 1");
        if (!(step > 0) || !double.IsFinite(step)) throw new ArgumentOutOfRangeException(nameof(step), $"finite-difference step {step} must be positive and finite");
        OutputDimension = outputDimension;
        Step = step;
    }

    /// <summary>A pull-back whose step is half the spacing of an R x R vertex table over the box (the remarks' rule, for the finer axis).</summary>
    public static PullbackMetric ForTable(ParameterBox box, int outputDimension, Action<double, double, double[]> map, int resolution)
    {
        ArgumentNullException.ThrowIfNull(box);
        if (resolution < 3) throw new ArgumentOutOfRangeException(nameof(resolution), $"resolution {resolution} must be at least 3");
        return new PullbackMetric(box, outputDimension, map, 0.5 * Math.Min(box.Width1, box.Width2) / (resolution - 1));
    }

    public ParameterBox Box { get; }

    /// <summary>m, the length of F(t).</summary>
    public int OutputDimension { get; }

    /// <summary>The central-difference step h.</summary>
    public double Step { get; }

    public (double[] G11, double[] G12, double[] G22) Evaluate(double[] t1, double[] t2)
    {
        ArgumentNullException.ThrowIfNull(t1);
        ArgumentNullException.ThrowIfNull(t2);
        if (t1.Length != t2.Length) throw new ArgumentException($"{t1.Length} t1 values but {t2.Length} t2 values");
        int n = t1.Length, m = OutputDimension;
        var (a, b, c) = (new double[n], new double[n], new double[n]);
        double h = Step;
        Parallel.For(0, n, () => (new double[m], new double[m], new double[m]), (i, _, buf) =>
        {
            var (plus, minus, j1) = buf; // j1 keeps column 1 of J while column 2 is formed (g12 needs both)
            _map(t1[i] + h, t2[i], plus);
            _map(t1[i] - h, t2[i], minus);
            for (int k = 0; k < m; k++) j1[k] = (plus[k] - minus[k]) / (2 * h);
            _map(t1[i], t2[i] + h, plus);
            _map(t1[i], t2[i] - h, minus);
            double g11 = 0, g12 = 0, g22 = 0;
            for (int k = 0; k < m; k++)
            {
                double j2 = (plus[k] - minus[k]) / (2 * h);
                g11 += j1[k] * j1[k];
                g12 += j1[k] * j2;
                g22 += j2 * j2;
            }
            (a[i], b[i], c[i]) = (g11, g12, g22);
            return buf;
        }, _ => { });
        return (a, b, c);
    }

    /// <summary>
    /// Solves the pull-back geodesic to its own minimum: projected L-BFGS (<see cref="CurveOptimizer.Lbfgs(Func{double[], double[], double}, double[], ParameterBox, int)"/>)
    /// on the discrete energy of the image path itself, E = sum_i |F(t_{i+1}) - F(t_i)|^2 (ends fixed), from
    /// <paramref name="curve"/> (interleaved t1, t2), refined in place. WHY: a geodesic of the tabulated g = J^T J is the
    /// shortest path of a bilinear interpolant of finite differences, which can come out longer in R^m than a path
    /// (even the straight line) the table misjudges; the energy of F itself is what the baseline claims to minimise.
    /// Its gradient, 2 J_i^T (2 F_i - F_{i-1} - F_{i+1}), takes J_i by central differences of step
    /// <paramref name="step"/> (t units); across a jump of F the gradient means little, but the line search only accepts
    /// steps that lower E. Returns E and the image path's length sum_i |F(t_{i+1}) - F(t_i)| at the end.
    /// </summary>
    public (double Energy, double Length) Refine(double[] curve, int maxSteps, double step)
    {
        ArgumentNullException.ThrowIfNull(curve);
        int points = curve.Length / 2, m = OutputDimension;
        var f = new double[points][];
        double Energy(double[] x, double[] grad)
        {
            Parallel.For(0, points, i => _map(x[2 * i], x[2 * i + 1], f[i] ??= new double[m]));
            double e = 0;
            for (int i = 0; i + 1 < points; i++)
                for (int k = 0; k < m; k++) e += (f[i + 1][k] - f[i][k]) * (f[i + 1][k] - f[i][k]);
            Array.Clear(grad);
            Parallel.For(1, points - 1, () => (new double[m], new double[m]), (i, _, buf) =>
            {
                var (plus, minus) = buf;
                for (int c = 0; c < 2; c++)
                {
                    double d1 = c == 0 ? step : 0, d2 = c == 0 ? 0 : step;
                    _map(x[2 * i] + d1, x[2 * i + 1] + d2, plus);
                    _map(x[2 * i] - d1, x[2 * i + 1] - d2, minus);
                    double g = 0;
                    for (int k = 0; k < m; k++) g += (plus[k] - minus[k]) / (2 * step) * (2 * f[i][k] - f[i - 1][k] - f[i + 1][k]);
                    grad[2 * i + c] = 2 * g;
                }
                return buf;
            }, _ => { });
            return e;
        }
        CurveOptimizer.Lbfgs(Energy, curve, Box, maxSteps);
        double energy = Energy(curve, new double[curve.Length]), length = 0; // (Energy leaves F of the final curve in f)
        for (int i = 0; i + 1 < points; i++)
        {
            double d = 0;
            for (int k = 0; k < m; k++) d += (f[i + 1][k] - f[i][k]) * (f[i + 1][k] - f[i][k]);
            length += Math.Sqrt(d);
        }
        return (energy, length);
    }
}
