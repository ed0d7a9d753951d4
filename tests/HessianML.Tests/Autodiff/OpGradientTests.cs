using HessianML.Autodiff;
using HessianML.Tensors;
using static HessianML.Tests.Autodiff.GradCheck;

namespace HessianML.Tests.Autodiff;

[TestClass]
public sealed class OpGradientTests
{
    private static (int B, int N) Dims(SplitMix64 r) => (2 + r.NextInt(4), 2 + r.NextInt(5));

    [TestMethod]
    public void BinaryOpsWithBroadcasting()
    {
        var r = new SplitMix64(11);
        var (b, n) = Dims(r);
        int c = 2 + r.NextInt(3);
        int[][][] pairs =
        [
            [[b, n], [b, n]], [[b, n], [n]], [[b, n], [b, 1]], [[b, n], [1, n]], [[b, n], []],
            [[b, 1], [1, n]], [[n], [b, n]], [[b, 1], [b, n]], [[c, b, n], [c, 1, n]], [[c, b, n], [b, 1]],
        ];
        foreach (var p in pairs)
        {
            string s = Tensor<double>.ShapeString(p[0]) + Tensor<double>.ShapeString(p[1]);
            Check("add" + s, x => Ops.Add(x[0], x[1]), [Rand(r, p[0]), Rand(r, p[1])]);
            Check("sub" + s, x => Ops.Sub(x[0], x[1]), [Rand(r, p[0]), Rand(r, p[1])]);
            Check("mul" + s, x => Ops.Mul(x[0], x[1]), [Rand(r, p[0]), Rand(r, p[1])]);
            Check("div" + s, x => Ops.Div(x[0], x[1]), [Rand(r, p[0]), Positive(r, p[1])]);
        }
    }

    [TestMethod]
    public void ScalarOps()
    {
        var r = new SplitMix64(12);
        var (b, n) = Dims(r);
        Check("scale", x => Ops.Scale(x[0], -1.7), [Rand(r, b, n)]);
        Check("add_scalar", x => Ops.AddScalar(x[0], 0.3) * 2.0, [Rand(r, b, n)]);
        Check("neg", x => -x[0], [Rand(r, b, n)]);
        Check("broadcast_to", x => Ops.BroadcastTo(x[0], [b, 3, n]), [Rand(r, 3, 1)]);
        Check("sum_to_shape", x => Ops.SumToShape(x[0], [1, n]), [Rand(r, b, n)]);
    }

    [TestMethod]
    public void UnaryOps()
    {
        var r = new SplitMix64(13);
        var (b, n) = Dims(r);
        Check("exp", x => Ops.Exp(x[0]), [Rand(r, b, n)]);
        Check("log", x => Ops.Log(x[0]), [Positive(r, b, n)]);
        Check("square", x => Ops.Square(x[0]), [Rand(r, b, n)]);
        Check("sqrt", x => Ops.Sqrt(x[0]), [Positive(r, b, n)]);
        Check("relu", x => Ops.Relu(x[0]), [Rand(r, b, n)]);
        Check("softplus", x => Ops.Softplus(Ops.Scale(x[0], 5.0)), [Rand(r, b, n)]);
        Check("sigmoid", x => Ops.Sigmoid(x[0]), [Rand(r, b, n)]);
        Check("silu", x => Ops.Silu(x[0]), [Rand(r, b, n)]);
        Check("tanh", x => Ops.Tanh(x[0]), [Rand(r, b, n)]);
    }

    [TestMethod]
    public void UnaryValuesMatchScalarFormulas()
    {
        var x = Tensor<double>.FromDoubles([-30, -1.5, 0, 0.7, 40], 5);
        var v = Var<double>.Constant(x);
        for (int i = 0; i < 5; i++)
        {
            double xi = x[i], s = 1 / (1 + Math.Exp(-xi));
            Assert.AreEqual(Math.Log(1 + Math.Exp(xi)), Ops.Softplus(v).Value[i], 1e-12 * (1 + Math.Abs(xi)));
            Assert.AreEqual(s, Ops.Sigmoid(v).Value[i], 1e-14);
            Assert.AreEqual(xi * s, Ops.Silu(v).Value[i], 1e-12);
            Assert.AreEqual(Math.Tanh(xi), Ops.Tanh(v).Value[i], 1e-14);
            Assert.AreEqual(Math.Max(0, xi), Ops.Relu(v).Value[i]);
        }
    }

