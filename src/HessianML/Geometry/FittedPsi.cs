using HessianML.Autodiff;
using HessianML.Autodiff.Layers;
using HessianML.Pipeline;
using HessianML.Posterior;
using HessianML.Tensors;

namespace HessianML.Geometry;

/// <summary>
/// A fitted log-partition psi on a parameter box: value, gradient and Hessian (the Fisher metric, METHOD §3 eq. 24)
/// at any points. An MLP (<see cref="MlpPsi"/>), a tensor-product cubic B-spline (<see cref="SplinePsi"/>) or a
/// log-sum-exp, convex by construction (<see cref="LogSumExpPsi"/>).
/// </summary>
public abstract class FittedPsi
{
    private protected FittedPsi(ParameterBox box) => Box = box ?? throw new ArgumentNullException(nameof(box));

    /// <summary>The box psi was fitted on (the posterior grid's box).</summary>
    public ParameterBox Box { get; }

    /// <summary>The parametrisation that produced this psi.</summary>
    public abstract PsiParametrisation Parametrisation { get; }

    /// <summary>psi, grad psi and Hessian (exact: double backward for an MLP, the spline's own derivatives) at the points.</summary>
    public abstract MetricField Evaluate(double[] t1, double[] t2);

    /// <summary>The field at the k x k cell centres of <paramref name="box"/> (row-major, t2 fastest).</summary>
    public MetricField Field(ParameterBox box, int k)
    {
        ArgumentNullException.ThrowIfNull(box);
        var c = box.CellCentres(k, k);
        var t1 = new double[k * k];
        var t2 = new double[k * k];
        for (int i = 0; i < k * k; i++) (t1[i], t2[i]) = (c[2 * i], c[2 * i + 1]);
        return Evaluate(t1, t2);
    }

    internal abstract void Save(ComponentStateWriter context, string prefix);

    /// <summary>
    /// What a saved psi records besides its tensors. <c>Terms</c>, <c>Scale</c> and the axes (the <see cref="LogSumExpPsi"/>'s)
    /// come last with defaults, so states saved before they existed still load.
    /// </summary>
    internal sealed record SavedPsi(PsiParametrisation Parametrisation, double Lo1, double Hi1, double Lo2, double Hi2,
        int Hidden, int Depth, ActivationKind Activation, bool LayerNorm, int SplineCount1, int SplineCount2,
        int Terms = 0, double Scale = 0, ExponentialCoordinate Axis1 = ExponentialCoordinate.Natural, ExponentialCoordinate Axis2 = ExponentialCoordinate.Natural);

    internal abstract SavedPsi Describe();

    internal static FittedPsi Load(ComponentStateReader context, SavedPsi s, string prefix)
    {
        var box = new ParameterBox(s.Lo1, s.Hi1, s.Lo2, s.Hi2);
        if (s.Parametrisation == PsiParametrisation.BSpline)
            return new SplinePsi(new TensorBSpline(box, s.SplineCount1, s.SplineCount2,
                context.GetDoubleTensor(prefix + "coefficients", s.SplineCount1 * s.SplineCount2)));
        if (s.Parametrisation == PsiParametrisation.LogSumExp)
        {
            if (s.Terms < 1 || !(s.Scale > 0 && double.IsFinite(s.Scale)))
                throw context.Fail($"has a LogSumExp psi with {s.Terms} terms and scale {s.Scale} (needs >= 1 term and a positive finite scale)");
            return new LogSumExpPsi(box, s.Scale, context.GetDoubleTensor(prefix + "atoms", s.Terms, 2),
                context.GetDoubleTensor(prefix + "biases", s.Terms), s.Axis1, s.Axis2);
        }
        var net = Mlp.Create<float>(2, s.Hidden, s.Depth, 1, s.Activation, s.LayerNorm, 0);
        var values = net.NamedParameters()
            .Select(p => (p.Name, Tensor<float>.FromArray(context.GetFloatTensor(prefix + p.Name, p.Value.Shape.ToArray()), p.Value.Shape.ToArray())))
            .ToList();
        net.LoadParameters(values);
        return new MlpPsi(box, s.Parametrisation, s.Hidden, s.Depth, s.Activation, s.LayerNorm, net);
    }
}

/// <summary>
/// An MLP psi. The network sees standardised coordinates u = (t - centre) / half-width, so its input is O(1) whatever
/// the box (WHY: Ising's beta range is 0.4 wide, TASEP's 0.9; raw inputs would make the first layer's effective
/// scale depend on the system). The standardisation is part of the function of t, so derivatives are in t.
/// Trained in float; evaluated in double (weights cast), so the Hessian by double backward is not float round-off.
/// </summary>
public sealed class MlpPsi : FittedPsi
{
    private readonly Sequential<float> _net;

    internal MlpPsi(ParameterBox box, PsiParametrisation parametrisation, int hidden, int depth, ActivationKind activation,
        bool layerNorm, Sequential<float> net) : base(box)
    {
        (Parametrisation, Hidden, Depth, Activation, LayerNorm, _net) = (parametrisation, hidden, depth, activation, layerNorm, net);
    }

