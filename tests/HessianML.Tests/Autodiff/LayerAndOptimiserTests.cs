using HessianML.Autodiff;
using HessianML.Autodiff.Layers;
using HessianML.Tensors;

namespace HessianML.Tests.Autodiff;

[TestClass]
public sealed class LayerAndOptimiserTests
{
    /// <summary>Backward through a module vs central differences over every parameter and input element.</summary>
    private static void CheckModule(string name, Module<double> m, Tensor<double> input)
    {
        var rng = new SplitMix64(99);
        Tensor<double>? w = null;
        double Loss(Tensor<double> x, out Var<double> loss, Var<double>? xv = null)
        {
            var y = m.Forward(xv ?? Var<double>.Constant(x));
            w ??= Tensor<double>.RandomNormal(rng, 0, 1, y.Shape.ToArray());
            loss = Ops.Sum(Ops.Mul(y, Var<double>.Constant(w)));
            return loss.Value[0];
        }
        var xp = Var<double>.Parameter(input.Clone());
        m.ZeroGrad();
        Loss(input, out var l, xp);
        l.Backward();
        const double h = 1e-6;
        var all = m.NamedParameterVars().Select(p => (p.Name, p.Parameter.Value, p.Parameter.Grad!)).Append(("input", input, xp.Grad!));
        foreach (var (pn, v, g) in all)
        {
            Assert.IsNotNull(g, $"{name}.{pn} has no gradient");
            for (int j = 0; j < v.Length; j++)
            {
                double o = v[j];
                v[j] = o + h; double lp = Loss(input, out _);
                v[j] = o - h; double lm = Loss(input, out _);
                v[j] = o;
                double num = (lp - lm) / (2 * h);
                Assert.AreEqual(num, g[j], 1e-6 * (1 + Math.Abs(num)), $"{name}.{pn}[{j}]");
            }
        }
    }

    [TestMethod]
    public void LayersGradientsMatchFiniteDifferences()
    {
        var rng = new SplitMix64(21);
        CheckModule("linear", new Linear<double>(3, 4, rng), GradCheck.Rand(rng, 5, 3));
        var ln = new LayerNorm<double>(4);
        ln.Gamma.Value.Data.AsSpan().Fill(1.3); ln.Beta.Value.Data.AsSpan().Fill(-0.2);
        CheckModule("layernorm", ln, GradCheck.Rand(rng, 3, 4));
        CheckModule("conv", new Conv2d<double>(2, 3, 3, rng, stride: 2, padding: 1), GradCheck.Rand(rng, 2, 2, 5, 6));
        foreach (var k in Enum.GetValues<ActivationKind>())
            CheckModule(k.ToString(), new Activation<double>(k), GradCheck.Rand(rng, 3, 4));
        CheckModule("cnn", new Sequential<double>(new Conv2d<double>(1, 2, 3, rng, padding: 1), new Activation<double>(ActivationKind.Silu),
            new Pool2d<double>(Pool2d<double>.Kind.Max), new Conv2d<double>(2, 2, 2, rng), new Pool2d<double>(Pool2d<double>.Kind.GlobalAverage),
            new Linear<double>(2, 3, rng)), GradCheck.Rand(rng, 2, 1, 6, 6));
        CheckModule("mlp", Mlp.Create<double>(3, 5, 3, 2, ActivationKind.Tanh, layerNorm: true, seed: 4), GradCheck.Rand(rng, 4, 3));
    }

