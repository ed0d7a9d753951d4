using HessianML.Pipeline.MlNet;
using System.IO.Compression;
using System.Text.Json.Nodes;
using HessianML.Data;
using HessianML.Evaluation;
using HessianML.Geometry;
using HessianML.Pipeline;
using HessianML.Posterior;
using HessianML.Systems.Ising;
using HessianML.Systems.Tasep;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace HessianML.Tests.Posterior;

/// <summary>The exponential-family head (METHOD §8) of the posterior grid: <see cref="PosteriorArchitecture.ExponentialFamily"/>.</summary>
[TestClass]
public sealed class ExponentialFamilyHeadTests
{
    private const int K = 8, L = 4;
    private static readonly ParameterBox Box = new(0.25, 0.65, -0.3, 0.3);
    private static ColumnTable _data = null!;
    private static PosteriorGridTransformer _model = null!;
    private static float[] _posterior = null!;

    private static PosteriorGridOptions Options(int seed = 3) => new()
    {
        Architecture = PosteriorArchitecture.ExponentialFamily,
        Grid = K,
        Box = Box,
        Epochs = 4,
        BatchSize = 64,
        LearningRate = 1e-2,
        Channels = 8,
        HeadSplineCount = 8,
        Seed = seed,
    };

    [ClassInitialize]
    public static void Init(TestContext _)
    {
        // Ising L = 4, 3000 samples on the reference box: one fit shared by the tests below.
        _data = IsingSimulation.Generate(new IsingSimulationSettings { Size = L, Samples = 3000, Seed = 17, Sweeps = 20 });
        _model = new MLContext(1).Hessian().PosteriorGrid(Options()).Fit(_data);
        _posterior = _model.Transform(_data).GetColumn<float>("posterior").ToArray();
    }

    [TestMethod]
    public void PosteriorIsExactlyExponentialFamilySoLeastSquaresRecoversTheHeadsPhi()
    {
        Assert.AreEqual(PosteriorArchitecture.ExponentialFamily, _model.Architecture);
        Assert.IsFalse(_model.Convolutional);
        var phi = _model.HeadPhi()!;
        var grid = Box.CellCentres(K, K);
        var recovered = LogPosteriorLeastSquares.Solve(_posterior, _data.RowCount, grid);
        double misfit = NonAffineRms(Enumerable.Range(0, K * K).Select(c => recovered[c] - phi[c]).ToArray(), grid);
        double curvature = NonAffineRms(phi.Select(v => (double)v).ToArray(), grid);
        // WHY 1e-5: log p_ik = <T_i, u_k> - phi_k - log Z_i holds exactly but for float32 rounding (relative 6e-8) of
        // the logits, of phi and of the stored p. Logits here are at most ~10x phi's curvature, so rounding is <= ~1e-6
        // of it; least squares averages it further (measured: 5e-8). Any posterior not of this exact form misses by
        // orders of magnitude more (the head's form is what is tested, not its training).
        Assert.IsTrue(curvature > 0.1, $"phi learned some curvature: non-affine rms {curvature}");
        Assert.IsTrue(misfit < 1e-5 * curvature, $"non-affine misfit {misfit} vs phi's non-affine rms {curvature}");
    }

    [TestMethod]
    public void LearnsMostOfTheInformationTheExactBayesPosteriorHas()
    {
        double uniform = _model.UniformCrossEntropy;
        double bayes = ExactBayesCrossEntropy();
        double held = _model.HeldOutCrossEntropy;
        // The exact posterior (same bundles, same hard targets, evaluated at the cell centres) is the best any network
        // can do up to within-cell variation; no skill is log K^2 (4.16; Bayes here ~3.0). The head is the Bayes
        // posterior's own form, so after 4 epochs it must be within 10% of that information gap of Bayes on held-out
        // bundles (measured: equal to 1e-3). The margin, ~0.12, is ~3 standard errors of a mean CE over 600 bundles.
        Assert.IsTrue(bayes < uniform - 0.5, $"the data carry information: Bayes CE {bayes} vs uniform {uniform}");
        Assert.IsTrue(held < bayes + 0.1 * (uniform - bayes), $"held-out CE {held}, Bayes {bayes}, uniform {uniform}");
        Assert.IsTrue(held > bayes - 0.1, $"held-out CE {held} cannot beat the exact posterior {bayes} by more than sampling noise");
    }

    /// <summary>Mean over held-out bundles of -sum_members log p_exact(cell of member) / K_bundle.</summary>
    private static double ExactBayesCrossEntropy()
    {
        var exact = IsingExact.Field(L, Box, K, K);
        var bundles = _model.Bundles(_data);
        var split = _model.Transform(_data).GetColumn<bool>("split").ToArray();
        var t = _data.GetColumn<float>("t").Span;
        var s = _data.GetColumn<sbyte>("state").Span;
        int n = L * L, cells = K * K, count = 0;
        double total = 0;
        var logits = new double[cells];
        for (int r = 0; r < _data.RowCount; r++)
        {
            if (!split[r]) continue;
            double bonds = 0, spins = 0;
            foreach (int m in bundles[r])
                for (int i = 0; i < L; i++)
                    for (int j = 0; j < L; j++)
                    {
                        int v = s[m * n + i * L + j];
                        spins += v;
                        bonds += v * (s[m * n + i * L + (j + 1) % L] + s[m * n + (i + 1) % L * L + j]);
                    }
            for (int c = 0; c < cells; c++)
                logits[c] = exact.T1[c] * bonds + exact.T2[c] * spins - bundles[r].Length * n * exact.Psi[c];
            double max = logits.Max(), lse = max + Math.Log(logits.Sum(v => Math.Exp(v - max)));
            foreach (int m in bundles[r]) total -= (logits[Box.CellOf(t[2 * m], t[2 * m + 1], K, K)] - lse) / bundles[r].Length;
            count++;
        }
        return total / count;
    }

