using HessianML.Autodiff;
using HessianML.Tensors;
using static HessianML.Tests.Autodiff.GradCheck;

namespace HessianML.Tests.Autodiff;

/// <summary>
/// The chunked, parallel convolution kernels (Ops.Conv2d, Ops.Conv2dReluSum) against a direct seven-loop reference in
/// double, against the composition they fuse (bit for bit), and against themselves one batch entry at a time (the
/// chunking and the thread count must not change a bit).
/// </summary>
[TestClass]
public sealed class ConvolutionKernelTests
{
    /// <summary>y[n,o,oy,ox] = b[o] + sum w[o,c,ki,kj] x[n,c,iy,ix]: zero or circular padding.</summary>
    private static double[] Reference(Tensor<double> x, Tensor<double> w, Tensor<double>? b, int stride, int pad, bool circular,
        out int oh, out int ow)
    {
        int nb = x.Dim(0), c = x.Dim(1), h = x.Dim(2), wd = x.Dim(3), o = w.Dim(0), kh = w.Dim(2), kw = w.Dim(3);
        oh = (h + 2 * pad - kh) / stride + 1;
        ow = (wd + 2 * pad - kw) / stride + 1;
        var y = new double[nb * o * oh * ow];
        for (int n = 0; n < nb; n++)
            for (int oc = 0; oc < o; oc++)
                for (int oy = 0; oy < oh; oy++)
                    for (int ox = 0; ox < ow; ox++)
                    {
                        double s = b is null ? 0 : b[oc];
                        for (int ci = 0; ci < c; ci++)
                            for (int ki = 0; ki < kh; ki++)
                                for (int kj = 0; kj < kw; kj++)
                                    if (Source(oy, ox, ki, kj, stride, pad, h, wd, circular) is var (iy, ix) && iy >= 0)
                                        s += w.At(oc, ci, ki, kj) * x.At(n, ci, iy, ix);
                        y[((n * o + oc) * oh + oy) * ow + ox] = s;
                    }
        return y;
    }

    private static (int, int) Source(int oy, int ox, int ki, int kj, int stride, int pad, int h, int w, bool circular)
    {
        int iy = oy * stride - pad + ki, ix = ox * stride - pad + kj;
        if (circular) return (((iy % h) + h) % h, ((ix % w) + w) % w);
        return iy < 0 || iy >= h || ix < 0 || ix >= w ? (-1, -1) : (iy, ix);
    }

    /// <summary>Gradients of sum(G * y) by the same loops: (gx, gw, gb).</summary>
    private static (double[], double[], double[]) ReferenceGrad(Tensor<double> x, Tensor<double> w, double[] g, int stride, int pad,
        bool circular, int oh, int ow)
    {
        int nb = x.Dim(0), c = x.Dim(1), h = x.Dim(2), wd = x.Dim(3), o = w.Dim(0), kh = w.Dim(2), kw = w.Dim(3);
        var gx = new double[x.Length];
        var gw = new double[w.Length];
        var gb = new double[o];
        for (int n = 0; n < nb; n++)
            for (int oc = 0; oc < o; oc++)
                for (int oy = 0; oy < oh; oy++)
                    for (int ox = 0; ox < ow; ox++)
                    {
                        double go = g[((n * o + oc) * oh + oy) * ow + ox];
                        gb[oc] += go;
                        for (int ci = 0; ci < c; ci++)
                            for (int ki = 0; ki < kh; ki++)
                                for (int kj = 0; kj < kw; kj++)
                                    if (Source(oy, ox, ki, kj, stride, pad, h, wd, circular) is var (iy, ix) && iy >= 0)
                                    {
                                        gx[((n * c + ci) * h + iy) * wd + ix] += go * w.At(oc, ci, ki, kj);
                                        gw[((oc * c + ci) * kh + ki) * kw + kj] += go * x.At(n, ci, iy, ix);
                                    }
                    }
        return (gx, gw, gb);
    }

    private static void AssertClose(double[] expected, double[] actual, string what)
    {
        Assert.AreEqual(expected.Length, actual.Length, what);
        for (int i = 0; i < expected.Length; i++)
            Assert.AreEqual(expected[i], actual[i], 1e-10 * (1 + Math.Abs(expected[i])), $"{what}: element {i}");
    }

