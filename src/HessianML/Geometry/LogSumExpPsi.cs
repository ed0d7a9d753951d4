using HessianML.Pipeline;
using HessianML.Posterior;

namespace HessianML.Geometry;

/// <summary>
/// A psi convex by construction: the log-partition of a discrete exponential family,
/// <code>
///     psi(t) = s * log sum_k exp(&lt;alpha_k, u(t)&gt; + beta_k),    u_i(t) = (w_i(t_i) - centre_i) / half-width_i,   s &gt; 0,
/// </code>
/// w_i = t_i (<see cref="ExponentialCoordinate.Natural"/>) or -log t_i (<see cref="ExponentialCoordinate.NegativeLog"/>, atoms &gt;= 0 on
/// that axis; centre and half-width are then those of the box in w). In u its gradient is s times the softmax mean of
/// the atoms and its Hessian s times their softmax covariance; in t the Hessian gains s m_i w_i'' / h_i on the diagonal
/// of a warped axis, which is &gt;= 0 because the atoms (so their mean m_i) are &gt;= 0 there and w'' = 1/t^2. So the
/// metric is smooth and positive semi-definite at every point, inside the box and outside it (where t &gt; 0 on a warped
/// axis). The finite Ising torus has exactly this form (psi = log sum over (bonds, magnetisation) of the
/// density of states times exp(beta bonds + h M)); a learned phi = N psi has it with s = N.
/// <para>
/// WHY standardised coordinates u (as <see cref="MlpPsi"/>): the atoms are then in units of "change of psi across
/// half the box", O(1)-ranged whatever the box; WHY the scale s: it is the temperature of the softmax, which sets how
/// many atoms blend at a point (smoothness of the metric) independently of where the atoms sit.
/// Everything is evaluated in double with the maximum exponent shifted out (no overflow whatever the scale), and the
/// covariance is summed in centred form, so it stays positive semi-definite to rounding.
/// </para>
/// </summary>
public sealed class LogSumExpPsi : FittedPsi
{
    private readonly double[] _atoms;
    private readonly double[] _biases;

    /// <summary>
    /// psi on <paramref name="box"/> with scale <paramref name="scale"/> (&gt; 0), atoms alpha_k (n x 2, row-major, in
    /// standardised coordinates) and biases beta_k (n).
    /// </summary>
    public LogSumExpPsi(ParameterBox box, double scale, double[] atoms, double[] biases,
        ExponentialCoordinate axis1 = ExponentialCoordinate.Natural, ExponentialCoordinate axis2 = ExponentialCoordinate.Natural) : base(box)
    {
        ArgumentNullException.ThrowIfNull(atoms);
        ArgumentNullException.ThrowIfNull(biases);
        if (!(scale > 0 && double.IsFinite(scale))) throw new ArgumentOutOfRangeException(nameof(scale), $"scale {scale} must be finite and > 0");
        if (biases.Length < 1 || atoms.Length != 2 * biases.Length)
            throw new ArgumentException($"{biases.Length} biases need {2 * biases.Length} atom coordinates (n x 2), got {atoms.Length}");
        if (!atoms.All(double.IsFinite) || !biases.All(double.IsFinite)) throw new ArgumentException("atoms and biases must be finite");
        if (!box.IsProper) throw new ArgumentException($"the box {box} has zero width");
        _coordinates = new StandardCoordinates(box, axis1, axis2);
        for (int axis = 0; axis < 2; axis++)
        {
            if ((axis == 0 ? axis1 : axis2) != ExponentialCoordinate.NegativeLog) continue;
            for (int k = 0; k < biases.Length; k++)
                if (atoms[2 * k + axis] < 0)
                    throw new ArgumentException($"atom {k} has coordinate {atoms[2 * k + axis]} < 0 on t{axis + 1}, which is in -log coordinates (psi would not be convex in t)");
        }
        Scale = scale;
        _atoms = (double[])atoms.Clone();
        _biases = (double[])biases.Clone();
    }

    public override PsiParametrisation Parametrisation => PsiParametrisation.LogSumExp;

    /// <summary>The positive overall scale s (the softmax temperature, in units of psi).</summary>
    public double Scale { get; }

    /// <summary>Number of terms (atoms) of the sum.</summary>
    public int Count => _biases.Length;

    /// <summary>The atoms alpha_k, n x 2 row-major, in standardised coordinates u (a copy).</summary>
    public double[] Atoms => (double[])_atoms.Clone();

    /// <summary>The biases beta_k (a copy).</summary>
    public double[] Biases => (double[])_biases.Clone();

    private readonly StandardCoordinates _coordinates;