    [TestMethod]
    public void SaveLoadGivesIdenticalPosteriorAndPhi()
    {
        var ctx = new MLContext(1);
        using var stream = new MemoryStream();
        ctx.Model.Save(_model, _data.MlSchema, stream);
        stream.Position = 0;
        var loaded = (PosteriorGridTransformer)SavedForm.Components(new MLContext().Model.Load(stream, out _)).Single();
        Assert.AreEqual(PosteriorArchitecture.ExponentialFamily, loaded.Architecture);
        CollectionAssert.AreEqual(_model.HeadPhi(), loaded.HeadPhi());
        CollectionAssert.AreEqual(_posterior, loaded.Transform(_data).GetColumn<float>("posterior").ToArray());
    }

    [TestMethod]
    public void ModelFilesWrittenBeforeTheHeadStillLoad()
    {
        // A convolutional model whose options lack the fields this change added (as older files do).
        var small = _data.SelectRows([.. Enumerable.Range(0, 400)]);
        var o = Options(seed: 5);
        o.Architecture = PosteriorArchitecture.Convolutional;
        o.Epochs = 1;
        o.Hidden = 16;
        var conv = new PosteriorGridEstimator(o).Fit(small);
        using var stream = new MemoryStream();
        stream.Write(ComponentStateFile.Save(conv));
        using (var archive = new ZipArchive(stream, ZipArchiveMode.Update, leaveOpen: true))
        {
            var entry = archive.GetEntry("manifest.json")!;
            JsonNode m;
            using (var s = entry.Open()) m = JsonNode.Parse(s)!;
            var options = m["options"]!.AsObject();
            Assert.IsTrue(options.Remove("Architecture") && options.Remove("HeadSplineCount"), "the new fields are saved");
            entry.Delete();
            using var w = new StreamWriter(archive.CreateEntry("manifest.json").Open());
            w.Write(m.ToJsonString());
        }
        var loaded = (PosteriorGridTransformer)ComponentStateFile.Load(stream.ToArray(), "edited state");
        Assert.AreEqual(PosteriorArchitecture.Convolutional, loaded.Architecture);
        CollectionAssert.AreEqual(conv.Transform(small).GetColumn<float>("posterior").ToArray(),
            loaded.Transform(small).GetColumn<float>("posterior").ToArray());
    }

    [TestMethod]
    public void OpenChainHeadLearnsAndKeepsTheExponentialFamilyForm()
    {
        // TASEP (open ends): the site-weighted statistic. Not an exponential family, so only form and skill are checked.
        var box = new ParameterBox(0.05, 0.95, 0.05, 0.95);
        var data = TasepSimulation.Generate(new TasepSimulationSettings(20, box.Lo1, box.Hi1, box.Lo2, box.Hi2, 2000, 3));
        var o = Options(seed: 7);
        o.Box = box;
        var m = new PosteriorGridEstimator(o).Fit(data);
        Assert.AreEqual(PosteriorArchitecture.ExponentialFamily, m.Architecture);
        Assert.IsTrue(m.HeldOutCrossEntropy < 0.9 * m.UniformCrossEntropy, $"held-out CE {m.HeldOutCrossEntropy} vs uniform {m.UniformCrossEntropy}");
        var p = m.Transform(data).GetColumn<float>("posterior").ToArray();
        var grid = box.CellCentres(K, K);
        var phi = m.HeadPhi()!;
        var recovered = LogPosteriorLeastSquares.Solve(p, data.RowCount, grid);
        double misfit = NonAffineRms(Enumerable.Range(0, K * K).Select(c => recovered[c] - phi[c]).ToArray(), grid);
        double curvature = NonAffineRms(phi.Select(v => (double)v).ToArray(), grid);
        Assert.IsTrue(misfit < 1e-5 * curvature, $"non-affine misfit {misfit} vs phi's non-affine rms {curvature} (same bound as the torus)");
    }

    [TestMethod]
    public void BadHeadSplineCountIsRefusedInOneLine()
    {
        var o = Options();
        o.HeadSplineCount = 3;
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new PosteriorGridEstimator(o));
        StringAssert.Contains(e.Message, "HeadSplineCount 3 must be >= 4");
    }

    private static double NonAffineRms(double[] f, double[] grid)
    {
        var x = Enumerable.Range(0, f.Length).Select(c => new[] { grid[2 * c], grid[2 * c + 1], 1.0 }).ToArray();
        var beta = MetricFieldErrors.LeastSquares(x, f);
        return Math.Sqrt(Enumerable.Range(0, f.Length)
            .Average(c => Math.Pow(f[c] - beta[0] * grid[2 * c] - beta[1] * grid[2 * c + 1] - beta[2], 2)));
    }
}