    [TestMethod]
    public void Reductions()
    {
        var r = new SplitMix64(14);
        var (b, n) = Dims(r);
        int c = 2 + r.NextInt(3);
        Check("sum", x => Ops.Sum(x[0]), [Rand(r, c, b, n)]);
        Check("mean", x => Ops.Mean(x[0]), [Rand(r, c, b, n)]);
        for (int axis = -1; axis < 3; axis++)
            foreach (bool keep in new[] { false, true })
            {
                int a = axis;
                Check($"sum axis {a} keep {keep}", x => Ops.Sum(x[0], a, keep), [Rand(r, c, b, n)]);
                Check($"mean axis {a} keep {keep}", x => Ops.Mean(x[0], a, keep), [Rand(r, c, b, n)]);
            }
        var t = Tensor<double>.FromDoubles([1, 2, 3, 4, 5, 6], 2, 3);
        CollectionAssert.AreEqual(new[] { 5.0, 7, 9 }, Ops.Sum(Var<double>.Constant(t), 0).Value.Data);
        CollectionAssert.AreEqual(new[] { 2.0, 5 }, Ops.Mean(Var<double>.Constant(t), 1).Value.Data);
    }

    [TestMethod]
    public void MatMulAllTransposesAndLinear()
    {
        var r = new SplitMix64(15);
        int m = 2 + r.NextInt(4), k = 2 + r.NextInt(4), n = 2 + r.NextInt(4);
        foreach (bool ta in new[] { false, true })
            foreach (bool tb in new[] { false, true })
                Check($"matmul {ta} {tb}", x => Ops.MatMul(x[0], x[1], ta, tb), [Rand(r, ta ? [k, m] : [m, k]), Rand(r, tb ? [n, k] : [k, n])]);
        Check("linear", x => Ops.Linear(x[0], x[1], x[2]), [Rand(r, m, k), Rand(r, n, k), Rand(r, n)]);
        Check("linear no bias", x => Ops.Linear(x[0], x[1], null), [Rand(r, m, k), Rand(r, n, k)]);
        // Value against a hand loop.
        var a = Rand(r, m, k); var w = Rand(r, n, k);
        var y = Ops.MatMul(Var<double>.Constant(a), Var<double>.Constant(w), transB: true).Value;
        double s = 0;
        for (int p = 0; p < k; p++) s += a[1, p] * w[n - 1, p];
        Assert.AreEqual(s, y[1, n - 1], 1e-12);
    }

    [TestMethod]
    public void SoftmaxFamilyAndLayerNorm()
    {
        var r = new SplitMix64(16);
        var (b, n) = Dims(r);
        Check("softmax", x => Ops.Softmax(x[0]), [Rand(r, 2, b, n)]);
        Check("log_softmax", x => Ops.LogSoftmax(x[0]), [Rand(r, b, n)]);
        Check("logsumexp", x => Ops.LogSumExp(x[0]), [Rand(r, 2, b, n)]);
        Check("logsumexp keep", x => Ops.LogSumExp(x[0], keepDims: true), [Rand(r, b, n)]);
        Check("layer_norm", x => Ops.LayerNorm(x[0], x[1], x[2]), [Rand(r, b, n), Rand(r, n), Rand(r, n)]);
        Check("layer_norm 3d", x => Ops.LayerNorm(x[0], x[1], x[2]), [Rand(r, 2, b, n), Rand(r, n), Rand(r, n)]);
        Check("layer_norm plain", x => Ops.LayerNorm<double>(x[0], null, null), [Rand(r, b, n)]);
        var big = Tensor<double>.FromDoubles([1000, 1001, 999], 1, 3);
        var l = Ops.LogSumExp(Var<double>.Constant(big)).Value[0];
        Assert.AreEqual(1001 + Math.Log(Math.Exp(-1) + 1 + Math.Exp(-2)), l, 1e-9);
    }

    [TestMethod]
    public void ShapeOps()
    {
        var r = new SplitMix64(17);
        var (b, n) = Dims(r);
        Check("reshape", x => Ops.Square(Ops.Reshape(x[0], n, -1)), [Rand(r, b, n, 2)]);
        for (int axis = 0; axis < 3; axis++)
        {
            int a = axis;
            Check($"slice {a}", x => Ops.Slice(x[0], a, 1, 1), [Rand(r, 3, b, n)]);
            Check($"concat {a}", x => Ops.Concat([x[0], x[1]], a), [Rand(r, 2, b, n), Rand(r, a == 0 ? 3 : 2, a == 1 ? 1 : b, a == 2 ? 3 : n)]);
        }
        var t = Tensor<double>.FromDoubles([1, 2, 3, 4, 5, 6], 2, 3);
        CollectionAssert.AreEqual(new[] { 2.0, 5 }, Ops.Slice(Var<double>.Constant(t), 1, 1, 1).Value.Data);
    }

