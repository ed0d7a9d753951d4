using HessianML.Systems;
using HessianML.Systems.Diffusion;

namespace HessianML.Tests.Systems.Diffusion;

/// <summary>
/// The slice-level science checks on a small colour-pattern system (K = 3, d = 27 = 3 x 3 RGB, s = 0.1, 50 DDIM steps,
/// eta = 0): phases stable away from boundaries, finite-difference Lipschitz ratios bounded inside a phase and growing
/// at a bisected boundary, and the box-counting dimension of the boundary.
/// </summary>
[TestClass]
public sealed class DiffusionLipschitzProbeTests
{
    private static (GaussianMixture Mixture, KnownScoreDiffusionGenerator Generator, LatentSlice Slice) System(double s = 0.1)
    {
        var mixture = new GaussianMixture(new GaussianMixtureOptions { Components = 3, Dimension = 27, Std = s });
        var generator = new KnownScoreDiffusionGenerator(new KnownScoreDiffusionOptions { Mixture = mixture });
        return (mixture, generator, LatentSlice.Random(27, 1));
    }

    [TestMethod]
    public void SliceIsNormalisedToUnitStd()
    {
        var slice = LatentSlice.Random(12, 4);
        var z = slice.Latent(0.3, 0.6);
        double mean = z.Average(), sd = Math.Sqrt(z.Sum(v => (v - mean) * (v - mean)) / (z.Length - 1));
        Assert.AreEqual(1.0, sd, 1e-12);
        var raw = new LatentSlice(slice.Z0, slice.Z1, slice.Z2, normalize: false).Latent(0.3, 0.6);
        for (int i = 0; i < 12; i++)
            Assert.AreEqual(slice.Z0[i] + 0.3 * (slice.Z1[i] - slice.Z0[i]) + 0.6 * (slice.Z2[i] - slice.Z0[i]), raw[i], 1e-12);
        double ratio = z[0] / raw[0];
        for (int i = 1; i < 12; i++) Assert.AreEqual(ratio, z[i] / raw[i], 1e-12, "normalisation is a pure rescaling");
    }

