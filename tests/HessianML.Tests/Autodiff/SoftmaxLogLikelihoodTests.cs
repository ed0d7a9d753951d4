using HessianML.Autodiff;
using HessianML.Tensors;
using static HessianML.Tests.Autodiff.GradCheck;

namespace HessianML.Tests.Autodiff;

/// <summary>The fused label log-likelihood against finite differences (double) and against the ops it fuses (bit for bit).</summary>
[TestClass]
public sealed class SoftmaxLogLikelihoodTests
{
    [TestMethod]
    public void GradientsMatchFiniteDifferences()
    {
        var r = new SplitMix64(51);
        Check("softmax log-likelihood", x => Ops.SoftmaxLogLikelihood(x[0], x[1]),
            [Rand(r, 3, 5), Tensor<double>.RandomUniform(r, 0, 1, 3, 5)]);
        Check("softmax log-likelihood, one row", x => Ops.Scale(Ops.SoftmaxLogLikelihood(x[0], x[1]), -0.5),
            [Rand(r, 1, 7), Tensor<double>.RandomUniform(r, 0, 1, 1, 7)]);
    }

    [TestMethod]
    public void EqualsSumOfTargetsTimesLogSoftmaxBitForBit()
    {
        var r = new SplitMix64(52);
        foreach (var (rows, d) in new[] { (4, 6), (128, 576), (9, 37) })
        {
            var x = Tensor<float>.RandomNormal(r, 0, 4, rows, d);
            var t = Tensor<float>.RandomUniform(r, 0, 1, rows, d);
            var (x1, t1) = (Var<float>.Parameter(x.Clone()), Var<float>.Parameter(t.Clone()));
            var (x2, t2) = (Var<float>.Parameter(x.Clone()), Var<float>.Parameter(t.Clone()));
            var fused = Ops.Scale(Ops.SoftmaxLogLikelihood(x1, t1), -1.0 / rows);
            var composed = Ops.Scale(Ops.Sum(Ops.Mul(t2, Ops.LogSoftmax(x2))), -1.0 / rows);
            Assert.AreEqual(composed.Value[0], fused.Value[0], $"{rows}x{d} value");
            fused.Backward();
            composed.Backward();
            CollectionAssert.AreEqual(x2.Grad!.Data, x1.Grad!.Data, $"{rows}x{d} d logits");
            CollectionAssert.AreEqual(t2.Grad!.Data, t1.Grad!.Data, $"{rows}x{d} d targets");
        }
    }

    [TestMethod]
    public void RejectsMismatchedTargets()
    {
        var e = Assert.ThrowsExactly<ArgumentException>(() =>
            Ops.SoftmaxLogLikelihood(Var<double>.Constant(Tensor<double>.Zeros(2, 3)), Var<double>.Constant(Tensor<double>.Zeros(2, 4))));
        StringAssert.Contains(e.Message, "[2,4]");
    }
}
