using System.Globalization;
using HessianML.Autodiff.Layers;
using HessianML.Geometry;

namespace HessianML.Onnx;

/// <summary>
/// Writes a fitted psi as an ONNX model any ONNX consumer can run (ML.NET's ApplyOnnxModel, Python's onnxruntime, our
/// <see cref="OnnxRuntimeEngine"/>): input <c>t</c> float [batch, 2]; outputs <c>psi</c> float [batch] and
/// <c>grad_psi</c> float [batch, 2] (d psi / d t1, d psi / d t2, the expectation parameters), and for a spline or
/// log-sum-exp psi also <c>metric</c> float [batch, 3] (g11, g12, g22 = the Hessian, exact for both). The model's
/// metadata holds the box and the parametrisation.
/// <para>
/// WHY the gradient is written out as graph nodes (not left to the consumer): ONNX has no autodiff at inference, and
/// grad psi is what users of an exponential family want next to psi. A log-sum-exp psi is evaluated in double with
/// the largest exponent shifted out, as ours. A spline psi is evaluated exactly as ours
/// (the same piece selection, so also outside the box) in double inside the graph, cast to float at the outputs; an MLP
/// psi runs in float, as it was trained, with its hand-written backward pass (Linear, LayerNorm, activation).
/// </para>
/// </summary>
public static class PsiOnnxExporter
{
    /// <summary>Names of the graph's input and outputs (the contract consumers script against).</summary>
    public const string InputName = "t", PsiName = "psi", GradientName = "grad_psi", MetricName = "metric";

    /// <summary>The ONNX model of <paramref name="psi"/>.</summary>
    public static OnnxModelBuilder Build(FittedPsi psi)
    {
        ArgumentNullException.ThrowIfNull(psi);
        var b = new OnnxModelBuilder("psi") { DocString = "log-partition function psi(t) of a HessianML model, with its gradient" };
        b.AddInput(InputName, "batch", 2);
        var box = psi.Box;
        b.Metadata["hessianml.psi"] = psi.Parametrisation.ToString();
        b.Metadata["hessianml.box"] = string.Create(CultureInfo.InvariantCulture, $"{box.Lo1}:{box.Hi1},{box.Lo2}:{box.Hi2}");
        switch (psi)
        {
            case SplinePsi spline:
                new Graph(b).Spline(spline.Spline);
                b.AddOutput(MetricName, "batch", 3);
                break;
            case MlpPsi mlp:
                new Graph(b).Mlp(mlp);
                break;
            case LogSumExpPsi lse:
                new Graph(b).LogSumExp(lse);
                b.AddOutput(MetricName, "batch", 3);
                break;
            default:
                throw new NotSupportedException($"ONNX export of a {psi.Parametrisation} psi is not implemented");
        }
        b.AddOutput(PsiName, "batch");
        b.AddOutput(GradientName, "batch", 2);
        return b;
    }

    /// <summary>Writes the ONNX model of <paramref name="psi"/> to <paramref name="stream"/>.</summary>
    public static void Write(FittedPsi psi, Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var bytes = Build(psi).ToBytes();
        stream.Write(bytes);
    }

    /// <summary>Node-writing helpers over one builder (names are made unique by a counter).</summary>
    private sealed class Graph(OnnxModelBuilder b)
    {
        private int _n;

        private string Name(string stem) => $"{stem}_{_n++}";

        private string Scalar(double value) => b.AddInitializer(Name("c"), new[] { value });

        private string ScalarF(float value) => b.AddInitializer(Name("c"), new[] { value });

        private string Axes(params long[] axes) => b.AddInitializer(Name("axes"), axes, axes.Length);

        private string Unsqueeze(string x, long axis) => b.AddNode("Unsqueeze", [x, Axes(axis)], Name("unsq"));

        private string Squeeze(string x, long axis, string? output = null) => b.AddNode("Squeeze", [x, Axes(axis)], output ?? Name("sq"));

        private string RowSum(string x) =>
            b.AddNode("ReduceSum", [x, Axes(1)], Name("sum"), OnnxAttribute.Int("keepdims", 0));

        private string RowMean(string x) => // opset 17: ReduceMean takes its axes as an attribute
            b.AddNode("ReduceMean", [x], Name("mean"), OnnxAttribute.Ints("axes", 1), OnnxAttribute.Int("keepdims", 1));