    [TestMethod]
    public void PhaseMapHasSeveralPhasesAndIsStableAwayFromBoundaries()
    {
        var (mixture, g, slice) = System();
        var map = DiffusionSliceDataset.PhaseMap(g, slice, mixture.Phase, 16);
        var counts = map.GroupBy(p => p).ToDictionary(x => x.Key, x => x.Count());
        Console.WriteLine("phase cells: " + string.Join(", ", counts.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key}: {kv.Value}")));
        Assert.IsTrue(counts.Count >= 2, "the test slice must cross a boundary");
        var far = LipschitzProbe.FarFromBoundary(g, slice, mixture.Phase, 16);
        Console.WriteLine($"far point ({far.A:F4}, {far.B:F4}) phase {far.Phase}, clear radius {far.Distance:F4}");
        Assert.IsTrue(far.Distance > 0.05);
        // Tiny moves, in slice coordinates (up to half the clear radius) and directly in latent space (1e-6 per
        // entry), never change the phase there.
        var rng = new SampleRandom(21);
        var z = slice.Latent(far.A, far.B);
        for (int trial = 0; trial < 40; trial++)
        {
            double r = 0.5 * far.Distance * rng.NextDouble(), angle = 2 * Math.PI * rng.NextDouble();
            var moved = slice.Latent(far.A + r * Math.Cos(angle), far.B + r * Math.Sin(angle));
            Assert.AreEqual(far.Phase, mixture.Phase(g.Generate(moved)), $"slice move of {r:F4}");
            var jitter = z.Select(v => v + 1e-6 * (2 * rng.NextDouble() - 1)).ToArray();
            Assert.AreEqual(far.Phase, mixture.Phase(g.Generate(jitter)), "latent jitter of 1e-6");
        }
    }

    [TestMethod]
    public void LipschitzRatioIsBoundedInsideAPhaseAndGrowsAtTheBoundary()
    {
        var (mixture, g, slice) = System();
        var eps = LipschitzProbe.Decades();
        var far = LipschitzProbe.FarFromBoundary(g, slice, mixture.Phase, 16);
        var inside = LipschitzProbe.Sensitivity(g, slice, (far.A, far.B), (1, 1), eps);
        Console.WriteLine("far:  " + string.Join("  ", eps.Zip(inside, (e, v) => $"{e:E0}: {v:E3}")));
        // Inside a phase the ratio converges to the directional derivative: the last four decades agree to 1%.
        for (int k = 2; k < eps.Length; k++)
            Assert.AreEqual(inside[^1], inside[k], 0.01 * inside[^1], $"eps {eps[k]}");

        // A boundary: bisect between the far point and a cell centre of another phase.
        var map = DiffusionSliceDataset.PhaseMap(g, slice, mixture.Phase, 16);
        var pts = DiffusionSliceDataset.GridPoints(16);
        int other = Array.FindIndex(map, p => p != far.Phase);
        var edge = LipschitzProbe.BisectBoundary(g, slice, mixture.Phase, (far.A, far.B), pts[other]);
        Console.WriteLine($"boundary at ({edge.A:F10}, {edge.B:F10}), phases {edge.Phase}|{edge.OtherPhase}, width {edge.Width:E2}");
        Assert.IsTrue(edge.Width <= 1e-9);
        Assert.AreNotEqual(edge.Phase, edge.OtherPhase);
        var across = (edge.OtherA - edge.A, edge.OtherB - edge.B);
        var near = LipschitzProbe.Sensitivity(g, slice, (edge.A, edge.B), across, eps);
        Console.WriteLine("near: " + string.Join("  ", eps.Zip(near, (e, v) => $"{e:E0}: {v:E3}")));
        // At the boundary every step crosses into the other phase, so |dx| stays of the order of the distance between
        // the two modes and the ratio grows like 1 / eps until eps reaches the transition's width.
        for (int k = 1; k < eps.Length; k++)
            Assert.IsTrue(near[k] > 3 * near[k - 1] || near[k] > 1e3 * inside[^1], $"eps {eps[k]}: {near[k]} after {near[k - 1]}");
        Assert.IsTrue(near[^1] > 1e3 * inside[^1], $"at eps 1e-6 the boundary ratio {near[^1]} vs {inside[^1]} inside");
    }

    /// <summary>The box counter itself on boundaries of known dimension: a circle (1) and a phase that changes in every cell (2).</summary>
    [TestMethod]
    public void BoxCountingRecoversKnownDimensions()
    {
        int grids0 = 16;
        int[] grids = [grids0, 2 * grids0, 4 * grids0, 8 * grids0];
        var circle = LipschitzProbe.BoxCountingDimension((a, b) => a * a + b * b < 0.09 ? 1 : 0, (0, 0), 1, grids);
        Console.WriteLine($"circle: counts {string.Join(",", circle.Counts)} -> D = {circle.Dimension:F3}");
        Assert.AreEqual(1.0, circle.Dimension, 0.05);
        var dust = LipschitzProbe.BoxCountingDimension((a, b) => (int)(SampleRandom.ForStream(BitConverter.DoubleToUInt64Bits(a), BitConverter.DoubleToUInt64Bits(b)).NextUInt64() & 1), (0, 0), 1, grids);
        Console.WriteLine($"dust: counts {string.Join(",", dust.Counts)} -> D = {dust.Dimension:F3}");
        Assert.AreEqual(2.0, dust.Dimension, 0.05);
    }

    /// <summary>
    /// With the exact score the flow is smooth, so the boundary is a smooth curve: dimension 1 at every zoom, down to
    /// windows of 1e-4 around a bisected boundary point (the paper's fractal boundaries come from its learned model;
    /// this system is the control that shows the counter does not invent them).
    /// </summary>
    [TestMethod]
    public void DiffusionBoundaryIsASmoothCurveUnderZoom()
    {
        var (mixture, g, slice) = System();
        var far = LipschitzProbe.FarFromBoundary(g, slice, mixture.Phase, 16);
        var map = DiffusionSliceDataset.PhaseMap(g, slice, mixture.Phase, 16);
        var pts = DiffusionSliceDataset.GridPoints(16);
        var edge = LipschitzProbe.BisectBoundary(g, slice, mixture.Phase, (far.A, far.B), pts[Array.FindIndex(map, p => p != far.Phase)]);
        var phaseAt = LipschitzProbe.PhaseFunction(g, slice, mixture.Phase);
        foreach (double size in new[] { 1e-1, 1e-2, 1e-4 })
        {
            var box = LipschitzProbe.BoxCountingDimension(phaseAt, (edge.A, edge.B), size, [8, 16, 32, 64]);
            Console.WriteLine($"window {size:E0}: counts {string.Join(",", box.Counts)} -> D = {box.Dimension:F3}");
            Assert.AreEqual(1.0, box.Dimension, 0.1, $"window {size}");
        }
    }
}
