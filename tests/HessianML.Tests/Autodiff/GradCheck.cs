using HessianML.Autodiff;
using HessianML.Tensors;

namespace HessianML.Tests.Autodiff;

/// <summary>
/// Finite-difference gradient checker in double: the op's output is reduced to a scalar with fixed random
/// weights (so every output element matters), then analytic gradients (fast path and, where supported, the
/// differentiable createGraph path) are compared with central differences.
/// </summary>
internal static class GradCheck
{
    public static void Check(string name, Func<Var<double>[], Var<double>> f, Tensor<double>[] inputs, ulong seed = 1,
        bool graph = true, double h = 1e-6, double tol = 1e-6)
    {
        var rng = new SplitMix64(seed);
        Tensor<double>? weights = null;
        double Loss(Var<double>[] xs, out Var<double> loss)
        {
            var y = f(xs);
            weights ??= Tensor<double>.RandomNormal(rng, 0, 1, y.Shape.ToArray());
            loss = Ops.Sum(Ops.Mul(y, Var<double>.Constant(weights)));
            return loss.Value[0];
        }
        var ps = inputs.Select(t => Var<double>.Parameter(t.Clone())).ToArray();
        Loss(ps, out var l);
        var fast = Autograd.Grad(l, ps, createGraph: false);
        Var<double>[]? slow = null;
        if (graph)
        {
            Loss(ps, out var l2);
            slow = Autograd.Grad(l2, ps, createGraph: true);
        }
        for (int i = 0; i < inputs.Length; i++)
        {
            var x = inputs[i].Clone();
            for (int j = 0; j < x.Length; j++)
            {
                double orig = x[j];
                double Eval(double v)
                {
                    x[j] = v;
                    var xs = inputs.Select((t, k) => Var<double>.Constant(k == i ? x : t)).ToArray();
                    using var scope = GradMode.NoGrad();
                    return Loss(xs, out _);
                }
                double num = (Eval(orig + h) - Eval(orig - h)) / (2 * h);
                x[j] = orig;
                double bound = tol * (1 + Math.Abs(num));
                Assert.AreEqual(num, fast[i].Value[j], bound, $"{name}: input {i} element {j} (fast backward)");
                if (slow is not null)
                    Assert.AreEqual(num, slow[i].Value[j], bound, $"{name}: input {i} element {j} (graph backward)");
            }
        }
    }

    public static Tensor<double> Rand(SplitMix64 rng, params int[] shape) => Tensor<double>.RandomNormal(rng, 0, 1, shape);

    public static Tensor<double> Positive(SplitMix64 rng, params int[] shape) => Tensor<double>.RandomUniform(rng, 0.5, 2.0, shape);
}