    private static void AssertBitEqual<T>(Tensor<T> expected, Tensor<T> actual, string what)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        Assert.IsTrue(expected.SameShape(actual), $"{what}: shape");
        for (int i = 0; i < expected.Length; i++)
            Assert.AreEqual(expected[i], actual[i], $"{what}: element {i} differs");
    }

    // (batch, channels, h, w, out channels, kernel, stride, padding, circular); the batch of 64 makes several chunks
    // on the parallel path, the others run as one.
    private static readonly (int N, int C, int H, int W, int O, int K, int S, int P, bool Circ)[] Cases =
    [
        (2, 2, 5, 6, 3, 3, 1, 0, false),
        (3, 2, 5, 6, 3, 3, 2, 1, false),
        (2, 1, 4, 5, 2, 2, 1, 2, false),
        (2, 2, 5, 4, 3, 3, 1, 1, true),
        (2, 1, 3, 3, 2, 3, 2, 2, true),
        (64, 2, 6, 6, 8, 3, 1, 1, true),
        (64, 3, 7, 5, 8, 3, 1, 1, false),
    ];

    [TestMethod]
    public void Conv2dMatchesTheDirectSumAndItsGradients()
    {
        var r = new SplitMix64(41);
        foreach (var (nb, c, h, w, o, k, s, p, circ) in Cases)
        {
            string name = $"conv N{nb} C{c} {h}x{w} O{o} k{k} s{s} p{p}{(circ ? " circular" : "")}";
            var x = Rand(r, nb, c, h, w);
            var wt = Rand(r, o, c, k, k);
            var b = Rand(r, o);
            var expected = Reference(x, wt, b, s, p, circ, out int oh, out int ow);
            var xv = Var<double>.Parameter(x.Clone());
            var wv = Var<double>.Parameter(wt.Clone());
            var bv = Var<double>.Parameter(b.Clone());
            var y = Ops.Conv2d(xv, wv, bv, s, p, circ);
            CollectionAssert.AreEqual(new[] { nb, o, oh, ow }, y.Shape.ToArray(), name);
            AssertClose(expected, y.Value.Data, name + " value");
            var g = Rand(r, nb, o, oh, ow);
            Ops.Sum(Ops.Mul(y, Var<double>.Constant(g))).Backward();
            var (gx, gw, gb) = ReferenceGrad(x, wt, g.Data, s, p, circ, oh, ow);
            AssertClose(gx, xv.Grad!.Data, name + " dx");
            AssertClose(gw, wv.Grad!.Data, name + " dweight");
            AssertClose(gb, bv.Grad!.Data, name + " dbias");
        }
    }

    [TestMethod]
    public void CircularPaddingGradientsMatchFiniteDifferences()
    {
        var r = new SplitMix64(42);
        Check("conv circular p1", x => Ops.Conv2d(x[0], x[1], x[2], padding: 1, circular: true),
            [Rand(r, 2, 2, 4, 5), Rand(r, 3, 2, 3, 3), Rand(r, 3)], graph: false);
        Check("conv circular s2 p2 no bias", x => Ops.Conv2d(x[0], x[1], null, stride: 2, padding: 2, circular: true),
            [Rand(r, 1, 2, 3, 4), Rand(r, 2, 2, 3, 3)], graph: false);
        Check("conv relu sum", x => Ops.Conv2dReluSum(x[0], x[1], x[2], padding: 1),
            [Rand(r, 2, 2, 4, 5), Rand(r, 3, 2, 3, 3), Rand(r, 3)], graph: false);
        Check("conv relu sum circular s2", x => Ops.Conv2dReluSum(x[0], x[1], x[2], stride: 2, padding: 1, circular: true),
            [Rand(r, 2, 1, 5, 4), Rand(r, 3, 1, 3, 3), Rand(r, 3)], graph: false);
    }

    /// <summary>Circular padding inside the op gives the bits of wrapping the input first (PosteriorGridNetwork.CircularPad).</summary>
    [TestMethod]
    public void CircularPaddingEqualsWrappingTheInputFirst()
    {
        var r = new SplitMix64(43);
        var x = Tensor<float>.RandomNormal(r, 0, 1, 5, 2, 6, 6);
        var wt = Tensor<float>.RandomNormal(r, 0, 1, 4, 2, 3, 3);
        var b = Tensor<float>.RandomNormal(r, 0, 1, 4);
        var g = Tensor<float>.RandomNormal(r, 0, 1, 5, 4, 6, 6);
        var (x1, w1, b1) = (Var<float>.Parameter(x.Clone()), Var<float>.Parameter(wt.Clone()), Var<float>.Parameter(b.Clone()));
        var (x2, w2, b2) = (Var<float>.Parameter(x.Clone()), Var<float>.Parameter(wt.Clone()), Var<float>.Parameter(b.Clone()));
        var inside = Ops.Conv2d(x1, w1, b1, padding: 1, circular: true);
        var outside = Ops.Conv2d(HessianML.Posterior.PosteriorGridNetwork.CircularPad(x2), w2, b2);
        AssertBitEqual(outside.Value, inside.Value, "value");
        Ops.Sum(Ops.Mul(inside, Var<float>.Constant(g))).Backward();
        Ops.Sum(Ops.Mul(outside, Var<float>.Constant(g))).Backward();
        AssertBitEqual(w2.Grad!, w1.Grad!, "dweight");
        AssertBitEqual(b2.Grad!, b1.Grad!, "dbias");
        // The padded route adds a wrapped site's contributions in another order: equal up to rounding.
        for (int i = 0; i < x.Length; i++)
            Assert.AreEqual(x2.Grad![i], x1.Grad![i], 1e-5f * (1 + Math.Abs(x2.Grad[i])), $"dx element {i}");
    }

    [TestMethod]
    public void FusedReluSumEqualsTheCompositionBitForBit()
    {
        FusedEqualsComposition<float>(44);
        FusedEqualsComposition<double>(45);
    }

    private static void FusedEqualsComposition<T>(ulong seed) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var r = new SplitMix64(seed);
        foreach (var (nb, c, h, w, o, k, s, p, circ) in Cases)
            foreach (bool bias in new[] { true, false })
            {
                string name = $"{typeof(T).Name} N{nb} C{c} {h}x{w} O{o} k{k} s{s} p{p}{(circ ? " circular" : "")}{(bias ? "" : " no bias")}";
                var x = Tensor<T>.RandomNormal(r, 0, 1, nb, c, h, w);
                var wt = Tensor<T>.RandomNormal(r, 0, 1, o, c, k, k);
                var b = Tensor<T>.RandomNormal(r, 0, 1, o);
                var g = Tensor<T>.RandomNormal(r, 0, 1, nb, o);
                var (x1, w1, b1) = (Var<T>.Parameter(x.Clone()), Var<T>.Parameter(wt.Clone()), Var<T>.Parameter(b.Clone()));
                var (x2, w2, b2) = (Var<T>.Parameter(x.Clone()), Var<T>.Parameter(wt.Clone()), Var<T>.Parameter(b.Clone()));
                var fused = Ops.Conv2dReluSum(x1, w1, bias ? b1 : null, s, p, circ);
                var conv = Ops.Conv2d(x2, w2, bias ? b2 : null, s, p, circ);
                var shape = conv.Value.Shape;
                var composed = Ops.Sum(Ops.Reshape(Ops.Relu(conv), shape[0], shape[1], shape[2] * shape[3]), 2);
                AssertBitEqual(composed.Value, fused.Value, name + " value");
                Ops.Sum(Ops.Mul(fused, Var<T>.Constant(g))).Backward();
                Ops.Sum(Ops.Mul(composed, Var<T>.Constant(g))).Backward();
                AssertBitEqual(x2.Grad!, x1.Grad!, name + " dx");
                AssertBitEqual(w2.Grad!, w1.Grad!, name + " dweight");
                if (bias) AssertBitEqual(b2.Grad!, b1.Grad!, name + " dbias");
            }
    }

    /// <summary>The whole batch at once (chunked, parallel) gives each entry the bits it gets alone (one chunk, one thread).</summary>
    [TestMethod]
    public void ChunkingAndThreadsDoNotChangeABit()
    {
        var r = new SplitMix64(46);
        int nb = 96, c = 1, h = 8, w = 8, o = 32;
        var x = Tensor<float>.RandomNormal(r, 0, 1, nb, c, h, w);
        var wt = Tensor<float>.RandomNormal(r, 0, 1, o, c, 3, 3);
        var b = Tensor<float>.RandomNormal(r, 0, 1, o);
        var whole = Ops.Conv2d(Var<float>.Constant(x), Var<float>.Constant(wt), Var<float>.Constant(b), padding: 1, circular: true).Value;
        var fused = Ops.Conv2dReluSum(Var<float>.Constant(x), Var<float>.Constant(wt), Var<float>.Constant(b), padding: 1, circular: true).Value;
        int per = o * h * w;
        for (int n = 0; n < nb; n++)
        {
            var one = new Tensor<float>(x.Data.AsSpan(n * c * h * w, c * h * w).ToArray(), 1, c, h, w);
            var alone = Ops.Conv2d(Var<float>.Constant(one), Var<float>.Constant(wt), Var<float>.Constant(b), padding: 1, circular: true).Value;
            CollectionAssert.AreEqual(alone.Data, whole.Data.AsSpan(n * per, per).ToArray(), $"conv entry {n}");
            var aloneSum = Ops.Conv2dReluSum(Var<float>.Constant(one), Var<float>.Constant(wt), Var<float>.Constant(b), padding: 1, circular: true).Value;
            CollectionAssert.AreEqual(aloneSum.Data, fused.Data.AsSpan(n * o, o).ToArray(), $"fused entry {n}");
        }
    }

    /// <summary>LogSoftmax's raw backward gives the bits of its differentiable form.</summary>
    [TestMethod]
    public void LogSoftmaxFastBackwardEqualsItsGraphForm()
    {
        var r = new SplitMix64(47);
        foreach (var (rows, d) in new[] { (3, 5), (128, 576), (7, 33) })
        {
            var x = Var<float>.Parameter(Tensor<float>.RandomNormal(r, 0, 3, rows, d));
            var g = Tensor<float>.RandomNormal(r, 0, 1, rows, d);
            var loss = Ops.Sum(Ops.Mul(Ops.LogSoftmax(x), Var<float>.Constant(g)));
            var fast = Autograd.Grad(loss, x, createGraph: false).Value;
            var graph = Autograd.Grad(loss, x, createGraph: true).Value;
            AssertBitEqual(graph, fast, $"log_softmax {rows}x{d}");
        }
    }
}
