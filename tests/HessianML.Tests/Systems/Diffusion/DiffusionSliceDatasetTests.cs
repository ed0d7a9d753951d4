using HessianML.Data;
using HessianML.Systems.Diffusion;

namespace HessianML.Tests.Systems.Diffusion;

[TestClass]
public sealed class DiffusionSliceDatasetTests
{
    private string _dir = "";

    [TestInitialize]
    public void Init() => Directory.CreateDirectory(_dir = Path.Combine(Path.GetTempPath(), $"diffusion-{Guid.NewGuid():N}"));

    [TestCleanup]
    public void Cleanup() => Directory.Delete(_dir, recursive: true);

    private static readonly DiffusionSliceSettings Small = new() { Components = 3, Dimension = 27, Grid = 8, DdimSteps = 20, Seed = 5 };

    [TestMethod]
    public void GridDatasetIsReproducibleAcrossThreadCountsAndMatchesItsContract()
    {
        var one = DiffusionSliceDataset.Generate(Small, maxThreads: 1);
        var many = DiffusionSliceDataset.Generate(Small, maxThreads: 4);
        string a = Path.Combine(_dir, "a.arrow"), b = Path.Combine(_dir, "b.arrow");
        ArrowDataFile.Write(one, a);
        ArrowDataFile.Write(many, b);
        CollectionAssert.AreEqual(File.ReadAllBytes(a), File.ReadAllBytes(b));
        var view = ArrowDataFile.Read(a);
        Assert.AreEqual(64, view.RowCount);
        var meta = view.Schema.Metadata;
        Assert.AreEqual("diffusion", meta["system"]);
        Assert.AreEqual("3", meta["components"]);
        Assert.AreEqual("27", meta["dim"]);
        Assert.AreEqual("0.1", meta["std"]);
        Assert.AreEqual("0", meta["eta"]);
        Assert.AreEqual("20", meta["steps"]);
        Assert.AreEqual("5", meta["seed"]);
        Assert.AreEqual("8", meta["grid"]);
        Assert.AreEqual(27, view.Schema["features"].Type.VectorLength);
        var t = view.GetColumn<float>("t").Span;
        Assert.AreEqual(1f / 16, t[0]);
        Assert.AreEqual(3f / 16, t[2]);
        Assert.AreEqual(1f / 16, t[3]);
        Assert.AreEqual(3f / 16, t[17]);
        // Each row's phase is the phase of the sample generated at its stored t.
        var (mixture, g, slice) = DiffusionSliceDataset.CreateSystem(Small);
        var phase = view.GetColumn<int>("phase").Span;
        var features = view.GetColumn<float>("features").Span;
        for (int r = 0; r < 64; r += 9)
        {
            var x = g.Generate(slice.Latent(t[2 * r], t[2 * r + 1]));
            Assert.AreEqual(mixture.Phase(x), phase[r]);
            Assert.AreEqual((float)x[4], features[r * 27 + 4]);
        }
        Assert.IsTrue(phase.ToArray().Distinct().Count() >= 2, "the slice of seed 5 crosses a boundary");
    }

    [TestMethod]
    public void DefaultSliceCornersGenerateThreeDifferentPhases()
    {
        foreach (ulong seed in new ulong[] { 1, 2, 3 })
        {
            var settings = Small with { Components = 4, Seed = seed };
            var (mixture, g, slice) = DiffusionSliceDataset.CreateSystem(settings);
            var corners = new[] { (0.0, 0.0), (1.0, 0.0), (0.0, 1.0) }.Select(c => mixture.Phase(g.Generate(slice.Latent(c.Item1, c.Item2)))).ToArray();
            Assert.AreEqual(3, corners.Distinct().Count(), $"seed {seed}: corner phases {string.Join(",", corners)}");
            // Plain random latents are what the option replaces: same seed, other corners.
            var (_, _, plain) = DiffusionSliceDataset.CreateSystem(settings with { DistinctCornerPhases = false });
            Assert.AreNotEqual(slice.Z0[0], plain.Z0[0]);
        }
        // Two components: only two corners can differ; the slice is still made, and says so.
        var two = new GaussianMixture(new GaussianMixtureOptions { Components = 2, Dimension = 27 });
        var sampler = new KnownScoreDiffusionGenerator(new KnownScoreDiffusionOptions { Mixture = two, DdimSteps = 20 });
        var s2 = LatentSlice.ThroughDistinctPhases(sampler, two.Phase, 1, out int distinct);
        Assert.AreEqual(2, distinct);
        Assert.AreEqual(27, s2.Dimension);
    }

    [TestMethod]
    public void RandomPointDatasetIsReproducibleAndStochastic()
    {
        var settings = Small with { Grid = 0, Samples = 40, Eta = 0.5 };
        var one = DiffusionSliceDataset.Generate(settings, maxThreads: 1);
        var many = DiffusionSliceDataset.Generate(settings, maxThreads: 3);
        CollectionAssert.AreEqual(one.GetColumn<float>("features").ToArray(), many.GetColumn<float>("features").ToArray());
        CollectionAssert.AreEqual(one.GetColumn<float>("t").ToArray(), many.GetColumn<float>("t").ToArray());
        foreach (float v in one.GetColumn<float>("t").Span) Assert.IsTrue(v >= 0 && v <= 1);
        var other = DiffusionSliceDataset.Generate(settings with { Seed = 6 });
        CollectionAssert.AreNotEqual(one.GetColumn<float>("features").ToArray(), other.GetColumn<float>("features").ToArray());
        Assert.AreEqual("40", one.Schema.Metadata["samples"]);
    }

    [TestMethod]
    public void BadSettingsGiveClearMessages()
    {
        void Throws<T>(DiffusionSliceSettings s, string fragment) where T : ArgumentException
        {
            var ex = Assert.ThrowsExactly<T>(() => DiffusionSliceDataset.Generate(s));
            StringAssert.Contains(ex.Message, fragment);
        }
        Throws<ArgumentException>(Small with { Samples = 10 }, "exactly one of grid (8) and samples (10)");
        Throws<ArgumentException>(Small with { Grid = 0 }, "exactly one of grid (0) and samples (0)");
        Throws<ArgumentOutOfRangeException>(Small with { Eta = 1.5 }, "eta 1.5");
        Throws<ArgumentOutOfRangeException>(Small with { DdimSteps = 0 }, "DDIM steps 0");
        Throws<ArgumentOutOfRangeException>(Small with { Grid = -1 }, "grid -1");
        Throws<ArgumentException>(Small with { Dimension = 10 }, "dimension 10 is not a multiple of 3");
        Throws<ArgumentOutOfRangeException>(Small with { Std = 0 }, "std 0");
    }
}
