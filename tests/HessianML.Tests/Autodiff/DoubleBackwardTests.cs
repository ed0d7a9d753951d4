using HessianML.Autodiff;
using HessianML.Autodiff.Layers;
using HessianML.Tensors;

namespace HessianML.Tests.Autodiff;

[TestClass]
public sealed class DoubleBackwardTests
{
    private static double PsiSum(Sequential<double> net, Tensor<double> t)
    {
        using var scope = GradMode.NoGrad();
        return Ops.Sum(net.Forward(Var<double>.Constant(t))).Value[0];
    }

    private static Tensor<double> Points(ulong seed, int n) => Tensor<double>.RandomUniform(new SplitMix64(seed), -1, 1, n, 2);

    [TestMethod]
    [DataRow(ActivationKind.Softplus)]
    [DataRow(ActivationKind.Silu)]
    [DataRow(ActivationKind.Tanh)]
    [DataRow(ActivationKind.Relu)]
    public void InputGradientMatchesFiniteDifferences(ActivationKind act)
    {
        var net = Mlp.Create<double>(2, 8, 2, 1, act, layerNorm: true, seed: 3);
        var t0 = Points(4, 5);
        var t = Var<double>.Parameter(t0.Clone());
        var g = Autograd.Grad(Ops.Sum(net.Forward(t)), [t], createGraph: true)[0];
        Assert.IsTrue(g.RequiresGrad, "createGraph must return graph nodes");
        const double h = 1e-6;
        for (int j = 0; j < t0.Length; j++)
        {
            var tp = t0.Clone(); tp[j] += h;
            var tm = t0.Clone(); tm[j] -= h;
            double num = (PsiSum(net, tp) - PsiSum(net, tm)) / (2 * h);
            Assert.AreEqual(num, g.Value[j], 1e-6 * (1 + Math.Abs(num)), $"{act} d psi / d t[{j}]");
        }
    }

    /// <summary>A loss built from grad_t psi (as the log-partition loss is), differentiated in the parameters.</summary>
    private static double Loss(Sequential<double> net, Tensor<double> t, Tensor<double> w, Tensor<double> grid, out Var<double> loss)
    {
        var tv = Var<double>.Parameter(t.Clone());
        var grad = Autograd.Grad(Ops.Sum(net.Forward(tv)), [tv], createGraph: true)[0];
        // logits = grad_t psi(t) . grid^T - psi(grid), softmax cross-entropy against w: METHOD §3's shape.
        var psiG = Ops.Reshape(net.Forward(Var<double>.Constant(grid)), 1, -1);
        var logits = Ops.Sub(Ops.MatMul(grad, Var<double>.Constant(grid), transB: true), psiG);
        var ce = Ops.Neg(Ops.Mean(Ops.Sum(Ops.Mul(Var<double>.Constant(w), Ops.LogSoftmax(logits)), 1)));
        loss = Ops.Add(ce, Ops.Scale(Ops.Mean(Ops.Square(grad)), 0.1));
        return loss.Value[0];
    }

    [TestMethod]
    [DataRow(ActivationKind.Softplus)]
    [DataRow(ActivationKind.Silu)]
    [DataRow(ActivationKind.Tanh)]
    [DataRow(ActivationKind.Relu)]
    public void ParameterGradientOfGradientLossMatchesFiniteDifferences(ActivationKind act)
    {
        var net = Mlp.Create<double>(2, 6, 2, 1, act, layerNorm: true, seed: 5);
        var rng = new SplitMix64(6);
        var t = Points(7, 4);
        var grid = Points(8, 9);
        var w = Tensor<double>.RandomUniform(rng, 0, 1, 4, 9);
        Loss(net, t, w, grid, out var loss);
        loss.Backward();
        const double h = 1e-6;
        foreach (var (name, p) in net.NamedParameterVars())
        {
            Assert.IsNotNull(p.Grad, $"{name} has no gradient");
            for (int j = 0; j < p.Length; j++)
            {
                double orig = p.Value[j];
                p.Value[j] = orig + h;
                double lp = Loss(net, t, w, grid, out _);
                p.Value[j] = orig - h;
                double lm = Loss(net, t, w, grid, out _);
                p.Value[j] = orig;
                double num = (lp - lm) / (2 * h);
                Assert.AreEqual(num, p.Grad![j], 1e-6 * (1 + Math.Abs(num)), $"{act}: d loss / d {name}[{j}]");
            }
        }
    }