        private string Cast(string x, OnnxElementType to, string? output = null) =>
            b.AddNode("Cast", [x], output ?? Name("cast"), OnnxAttribute.Int("to", (long)to));

        private string Concat(string? output, params string[] xs) =>
            b.AddNode("Concat", xs, output ?? Name("cat"), OnnxAttribute.Int("axis", 1));

        /// <summary>
        /// Cubic B-spline basis of one axis at x [N] (double): values, first and second derivatives [N, 4] and the first
        /// basis index [N, 4] (int64, first + 0..3), exactly as <see cref="CubicBSpline1D.Evaluate"/>: the piece is
        /// floor((x - Lo) / h) clamped to [0, Count - 4], so points outside the interval extrapolate the end piece.
        /// </summary>
        private (string B, string D1, string D2, string Index) Basis(string x, CubicBSpline1D axis)
        {
            double h = axis.Spacing;
            var s = b.Div(b.Sub(x, Scalar(axis.Lo)), Scalar(h));
            var first = b.AddNode("Clip", [b.AddNode("Floor", [s], Name("floor")), Scalar(0), Scalar(axis.Count - 4)], Name("first"));
            var u = Unsqueeze(b.Sub(s, first), 1); // [N, 1]
            // Rows: powers u^0..u^3; columns: the four basis functions (value_k = sum_p M[p, k] u^p).
            var m = b.AddInitializer(Name("pieces"), new[]
            {
                1 / 6.0, 4 / 6.0, 1 / 6.0, 0,
                -3 / 6.0, 0, 3 / 6.0, 0,
                3 / 6.0, -6 / 6.0, 3 / 6.0, 0,
                -1 / 6.0, 3 / 6.0, -3 / 6.0, 1 / 6.0,
            }, 4, 4);
            string Powers(double[] exponents, double[] factors) =>
                b.Mul(b.AddNode("Pow", [u, b.AddInitializer(Name("exp"), exponents, 4L)], Name("pow")), b.AddInitializer(Name("fac"), factors, 4L));
            var value = b.MatMul(Powers(new double[] { 0, 1, 2, 3 }, new double[] { 1, 1, 1, 1 }), m);
            var d1 = b.MatMul(Powers(new double[] { 0, 0, 1, 2 }, new[] { 0, 1 / h, 2 / h, 3 / h }), m);
            var d2 = b.MatMul(Powers(new double[] { 0, 0, 0, 1 }, new[] { 0, 0, 2 / (h * h), 6 / (h * h) }), m);
            var index = b.Add(Unsqueeze(Cast(first, OnnxElementType.Int64), 1), b.AddInitializer(Name("offsets"), new long[] { 0, 1, 2, 3 }, 4));
            return (value, d1, d2, index);
        }

        public void Spline(TensorBSpline spline)
        {
            var t = Cast(InputName, OnnxElementType.Double);
            var t1 = b.AddNode("Gather", [t, b.AddInitializer(Name("i"), new long[] { 0 })], Name("t1"), OnnxAttribute.Int("axis", 1));
            var t2 = b.AddNode("Gather", [t, b.AddInitializer(Name("i"), new long[] { 1 })], Name("t2"), OnnxAttribute.Int("axis", 1));
            var (b1, d1b1, d2b1, i1) = Basis(t1, spline.Axis1);
            var (b2, d1b2, d2b2, i2) = Basis(t2, spline.Axis2);
            // The 4 x 4 coefficients under each point: c[(first1 + k) * Count2 + first2 + l].
            var flat = b.Add(b.Mul(Unsqueeze(i1, 2), b.AddInitializer(Name("n2"), new long[] { spline.Axis2.Count })), Unsqueeze(i2, 1));
            var c = b.AddNode("Gather", [b.AddInitializer("coefficients", spline.Coefficients, spline.Coefficients.Length), flat],
                Name("c"), OnnxAttribute.Int("axis", 0)); // [N, 4, 4]
            // r_k = sum_l c_kl B2_l (and with B2', B2''), then contract with the axis-1 basis.
            string Row(string basis2) => Squeeze(b.MatMul(c, Unsqueeze(basis2, 2)), 2);
            var r0 = Row(b2);
            var r1 = Row(d1b2);
            var r2 = Row(d2b2);
            string Contract(string r, string basis1) => Unsqueeze(RowSum(b.Mul(r, basis1)), 1);
            var psi = Contract(r0, b1);
            Cast(Squeeze(psi, 1), OnnxElementType.Float, PsiName);
            Cast(Concat(null, Contract(r0, d1b1), Contract(r1, b1)), OnnxElementType.Float, GradientName);
            Cast(Concat(null, Contract(r0, d2b1), Contract(r1, d1b1), Contract(r2, b1)), OnnxElementType.Float, MetricName);
        }

