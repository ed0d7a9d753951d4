using HessianML.Posterior;

namespace HessianML.Geometry;

/// <summary>
/// Uniform cubic B-splines on an interval: <see cref="Count"/> basis functions on uniform knots extended past both
/// ends, so the basis spans every cubic polynomial on the whole interval. At any x exactly four are non-zero.
/// Value, first and second derivatives are exact (the basis is piecewise cubic), which is why a spline psi gives
/// the Fisher metric as an exact Hessian rather than a finite difference.
/// </summary>
public sealed class CubicBSpline1D
{
    public double Lo { get; }
    public double Hi { get; }

    /// <summary>Number of basis functions (at least 4).</summary>
    public int Count { get; }

    /// <summary>Knot spacing: the interval holds Count - 3 polynomial pieces.</summary>
    public double Spacing { get; }

    public CubicBSpline1D(double lo, double hi, int count)
    {
        if (count < 4)
            throw new ArgumentOutOfRangeException(nameof(count), $"a cubic B-spline needs at least 4 basis functions, got {count}");
        if (!(hi > lo))
            throw new ArgumentException($"spline interval [{lo}, {hi}] must have positive length");
        (Lo, Hi, Count) = (lo, hi, count);
        Spacing = (hi - lo) / (count - 3);
    }

    /// <summary>
    /// The four non-zero basis functions at x, first index <c>first</c>: values, first and second derivatives in x.
    /// Points outside [Lo, Hi] use the end piece's polynomial (a smooth extrapolation, not a clamp).
    /// </summary>
    public int Evaluate(double x, Span<double> value, Span<double> d1, Span<double> d2)
    {
        double s = (x - Lo) / Spacing;
        int first = Math.Clamp((int)Math.Floor(s), 0, Count - 4);
        double u = s - first, v = 1 - u, h = Spacing;
        value[0] = v * v * v / 6;
        value[1] = (3 * u * u * u - 6 * u * u + 4) / 6;
        value[2] = (-3 * u * u * u + 3 * u * u + 3 * u + 1) / 6;
        value[3] = u * u * u / 6;
        d1[0] = -v * v / 2 / h;
        d1[1] = (3 * u * u - 4 * u) / 2 / h;
        d1[2] = (-3 * u * u + 2 * u + 1) / 2 / h;
        d1[3] = u * u / 2 / h;
        d2[0] = v / (h * h);
        d2[1] = (3 * u - 2) / (h * h);
        d2[2] = (1 - 3 * u) / (h * h);
        d2[3] = u / (h * h);
        return first;
    }
}

/// <summary>
/// A tensor-product cubic B-spline function on a parameter box, f(t) = sum_ab c_ab B_a(t1) B_b(t2), with exact value,
/// gradient and Hessian. All three are linear in the coefficients, so a loss on psi, grad psi or the Hessian is a
/// linear map of <see cref="Coefficients"/> (see <see cref="BasisRow"/>): fitting needs no autodiff through a network.
/// </summary>
public sealed class TensorBSpline
{
    public ParameterBox Box { get; }
    public CubicBSpline1D Axis1 { get; }
    public CubicBSpline1D Axis2 { get; }

    /// <summary>Coefficients, row-major: index a * Axis2.Count + b.</summary>
    public double[] Coefficients { get; }

    public int CoefficientCount => Axis1.Count * Axis2.Count;

    public TensorBSpline(ParameterBox box, int count1, int count2, double[]? coefficients = null)
    {
        if (!box.IsProper)
            throw new ArgumentException($"box {box} must have positive width on both axes for a spline");
        Box = box;
        Axis1 = new CubicBSpline1D(box.Lo1, box.Hi1, count1);
        Axis2 = new CubicBSpline1D(box.Lo2, box.Hi2, count2);
        Coefficients = coefficients ?? new double[count1 * count2];
        if (Coefficients.Length != count1 * count2)
            throw new ArgumentException($"spline needs {count1 * count2} coefficients ({count1} x {count2}), got {Coefficients.Length}");
    }

    /// <summary>
    /// The 16 coefficient indices that matter at t and, for each, its weight in the value, d/dt1, d/dt2, d2/dt1^2,
    /// d2/dt1dt2, d2/dt2^2. Each span must hold 16 entries.
    /// </summary>
    public void BasisRow(double t1, double t2, Span<int> index, Span<double> value, Span<double> d1, Span<double> d2,
        Span<double> d11, Span<double> d12, Span<double> d22)
    {
        Span<double> v1 = stackalloc double[4], g1 = stackalloc double[4], h1 = stackalloc double[4];
        Span<double> v2 = stackalloc double[4], g2 = stackalloc double[4], h2 = stackalloc double[4];
        int f1 = Axis1.Evaluate(t1, v1, g1, h1);
        int f2 = Axis2.Evaluate(t2, v2, g2, h2);
        for (int a = 0; a < 4; a++)
            for (int b = 0; b < 4; b++)
            {
                int r = a * 4 + b;
                index[r] = (f1 + a) * Axis2.Count + f2 + b;
                value[r] = v1[a] * v2[b];
                d1[r] = g1[a] * v2[b];
                d2[r] = v1[a] * g2[b];
                d11[r] = h1[a] * v2[b];
                d12[r] = g1[a] * g2[b];
                d22[r] = v1[a] * h2[b];
            }
    }

    /// <summary>psi, its gradient and Hessian at t.</summary>
    public (double Value, double D1, double D2, double D11, double D12, double D22) Evaluate(double t1, double t2)
    {
        Span<int> idx = stackalloc int[16];
        Span<double> w = stackalloc double[16 * 6];
        BasisRow(t1, t2, idx, w[..16], w[16..32], w[32..48], w[48..64], w[64..80], w[80..]);
        double v = 0, x1 = 0, x2 = 0, x11 = 0, x12 = 0, x22 = 0;
        for (int r = 0; r < 16; r++)
        {
            double c = Coefficients[idx[r]];
            v += c * w[r]; x1 += c * w[16 + r]; x2 += c * w[32 + r];
            x11 += c * w[48 + r]; x12 += c * w[64 + r]; x22 += c * w[80 + r];
        }
        return (v, x1, x2, x11, x12, x22);
    }

    /// <summary>Tabulates psi, gradient and metric (Hessian) at the given points.</summary>
    public MetricField ToMetricField(double[] t1, double[] t2)
    {
        var field = MetricField.AtPoints(t1, t2);
        for (int i = 0; i < t1.Length; i++)
            (field.Psi[i], field.Dpsi1[i], field.Dpsi2[i], field.G11[i], field.G12[i], field.G22[i]) = Evaluate(t1[i], t2[i]);
        return field;
    }
}