    [TestMethod]
    public void SeededInitialisationIsReproducibleAndPyTorchShaped()
    {
        var a = Mlp.Create<float>(2, 16, 2, 1, ActivationKind.Relu, true, seed: 42);
        var b = Mlp.Create<float>(2, 16, 2, 1, ActivationKind.Relu, true, seed: 42);
        var c = Mlp.Create<float>(2, 16, 2, 1, ActivationKind.Relu, true, seed: 43);
        var pa = a.NamedParameters().ToList(); var pb = b.NamedParameters().ToList(); var pc = c.NamedParameters().ToList();
        CollectionAssert.AreEqual(new[] { "0.weight", "0.bias", "1.weight", "1.bias", "3.weight", "3.bias", "4.weight", "4.bias", "6.weight", "6.bias" },
            pa.Select(p => p.Name).ToArray());
        for (int i = 0; i < pa.Count; i++) CollectionAssert.AreEqual(pa[i].Value.Data, pb[i].Value.Data, pa[i].Name);
        Assert.IsFalse(pa[0].Value.Data.SequenceEqual(pc[0].Value.Data), "different seed, different weights");
        // Linear init bound 1/sqrt(in); LayerNorm gamma 1, beta 0.
        var w3 = pa[4].Value;
        CollectionAssert.AreEqual(new[] { 16, 16 }, w3.Shape.ToArray());
        Assert.IsTrue(w3.Data.All(v => Math.Abs(v) <= 0.25f) && w3.Data.Max() > 0.2f && w3.Data.Min() < -0.2f);
        Assert.IsTrue(pa[2].Value.Data.All(v => v == 1f) && pa[3].Value.Data.All(v => v == 0f));
        // Pinned first draw: SplitMix64(42) is a fixed algorithm, so this number is the same on every machine.
        Assert.AreEqual(new SplitMix64(42).NextUniform(-1 / Math.Sqrt(2), 1 / Math.Sqrt(2)), (double)pa[0].Value[0], 1e-7);
        // Reference SplitMix64 outputs for seed 0 (Vigna's splitmix64.c).
        var r0 = new SplitMix64(0);
        Assert.AreEqual(0xE220A8397B1DCDAFUL, r0.NextUInt64());
        Assert.AreEqual(0x6E789E6AA1B965F4UL, r0.NextUInt64());
    }

    [TestMethod]
    public void ParametersRoundTripByName()
    {
        var a = Mlp.Create<double>(2, 4, 1, 1, ActivationKind.Softplus, true, seed: 1);
        var b = Mlp.Create<double>(2, 4, 1, 1, ActivationKind.Softplus, true, seed: 2);
        b.LoadParameters(a.NamedParameters().Select(p => (p.Name, p.Value.Clone())));
        var x = GradCheck.Rand(new SplitMix64(3), 5, 2);
        CollectionAssert.AreEqual(a.Predict(x).Data, b.Predict(x).Data);
        var bad = a.NamedParameters().Select(p => (p.Name, p.Name == "0.weight" ? Tensor<double>.Zeros(3, 2) : p.Value)).ToList();
        var e = Assert.ThrowsExactly<ArgumentException>(() => b.LoadParameters(bad));
        StringAssert.Contains(e.Message, "[3,2]");
        StringAssert.Contains(e.Message, "[4,2]");
        Assert.ThrowsExactly<ArgumentException>(() => b.LoadParameters(a.NamedParameters().Skip(1)));
    }

    [TestMethod]
    public void AdamMatchesPyTorchRuleByHand()
    {
        // One parameter [2], loss = sum(c * p) so grad = c each step; weight decay 0.1 adds 0.1 p.
        var p = Var<double>.Parameter(Tensor<double>.FromDoubles([1.0, -2.0], 2));
        var c = Var<double>.Constant(Tensor<double>.FromDoubles([0.5, 3.0], 2));
        var opt = new Adam<double>([p], lr: 0.01, weightDecay: 0.1);
        double[] w = [1.0, -2.0], m = new double[2], v = new double[2];
        double[] cc = [0.5, 3.0];
        for (int step = 1; step <= 3; step++)
        {
            opt.ZeroGrad();
            Ops.Sum(Ops.Mul(p, c)).Backward();
            opt.Step();
            for (int i = 0; i < 2; i++)
            {
                double g = cc[i] + 0.1 * w[i];
                m[i] = 0.9 * m[i] + 0.1 * g;
                v[i] = 0.999 * v[i] + 0.001 * g * g;
                double mh = m[i] / (1 - Math.Pow(0.9, step)), vh = v[i] / (1 - Math.Pow(0.999, step));
                w[i] -= 0.01 * mh / (Math.Sqrt(vh) + 1e-8);
            }
            Assert.AreEqual(w[0], p.Value[0], 1e-12, $"step {step}");
            Assert.AreEqual(w[1], p.Value[1], 1e-12, $"step {step}");
        }
        // PyTorch's first Adam step moves a weight by lr * g / (|g| + eps): ~lr against the gradient's sign.
        var q = Var<double>.Parameter(Tensor<double>.FromDoubles([1.0], 1));
        var o = new Adam<double>([q], lr: 0.01);
        Ops.Sum(Ops.Scale(q, 7.0)).Backward();
        o.Step();
        Assert.AreEqual(1.0 - 0.01 * 7 / (7 + 1e-8), q.Value[0], 1e-15);
    }