    /// <summary>The coordinate of t1 the sum is affine in.</summary>
    public ExponentialCoordinate Axis1 => _coordinates.Coordinate1;

    /// <summary>The coordinate of t2 the sum is affine in.</summary>
    public ExponentialCoordinate Axis2 => _coordinates.Coordinate2;

    /// <summary>Centre of the box in the coordinates w, the origin of u.</summary>
    public (double C1, double C2) Centre => _coordinates.Centre;

    /// <summary>Half-widths of the box in the coordinates w, the units of u.</summary>
    public (double H1, double H2) HalfWidth => _coordinates.HalfWidth;

    public override MetricField Evaluate(double[] t1, double[] t2)
    {
        ArgumentNullException.ThrowIfNull(t1);
        ArgumentNullException.ThrowIfNull(t2);
        if (t1.Length != t2.Length) throw new ArgumentException("t1 and t2 must have the same length");
        var field = MetricField.AtPoints([.. t1], [.. t2]);
        var (c1, c2) = Centre;
        var (h1, h2) = HalfWidth;
        int n = t1.Length;
        void One(int i)
        {
            var (w1, d1, dd1) = StandardCoordinates.Warp(Axis1, t1[i]);
            var (w2, d2, dd2) = StandardCoordinates.Warp(Axis2, t2[i]);
            var (v, m1, m2, v11, v12, v22) = Moments(_atoms, _biases, (w1 - c1) / h1, (w2 - c2) / h2);
            // Chain rule through w: dpsi/dt = F_w w', d2psi/dt2 = w' F_ww w' + diag(F_w w'').
            field.Psi[i] = Scale * v;
            field.Dpsi1[i] = Scale * m1 / h1 * d1;
            field.Dpsi2[i] = Scale * m2 / h2 * d2;
            field.G11[i] = Scale * v11 / (h1 * h1) * d1 * d1 + Scale * m1 / h1 * dd1;
            field.G12[i] = Scale * v12 / (h1 * h2) * d1 * d2;
            field.G22[i] = Scale * v22 / (h2 * h2) * d2 * d2 + Scale * m2 / h2 * dd2;
        }
        if ((long)n * Count < 1 << 18)
            for (int i = 0; i < n; i++) One(i);
        else
            Parallel.For(0, n, One);
        return field;
    }

    /// <summary>
    /// log sum_k exp(z_k), z_k = &lt;alpha_k, u&gt; + beta_k, and the softmax mean and covariance of the atoms at u, in
    /// double with the largest z shifted out; the covariance is summed as sum_k w_k (alpha_k - mean)(alpha_k - mean)^T.
    /// </summary>
    internal static (double Lse, double M1, double M2, double V11, double V12, double V22) Moments(
        ReadOnlySpan<double> atoms, ReadOnlySpan<double> biases, double u1, double u2)
    {
        int n = biases.Length;
        double max = double.NegativeInfinity;
        for (int k = 0; k < n; k++) max = Math.Max(max, atoms[2 * k] * u1 + atoms[2 * k + 1] * u2 + biases[k]);
        double sum = 0, s1 = 0, s2 = 0;
        for (int k = 0; k < n; k++)
        {
            double e = Math.Exp(atoms[2 * k] * u1 + atoms[2 * k + 1] * u2 + biases[k] - max);
            sum += e;
            s1 += e * atoms[2 * k];
            s2 += e * atoms[2 * k + 1];
        }
        double m1 = s1 / sum, m2 = s2 / sum;
        double v11 = 0, v12 = 0, v22 = 0;
        for (int k = 0; k < n; k++)
        {
            double e = Math.Exp(atoms[2 * k] * u1 + atoms[2 * k + 1] * u2 + biases[k] - max);
            double d1 = atoms[2 * k] - m1, d2 = atoms[2 * k + 1] - m2;
            v11 += e * d1 * d1;
            v12 += e * d1 * d2;
            v22 += e * d2 * d2;
        }
        return (max + Math.Log(sum), m1, m2, v11 / sum, v12 / sum, v22 / sum);
    }

    internal override void Save(ComponentStateWriter context, string prefix)
    {
        context.AddTensor(prefix + "atoms", _atoms, Count, 2);
        context.AddTensor(prefix + "biases", _biases, Count);
    }

    internal override SavedPsi Describe() =>
        new(PsiParametrisation.LogSumExp, Box.Lo1, Box.Hi1, Box.Lo2, Box.Hi2, 0, 0, HessianML.Autodiff.Layers.ActivationKind.Relu, false, 0, 0,
            Count, Scale, Axis1, Axis2);
}
