using HessianML.Systems;
using HessianML.Systems.Tasep;

namespace HessianML.Tests.Systems;

[TestClass]
public sealed class TasepSamplerTests
{
    [TestMethod]
    public void ConfigurationFrequenciesMatchTheGeneratorLaw()
    {
        // Every one of the 2^L configurations, against the law solved from the generator (no MPA involved).
        // Both arithmetic paths: plain doubles (chosen here) and logarithms (forced).
        foreach (var (a, b, forceLog) in new[] { (0.3, 0.3, false), (0.8, 0.2, false), (0.15, 0.9, false), (0.3, 0.3, true), (0.15, 0.9, true) })
        {
            const int size = 5, n = 20000;
            var pi = TasepGenerator.StationaryLaw(size, a, b);
            var mpa = new TasepMatrixProduct(size, a, b, forceLog);
            Assert.AreEqual(!forceLog, mpa.IsLinear);
            var counts = new int[1 << size];
            var state = new sbyte[size];
            for (int i = 0; i < n; i++)
            {
                var rng = SampleRandom.ForStream(11, (ulong)i);
                mpa.Sample(ref rng, state);
                int s = 0;
                for (int k = 0; k < size; k++) s |= state[k] << k;
                counts[s]++;
            }
            double chi2 = 0;
            for (int s = 0; s < counts.Length; s++)
            {
                double expected = n * pi[s];
                // Each count is binomial: within 4.5 standard deviations (plus one count for the rarest states).
                Assert.IsTrue(Math.Abs(counts[s] - expected) < 4.5 * Math.Sqrt(expected * (1 - pi[s])) + 1,
                    $"alpha={a} beta={b} config {s}: {counts[s]} vs {expected:F1}");
                chi2 += (counts[s] - expected) * (counts[s] - expected) / expected;
            }
            // 31 degrees of freedom: mean 31, sd ~7.9; 31 + 5 sd = 70.
            Assert.IsTrue(chi2 < 70, $"alpha={a} beta={b}: chi2 = {chi2:F1} on 31 dof");
        }
    }

    [TestMethod]
    public void LinearAndLogPathsAgree()
    {
        foreach (var (a, b) in new[] { (0.05, 0.95), (0.3, 0.3), (0.9, 0.7), (0.5, 0.05) })
        {
            const int size = 30;
            var lin = new TasepMatrixProduct(size, a, b);
            var log = new TasepMatrixProduct(size, a, b, forceLog: true);
            Assert.IsTrue(lin.IsLinear && !log.IsLinear);
            for (int k = 0; k <= size; k++)
                Assert.AreEqual(log.LogZOf(k), lin.LogZOf(k), 1e-13 * (1 + Math.Abs(log.LogZOf(k))), $"log Z_{k}");
            var rhoLin = lin.DensityProfile();
            var rhoLog = log.DensityProfile();
            for (int i = 0; i < size; i++) Assert.AreEqual(rhoLog[i], rhoLin[i], 1e-12);
            // Same stream, same conditional probabilities up to rounding: the same configurations.
            var x = new sbyte[size];
            var y = new sbyte[size];
            for (int i = 0; i < 300; i++)
            {
                var r1 = SampleRandom.ForStream(9, (ulong)i);
                var r2 = r1;
                lin.Sample(ref r1, x);
                log.Sample(ref r2, y);
                CollectionAssert.AreEqual(y, x, $"sample {i} at alpha={a} beta={b}");
                // The weight of that configuration, in doubles and in logs.
                Assert.AreEqual(log.LogWeight(x), lin.LogWeight(x), 1e-12 * (1 + Math.Abs(log.LogWeight(x))), $"log f of sample {i}");
            }
        }
        // Long lattice, small rates: beyond doubles, so the log path is chosen and still samples sensibly.
        var big = new TasepMatrixProduct(400, 0.02, 0.03);
        Assert.IsFalse(big.IsLinear);
        var state = new sbyte[400];
        var rng = SampleRandom.ForStream(1, 0);
        big.Sample(ref rng, state);
        Assert.IsTrue(state.All(s => s is 0 or 1) && state.Any(s => s == 1) && state.Any(s => s == 0));
    }

