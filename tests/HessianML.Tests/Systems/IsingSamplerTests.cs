using HessianML.Data;
using HessianML.Systems;
using HessianML.Systems.Ising;

namespace HessianML.Tests.Systems;

[TestClass]
public sealed class IsingSamplerTests
{
    private enum Moves { Both, MetropolisOnly, SwendsenWangOnly, WolffOnly }

    /// <summary>
    /// Runs <paramref name="chains"/> independent chains (own stream each) and checks the sample means of the bond sum,
    /// the magnetisation and its square against the transfer matrix within 4 standard errors estimated from the
    /// samples (independent draws, so SE = sd / sqrt(n)).
    /// </summary>
    private static void CheckAgainstExact(int size, double beta, double field, Moves moves, int chains, int sweeps,
        ulong seed)
    {
        var exact = IsingExact.Evaluate(size, beta, field);
        int nSpins = size * size;
        double meanE = exact.Dpsi1 * nSpins, meanM = exact.Dpsi2 * nSpins;
        double meanM2 = exact.G22 * nSpins + meanM * meanM;
        var sampler = new IsingSampler(size);
        sampler.SetParameters(beta, field);
        var e = new double[chains];
        var m = new double[chains];
        for (int c = 0; c < chains; c++)
        {
            var rng = SampleRandom.ForStream(seed, (ulong)c);
            sampler.Randomize(ref rng);
            for (int s = 0; s < sweeps; s++)
            {
                if (moves is Moves.Both or Moves.MetropolisOnly) sampler.MetropolisSweepFast(ref rng);
                if (moves is Moves.Both or Moves.SwendsenWangOnly) sampler.ClusterSweep(ref rng);
                if (moves is Moves.WolffOnly)
                    for (int k = 0; k < 8; k++) sampler.WolffStep(ref rng); // a FIXED count: see ClusterSweep's remark
            }
            e[c] = sampler.BondSum();
            m[c] = sampler.Magnetisation();
        }
        AssertWithin(e, x => x, meanE, "bond sum");
        AssertWithin(m, x => x, meanM, "magnetisation");
        AssertWithin(m, x => x * x, meanM2, "magnetisation^2");
    }

