using System.Diagnostics;
using System.Globalization;
using HessianML.Autodiff;
using HessianML.Autodiff.Layers;
using HessianML.Data;
using HessianML.Pipeline;
using HessianML.Pipeline.MlNet;
using Ml = Microsoft.ML;
using HessianML.Tensors;
using HessianML.Tensors.Devices;

namespace HessianML.Posterior;

/// <summary>
/// METHOD §4a, the mapping network: learns, from samples <c>state</c> at known parameters <c>t</c>, the posterior
/// over a K x K grid of the box given a bundle of K_bundle samples from a parameter-space neighbourhood. Fit splits the
/// rows (seeded, <see cref="PosteriorGridOptions.TestFraction"/> held out), draws bundles within each part (so held-out
/// bundles never see a training sample), and trains by cross-entropy against the labels with Adam; bundles of the
/// training rows are redrawn every epoch (fresh combinations of the same neighbours: cheap augmentation). The
/// <see cref="PosteriorArchitecture.ExponentialFamily"/> head also decays the learning rate (cosine) and trains with the
/// labels' empirical log-prior as a logit offset (<see cref="EmpiricalLogPrior"/>).
/// </summary>
public sealed class PosteriorGridEstimator : Ml.IEstimator<PosteriorGridTransformer>
{
    internal const string Name = "PosteriorGrid";
    private readonly PosteriorGridOptions _o;
    private readonly int _seed;

    /// <summary>Creates the estimator; <paramref name="seed"/> is used when the options carry none.</summary>
    public PosteriorGridEstimator(PosteriorGridOptions options, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _o = options.Clone();
        _seed = options.Seed ?? seed;
    }

    internal const string TColumnName = "t";
    internal const string StateColumnName = "state";

    private ComponentColumns Columns => new(Name,
        [(TColumnName, ColumnType.Vector(ItemKind.Float32, 2)), (StateColumnName, ColumnType.VariableVector(ItemKind.Int8))],
        [(PosteriorGridTransformer.PosteriorColumn, ColumnType.Vector(ItemKind.Float32, _o.Grid * _o.Grid)),
         (PosteriorGridTransformer.SplitColumn, ColumnType.Scalar(ItemKind.Boolean))]);

    /// <summary>The input shape plus <c>posterior</c> and <c>split</c>; a missing or mistyped t or state column throws, naming it.</summary>
    public Ml.SchemaShape GetOutputSchema(Ml.SchemaShape inputSchema) => Columns.OutputShape(inputSchema);

    /// <summary>Trains the mapping network on the samples of <paramref name="input"/> (columns t and state).</summary>
    public PosteriorGridTransformer Fit(Ml.IDataView input) => FitTable(MlNetSide.Table(input, Columns));

