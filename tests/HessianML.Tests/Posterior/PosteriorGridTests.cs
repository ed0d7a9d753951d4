using HessianML.Pipeline.MlNet;
using HessianML.Data;
using HessianML.Posterior;
using HessianML.Systems.Ising;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace HessianML.Tests.Posterior;

[TestClass]
public sealed class PosteriorGridTests
{
    private const int K = 8;
    private static ColumnTable _data = null!;
    private static PosteriorGridTransformer _model = null!;
    private static ColumnTable _output = null!;

    private static PosteriorGridOptions Options(int seed = 3) => new()
    {
        Grid = K,
        Epochs = 4,
        BatchSize = 64,
        LearningRate = 3e-3,
        Channels = 16,
        Hidden = 64,
        Seed = seed,
    };

    [ClassInitialize]
    public static void Init(TestContext _)
    {
        // Small Ising data: L = 4, 2000 samples on the reference box; one fit shared by the tests below.
        _data = IsingSimulation.Generate(new IsingSimulationSettings { Size = 4, Samples = 2000, Seed = 17, Sweeps = 20 });
        _model = new MLContext(1).Hessian().PosteriorGrid(Options()).Fit(_data);
        _output = _model.Transform(_data).AsTable();
    }

    [TestMethod]
    public void MissingColumnsAreNamedBeforeTraining()
    {
        var noState = _data.DropColumns("state");
        var noT = _data.DropColumns("t");
        var est = new MLContext(1).Hessian().PosteriorGrid(Options());
        var e1 = Assert.ThrowsExactly<SchemaException>(() => est.Fit(noState));
        StringAssert.Contains(e1.Message, "'state'");
        var e2 = Assert.ThrowsExactly<SchemaException>(() => est.GetOutputSchema(SchemaShapes.With(new SchemaShape([]), [("state", new VectorDataViewType(NumberDataViewType.SByte, 16))])));
        StringAssert.Contains(e2.Message, "'t'");
        var wrongType = _data.DropColumns("t").WithVectorColumn("t", 2, new double[2 * _data.RowCount]);
        Assert.ThrowsExactly<SchemaException>(() => est.Fit(wrongType));
    }

    [TestMethod]
    public void OutputRowsSumToOneWithContractMetadataAndSplit()
    {
        Assert.AreEqual(K * K, _output.Schema["posterior"].Type.VectorLength);
        var p = _output.GetColumn<float>("posterior").Span;
        for (int r = 0; r < _output.RowCount; r++)
        {
            double s = 0;
            foreach (float v in p.Slice(r * K * K, K * K)) { Assert.IsTrue(v >= 0); s += v; }
            Assert.AreEqual(1.0, s, 1e-4, $"row {r}");
        }
        var (grid, box, bundle) = PosteriorGridMetadata.Read(_output.Schema);
        Assert.AreEqual(K, grid);
        Assert.AreEqual(4, bundle);
        Assert.AreEqual(_model.Box, box, "the box round-trips exactly through the metadata text");
        var t = _data.GetColumn<float>("t").Span;
        float lo = float.MaxValue, hi = float.MinValue;
        for (int i = 0; i < t.Length; i += 2) { lo = Math.Min(lo, t[i]); hi = Math.Max(hi, t[i]); }
        Assert.AreEqual(lo, box.Lo1, 1e-9, "box from the data's t range");
        Assert.AreEqual(hi, box.Hi1, 1e-9);
        var split = _output.GetColumn<bool>("split").Span;
        int test = 0;
        foreach (bool b in split) test += b ? 1 : 0;
        Assert.AreEqual(400, test, "20% of 2000 rows held out");
        Assert.AreEqual("ising", _output.Schema.Metadata["system"], "input metadata kept");
        Assert.IsTrue(_output.MlSchema.SameColumns(_model.GetOutputSchema(_data.MlSchema)));
    }

    [TestMethod]
    public void LearnsWellBelowTheUniformPosteriorAndTracksTheTrueParameters()
    {
        double uniform = Math.Log(K * K);
        Assert.AreEqual(uniform, _model.UniformCrossEntropy, 1e-12);
        // Held out at least 10% below the no-skill CE, and the train CE is not far off the held-out one (no blow-up).
        Assert.IsTrue(_model.HeldOutCrossEntropy < 0.9 * uniform, $"held-out CE {_model.HeldOutCrossEntropy} vs uniform {uniform}");
        Assert.IsTrue(double.IsFinite(_model.TrainCrossEntropy) && _model.TrainCrossEntropy < uniform);

        // Posterior mean of (beta, h) on held-out rows correlates with the truth on both axes.
        var centres = _model.Box.CellCentres(K, K);
        var p = _output.GetColumn<float>("posterior").Span;
        var t = _output.GetColumn<float>("t").Span;
        var split = _output.GetColumn<bool>("split").Span;
        var (m1, m2, t1, t2) = (new List<double>(), new List<double>(), new List<double>(), new List<double>());
        for (int r = 0; r < _output.RowCount; r++)
        {
            if (!split[r]) continue;
            double a = 0, b = 0;
            for (int k = 0; k < K * K; k++) { a += p[r * K * K + k] * centres[2 * k]; b += p[r * K * K + k] * centres[2 * k + 1]; }
            m1.Add(a); m2.Add(b); t1.Add(t[2 * r]); t2.Add(t[2 * r + 1]);
        }
        double c1 = Correlation(m1, t1), c2 = Correlation(m2, t2);
        Assert.IsTrue(c1 > 0.5, $"beta correlation {c1}");
        Assert.IsTrue(c2 > 0.5, $"field correlation {c2}");
    }