    [TestMethod]
    public void SampledDensitiesMatchExactWithinStandardErrors()
    {
        // Low density, high density, maximal current, and alpha = beta < 1/2 (the diffusing shock that a Monte
        // Carlo chain equilibrates slowest), on L = 40.
        foreach (var (a, b) in new[] { (0.2, 0.7), (0.8, 0.3), (0.75, 0.9), (0.3, 0.3), (0.3, 0.32) })
        {
            const int size = 40, n = 3000;
            var settings = new TasepSimulationSettings(size, a, a, b, b, n, 5);
            var (t, states) = TasepSimulation.Sample(settings);
            Assert.AreEqual((float)a, t[0]);
            Assert.AreEqual((float)b, t[2 * n - 1]);
            var profile = TasepExact.DensityProfile(size, (float)a, (float)b);
            // Per-sample statistics are i.i.d. (exact sampler), so SE = sample sd / sqrt(n).
            Check("tau_1", i => states[i * size], profile[0]);
            Check("tau_L", i => states[i * size + size - 1], profile[size - 1]);
            Check("mean density", i => Enumerable.Range(0, size).Average(k => (double)states[i * size + k]), profile.Average());
            Check("tau_L/2", i => states[i * size + size / 2], profile[size / 2]);

            void Check(string what, Func<int, double> stat, double exact)
            {
                var x = Enumerable.Range(0, n).Select(stat).ToArray();
                double mean = x.Average();
                double se = Math.Sqrt(x.Sum(v => (v - mean) * (v - mean)) / (n - 1) / n);
                Assert.IsTrue(Math.Abs(mean - exact) < 4 * se + 1e-12,
                    $"{what} at alpha={a} beta={b}: sample {mean:F4} vs exact {exact:F4} (SE {se:F4})");
            }
        }
    }

    [TestMethod]
    public void SamplesAreReproducibleFromSeedAndIndexWhateverTheChunking()
    {
        var settings = new TasepSimulationSettings(12, 0.05, 0.95, 0.1, 0.9, 300, 42);
        var (t, states) = TasepSimulation.Sample(settings);
        var (t2, states2) = TasepSimulation.Sample(settings);
        CollectionAssert.AreEqual(t, t2);
        CollectionAssert.AreEqual(states, states2);
        // A shorter run is a prefix: sample i depends only on (seed, i).
        var (tShort, statesShort) = TasepSimulation.Sample(settings with { Samples = 77 });
        CollectionAssert.AreEqual(t[..(2 * 77)], tShort);
        CollectionAssert.AreEqual(states[..(12 * 77)], statesShort);
        // And sequentially, one table per sample, gives the same bits as the parallel run.
        for (int i = 0; i < 300; i += 37)
        {
            var rng = SampleRandom.ForStream(42, (ulong)i);
            double alpha = (float)(0.05 + 0.9 * rng.NextDouble());
            double beta = (float)(0.1 + 0.8 * rng.NextDouble());
            Assert.AreEqual((float)alpha, t[2 * i]);
            Assert.AreEqual((float)beta, t[2 * i + 1]);
            var one = new sbyte[12];
            new TasepMatrixProduct(12, alpha, beta).Sample(ref rng, one);
            CollectionAssert.AreEqual(states[(12 * i)..(12 * i + 12)], one, $"sample {i}");
        }
        var (tOther, _) = TasepSimulation.Sample(settings with { Seed = 43 });
        CollectionAssert.AreNotEqual(t, tOther);
        Assert.IsTrue(t.Where((_, k) => k % 2 == 0).All(x => x is >= 0.05f and <= 0.95f));
        Assert.IsTrue(t.Where((_, k) => k % 2 == 1).All(x => x is >= 0.1f and <= 0.9f));
        Assert.IsTrue(states.All(s => s is 0 or 1));
    }

    [TestMethod]
    public void DataViewCarriesTheContractColumnsAndMetadata()
    {
        var view = TasepSimulation.Generate(new TasepSimulationSettings(6, 0.2, 0.4, 0.5, 0.5, 10, 3));
        Assert.AreEqual(10, view.RowCount);
        Assert.AreEqual(20, view.GetColumn<float>("t").Length);
        Assert.AreEqual(60, view.GetColumn<sbyte>("state").Length);
        Assert.IsTrue(view.GetColumn<float>("t").ToArray().Where((_, k) => k % 2 == 1).All(b => b == 0.5f), "beta fixed");
        Assert.AreEqual("tasep", view.Schema.Metadata["system"]);
        Assert.AreEqual("6", view.Schema.Metadata["size"]);
        Assert.AreEqual("3", view.Schema.Metadata["seed"]);
    }

    [TestMethod]
    public void InvalidSettingsAreRefused()
    {
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => TasepSimulation.Sample(new(0, 0.5, 0.5, 0.5, 0.5, 10, 1)));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => TasepSimulation.Sample(new(5, 0, 0.5, 0.5, 0.5, 10, 1)));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => TasepSimulation.Sample(new(5, 0.5, 0.5, 0.5, 1.2, 10, 1)));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => TasepSimulation.Sample(new(5, 0.5, 0.5, 0.5, 0.5, 0, 1)));
    }
}