    [TestMethod]
    public void AdamFitsARegression()
    {
        var rng = new SplitMix64(31);
        var x = Tensor<float>.RandomUniform(rng, -1, 1, 64, 2);
        var y = Tensor<float>.Zeros(64, 1);
        for (int i = 0; i < 64; i++) y[i, 0] = MathF.Sin(2 * x[i, 0]) + x[i, 1] * x[i, 1];
        var net = Mlp.Create<float>(2, 32, 2, 1, ActivationKind.Tanh, layerNorm: false, seed: 7);
        var opt = new Adam<float>(net.Parameters(), lr: 0.01);
        float first = 0, last = 0;
        for (int it = 0; it < 300; it++)
        {
            opt.ZeroGrad();
            var loss = Ops.Mean(Ops.Square(Ops.Sub(net.Forward(Var<float>.Constant(x)), Var<float>.Constant(y))));
            loss.Backward();
            opt.Step();
            if (it == 0) first = loss.Value[0];
            last = loss.Value[0];
        }
        Assert.IsTrue(last < 0.01f * first && last < 5e-3f, $"loss {first} -> {last}");
    }

    [TestMethod]
    public void Float32GraphMatchesDoubleGraph()
    {
        var nd = Mlp.Create<double>(2, 32, 3, 1, ActivationKind.Silu, true, seed: 8);
        var nf = Mlp.Create<float>(2, 32, 3, 1, ActivationKind.Silu, true, seed: 8);
        var pts = Tensor<double>.RandomUniform(new SplitMix64(9), -1, 1, 7, 2);
        var (vd, gd, hd) = Derivatives.ValueGradientHessian(nd.Forward, pts);
        var (vf, gf, hf) = Derivatives.ValueGradientHessian(nf.Forward, pts.Cast<float>());
        for (int i = 0; i < vd.Length; i++) Assert.AreEqual(vd[i], vf[i], 1e-4 * (1 + Math.Abs(vd[i])));
        for (int i = 0; i < gd.Length; i++) Assert.AreEqual(gd[i], gf[i], 1e-3 * (1 + Math.Abs(gd[i])));
        for (int i = 0; i < hd.Length; i++) Assert.AreEqual(hd[i], hf[i], 1e-2 * (1 + Math.Abs(hd[i])));
        // Parameter gradients of a loss through grad_t psi, float vs double.
        double LossGrad<T>(Sequential<T> net) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
        {
            net.ZeroGrad();
            var t = Var<T>.Parameter(pts.Cast<T>());
            var g = Autograd.Grad(Ops.Sum(net.Forward(t)), [t], createGraph: true)[0];
            Ops.Sum(Ops.Square(g)).Backward();
            return double.CreateChecked(net.Parameters()[0].Grad![3]);
        }
        double a = LossGrad(nd), b = LossGrad(nf);
        Assert.AreEqual(a, b, 1e-3 * (1 + Math.Abs(a)));
        Assert.AreNotEqual(0.0, a);
    }
}