    [TestMethod]
    public void ReproducibleFromTheSeedAndSeedMatters()
    {
        var small = _data.SelectRows([.. Enumerable.Range(0, 600)]);
        var o = Options(seed: 9);
        o.Epochs = 1;
        var a = new PosteriorGridEstimator(o).Fit(small).Transform(small).GetColumn<float>("posterior").ToArray();
        var b = new PosteriorGridEstimator(o).Fit(small).Transform(small).GetColumn<float>("posterior").ToArray();
        CollectionAssert.AreEqual(a, b, "same seed, same posterior");
        o.Seed = 10;
        var c = new PosteriorGridEstimator(o).Fit(small).Transform(small).GetColumn<float>("posterior").ToArray();
        CollectionAssert.AreNotEqual(a, c, "another seed, another fit");
    }

    [TestMethod]
    public void SaveLoadGivesIdenticalPosterior()
    {
        var ctx = new MLContext(1);
        using var stream = new MemoryStream();
        ctx.Model.Save(_model, _data.MlSchema, stream);
        stream.Position = 0;
        var loaded = new MLContext().Model.Load(stream, out var schema);
        Assert.IsTrue(schema.SameColumns(_data.MlSchema));
        // Bundles of several rows make the posterior a function of the whole view: the component read back from the
        // zip gives the same view-level Transform (the row form, on stacked bundles, is tested in MlNet/).
        var recovered = (PosteriorGridTransformer)SavedForm.Components(loaded).Single();
        var again = recovered.Transform(_data).AsTable();
        CollectionAssert.AreEqual(_output.GetColumn<float>("posterior").ToArray(), again.GetColumn<float>("posterior").ToArray());
        CollectionAssert.AreEqual(_output.GetColumn<bool>("split").ToArray(), again.GetColumn<bool>("split").ToArray());
        Assert.IsTrue(again.Schema.SameAs(_output.Schema));
    }

    [TestMethod]
    public void DenseNetworkAndSmoothedLabelsAlsoLearn()
    {
        // TASEP-style path: the dense network (forced here) with the paper's smoothed labels.
        var o = Options(seed: 5);
        o.Architecture = PosteriorArchitecture.Dense;
        o.Labels = PosteriorLabels.Smoothed;
        o.Sigma = 0.5 / K;
        o.Epochs = 3;
        var lines = new List<string>();
        o.Progress = lines.Add;
        var m = new PosteriorGridEstimator(o).Fit(_data);
        Assert.IsFalse(m.Convolutional);
        var epochs = lines.Where(l => l.StartsWith("PosteriorGrid epoch", StringComparison.Ordinal)).ToList();
        Assert.AreEqual(3, epochs.Count, "one progress line per epoch");
        Assert.IsTrue(m.HeldOutCrossEntropy < 0.95 * m.UniformCrossEntropy, $"held-out CE {m.HeldOutCrossEntropy}");

        // KeepBestEpoch (default): the network kept is the epoch with the lowest held-out CE among those reported.
        var held = epochs.Select(l => double.Parse(l.Split("held-out CE ")[1].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.AreEqual(held.Min(), m.HeldOutCrossEntropy, 1e-4);
        Assert.AreEqual(held.IndexOf(held.Min()) + 1, m.BestEpoch);
    }

    [TestMethod]
    public void DenseNetworkIgnoresTheOrderOfBundleMembers()
    {
        // Members are exchangeable draws: the shared encoder + mean must give the same logits for any order.
        var net = new PosteriorGridNetwork(false, 4, 1, 10, 8, 16, 9, 7);
        var rng = new Random(3);
        var x = Enumerable.Range(0, 2 * 4 * 10).Select(_ => (float)rng.Next(2)).ToArray();
        var swapped = (float[])x.Clone();
        for (int s = 0; s < 10; s++) (swapped[s], swapped[3 * 10 + s]) = (x[3 * 10 + s], x[s]); // members 0 and 3 of bundle 0
        using var _ = HessianML.Autodiff.GradMode.NoGrad();
        var a = net.Forward(HessianML.Autodiff.Var<float>.Constant(new HessianML.Tensors.Tensor<float>(x, 2, 4, 1, 10))).Value.Data;
        var b = net.Forward(HessianML.Autodiff.Var<float>.Constant(new HessianML.Tensors.Tensor<float>(swapped, 2, 4, 1, 10))).Value.Data;
        for (int i = 0; i < a.Length; i++) Assert.AreEqual(a[i], b[i], 1e-5f, $"logit {i}");
    }

    private static double Correlation(List<double> a, List<double> b)
    {
        double ma = a.Average(), mb = b.Average(), sab = 0, saa = 0, sbb = 0;
        for (int i = 0; i < a.Count; i++) { sab += (a[i] - ma) * (b[i] - mb); saa += (a[i] - ma) * (a[i] - ma); sbb += (b[i] - mb) * (b[i] - mb); }
        return sab / Math.Sqrt(saa * sbb);
    }
}