    internal PosteriorGridTransformer FitTable(ColumnTable input)
    {
        ArgumentNullException.ThrowIfNull(input);
        int rows = input.RowCount;
        if (rows < 2) throw new ArgumentException($"{Name}: need at least 2 rows to fit, got {rows}");
        var t = input.GetColumn<float>("t").ToArray();
        var states = input.GetColumn<sbyte>("state");
        int n = input.Schema["state"].Type.VectorLength;
        var box = _o.Box ?? BoundingBox(t);
        if (!box.IsProper) throw new ArgumentException($"{Name}: the parameter box {box} is degenerate; give PosteriorGridOptions.Box");
        bool head = _o.Architecture == PosteriorArchitecture.ExponentialFamily;
        // The head takes the lattice shape by the same rule as Auto takes convolution vs dense; it is a torus when
        // that shape has more than one row (a single site is a chain of one).
        bool conv = UseConvolution(input.Schema, n, head ? PosteriorArchitecture.Auto : _o.Architecture);
        var (height, width) = conv ? (Side(n), Side(n)) : (1, n);
        int k = _o.Grid, cells = k * k, kb = _o.BundleSize;

        ulong netSeed = (ulong)(uint)_seed * 0x9E3779B97F4A7C15UL + 1;
        Module<float> net = head
            ? new ExponentialFamilyNetwork(height > 1, kb, height, width, _o.Channels, box, k, _o.HeadSplineCount, netSeed,
                _o.HeadCoordinate1, _o.HeadCoordinate2)
            : new PosteriorGridNetwork(conv, kb, height, width, _o.Channels, _o.Hidden, cells, netSeed);
        var model = new PosteriorGridTransformer(net, box, k, kb, _o.NeighbourCount, _o.TestFraction, _seed, height, width, n,
            _o.Labels, _o.Sigma);

        var isTest = PosteriorGridTransformer.SplitRows(rows, _o.TestFraction, _seed);
        int[] train = [.. Enumerable.Range(0, rows).Where(r => !isTest[r])];
        int[] test = [.. Enumerable.Range(0, rows).Where(r => isTest[r])];
        var trainNeighbours = PosteriorGridTransformer.Neighbours(t, train, box, _o.NeighbourCount);
        var testBundles = test.Length > 0
            ? PosteriorGridTransformer.Draw(PosteriorGridTransformer.Neighbours(t, test, box, _o.NeighbourCount), kb, _seed)
            : [];
        var labels = PosteriorGridTransformer.Labels(t, box, k, _o.Labels, _o.Sigma);
        var prior = head ? EmpiricalLogPrior(labels, train, cells) : null;

        // On a device the network, its constants, the prior and Adam's moments stay there for the fit; each step
        // uploads its minibatch and reads back its loss; the held-out pass of an epoch runs on the host.
        var device = DeviceAccelerator.For(_o.Device);
        net.MoveTo(device);
        prior?.Value.MoveTo(device);
        var adam = new Adam<float>(net.Parameters(), _o.LearningRate);
        var order = new Random(_seed ^ 0x5bd1e995);
        int bs = Math.Min(_o.BatchSize, train.Length);
        var x = new float[bs * kb * n];
        var y = new float[bs * cells];
        var clock = Stopwatch.StartNew();
        double bestHeld = double.PositiveInfinity;
        int bestEpoch = 0;
        List<(string, Tensor<float>)>? best = null;
        for (int epoch = 0; epoch < _o.Epochs; epoch++)
        {
            // The head's logits are sums over sites and members, so a constant Adam step leaves logit noise of order
            // lr * sites: decay it (measured on Ising L = 8: constant 2e-3 left the held-out CE jumping by 0.1).
            if (head) adam.LearningRate = LearningRateSchedule.Cosine(_o.LearningRate, epoch, _o.Epochs);
            var bundles = PosteriorGridTransformer.Draw(trainNeighbours, kb, _seed + 7919 * (epoch + 1));
            var perm = Enumerable.Range(0, bundles.Length).ToArray();
            order.Shuffle(perm);
            double lossSum = 0;
            int seen = 0;
            for (int start = 0; start < perm.Length; start += bs)
            {
                int b = Math.Min(bs, perm.Length - start);
                var batch = new int[b][];
                for (int i = 0; i < b; i++) batch[i] = bundles[perm[start + i]];
                PosteriorGridTransformer.FillInput(states.Span, n, batch, x);
                PosteriorGridTransformer.FillTarget(labels, cells, batch, y);
                // Full batches reuse the buffers (the tape holding them is gone after Step); the last, short one copies.
                var xv = Var<float>.Constant(new Tensor<float>(b == bs ? x : x[..(b * kb * n)], b, kb, height, width).To(device));
                var yv = Var<float>.Constant(new Tensor<float>(b == bs ? y : y[..(b * cells)], b, cells).To(device));
                var logits = net.Forward(xv);
                if (prior is not null) logits = Ops.Add(logits, prior);
                var loss = Ops.Scale(Ops.SoftmaxLogLikelihood(logits, yv), -1.0 / b);
                adam.ZeroGrad();
                loss.Backward();
                adam.Step();
                lossSum += loss.Value.ToHost()[0] * b;
                seen += b;
            }
            bool validate = testBundles.Length > 0 && (_o.KeepBestEpoch || _o.Progress is not null);
            if (validate) net.MoveTo(null);
            double held = validate ? model.CrossEntropy(states.Span, labels, testBundles) : double.NaN;
            if (_o.KeepBestEpoch && held < bestHeld)
                (bestHeld, bestEpoch, best) = (held, epoch + 1, net.NamedParameters().Select(p => (p.Name, p.Value.Clone())).ToList());
            if (validate) net.MoveTo(device);
            _o.Progress?.Invoke(string.Create(CultureInfo.InvariantCulture,
                $"PosteriorGrid epoch {epoch + 1}/{_o.Epochs}: train loss {lossSum / seen:F4}, held-out CE {held:F4} (uniform {Math.Log(cells):F4}), {clock.Elapsed.TotalSeconds:F1} s"));
        }
        net.MoveTo(null);
        if (best is not null && bestEpoch < _o.Epochs)
        {
            net.LoadParameters(best);
            _o.Progress?.Invoke(string.Create(CultureInfo.InvariantCulture,
                $"PosteriorGrid: kept epoch {bestEpoch} (lowest held-out CE {bestHeld:F4})"));
        }
        model.BestEpoch = best is null ? _o.Epochs : bestEpoch;
        model.TrainCrossEntropy = model.CrossEntropy(states.Span, labels, PosteriorGridTransformer.Draw(trainNeighbours, kb, _seed));
        model.HeldOutCrossEntropy = testBundles.Length > 0 ? model.CrossEntropy(states.Span, labels, testBundles) : double.NaN;
        model.TrainingSeconds = clock.Elapsed.TotalSeconds;
        return model;
    }