    [TestMethod]
    [DataRow(ActivationKind.Softplus)]
    [DataRow(ActivationKind.Relu)]
    public void HessianMatchesFiniteDifferencesOfGradient(ActivationKind act)
    {
        var net = Mlp.Create<double>(2, 8, 2, 1, act, layerNorm: true, seed: 9);
        var pts = Points(10, 6);
        var (value, grad, hess) = Derivatives.ValueGradientHessian(net.Forward, pts);
        CollectionAssert.AreEqual(new[] { 6 }, value.Shape.ToArray());
        CollectionAssert.AreEqual(new[] { 6, 2, 2 }, hess.Shape.ToArray());
        var pred = net.Predict(pts);
        for (int i = 0; i < 6; i++) Assert.AreEqual(pred[i], value[i], 1e-12);
        const double h = 1e-5;
        for (int k = 0; k < 2; k++)
        {
            var pp = pts.Clone(); var pm = pts.Clone();
            for (int i = 0; i < 6; i++) { pp[i, k] += h; pm[i, k] -= h; }
            var gp = Derivatives.ValueGradientHessian(net.Forward, pp).Gradient;
            var gm = Derivatives.ValueGradientHessian(net.Forward, pm).Gradient;
            for (int i = 0; i < 6; i++)
                for (int j = 0; j < 2; j++)
                {
                    double num = (gp[i, j] - gm[i, j]) / (2 * h);
                    Assert.AreEqual(num, hess[i, j, k], 1e-5 * (1 + Math.Abs(num)), $"{act} H[{i},{j},{k}]");
                }
        }
        for (int i = 0; i < 6; i++) Assert.AreEqual(hess[i, 0, 1], hess[i, 1, 0], 1e-10, "Hessian symmetric");
        if (act == ActivationKind.Softplus) Assert.IsTrue(Math.Abs(hess[0, 0, 0]) > 1e-6, "smooth psi has a non-zero Hessian");
    }

    [TestMethod]
    public void HessianOfKnownFunction()
    {
        // f(x, y) = x^2 y + exp(y): grad (2xy, x^2 + e^y), H [[2y, 2x], [2x, e^y]].
        var pts = Tensor<double>.FromDoubles([0.3, -0.2, -1.1, 0.5], 2, 2);
        var (v, g, h) = Derivatives.ValueGradientHessian<double>(p =>
        {
            var x = Ops.Slice(p, 1, 0, 1); var y = Ops.Slice(p, 1, 1, 1);
            return Ops.Add(Ops.Mul(Ops.Square(x), y), Ops.Exp(y));
        }, pts);
        for (int i = 0; i < 2; i++)
        {
            double x = pts[i, 0], y = pts[i, 1];
            Assert.AreEqual(x * x * y + Math.Exp(y), v[i], 1e-12);
            Assert.AreEqual(2 * x * y, g[i, 0], 1e-12);
            Assert.AreEqual(x * x + Math.Exp(y), g[i, 1], 1e-12);
            Assert.AreEqual(2 * y, h[i, 0, 0], 1e-12);
            Assert.AreEqual(2 * x, h[i, 0, 1], 1e-12);
            Assert.AreEqual(2 * x, h[i, 1, 0], 1e-12);
            Assert.AreEqual(Math.Exp(y), h[i, 1, 1], 1e-12);
        }
    }
}