    [TestMethod]
    public void ConvolutionAndPooling()
    {
        var r = new SplitMix64(18);
        int nb = 2, c = 2, o = 3, h = 5 + r.NextInt(2), w = 4 + r.NextInt(3);
        Check("conv s1 p0", x => Ops.Conv2d(x[0], x[1], x[2]), [Rand(r, nb, c, h, w), Rand(r, o, c, 3, 3), Rand(r, o)], graph: false);
        Check("conv s2 p1", x => Ops.Conv2d(x[0], x[1], x[2], stride: 2, padding: 1), [Rand(r, nb, c, h, w), Rand(r, o, c, 3, 3), Rand(r, o)], graph: false);
        Check("conv no bias", x => Ops.Conv2d(x[0], x[1], null, stride: 1, padding: 2), [Rand(r, 1, c, h, w), Rand(r, o, c, 2, 2)], graph: false);
        Check("avg pool", x => Ops.AvgPool2d(x[0], 2), [Rand(r, nb, c, h, w)], graph: false);
        Check("avg pool s1 p1", x => Ops.AvgPool2d(x[0], 3, 1, 1), [Rand(r, nb, c, h, w)], graph: false);
        Check("max pool", x => Ops.MaxPool2d(x[0], 2), [Rand(r, nb, c, h, w)], graph: false);
        Check("max pool s1 p1", x => Ops.MaxPool2d(x[0], 3, 2, 1), [Rand(r, nb, c, h, w)], graph: false);
        Check("global avg pool", x => Ops.GlobalAvgPool2d(x[0]), [Rand(r, nb, c, h, w)]);

        // Convolution value against a direct sum at one output.
        var xin = Rand(r, 1, c, h, w); var k = Rand(r, o, c, 3, 3);
        var y = Ops.Conv2d(Var<double>.Constant(xin), Var<double>.Constant(k), null, 2, 1).Value;
        double s = 0;
        for (int ci = 0; ci < c; ci++)
            for (int i = 0; i < 3; i++)
                for (int j = 0; j < 3; j++)
                {
                    int iy = 2 + i - 1, ix = 2 + j - 1; // output (1,1), stride 2, padding 1
                    if (iy < h && ix < w) s += xin.At(0, ci, iy, ix) * k.At(1, ci, i, j);
                }
        Assert.AreEqual(s, y.At(0, 1, 1, 1), 1e-12);
    }

    [TestMethod]
    public void DoubleBackwardThroughConvOrPoolingThrowsNamingTheOp()
    {
        var r = new SplitMix64(19);
        var x = Var<double>.Parameter(Rand(r, 1, 1, 4, 4));
        var k = Var<double>.Parameter(Rand(r, 1, 1, 3, 3));
        var e = Assert.ThrowsExactly<NotSupportedException>(() => Autograd.Grad(Ops.Sum(Ops.Conv2d(x, k, null)), [x], createGraph: true));
        StringAssert.Contains(e.Message, "conv2d");
        var e2 = Assert.ThrowsExactly<NotSupportedException>(() => Autograd.Grad(Ops.Sum(Ops.MaxPool2d(x, 2)), [x], createGraph: true));
        StringAssert.Contains(e2.Message, "max_pool2d");
    }

    [TestMethod]
    public void CompositeGraphWithReuse()
    {
        var r = new SplitMix64(20);
        var (b, n) = Dims(r);
        // A value used several times (gradient accumulation), broadcasting and a JSD-like loss.
        Check("composite", x =>
        {
            var h = Ops.Tanh(Ops.Linear(x[0], x[1], x[2]));
            var q = Ops.Softmax(Ops.Add(h, Ops.Mul(h, h)));
            var m = Ops.Scale(Ops.Add(q, x[3]), 0.5);
            return Ops.Sum(Ops.Mul(q, Ops.Sub(Ops.Log(q), Ops.Log(m))), 1);
        }, [Rand(r, b, 3), Rand(r, n, 3), Rand(r, n), Tensor<double>.RandomUniform(r, 0.1, 1, b, n)]);
    }
}
