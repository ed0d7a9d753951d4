using HessianML.Autodiff;
using HessianML.Autodiff.Layers;
using HessianML.Data;
using HessianML.Geometry;
using HessianML.Posterior;
using HessianML.Tensors;

namespace HessianML.Evaluation;

/// <summary>
/// What both baselines of METHOD.md §7 share: how their statistic's network trains and how the statistic is integrated
/// into psi (<see cref="MeanAsStatBaseline.IntegrateGradient"/>). Defaults sized for the README's main job on 2 cores.
/// </summary>
public abstract class BaselineOptions
{
    /// <summary>Passes over the samples when training the statistic's network. Default 6.</summary>
    public int Epochs { get; set; } = 6;

    /// <summary>Samples per Adam step. Default 128.</summary>
    public int BatchSize { get; set; } = 128;

    /// <summary>Adam learning rate. Default 2e-3.</summary>
    public double LearningRate { get; set; } = 2e-3;

    /// <summary>Cubic B-spline basis functions per axis for the integrated psi. Default 12.</summary>
    public int SplineCount { get; set; } = 12;

    /// <summary>Ridge weight, relative to the mean diagonal of the normal equations; fixes psi's free constant. Default 1e-8.</summary>
    public double Ridge { get; set; } = 1e-8;

    /// <summary>Seed of the network initialisation, the minibatch order (and any sampling noise). Default 1.</summary>
    public ulong Seed { get; set; } = 1;

    /// <summary>Called with one line per epoch (the CLI prints it on stderr); null for silence.</summary>
    public Action<string>? Progress { get; set; }
}

/// <summary>Settings of the Mean-as-Stat baseline (METHOD.md §7).</summary>
public sealed class MeanAsStatOptions : BaselineOptions
{
    /// <summary>Convolution channels (2D lattices) or hidden width (1D chains). Default 16.</summary>
    public int Width { get; set; } = 16;

    internal MeanAsStatOptions Clone() => (MeanAsStatOptions)MemberwiseClone();
}

/// <summary>
/// The Mean-as-Stat baseline of METHOD.md §7: a network regresses t from a sample x (its output approximates the
/// posterior mean); that output is taken as a sufficient statistic T_hat(x), and psi is fitted so that
/// grad psi(t) ~ E[T_hat | t] (derivative matching, exact least squares for a spline psi, whose gradient is linear in
/// its coefficients). Its metric is then Hessian(psi), compared with the exact one like ours.
/// </summary>
public static class MeanAsStatBaseline
{
    /// <summary>Fits the regression network on <paramref name="samples"/> (`t`, `state`) and integrates its statistic.</summary>
    public static (TensorBSpline Psi, double RegressionRmse) Fit(ColumnTable samples, ParameterBox box, MeanAsStatOptions options)
    {
        var shape = SampleShape.Of(samples);
        int n = samples.RowCount, sites = shape.Sites;
        var t = samples.GetColumn<float>("t").ToArray();
        var state = samples.GetColumn<sbyte>("state");

        // Regress t scaled to [0, 1]^2 so that both axes weigh the same in the squared error.
        var net = shape.IsLattice
            ? new Sequential<float>(
                new Conv2d<float>(1, options.Width, 3, new SplitMix64(options.Seed), padding: 1), new Activation<float>(ActivationKind.Relu),
                new Conv2d<float>(options.Width, options.Width, 3, new SplitMix64(options.Seed + 1), padding: 1), new Activation<float>(ActivationKind.Relu),
                new Pool2d<float>(Pool2d<float>.Kind.GlobalAverage),
                new Linear<float>(options.Width, 4 * options.Width, new SplitMix64(options.Seed + 2)), new Activation<float>(ActivationKind.Relu),
                new Linear<float>(4 * options.Width, 2, new SplitMix64(options.Seed + 3)))
            : Mlp.Create<float>(sites, 4 * options.Width, 2, 2, ActivationKind.Relu, layerNorm: false, options.Seed);
        var adam = new Adam<float>(net.Parameters(), options.LearningRate);
        var order = Enumerable.Range(0, n).ToArray();
        var rng = new SplitMix64(options.Seed + 17);
        double rmse = double.NaN;
        for (int epoch = 0; epoch < options.Epochs; epoch++)
        {
            rng.Shuffle(order);
            double sse = 0;
            for (int start = 0; start < n; start += options.BatchSize)
            {
                int b = Math.Min(options.BatchSize, n - start);
                var rows = order.AsSpan(start, b);
                var x = Var<float>.Constant(Inputs(state.Span, rows, shape));
                var target = Var<float>.Constant(ScaledTargets(t, rows, box));
                adam.ZeroGrad();
                var err = Ops.Sub(net.Forward(x), target);
                var loss = Ops.Mean(Ops.Square(err));
                loss.Backward();
                adam.Step();
                sse += loss.Value[0] * b * 2;
            }
            rmse = Math.Sqrt(sse / (2.0 * n));
            options.Progress?.Invoke($"mean-as-stat: epoch {epoch + 1}/{options.Epochs}, rms error of t/box {rmse:F4}");
        }

        // T_hat for every sample (back in t units), then grad psi(t_i) ~ T_hat_i by least squares on the spline.
        var statistic = new double[2 * n];
        var all = Enumerable.Range(0, n).ToArray();
        using (GradMode.NoGrad())
            for (int start = 0; start < n; start += 1024)
            {
                var rows = all.AsSpan(start, Math.Min(1024, n - start));
                var y = net.Forward(Var<float>.Constant(Inputs(state.Span, rows, shape))).Value;
                for (int r = 0; r < rows.Length; r++)
                {
                    statistic[2 * rows[r]] = box.Lo1 + box.Width1 * y[r, 0];
                    statistic[2 * rows[r] + 1] = box.Lo2 + box.Width2 * y[r, 1];
                }
            }
        return (IntegrateGradient(t, statistic, box, options.SplineCount, options.Ridge), rmse);
    }

