using HessianML.Tensors;

namespace HessianML.Tests.Tensors;

[TestClass]
public sealed class GemmTests
{
    private static readonly GemmPath[] AllPaths = [GemmPath.Scalar, GemmPath.Vector256, GemmPath.Vector512];

    private static double[] RandomArray(Random rng, int length)
    {
        var v = new double[length];
        for (int i = 0; i < length; i++) v[i] = 2 * rng.NextDouble() - 1;
        return v;
    }

    /// <summary>
    /// Runs the fast kernel on one shape and compares with the naive product computed in double.
    /// The tolerance scales with sqrt(k) and with sum_p |a||b| (+|c0|), the natural size of rounding error
    /// in a length-k dot product, so it is tight for cancelling sums yet never flaky.
    /// </summary>
    private static void Check(Random rng, bool single, GemmPath path, int threads,
        int m, int n, int k, bool transA, bool transB, bool accumulate)
    {
        double[] a = RandomArray(rng, m * k), b = RandomArray(rng, k * n), c0 = RandomArray(rng, m * n);
        var expected = (double[])c0.Clone();
        Gemm.Naive(a, b, expected, m, n, k, transA, transB, accumulate);
        var absA = Array.ConvertAll(a, Math.Abs);
        var absB = Array.ConvertAll(b, Math.Abs);
        var scale = Array.ConvertAll(c0, Math.Abs);
        Gemm.Naive(absA, absB, scale, m, n, k, transA, transB, accumulate);

        double[] actual;
        double tol;
        if (single)
        {
            float[] af = Array.ConvertAll(a, x => (float)x), bf = Array.ConvertAll(b, x => (float)x);
            float[] cf = Array.ConvertAll(c0, x => (float)x);
            // Inputs were rounded to float: recompute the reference from the rounded values.
            expected = Array.ConvertAll(c0, x => (double)(float)x);
            Gemm.Naive(Array.ConvertAll(af, x => (double)x), Array.ConvertAll(bf, x => (double)x), expected,
                m, n, k, transA, transB, accumulate);
            GemmKernel.Run(af, bf, cf, m, n, k, transA, transB, accumulate, path, threads);
            actual = Array.ConvertAll(cf, x => (double)x);
            tol = 1e-6 * Math.Sqrt(k + 1);
        }
        else
        {
            actual = (double[])c0.Clone();
            GemmKernel.Run(a, b, actual, m, n, k, transA, transB, accumulate, path, threads);
            tol = 1e-14 * Math.Sqrt(k + 1);
        }

        for (int i = 0; i < m * n; i++)
        {
            double err = Math.Abs(actual[i] - expected[i]);
            if (!(err <= tol * (scale[i] + 1e-30)))
                Assert.Fail($"{(single ? "float" : "double")} {path} threads={threads} m={m} n={n} k={k} " +
                    $"tA={transA} tB={transB} acc={accumulate}: C[{i / n},{i % n}] = {actual[i]}, expected " +
                    $"{expected[i]} (err {err:E2}, allowed {tol * scale[i]:E2})");
        }
    }

    [TestMethod]
    public void SmallOddShapesMatchNaiveOnEveryPath()
    {
        var rng = new Random(12345);
        int cases = 0;
        foreach (var path in AllPaths)
            foreach (bool single in new[] { true, false })
                for (int combo = 0; combo < 8; combo++)
                    for (int rep = 0; rep < 6; rep++)
                    {
                        bool transA = (combo & 1) != 0, transB = (combo & 2) != 0, acc = (combo & 4) != 0;
                        // Mostly tiny ragged shapes, with 1s to hit the vector/scalar shortcuts.
                        int m = rep == 0 ? 1 : rng.Next(1, 30);
                        int n = rep == 1 ? 1 : rng.Next(1, 40);
                        int k = rep == 2 ? 1 : rng.Next(1, 50);
                        Check(rng, single, path, threads: 1 + rep % 3, m, n, k, transA, transB, acc);
                        cases++;
                    }
        Assert.AreEqual(3 * 2 * 8 * 6, cases);
    }

