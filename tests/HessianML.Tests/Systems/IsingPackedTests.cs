using HessianML.Systems;
using HessianML.Systems.Ising;

namespace HessianML.Tests.Systems;

[TestClass]
public sealed class IsingPackedTests
{
    [TestMethod]
    public void PackAndUnpackRoundTrip()
    {
        var spins = new sbyte[256 * 256];
        var rng = new SampleRandom(5);
        for (int i = 0; i < spins.Length; i++) spins[i] = (rng.NextUInt64() & 1) == 1 ? (sbyte)1 : (sbyte)-1;
        var packed = new PackedMetropolis(256);
        packed.Load(spins);
        var back = new sbyte[spins.Length];
        packed.Store(back);
        CollectionAssert.AreEqual(spins, back);
        Assert.AreEqual(spins.Sum(v => (long)v), packed.Magnetisation());
    }

    [TestMethod]
    public void InfiniteTemperatureNoFieldFlipsEverySpin()
    {
        var sampler = new IsingSampler(128);
        Assert.IsTrue(sampler.UsesPackedSweeps);
        var rng = new SampleRandom(1);
        sampler.Randomize(ref rng);
        var before = sampler.Spins.ToArray();
        sampler.SetParameters(0, 0);
        sampler.LocalSweeps(ref rng, 1);
        for (int i = 0; i < before.Length; i++) Assert.AreEqual(-before[i], sampler.Spins[i]);
    }

    /// <summary>Runs one chain; returns batch means (10 batches) of the per-spin bond sum and magnetisation.</summary>
    private static (double[] E, double[] M) Batches(int size, double beta, double field, bool packed, ulong seed)
    {
        var sampler = new IsingSampler(size);
        sampler.SetParameters(beta, field);
        var rng = new SampleRandom(seed);
        sampler.Randomize(ref rng);
        void Sweep() { if (packed) sampler.LocalSweeps(ref rng, 1); else sampler.MetropolisSweepFast(ref rng); }
        for (int i = 0; i < 50; i++) Sweep();
        const int batches = 10, per = 20;
        var e = new double[batches];
        var m = new double[batches];
        double n = (double)size * size;
        for (int b = 0; b < batches; b++)
            for (int i = 0; i < per; i++)
            {
                Sweep();
                e[b] += sampler.BondSum() / n / per;
                m[b] += sampler.Magnetisation() / n / per;
            }
        return (e, m);
    }

    private static (double Mean, double Se) MeanSe(double[] v)
    {
        double mean = v.Average();
        return (mean, Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1) / v.Length));
    }

    [TestMethod]
    public void FieldAloneGivesTanh()
    {
        // beta = 0: independent spins, exact m = tanh h.
        var (_, m) = Batches(128, 0, 0.3, packed: true, seed: 2);
        var (mean, se) = MeanSe(m);
        Assert.IsTrue(Math.Abs(mean - Math.Tanh(0.3)) < 4 * se + 1e-12, $"m {mean} vs {Math.Tanh(0.3)} (SE {se})");
        Assert.IsTrue(se < 2e-3, $"SE {se}");
    }

    [TestMethod]
    public void HighTemperatureBondMeanMatchesOnsager()
    {
        // beta = 0.3 < beta_c at L = 128: finite-size corrections are exponentially small, so the bond sum per spin
        // is d/dbeta of Onsager's psi (central difference of a smooth function, error ~1e-9).
        const double beta = 0.3, d = 1e-4;
        double exact = (IsingExact.OnsagerPsi(beta + d) - IsingExact.OnsagerPsi(beta - d)) / (2 * d);
        var (e, _) = Batches(128, beta, 0, packed: true, seed: 3);
        var (mean, se) = MeanSe(e);
        Assert.IsTrue(Math.Abs(mean - exact) < 4 * se, $"bond/spin {mean} vs Onsager {exact} (SE {se})");
    }

    [TestMethod]
    public void PackedAgreesWithTypewriterInAField()
    {
        // Two independent chains of the two local samplers at beta 0.35, h = 0.1: difference within 4 combined SEs.
        var a = Batches(128, 0.35, 0.1, packed: true, seed: 4);
        var b = Batches(128, 0.35, 0.1, packed: false, seed: 5);
        foreach (var (x, y, what) in new[] { (a.E, b.E, "bond"), (a.M, b.M, "m") })
        {
            var (mx, sx) = MeanSe(x);
            var (my, sy) = MeanSe(y);
            Assert.IsTrue(Math.Abs(mx - my) < 4 * Math.Sqrt(sx * sx + sy * sy), $"{what}: packed {mx} vs typewriter {my}");
        }
    }

    [TestMethod]
    public void RejectsSizesItCannotPack()
    {
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new PackedMetropolis(64));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new PackedMetropolis(192));
        Assert.IsFalse(new IsingSampler(64).UsesPackedSweeps);
    }
}
