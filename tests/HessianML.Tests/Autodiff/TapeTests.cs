using HessianML.Autodiff;
using HessianML.Tensors;

namespace HessianML.Tests.Autodiff;

[TestClass]
public sealed class TapeTests
{
    [TestMethod]
    public void BackwardAccumulatesLikePyTorchAndNoGradRecordsNothing()
    {
        var x = Var<double>.Parameter(Tensor<double>.FromDoubles([1, 2, 3], 3));
        Ops.Sum(Ops.Square(x)).Backward();
        Ops.Sum(Ops.Square(x)).Backward();
        CollectionAssert.AreEqual(new[] { 4.0, 8, 12 }, x.Grad!.Data, "two backwards add up");
        x.Grad = null;
        Ops.Sum(Ops.Mul(x, x)).Backward(); // x used twice in one op
        CollectionAssert.AreEqual(new[] { 2.0, 4, 6 }, x.Grad!.Data);
        using (GradMode.NoGrad())
        {
            var y = Ops.Exp(x);
            Assert.IsFalse(y.RequiresGrad);
            Assert.ThrowsExactly<InvalidOperationException>(() => Ops.Sum(y).Backward());
        }
        Assert.ThrowsExactly<ArgumentException>(() => Ops.Exp(x).Backward());
    }

    [TestMethod]
    public void GradOfUnusedInputIsZeroAndConstantsGetNone()
    {
        var x = Var<double>.Parameter(Tensor<double>.FromDoubles([1, 2], 2));
        var u = Var<double>.Parameter(Tensor<double>.FromDoubles([5, 6, 7], 3));
        var c = Var<double>.Constant(Tensor<double>.FromDoubles([3, 4], 2));
        var g = Autograd.Grad(Ops.Sum(Ops.Mul(x, c)), [x, u]);
        CollectionAssert.AreEqual(new[] { 3.0, 4 }, g[0].Value.Data);
        CollectionAssert.AreEqual(new[] { 0.0, 0, 0 }, g[1].Value.Data);
        Assert.IsFalse(g[0].RequiresGrad, "createGraph false gives constants");
    }

    [TestMethod]
    public void ThirdDerivativeThroughRepeatedGrad()
    {
        // d^3/dx^3 of x^2 exp(x) = exp(x) (x^2 + 6x + 6).
        var x = Var<double>.Parameter(Tensor<double>.FromDoubles([0.4, -1.3], 2));
        var f = Ops.Sum(Ops.Mul(Ops.Square(x), Ops.Exp(x)));
        var d1 = Autograd.Grad(f, [x], createGraph: true)[0];
        var d2 = Autograd.Grad(Ops.Sum(d1), [x], createGraph: true)[0];
        var d3 = Autograd.Grad(Ops.Sum(d2), [x])[0];
        for (int i = 0; i < 2; i++)
        {
            double v = x.Value[i];
            Assert.AreEqual(Math.Exp(v) * (v * v + 6 * v + 6), d3.Value[i], 1e-12);
        }
    }
}