        /// <summary>
        /// psi = s (m + log sum_k exp(z_k - m)), z = u alpha^T + beta, m = max_k z_k, in double as <see cref="LogSumExpPsi"/>;
        /// grad = s * softmax mean of alpha / half-width; metric = s * softmax covariance / (half-width_i half-width_j).
        /// The covariance is E[c c^T] - E[c] E[c]^T of the atoms c = alpha - (centre of the atoms), shifted so that the
        /// subtraction loses little in double (it is computed in centred form by ours).
        /// </summary>
        public void LogSumExp(LogSumExpPsi psi)
        {
            var (c1, c2) = psi.Centre;
            var (h1, h2) = psi.HalfWidth;
            var atoms = psi.Atoms;
            int n = psi.Count;
            double a1 = 0, a2 = 0;
            for (int k = 0; k < n; k++) (a1, a2) = (a1 + atoms[2 * k] / n, a2 + atoms[2 * k + 1] / n);
            var alphaT = new double[2 * n]; // [2, n]
            var centred = new double[2 * n]; // [n, 2]
            var squares = new double[3 * n]; // [n, 3]
            for (int k = 0; k < n; k++)
            {
                (alphaT[k], alphaT[n + k]) = (atoms[2 * k], atoms[2 * k + 1]);
                double d1 = atoms[2 * k] - a1, d2 = atoms[2 * k + 1] - a2;
                (centred[2 * k], centred[2 * k + 1]) = (d1, d2);
                (squares[3 * k], squares[3 * k + 1], squares[3 * k + 2]) = (d1 * d1, d1 * d2, d2 * d2);
            }
            var t = Cast(InputName, OnnxElementType.Double);
            // Per axis w = t or -log t, with w' (= 1 or -1/t) and w'' (= 0 or 1/t^2) for the chain rule ([N, 1] each).
            var axes = new[] { psi.Axis1, psi.Axis2 };
            var ws = new string[2];
            var wd1 = new string[2];
            var wd2 = new string[2];
            for (int i = 0; i < 2; i++)
            {
                var ti = b.AddNode("Gather", [t, b.AddInitializer(Name("i"), new long[] { i }, 1)], Name("t"), OnnxAttribute.Int("axis", 1));
                if (axes[i] == ExponentialCoordinate.NegativeLog)
                {
                    var inv = b.Div(Scalar(1), ti);
                    (ws[i], wd1[i], wd2[i]) = (b.AddNode("Neg", [b.AddNode("Log", [ti], Name("log"))], Name("w")), b.AddNode("Neg", [inv], Name("d1")), b.Mul(inv, inv));
                }
                else (ws[i], wd1[i], wd2[i]) = (ti, b.Add(b.Mul(ti, Scalar(0)), Scalar(1)), b.Mul(ti, Scalar(0)));
            }
            bool natural = axes.All(a => a == ExponentialCoordinate.Natural);
            var warped = natural ? t : Concat(null, ws[0], ws[1]);
            var u = b.Mul(b.Sub(warped, b.AddInitializer(Name("centre"), new[] { c1, c2 }, 1, 2)),
                b.AddInitializer(Name("inv_half_width"), new[] { 1 / h1, 1 / h2 }, 1, 2));
            var z = b.Add(b.MatMul(u, b.AddInitializer("atoms_t", alphaT, 2, n)), b.AddInitializer("biases", psi.Biases, n));
            // opset 17: ReduceMax takes its axes as an attribute.
            var max = b.AddNode("ReduceMax", [z], Name("max"), OnnxAttribute.Ints("axes", 1), OnnxAttribute.Int("keepdims", 1));
            var e = b.Exp(b.Sub(z, max));
            var sum = b.AddNode("ReduceSum", [e, Axes(1)], Name("sum"), OnnxAttribute.Int("keepdims", 1)); // [N, 1]
            var scale = Scalar(psi.Scale);
            var value = b.Mul(b.Add(max, b.AddNode("Log", [sum], Name("log"))), scale);
            Cast(Squeeze(value, 1), OnnxElementType.Float, PsiName);
            var w = b.Div(e, sum);
            var mean = b.MatMul(w, b.AddInitializer(Name("atoms_centred"), centred, n, 2)); // E[c], [N, 2]
            var gradScale = b.AddInitializer(Name("grad_scale"), new[] { psi.Scale / h1, psi.Scale / h2 }, 1, 2);
            var gradW = b.Mul(b.Add(mean, b.AddInitializer(Name("atoms_mean"), new[] { a1, a2 }, 1, 2)), gradScale); // dpsi/dw
            Cast(natural ? gradW : b.Mul(gradW, Concat(null, wd1[0], wd1[1])), OnnxElementType.Float, GradientName);
            var second = b.MatMul(w, b.AddInitializer(Name("atoms_squares"), squares, n, 3)); // E[c c^T] as (11, 12, 22)
            var m1 = b.AddNode("Gather", [mean, b.AddInitializer(Name("i"), new long[] { 0 }, 1)], Name("m1"), OnnxAttribute.Int("axis", 1));
            var m2 = b.AddNode("Gather", [mean, b.AddInitializer(Name("i"), new long[] { 1 }, 1)], Name("m2"), OnnxAttribute.Int("axis", 1));
            var outer = Concat(null, b.Mul(m1, m1), b.Mul(m1, m2), b.Mul(m2, m2));
            var metricScale = b.AddInitializer(Name("metric_scale"),
                new[] { psi.Scale / (h1 * h1), psi.Scale / (h1 * h2), psi.Scale / (h2 * h2) }, 1, 3);
            var metricW = b.Mul(b.Sub(second, outer), metricScale); // d2psi/dw2 as (11, 12, 22)
            if (natural)
            {
                Cast(metricW, OnnxElementType.Float, MetricName);
                return;
            }
            // g = w' H_w w' + diag(dpsi/dw w''), entry by entry.
            var outerD = Concat(null, b.Mul(wd1[0], wd1[0]), b.Mul(wd1[0], wd1[1]), b.Mul(wd1[1], wd1[1]));
            var g1 = b.AddNode("Gather", [gradW, b.AddInitializer(Name("i"), new long[] { 0 }, 1)], Name("g1"), OnnxAttribute.Int("axis", 1));
            var g2 = b.AddNode("Gather", [gradW, b.AddInitializer(Name("i"), new long[] { 1 }, 1)], Name("g2"), OnnxAttribute.Int("axis", 1));
            var diagonal = Concat(null, b.Mul(g1, wd2[0]), b.Mul(g1, Scalar(0)), b.Mul(g2, wd2[1]));
            Cast(b.Add(b.Mul(metricW, outerD), diagonal), OnnxElementType.Float, MetricName);
        }