    [TestMethod]
    public void ShapesAroundBlockSizesMatchNaive()
    {
        // Straddle MC (144), KC/KCSingle (256/512; depth blocks exercise the add-into-C path) and NC (1024).
        var rng = new Random(777);
        (int m, int n, int k)[] shapes =
        [
            (GemmKernel.MC + 1, 33, GemmKernel.KC + 1),
            (GemmKernel.MC - 1, 65, 2 * GemmKernel.KC + 3),
            (13, GemmKernel.NC + 37, 20),
            (50, 2, GemmKernel.KC),
            (3, 70, 600),
            (20, 40, GemmKernel.KCSingle),
            (21, 39, GemmKernel.KCSingle + 1),
        ];
        foreach (var (m, n, k) in shapes)
            for (int combo = 0; combo < 4; combo++)
            {
                bool transA = (combo & 1) != 0, transB = (combo & 2) != 0;
                Check(rng, true, GemmKernel.DefaultPath, 2, m, n, k, transA, transB, accumulate: combo == 1);
                Check(rng, false, GemmKernel.DefaultPath, 2, m, n, k, transA, transB, accumulate: combo == 2);
            }
        // The non-default paths once each on a shape that crosses KC and MC.
        Check(rng, true, GemmPath.Vector256, 2, GemmKernel.MC + 5, 40, GemmKernel.KCSingle + 9, true, false, true);
        Check(rng, false, GemmPath.Scalar, 1, GemmKernel.MC + 5, 9, GemmKernel.KCSingle + 9, false, true, false);
    }

    [TestMethod]
    public void PublicOverloadsMatchNaiveOnParallelSizedProblems()
    {
        // m*n*k = 2.6e6 is above the parallel threshold, so this goes through the automatic threaded path.
        const int m = 200, n = 130, k = 100;
        var rng = new Random(5);
        double[] a = RandomArray(rng, m * k), b = RandomArray(rng, k * n);
        var expected = new double[m * n];
        Gemm.Naive(a, b, expected, m, n, k, true, true, false);
        var actual = new double[m * n];
        Gemm.Multiply(a, b, actual, m, n, k, transA: true, transB: true);
        for (int i = 0; i < m * n; i++) Assert.AreEqual(expected[i], actual[i], 1e-12);

        float[] af = Array.ConvertAll(a, x => (float)x), bf = Array.ConvertAll(b, x => (float)x);
        var cf = new float[m * n];
        Array.Fill(cf, 1f);
        Gemm.Multiply(af, bf, cf, m, n, k, transA: true, transB: true, accumulate: true);
        for (int i = 0; i < m * n; i++) Assert.AreEqual(expected[i] + 1, cf[i], 1e-4);
    }

    [TestMethod]
    public void MlpHotShapesMatchSampledReference()
    {
        // The real training shapes are too big for the naive loop; check 300 random entries of each in double.
        var rng = new Random(2024);
        (int m, int n, int k, bool tA, bool tB)[] shapes =
            [(4096, 512, 512, false, true), (4096, 512, 512, false, false), (512, 512, 4096, true, false)];
        foreach (var (m, n, k, tA, tB) in shapes)
        {
            float[] a = Array.ConvertAll(RandomArray(rng, m * k), x => (float)x);
            float[] b = Array.ConvertAll(RandomArray(rng, k * n), x => (float)x);
            var c = new float[m * n];
            Array.Fill(c, 0.5f);
            Gemm.Multiply(a, b, c, m, n, k, tA, tB, accumulate: tA);
            for (int s = 0; s < 300; s++)
            {
                int i = rng.Next(m), j = rng.Next(n);
                double sum = tA ? 0.5 : 0, abs = tA ? 0.5 : 0;
                for (int p = 0; p < k; p++)
                {
                    double prod = (double)(tA ? a[p * m + i] : a[i * k + p]) * (tB ? b[j * k + p] : b[p * n + j]);
                    sum += prod;
                    abs += Math.Abs(prod);
                }
                Assert.AreEqual(sum, c[i * n + j], 1e-6 * Math.Sqrt(k) * abs, $"{m}x{n}x{k} tA={tA} tB={tB} at ({i},{j})");
            }
        }
    }

    [TestMethod]
    public void RepeatedCallsReusePooledPackingBuffers()
    {
        // Packing buffers come from ArrayPool: after warm-up, calls allocate only Parallel.For bookkeeping,
        // not the ~0.4 MB of panels per thread per call an allocating version would.
        const int m = 300, n = 256, k = 300;
        var rng = new Random(3);
        float[] a = Array.ConvertAll(RandomArray(rng, m * k), x => (float)x);
        float[] b = Array.ConvertAll(RandomArray(rng, k * n), x => (float)x);
        var c = new float[m * n];
        for (int i = 0; i < 5; i++) Gemm.Multiply(a, b, c, m, n, k, transB: true);
        long before = GC.GetTotalAllocatedBytes(precise: true);
        for (int i = 0; i < 20; i++) Gemm.Multiply(a, b, c, m, n, k, transB: true);
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        Assert.IsLessThan(2_000_000L, allocated, $"20 calls allocated {allocated} bytes");
    }