    /// <summary>
    /// log of the training rows' label mass per cell (+ 1/2, so an empty cell stays finite), as a constant [K*K] offset of
    /// the head's training logits. WHY: the CE optimum makes the posterior's total mass per cell equal the training
    /// labels' count there; the head's only per-cell freedom is phi, so without this offset phi absorbs the counts'
    /// Poisson noise (about 1/sqrt(33) in log at 24 000 rows on 24 x 24 cells), which the Hessian amplifies. The offset
    /// is the empirical prior the training rows were drawn from; Transform uses the true, uniform prior.
    /// </summary>
    private static Var<float> EmpiricalLogPrior(PosteriorGridTransformer.LabelSource labels, int[] rows, int cells)
    {
        var mass = new float[cells];
        foreach (int r in rows) labels.Add(r, 1f, mass);
        for (int c = 0; c < cells; c++) mass[c] = MathF.Log(mass[c] + 0.5f);
        return Var<float>.Constant(new Tensor<float>(mass, cells));
    }

    internal static bool UseConvolution(TableSchema schema, int n, PosteriorArchitecture architecture)
    {
        bool square = Side(n) * Side(n) == n;
        schema.Metadata.TryGetValue("system", out var system);
        return architecture switch
        {
            PosteriorArchitecture.Convolutional => square ? true
                : throw new SchemaException($"{Name}: a convolutional network needs a square lattice; state has {n} sites", "state", Name),
            PosteriorArchitecture.Dense => false,
            _ => system == "ising" || (system != "tasep" && square && n >= 4),
        };
    }

    private static int Side(int n) => (int)Math.Round(Math.Sqrt(n));

    /// <summary>The smallest box holding every t (n x 2, row-major).</summary>
    internal static ParameterBox BoundingBox(ReadOnlySpan<float> t)
    {
        double lo1 = double.PositiveInfinity, hi1 = double.NegativeInfinity, lo2 = double.PositiveInfinity, hi2 = double.NegativeInfinity;
        for (int i = 0; i < t.Length; i += 2)
        {
            lo1 = Math.Min(lo1, t[i]); hi1 = Math.Max(hi1, t[i]);
            lo2 = Math.Min(lo2, t[i + 1]); hi2 = Math.Max(hi2, t[i + 1]);
        }
        return new ParameterBox(lo1, hi1, lo2, hi2);
    }
}