        private sealed record Block(Linear<float> Linear, LayerNorm<float>? Norm, ActivationKind Activation,
            string Input, string? XHat, string? InvStd, string PreActivation);

        public void Mlp(MlpPsi psi)
        {
            var box = psi.Box;
            // The network sees u = (t - centre) * 2 / width (see MlpPsi); d psi / d t = d psi / d u * 2 / width.
            var scale = b.AddInitializer(Name("scale"), new[] { (float)(2 / box.Width1), (float)(2 / box.Width2) }, 1, 2);
            var h = b.Mul(b.Add(InputName, b.AddInitializer(Name("shift"),
                new[] { (float)(-(box.Lo1 + box.Hi1) / 2), (float)(-(box.Lo2 + box.Hi2) / 2) }, 1, 2)), scale);
            var layers = psi.Network.Layers;
            var blocks = new List<Block>();
            int i = 0;
            while (i < layers.Count - 1)
            {
                var linear = (Linear<float>)layers[i++];
                var z = Affine(h, linear);
                LayerNorm<float>? norm = null;
                string? xhat = null, inv = null;
                if (layers[i] is LayerNorm<float> ln)
                {
                    norm = ln;
                    i++;
                    var centred = b.Sub(z, RowMean(z));
                    inv = b.AddNode("Reciprocal", [b.AddNode("Sqrt", [b.Add(RowMean(b.Mul(centred, centred)), ScalarF((float)ln.Eps))], Name("std"))], Name("inv"));
                    xhat = b.Mul(centred, inv);
                    z = b.Add(b.Mul(xhat, Weights(ln.Gamma.Value.Data, ln.Gamma.Value.Data.Length)), Weights(ln.Beta.Value.Data, ln.Beta.Value.Data.Length));
                }
                var activation = ((Activation<float>)layers[i++]).Kind;
                blocks.Add(new Block(linear, norm, activation, h, xhat, inv, z));
                h = Activate(z, activation);
            }
            var output = (Linear<float>)layers[^1];
            if (output.OutFeatures != 1) throw new NotSupportedException($"an MLP psi must end in one output, this one has {output.OutFeatures}");
            Squeeze(Affine(h, output), 1, PsiName);
            // Backward pass of the scalar output, row by row: d psi / d h_last = W_out (broadcast over rows).
            var grad = Weights(output.Weight.Value.Data, 1, output.InFeatures);
            for (int k = blocks.Count - 1; k >= 0; k--)
            {
                var blk = blocks[k];
                var g = b.Mul(grad, Derivative(blk.PreActivation, blk.Activation));
                if (blk.Norm is { } ln)
                {
                    // LayerNorm backward: gz = inv * (gx - mean(gx) - xhat * mean(gx * xhat)), gx = g * gamma.
                    var gx = b.Mul(g, Weights(ln.Gamma.Value.Data, ln.Gamma.Value.Data.Length));
                    g = b.Mul(blk.InvStd!, b.Sub(b.Sub(gx, RowMean(gx)), b.Mul(blk.XHat!, RowMean(b.Mul(gx, blk.XHat!)))));
                }
                grad = b.MatMul(g, Weights(blk.Linear.Weight.Value.Data, blk.Linear.OutFeatures, blk.Linear.InFeatures));
            }
            b.Mul(grad, scale, GradientName);
        }

