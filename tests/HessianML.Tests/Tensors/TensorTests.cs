using HessianML.Tensors;

namespace HessianML.Tests.Tensors;

[TestClass]
public sealed class TensorTests
{
    [TestMethod]
    public void ReshapeIsAViewAndInfersOneAxis()
    {
        var t = Tensor<float>.FromArray([1, 2, 3, 4, 5, 6], 2, 3);
        Assert.AreEqual(6f, t[1, 2]);
        var v = t.Reshape(3, -1);
        CollectionAssert.AreEqual(new[] { 3, 2 }, v.Shape.ToArray());
        v[0] = 10;
        Assert.AreEqual(10f, t[0, 0], "reshape shares storage");
        var c = t.ReshapeCopy(6);
        c[0] = 0;
        Assert.AreEqual(10f, t[0], "ReshapeCopy does not");
        var e = Assert.ThrowsExactly<ArgumentException>(() => t.Reshape(4, 2));
        StringAssert.Contains(e.Message, "[2,3]");
        StringAssert.Contains(e.Message, "[4,2]");
        Assert.AreEqual(3, t.Dim(-1));
        Assert.AreEqual(5f, t.At(1, 1));
    }

    [TestMethod]
    public void ShapeErrorsNameBothShapes()
    {
        var e = Assert.ThrowsExactly<ArgumentException>(() => Tensor<double>.FromArray(new double[5], 2, 3));
        StringAssert.Contains(e.Message, "[2,3]");
        var a = Tensor<double>.Zeros(2, 3); var b = Tensor<double>.Zeros(4);
        var e2 = Assert.ThrowsExactly<ArgumentException>(() => TensorKernels.Binary(BinaryOp.Add, a, b));
        StringAssert.Contains(e2.Message, "[2,3]");
        StringAssert.Contains(e2.Message, "[4]");
        var e3 = Assert.ThrowsExactly<ArgumentException>(() => TensorKernels.MatMul(a, Tensor<double>.Zeros(2, 2), false, false));
        StringAssert.Contains(e3.Message, "[2,2]");
    }

    [TestMethod]
    public void BroadcastingMatchesElementLoops()
    {
        var rng = new SplitMix64(5);
        int[][][] pairs = [[[3, 4], [4]], [[3, 4], [3, 1]], [[3, 1], [1, 4]], [[2, 3, 4], [3, 1]], [[2, 1, 4], [3, 1]], [[1], [2, 2]]];
        foreach (var p in pairs)
        {
            var a = Tensor<double>.RandomNormal(rng, 0, 1, p[0]);
            var b = Tensor<double>.RandomNormal(rng, 0, 1, p[1]);
            var o = TensorKernels.Binary(BinaryOp.Sub, a, b);
            var shape = TensorKernels.BroadcastShape(a.Shape, b.Shape);
            var ea = TensorKernels.BroadcastTo(a, shape);
            var eb = TensorKernels.BroadcastTo(b, shape);
            for (int i = 0; i < o.Length; i++) Assert.AreEqual(ea[i] - eb[i], o[i], 0.0, $"{Tensor<double>.ShapeString(p[0])} - {Tensor<double>.ShapeString(p[1])} at {i}");
            // SumToShape is the adjoint of BroadcastTo: <BroadcastTo(b), g> = <b, SumToShape(g)>.
            var g = Tensor<double>.RandomNormal(rng, 0, 1, shape);
            var sb = TensorKernels.SumToShape(g, b.ShapeArray);
            double lhs = 0, rhs = 0;
            for (int i = 0; i < g.Length; i++) lhs += eb[i] * g[i];
            for (int i = 0; i < b.Length; i++) rhs += b[i] * sb[i];
            Assert.AreEqual(lhs, rhs, 1e-12);
        }
        // Hand-checked values: [2,2] + [2] adds the row; [2,2] * [2,1] scales rows.
        var m = Tensor<double>.FromDoubles([1, 2, 3, 4], 2, 2);
        CollectionAssert.AreEqual(new[] { 11.0, 22, 13, 24 }, TensorKernels.Binary(BinaryOp.Add, m, Tensor<double>.FromDoubles([10, 20], 2)).Data);
        CollectionAssert.AreEqual(new[] { 2.0, 4, 9, 12 }, TensorKernels.Binary(BinaryOp.Mul, m, Tensor<double>.FromDoubles([2, 3], 2, 1)).Data);
    }

    [TestMethod]
    public void SeededRandomTensorsAreReproducibleWithRightMoments()
    {
        var a = Tensor<double>.RandomNormal(new SplitMix64(1), 2, 3, 20000);
        var b = Tensor<double>.RandomNormal(new SplitMix64(1), 2, 3, 20000);
        CollectionAssert.AreEqual(a.Data, b.Data);
        double mean = a.Data.Average(), sd = Math.Sqrt(a.Data.Select(x => (x - mean) * (x - mean)).Average());
        Assert.AreEqual(2, mean, 0.06);
        Assert.AreEqual(3, sd, 0.06);
        var u = Tensor<float>.RandomUniform(new SplitMix64(2), -1, 1, 10000);
        Assert.IsTrue(u.Data.All(x => x >= -1 && x < 1));
        Assert.AreEqual(0, u.Data.Average(), 0.03);
    }
}