    /// <summary>
    /// The spline psi minimising sum_i |grad psi(t_i) - g_i|^2 (+ a tiny ridge for the free constant): normal equations
    /// over the coefficients, each row touching only the 16 basis functions non-zero at t_i.
    /// </summary>
    public static TensorBSpline IntegrateGradient(ReadOnlySpan<float> t, ReadOnlySpan<double> gradient, ParameterBox box,
        int splineCount, double ridge)
    {
        var spline = new TensorBSpline(box, splineCount, splineCount);
        int p = spline.CoefficientCount, n = t.Length / 2;
        var a = new double[p * p];
        var rhs = new double[p];
        Span<int> idx = stackalloc int[16];
        Span<double> w = stackalloc double[16 * 6];
        for (int i = 0; i < n; i++)
        {
            spline.BasisRow(t[2 * i], t[2 * i + 1], idx, w[..16], w[16..32], w[32..48], w[48..64], w[64..80], w[80..]);
            for (int axis = 0; axis < 2; axis++)
            {
                var d = w.Slice(16 + 16 * axis, 16);
                double g = gradient[2 * i + axis];
                for (int r = 0; r < 16; r++)
                {
                    rhs[idx[r]] += d[r] * g;
                    for (int s = 0; s < 16; s++)
                        a[idx[r] * p + idx[s]] += d[r] * d[s];
                }
            }
        }
        double meanDiagonal = Enumerable.Range(0, p).Average(k => a[k * p + k]);
        for (int k = 0; k < p; k++) a[k * p + k] += ridge * meanDiagonal + 1e-300;
        var c = LogPosteriorLeastSquares.CholeskySolve(a, rhs, p);
        c.CopyTo(spline.Coefficients, 0);
        return spline;
    }

    private static Tensor<float> Inputs(ReadOnlySpan<sbyte> state, ReadOnlySpan<int> rows, SampleShape shape)
    {
        int sites = shape.Sites;
        var x = new float[rows.Length * sites];
        for (int r = 0; r < rows.Length; r++)
        {
            var src = state.Slice(rows[r] * sites, sites);
            for (int s = 0; s < sites; s++) x[r * sites + s] = src[s];
        }
        return shape.IsLattice ? Tensor<float>.FromArray(x, rows.Length, 1, shape.Height, shape.Width)
                               : Tensor<float>.FromArray(x, rows.Length, sites);
    }

    private static Tensor<float> ScaledTargets(float[] t, ReadOnlySpan<int> rows, ParameterBox box)
    {
        var y = new float[rows.Length * 2];
        for (int r = 0; r < rows.Length; r++)
        {
            y[2 * r] = (float)(box.Width1 > 0 ? (t[2 * rows[r]] - box.Lo1) / box.Width1 : 0);
            y[2 * r + 1] = (float)(box.Width2 > 0 ? (t[2 * rows[r] + 1] - box.Lo2) / box.Width2 : 0);
        }
        return Tensor<float>.FromArray(y, rows.Length, 2);
    }
}
