using HessianML.Autodiff;
using HessianML.Autodiff.Layers;
using HessianML.Evaluation;
using HessianML.Posterior;
using HessianML.Systems.Ising;
using HessianML.Tensors;

namespace HessianML.Tests.Evaluation;

[TestClass]
public sealed class PcaVaeBaselineTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void JacobiEigenDecomposesASymmetricMatrix()
    {
        const int d = 6;
        var rng = new SplitMix64(3);
        var a = new double[d * d];
        for (int i = 0; i < d; i++)
            for (int j = 0; j <= i; j++) a[i * d + j] = a[j * d + i] = rng.NextNormal();
        var (values, v) = PcaVaeBaseline.SymmetricEigen(a, d);
        for (int k = 0; k < d; k++)
            for (int i = 0; i < d; i++)
            {
                double av = 0;
                for (int j = 0; j < d; j++) av += a[i * d + j] * v[j * d + k];
                Assert.AreEqual(values[k] * v[i * d + k], av, 1e-12, $"A v = lambda v, component {k}, row {i}");
            }
        for (int k = 0; k < d; k++)
            for (int l = 0; l < d; l++)
                Assert.AreEqual(k == l ? 1 : 0, Enumerable.Range(0, d).Sum(i => v[i * d + k] * v[i * d + l]), 1e-12, "orthonormal");
    }

    [TestMethod]
    public void PrincipalScoresAreTheProjectionsOnTheLargestVarianceDirections()
    {
        // Points = 3 s u + 1 r w + 0.01 noise in 4D: components u (variance 9) then w (variance 1), explained 10/10.0004.
        const int n = 20000, d = 4;
        double[] u = [0.6, 0.8, 0, 0], w = [0, 0, 1, 0];
        var rng = new SplitMix64(5);
        var data = new double[n * d];
        var s = new double[n];
        var r = new double[n];
        for (int i = 0; i < n; i++)
        {
            (s[i], r[i]) = (rng.NextNormal(), rng.NextNormal());
            for (int k = 0; k < d; k++) data[i * d + k] = 3 * s[i] * u[k] + r[i] * w[k] + 0.01 * rng.NextNormal();
        }
        var (scores, explained) = PcaVaeBaseline.PrincipalScores(data, n, d, 2);
        Assert.AreEqual(10 / 10.0004, explained, 5e-4);
        // The first score is 3 s (u's largest loading, 0.8, is positive), the second r (w's is 1): sampling noise only,
        // the mean removed, so the rms difference is ~0.01 (the noise) plus ~3/sqrt(n) from the centring.
        double rms1 = Math.Sqrt(Enumerable.Range(0, n).Average(i => Math.Pow(scores[2 * i] - 3 * s[i], 2)));
        double rms2 = Math.Sqrt(Enumerable.Range(0, n).Average(i => Math.Pow(scores[2 * i + 1] - r[i], 2)));
        Assert.IsLessThan(0.05, rms1);
        Assert.IsLessThan(0.05, rms2);
    }

    [TestMethod]
    public void ComponentsAreOrderedAndSignedToRiseWithTheirParameter()
    {
        // Scores = (-t2, 3 t1) + noise: aligned, they become (3 t1, t2) up to the noise.
        const int n = 500;
        var rng = new SplitMix64(8);
        var t = new float[2 * n];
        var scores = new double[2 * n];
        for (int i = 0; i < n; i++)
        {
            (t[2 * i], t[2 * i + 1]) = ((float)rng.NextDouble(), (float)rng.NextDouble());
            (scores[2 * i], scores[2 * i + 1]) = (-t[2 * i + 1] + 0.01 * rng.NextNormal(), 3 * t[2 * i] + 0.01 * rng.NextNormal());
        }
        PcaVaeBaseline.AlignWithParameters(scores, t, n);
        for (int i = 0; i < n; i++)
        {
            Assert.AreEqual(3 * t[2 * i], scores[2 * i], 0.05);
            Assert.AreEqual(t[2 * i + 1], scores[2 * i + 1], 0.05);
        }
    }

    [TestMethod]
    public void ZeroWeightsGiveLog2PerSite()
    {
        // Encoder outputs mu = 0, log sigma^2 = 0 (KL = 0); decoder logits 0: each site costs log 2 whatever x is.
        const int sites = 5, d = 2;
        var encoder = new Sequential<float>(new Linear<float>(sites, 2 * d, new SplitMix64(1)));
        var decoder = new Sequential<float>(new Linear<float>(d, sites, new SplitMix64(2)));
        foreach (var m in new Module<float>[] { encoder, decoder })
            m.LoadParameters([.. m.NamedParameters().Select(p => (p.Name, Tensor<float>.Zeros(p.Value.Shape.ToArray())))]);
        var x = Var<float>.Constant(Tensor<float>.FromArray([1, 0, 1, 1, 0, 0, 0, 1, 0, 1], 2, sites));
        float loss = PcaVaeBaseline.NegativeElbo(encoder, decoder, x, d, new SplitMix64(9)).Value[0];
        Assert.AreEqual(sites * Math.Log(2), loss, 1e-5);
    }

    [TestMethod]
    public void LearnsAStatisticOfIsingSamplesAndIntegratesIt()
    {
        var box = new ParameterBox(0.25, 0.65, -0.3, 0.3);
        var data = IsingSimulation.Generate(new IsingSimulationSettings { Size = 4, Samples = 3000, Seed = 7, Sweeps = 20 });
        var result = PcaVaeBaseline.Fit(data, box, new PcaVaeOptions { Epochs = 4, Seed = 2 });
        TestContext.WriteLine($"loss {result.Loss:F3} (log 2 per site {16 * Math.Log(2):F3}), explained {result.ExplainedVariance:F3}");
        Assert.IsLessThan(16 * Math.Log(2), result.Loss, "the VAE learns more than coin flips");
        Assert.IsTrue(result.ExplainedVariance is > 0 and <= 1);
        var field = new HessianML.Geometry.SplinePsi(result.Psi).Field(box, 6);
        Assert.IsTrue(field.Psi.All(double.IsFinite) && field.G11.All(double.IsFinite));
    }
}