    [TestMethod]
    public void ThreadCountDoesNotChangeASingleBit()
    {
        // Each C element is reduced in the same order whatever the split: results must be bit-identical.
        var rng = new Random(99);
        foreach (var (m, n, k) in new[] { (97, 45, 300), (7, 150, 600) })
        {
            float[] a = Array.ConvertAll(RandomArray(rng, m * k), x => (float)x);
            float[] b = Array.ConvertAll(RandomArray(rng, k * n), x => (float)x);
            var one = new float[m * n];
            GemmKernel.Run(a, b, one, m, n, k, false, true, false, GemmKernel.DefaultPath, 1);
            foreach (int threads in new[] { 2, 3, 5 })
            {
                var many = new float[m * n];
                GemmKernel.Run(a, b, many, m, n, k, false, true, false, GemmKernel.DefaultPath, threads);
                CollectionAssert.AreEqual(one, many, $"{m}x{n}x{k} with {threads} threads");
            }
        }
    }

    [TestMethod]
    public void VectorTimesMatrixShortcutGivesTheBlockedKernelsBits()
    {
        // n = 1 with transA (the backward of a matrix-vector product) skips the packing; column 0 of the same product
        // with b repeated as a second column goes through the blocked kernel: they must agree bit for bit, on every
        // path, across depth blocks, with and without accumulation.
        var rng = new Random(7);
        foreach (var path in AllPaths)
            foreach (var (m, k) in new[] { (5, 9), (576, 576), (37, 300), (20, 1100) })
                foreach (bool accumulate in new[] { false, true })
                {
                    float[] a = Array.ConvertAll(RandomArray(rng, k * m), x => (float)x);
                    float[] b = Array.ConvertAll(RandomArray(rng, k), x => (float)x);
                    float[] c0 = Array.ConvertAll(RandomArray(rng, m), x => (float)x);
                    var b2 = new float[2 * k];
                    for (int p = 0; p < k; p++) b2[2 * p] = b2[2 * p + 1] = b[p];
                    var c2 = new float[2 * m];
                    for (int i = 0; i < m; i++) c2[2 * i] = c2[2 * i + 1] = c0[i];
                    var c = (float[])c0.Clone();
                    GemmKernel.Run(a, b, c, m, 1, k, true, false, accumulate, path, 1);
                    GemmKernel.Run(a, b2, c2, m, 2, k, true, false, accumulate, path, 1);
                    for (int i = 0; i < m; i++)
                        Assert.AreEqual(c2[2 * i], c[i], $"{path} m={m} k={k} acc={accumulate}: row {i}");
                }
    }

    [TestMethod]
    public void EmptyDepthGivesZeroOrLeavesCUnchanged()
    {
        var c = new float[] { 1, 2, 3, 4, 5, 6 };
        Gemm.Multiply(Array.Empty<float>(), Array.Empty<float>(), c, 2, 3, 0, accumulate: true);
        CollectionAssert.AreEqual(new float[] { 1, 2, 3, 4, 5, 6 }, c);
        Gemm.Multiply(Array.Empty<float>(), Array.Empty<float>(), c, 2, 3, 0);
        CollectionAssert.AreEqual(new float[6], c);

        var d = new double[] { 7, 8 };
        Gemm.Multiply(Array.Empty<double>(), Array.Empty<double>(), d, 1, 2, 0, transA: true, transB: true);
        CollectionAssert.AreEqual(new double[2], d);
        // m = 0 or n = 0: nothing to compute, nothing written.
        var e = new double[] { 9 };
        Gemm.Multiply(new double[4], new double[6], e, 0, 3, 2);
        Assert.AreEqual(9.0, e[0]);
    }

    [TestMethod]
    public void ShortArraysAreRejectedByName()
    {
        var big = new float[100];
        var ex = Assert.ThrowsExactly<ArgumentException>(() => Gemm.Multiply(new float[5], big, big, 2, 3, 3));
        Assert.AreEqual("a", ex.ParamName);
        ex = Assert.ThrowsExactly<ArgumentException>(() => Gemm.Multiply(big, new float[8], big, 2, 3, 3));
        Assert.AreEqual("b", ex.ParamName);
        ex = Assert.ThrowsExactly<ArgumentException>(() => Gemm.Multiply(big, big, new float[5], 2, 3, 3));
        Assert.AreEqual("c", ex.ParamName);
        var dex = Assert.ThrowsExactly<ArgumentException>(
            () => Gemm.Multiply(new double[6], new double[5], new double[4], 2, 2, 3, transB: true));
        Assert.AreEqual("b", dex.ParamName);
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Gemm.Multiply(big, big, big, -1, 2, 2));
        Assert.ThrowsExactly<ArgumentNullException>(() => Gemm.Multiply(null!, big, big, 1, 1, 1));
    }
}