        private string Weights(float[] data, params long[] dims) => b.AddInitializer(Name("w"), data, dims);

        private string Affine(string x, Linear<float> l) =>
            b.Gemm(x, Weights(l.Weight.Value.Data, l.OutFeatures, l.InFeatures),
                l.Bias is { } bias ? Weights(bias.Value.Data, l.OutFeatures) : null, transB: true, output: Name("gemm"));

        private string Activate(string x, ActivationKind kind) => kind switch
        {
            ActivationKind.Relu => b.Relu(x),
            ActivationKind.Softplus => b.Softplus(x),
            ActivationKind.Sigmoid => b.Sigmoid(x),
            ActivationKind.Tanh => b.Tanh(x),
            ActivationKind.Silu => b.Mul(x, b.Sigmoid(x)),
            _ => throw new NotSupportedException($"activation {kind}"),
        };

        /// <summary>d activation / d x at x (ReLU's derivative at 0 taken as 0, as our autodiff does).</summary>
        private string Derivative(string x, ActivationKind kind)
        {
            switch (kind)
            {
                case ActivationKind.Relu:
                    return Cast(b.AddNode("Greater", [x, ScalarF(0)], Name("pos")), OnnxElementType.Float);
                case ActivationKind.Softplus:
                    return b.Sigmoid(x);
                case ActivationKind.Sigmoid:
                {
                    var s = b.Sigmoid(x);
                    return b.Mul(s, b.Sub(ScalarF(1), s));
                }
                case ActivationKind.Tanh:
                {
                    var th = b.Tanh(x);
                    return b.Sub(ScalarF(1), b.Mul(th, th));
                }
                case ActivationKind.Silu:
                {
                    var s = b.Sigmoid(x);
                    return b.Add(s, b.Mul(b.Mul(x, s), b.Sub(ScalarF(1), s)));
                }
                default:
                    throw new NotSupportedException($"activation {kind}");
            }
        }
    }
}
