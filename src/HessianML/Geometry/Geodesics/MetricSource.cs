using HessianML.Posterior;

namespace HessianML.Geometry.Geodesics;

/// <summary>
/// Anything that gives a Riemannian metric g(t) (a symmetric 2 x 2 matrix, g11, g12, g22) at points of a parameter
/// box: a fitted psi (g = Hessian psi, <see cref="PsiMetricSource"/>) or a closed-form metric (<see cref="AnalyticMetric"/>,
/// for tests with known geodesics). The geodesic solver only samples it once per model, on a grid (<see cref="TabulatedMetric"/>).
/// </summary>
public interface IMetricSource
{
    /// <summary>The box the metric is defined on; geodesics stay inside it.</summary>
    ParameterBox Box { get; }

    /// <summary>g11, g12, g22 at the points (parallel arrays). The values may be indefinite; the tabulation clamps them.</summary>
    (double[] G11, double[] G12, double[] G22) Evaluate(double[] t1, double[] t2);
}

/// <summary>The Fisher metric of a fitted psi: g = Hessian psi, exact (the psi's own second derivatives).</summary>
public sealed class PsiMetricSource(FittedPsi psi) : IMetricSource
{
    public FittedPsi Psi { get; } = psi ?? throw new ArgumentNullException(nameof(psi));

    public ParameterBox Box => Psi.Box;

    public (double[] G11, double[] G12, double[] G22) Evaluate(double[] t1, double[] t2)
    {
        var f = Psi.Evaluate(t1, t2);
        return (f.G11, f.G12, f.G22);
    }
}

/// <summary>A metric given by a function of t (tests, analytic examples).</summary>
public sealed class AnalyticMetric(ParameterBox box, Func<double, double, (double G11, double G12, double G22)> metric) : IMetricSource
{
    private readonly Func<double, double, (double, double, double)> _metric = metric ?? throw new ArgumentNullException(nameof(metric));

    public ParameterBox Box { get; } = box ?? throw new ArgumentNullException(nameof(box));

    public (double[] G11, double[] G12, double[] G22) Evaluate(double[] t1, double[] t2)
    {
        int n = t1.Length;
        var (a, b, c) = (new double[n], new double[n], new double[n]);
        for (int i = 0; i < n; i++) (a[i], b[i], c[i]) = _metric(t1[i], t2[i]);
        return (a, b, c);
    }

    /// <summary>The Euclidean metric g = I.</summary>
    public static AnalyticMetric Euclidean(ParameterBox box) => new(box, (_, _) => (1, 0, 1));

    /// <summary>The hyperbolic half-plane metric g = I / t2^2 (the box must lie in t2 &gt; 0).</summary>
    public static AnalyticMetric HyperbolicHalfPlane(ParameterBox box) =>
        box.Lo2 > 0 ? new(box, (_, y) => (1 / (y * y), 0, 1 / (y * y)))
            : throw new ArgumentException($"box {box}: the half-plane metric needs t2 > 0");
}