    public override PsiParametrisation Parametrisation { get; }

    /// <summary>
    /// An untrained network on <paramref name="box"/> (LayerNorm after each hidden layer, the paper's shape), initialised
    /// from <paramref name="seed"/>. For benchmarks that need an MLP psi's cost without fitting one (e.g. the geodesic
    /// bench beside the released PyTorch optimiser, whose psi is an untrained network too).
    /// </summary>
    public static MlpPsi Untrained(ParameterBox box, int hidden, int depth, ActivationKind activation, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(box);
        return new(box, activation == ActivationKind.Relu ? PsiParametrisation.PaperMlp : PsiParametrisation.SmoothMlp,
            hidden, depth, activation, true, Mlp.Create<float>(2, hidden, depth, 1, activation, layerNorm: true, seed));
    }

    public int Hidden { get; }

    public int Depth { get; }

    public ActivationKind Activation { get; }

    public bool LayerNorm { get; }

    /// <summary>The float network (trainable during fitting).</summary>
    public Sequential<float> Network => _net;

    /// <summary>psi as a graph function of raw t [n, 2] -> [n, 1], for <see cref="BregmanJsdLoss.Compute{T}"/>.</summary>
    public static Func<Var<T>, Var<T>> Function<T>(Module<T> net, ParameterBox box) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var shift = Var<T>.Constant(Tensor<T>.FromArray(
            [T.CreateChecked(-(box.Lo1 + box.Hi1) / 2), T.CreateChecked(-(box.Lo2 + box.Hi2) / 2)], 1, 2).To(net.Device));
        var scale = Var<T>.Constant(Tensor<T>.FromArray(
            [T.CreateChecked(2 / box.Width1), T.CreateChecked(2 / box.Width2)], 1, 2).To(net.Device));
        return t => net.Forward((t + shift) * scale);
    }

    public override MetricField Evaluate(double[] t1, double[] t2)
    {
        ArgumentNullException.ThrowIfNull(t1);
        ArgumentNullException.ThrowIfNull(t2);
        if (t1.Length != t2.Length) throw new ArgumentException("t1 and t2 must have the same length");
        var dnet = Mlp.Create<double>(2, Hidden, Depth, 1, Activation, LayerNorm, 0);
        dnet.LoadParameters(_net.NamedParameters().Select(p =>
            (p.Name, Tensor<double>.FromArray(Array.ConvertAll(p.Value.Data, x => (double)x), p.Value.Shape.ToArray()))).ToList());
        var f = Function(dnet, Box);
        var field = MetricField.AtPoints([.. t1], [.. t2]);
        const int chunk = 256; // bounds the double-backward graph's memory
        for (int start = 0; start < t1.Length; start += chunk)
        {
            int n = Math.Min(chunk, t1.Length - start);
            var pts = new double[2 * n];
            for (int i = 0; i < n; i++) (pts[2 * i], pts[2 * i + 1]) = (t1[start + i], t2[start + i]);
            var (v, g, h) = Derivatives.ValueGradientHessian(f, Tensor<double>.FromArray(pts, n, 2));
            for (int i = 0; i < n; i++)
            {
                int r = start + i;
                field.Psi[r] = v.Data[i];
                field.Dpsi1[r] = g.Data[2 * i];
                field.Dpsi2[r] = g.Data[2 * i + 1];
                field.G11[r] = h.Data[4 * i];
                field.G12[r] = 0.5 * (h.Data[4 * i + 1] + h.Data[4 * i + 2]);
                field.G22[r] = h.Data[4 * i + 3];
            }
        }
        return field;
    }

    internal override void Save(ComponentStateWriter context, string prefix)
    {
        foreach (var (name, value) in _net.NamedParameters())
            context.AddTensor(prefix + name, value.Data, value.Shape.ToArray());
    }

    internal override SavedPsi Describe() =>
        new(Parametrisation, Box.Lo1, Box.Hi1, Box.Lo2, Box.Hi2, Hidden, Depth, Activation, LayerNorm, 0, 0);
}

/// <summary>A tensor-product cubic B-spline psi: value, gradient and Hessian exact and linear in the coefficients.</summary>
public sealed class SplinePsi(TensorBSpline spline) : FittedPsi(spline.Box)
{
    public TensorBSpline Spline { get; } = spline;

    public override PsiParametrisation Parametrisation => PsiParametrisation.BSpline;

    public override MetricField Evaluate(double[] t1, double[] t2) => Spline.ToMetricField(t1, t2);

    internal override void Save(ComponentStateWriter context, string prefix) =>
        context.AddTensor(prefix + "coefficients", Spline.Coefficients, Spline.CoefficientCount);

    internal override SavedPsi Describe() =>
        new(PsiParametrisation.BSpline, Box.Lo1, Box.Hi1, Box.Lo2, Box.Hi2, 0, 0, ActivationKind.Relu, false,
            Spline.Axis1.Count, Spline.Axis2.Count);
}