    private static void AssertWithin(double[] values, Func<double, double> f, double exact, string what)
    {
        var v = values.Select(f).ToArray();
        double mean = v.Average();
        double sd = Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1));
        double se = sd / Math.Sqrt(v.Length);
        Assert.IsTrue(Math.Abs(mean - exact) < 4 * se + 1e-9,
            $"{what}: sample mean {mean:F4} vs exact {exact:F4}, {Math.Abs(mean - exact) / se:F2} standard errors (SE {se:F4})");
    }

    [TestMethod]
    public void BelowTcWeakFieldHasTheRightSignOdds()
    {
        // beta = 0.5 > beta_c, h = 0.03: the two ordered states have odds about exp(2 h |M|) = 7 at L = 6.
        CheckAgainstExact(6, 0.5, 0.03, Moves.Both, 4000, 12, seed: 11);
    }

    [TestMethod]
    public void SwendsenWangWithGhostAloneBelowTc()
    {
        CheckAgainstExact(6, 0.5, 0.03, Moves.SwendsenWangOnly, 3000, 15, seed: 12);
    }

    [TestMethod]
    [DataRow(0.5, 0.03)]
    [DataRow(0.3, 0.0)]
    public void WolffWithFieldAcceptanceAlone(double beta, double field)
    {
        CheckAgainstExact(6, beta, field, Moves.WolffOnly, 3000, 15, seed: 15);
    }

    [TestMethod]
    public void MetropolisAloneHighTemperature()
    {
        CheckAgainstExact(6, 0.25, 0.2, Moves.MetropolisOnly, 3000, 30, seed: 13);
    }

    [TestMethod]
    [DataRow(5, 0.44, -0.1)]
    [DataRow(4, 0.65, -0.3)]
    [DataRow(8, 0.3, 0.05)]
    public void CombinedMovesMatchExact(int size, double beta, double field)
    {
        CheckAgainstExact(size, beta, field, Moves.Both, 3000, 12, seed: 14);
    }

    [TestMethod]
    public void SignFractionBelowTcMatchesExactOdds()
    {
        // P(M > 0) at L = 4, beta 0.6, h = 0.03 computed by enumeration; the sampler's fraction within 4 SE.
        int size = 4;
        double beta = 0.6, field = 0.03;
        double pPos = 0, z = 0;
        for (int state = 0; state < 1 << 16; state++)
        {
            int bonds = 0, spins = 0;
            for (int y = 0; y < size; y++)
                for (int x = 0; x < size; x++)
                {
                    int s = Spin(state, y * size + x);
                    bonds += s * Spin(state, y * size + (x + 1) % size) + s * Spin(state, (y + 1) % size * size + x);
                    spins += s;
                }
            double w = Math.Exp(beta * bonds + field * spins - 40);
            z += w;
            if (spins > 0) pPos += w;
            else if (spins == 0) pPos += w / 2; // ties counted half on each side
        }
        pPos /= z;
        var sampler = new IsingSampler(size);
        sampler.SetParameters(beta, field);
        double count = 0;
        const int chains = 4000;
        for (int c = 0; c < chains; c++)
        {
            var rng = SampleRandom.ForStream(21, (ulong)c);
            sampler.Randomize(ref rng);
            for (int s = 0; s < 10; s++) { sampler.MetropolisSweepFast(ref rng); sampler.ClusterSweep(ref rng); }
            int mag = sampler.Magnetisation();
            count += mag > 0 ? 1 : mag == 0 ? 0.5 : 0;
        }
        double frac = count / chains, se = Math.Sqrt(pPos * (1 - pPos) / chains);
        Assert.IsTrue(pPos > 0.6, $"test point should favour + ({pPos})");
        Assert.IsTrue(Math.Abs(frac - pPos) < 4 * se, $"P(M>0) sampled {frac:F4} vs exact {pPos:F4} (SE {se:F4})");
    }

    private static int Spin(int state, int i) => ((state >> i) & 1) == 1 ? 1 : -1;

    [TestMethod]
    public void FastAndPlainSweepsAreTheSameChain()
    {
        // The two sweeps pair random draws differently, so check them on deterministic limits: at huge beta an
        // aligned lattice never flips; at beta = h = 0 every attempt is accepted.
        var sampler = new IsingSampler(6);
        sampler.SetParameters(5, 0);
        var rng = new SampleRandom(3);
        sampler.MetropolisSweepFast(ref rng);
        sampler.MetropolisSweep(ref rng);
        Assert.AreEqual(36, sampler.Magnetisation());
        // beta = 0, h = 0: every attempt is accepted, so one sweep flips every spin.
        sampler.SetParameters(0, 0);
        sampler.MetropolisSweepFast(ref rng);
        Assert.AreEqual(-36, sampler.Magnetisation());
        sampler.MetropolisSweep(ref rng);
        Assert.AreEqual(36, sampler.Magnetisation());
    }

    [TestMethod]
    public void DatasetIsReproducibleWhateverTheThreadCount()
    {
        var settings = new IsingSimulationSettings { Size = 6, Samples = 300, Seed = 42, Sweeps = 5 };
        var one = IsingSimulation.Generate(settings, maxThreads: 1);
        var two = IsingSimulation.Generate(settings, maxThreads: 2);
        string dir = Path.Combine(Path.GetTempPath(), "ising-repro-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            ArrowDataFile.Write(one, Path.Combine(dir, "1.arrow"));
            ArrowDataFile.Write(two, Path.Combine(dir, "2.arrow"));
            CollectionAssert.AreEqual(File.ReadAllBytes(Path.Combine(dir, "1.arrow")), File.ReadAllBytes(Path.Combine(dir, "2.arrow")));
        }
        finally { Directory.Delete(dir, true); }
        var other = IsingSimulation.Generate(settings with { Seed = 43 }, maxThreads: 2);
        CollectionAssert.AreNotEqual(one.GetColumn<sbyte>("state").ToArray(), other.GetColumn<sbyte>("state").ToArray());

        var t = one.GetColumn<float>("t").Span;
        var s = one.GetColumn<sbyte>("state").Span;
        for (int i = 0; i < settings.Samples; i++)
        {
            Assert.IsTrue(t[2 * i] >= 0.25f && t[2 * i] <= 0.65f && t[2 * i + 1] >= -0.3f && t[2 * i + 1] <= 0.3f);
        }
        foreach (var v in s) Assert.IsTrue(v == 1 || v == -1);
        Assert.AreEqual("ising", one.Schema.Metadata["system"]);
        Assert.AreEqual("6", one.Schema.Metadata["size"]);
    }

    [TestMethod]
    public void PackedPathIsReproducibleWhateverTheThreadCount()
    {
        // L = 128 goes through the multi-spin-coded sweeps and the pack/unpack between cluster updates.
        var settings = new IsingSimulationSettings { Size = 128, Samples = 4, Seed = 9, Sweeps = 4, ClusterEvery = 2 };
        var one = IsingSimulation.Generate(settings, maxThreads: 1).GetColumn<sbyte>("state").ToArray();
        var two = IsingSimulation.Generate(settings, maxThreads: 2).GetColumn<sbyte>("state").ToArray();
        CollectionAssert.AreEqual(one, two);
        Assert.AreNotEqual(0, one.Count(v => v == 1));
    }

    [TestMethod]
    public void PointRangeFixesTheParameter()
    {
        var settings = new IsingSimulationSettings { Size = 4, Samples = 20, BetaLo = 0.4, BetaHi = 0.4, FieldLo = -0.1, FieldHi = 0.2, Sweeps = 2 };
        var t = IsingSimulation.Generate(settings).GetColumn<float>("t").Span;
        for (int i = 0; i < 20; i++) Assert.AreEqual(0.4f, t[2 * i]);
        Assert.ThrowsExactly<ArgumentException>(() => (settings with { BetaLo = 0.5 }).Validate());
        Assert.ThrowsExactly<ArgumentException>(() => (settings with { BetaLo = -0.1 }).Validate());
    }
}
