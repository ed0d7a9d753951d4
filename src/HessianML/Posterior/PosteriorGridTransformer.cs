using HessianML.Geometry;
using System.Diagnostics;
using HessianML.Autodiff;
using HessianML.Autodiff.Layers;
using HessianML.Data;
using HessianML.Pipeline;
using HessianML.Pipeline.MlNet;
using Ml = Microsoft.ML;
using HessianML.Tensors;

namespace HessianML.Posterior;

/// <summary>
/// The fitted mapping network (kind "PosteriorGrid"). Transform adds <c>posterior</c> (Float32 vector[K*K], the
/// softmax of the network's logits for each row's bundle; index k = i*K + j, i along t1, j along t2, the order of
/// <see cref="ParameterBox.CellCentres"/>), <c>split</c> (Boolean, true = held-out row) and the metadata of
/// <see cref="PosteriorGridMetadata"/>. The split and the bundles are functions of the saved seed and the view's own
/// rows: on the training view they are exactly the fit's split and its held-out bundles; on a new view, bundles are
/// drawn from that view's own parameter-space neighbours (within each part of its split).
/// </summary>
public sealed class PosteriorGridTransformer : HessianTransformer
{
    public const string KindName = "PosteriorGrid";
    public const string PosteriorColumn = "posterior";
    public const string SplitColumn = "split";
    private const int EvalBatch = 512;
    private readonly Module<float> _net;

    internal PosteriorGridTransformer(Module<float> net, ParameterBox box, int grid, int bundleSize, int neighbourCount,
        double testFraction, int seed, int height, int width, int stateLength, PosteriorLabels labels, double sigma)
    {
        (_net, Box, Grid, BundleSize, NeighbourCount, TestFraction, Seed) = (net, box, grid, bundleSize, neighbourCount, testFraction, seed);
        (Height, Width, StateLength, LabelKind, Sigma) = (height, width, stateLength, labels, sigma);
    }

    public ParameterBox Box { get; }
    public int Grid { get; }
    public int BundleSize { get; }
    public int NeighbourCount { get; }
    public double TestFraction { get; }
    public int Seed { get; }
    public int StateLength { get; }
    public PosteriorLabels LabelKind { get; }
    public double Sigma { get; }
    internal int Height { get; }
    internal int Width { get; }

    /// <summary>True when the network is the convolutional one (false for the dense MLP and the exponential-family head).</summary>
    public bool Convolutional => Architecture == PosteriorArchitecture.Convolutional;

    /// <summary>The network's shape as resolved at fit time: Convolutional, Dense or ExponentialFamily (never Auto).</summary>
    public PosteriorArchitecture Architecture => _net switch
    {
        ExponentialFamilyNetwork => PosteriorArchitecture.ExponentialFamily,
        PosteriorGridNetwork { Convolutional: true } => PosteriorArchitecture.Convolutional,
        _ => PosteriorArchitecture.Dense,
    };

    /// <summary>The exponential-family head's phi on the K*K cell centres (the logits are &lt;T_hat, u_k&gt; - phi_k); null for other networks.</summary>
    internal float[]? HeadPhi()
    {
        if (_net is not ExponentialFamilyNetwork head) return null;
        using var _ = GradMode.NoGrad();
        return head.Phi().Value.Data.ToArray();
    }

    /// <summary>Mean cross-entropy against the training labels on the training rows (bundles drawn with the seed), after fitting.</summary>
    public double TrainCrossEntropy { get; internal set; } = double.NaN;

    /// <summary>Mean cross-entropy against the labels on the held-out rows (NaN when none were held out).</summary>
    public double HeldOutCrossEntropy { get; internal set; } = double.NaN;

    /// <summary>The cross-entropy of the uniform posterior, log(K^2): the no-skill yardstick.</summary>
    public double UniformCrossEntropy => Math.Log((double)Grid * Grid);

    /// <summary>The epoch whose network was kept (see <see cref="PosteriorGridOptions.KeepBestEpoch"/>); 0 for a loaded model.</summary>
    public int BestEpoch { get; internal set; }

    /// <summary>Wall time of the fit (0 for a loaded model).</summary>
    public double TrainingSeconds { get; internal set; }

    public override string Kind => KindName;

    /// <summary>The column a row-by-row use (a PredictionEngine, a loaded model) reads: the row's own state for bundles of one, else "bundle".</summary>
    public string RowInputColumn => BundleSize == 1 ? PosteriorGridEstimator.StateColumnName : BundleColumn;

    /// <summary>Row-by-row input for bundles of more than one: the K_bundle states of a bundle stacked (Int8, K_bundle * n).</summary>
    public const string BundleColumn = "bundle";

    private protected override ComponentColumns Columns => new(KindName,
        [(PosteriorGridEstimator.TColumnName, ColumnType.Vector(ItemKind.Float32, 2)), (PosteriorGridEstimator.StateColumnName, ColumnType.Vector(ItemKind.Int8, StateLength))],
        [(PosteriorColumn, ColumnType.Vector(ItemKind.Float32, Grid * Grid)), (SplitColumn, ColumnType.Scalar(ItemKind.Boolean))],
        PosteriorGridMetadata.Entries(Grid, Box, BundleSize));

    private protected override ComponentColumns RowColumns => new(KindName, [(RowInputColumn, ColumnType.Vector(ItemKind.Int8, BundleSize * StateLength))],
        [(PosteriorColumn, ColumnType.Vector(ItemKind.Float32, Grid * Grid))]);

    // Row to row only when a row is its own bundle; larger bundles need the other rows (or a stacked "bundle" column).
    // Transform adds each row's posterior given its bundle (drawn from the view's own parameter-space neighbours) and the
    // seeded split: a function of the whole view.
    private protected override bool IsRowToRow => BundleSize == 1;

    private protected override Ml.ITransformer BuildSavedForm() => SavedForm.Build(this, RowColumns.Inputs, [(RowInputColumn, "bundle")],
        t => new PosteriorGridMappingFactory().Estimator(t, PosteriorGridMappingFactory.Contract));

    /// <summary>The posterior given one bundle (K_bundle states stacked), as the saved model computes it row by row.</summary>
    internal float[] PosteriorOfBundle(ReadOnlySpan<sbyte> stacked)
    {
        if (stacked.Length != BundleSize * StateLength)
            throw new ArgumentException($"{KindName}: a bundle has {stacked.Length} sites, the model needs {BundleSize} x {StateLength}");
        using var _ = GradMode.NoGrad();
        var x = new float[stacked.Length];
        for (int i = 0; i < x.Length; i++) x[i] = stacked[i];
        var logits = _net.Forward(Var<float>.Constant(new Tensor<float>(x, 1, BundleSize, Height, Width))).Value.Data;
        var posterior = new float[Grid * Grid];
        Softmax(logits, posterior);
        return posterior;
    }

    private static void Softmax(ReadOnlySpan<float> row, Span<float> dst)
    {
        float max = float.NegativeInfinity;
        foreach (float v in row) max = Math.Max(max, v);
        double z = 0;
        for (int c = 0; c < row.Length; c++) z += Math.Exp(row[c] - max);
        for (int c = 0; c < row.Length; c++) dst[c] = (float)(Math.Exp(row[c] - max) / z);
    }

    internal override ColumnTable TransformTable(ColumnTable input)
    {
        int rows = input.RowCount, cells = Grid * Grid;
        var isTest = SplitRows(rows, TestFraction, Seed);
        var bundles = Bundles(input);
        var posterior = new float[(long)rows * cells];
        var states = input.GetColumn<sbyte>(PosteriorGridEstimator.StateColumnName).Span;
        ForEachBatch(states, bundles, (start, logits) =>
        {
            int b = logits.Length / cells;
            for (int i = 0; i < b; i++) Softmax(logits.AsSpan(i * cells, cells), posterior.AsSpan((start + i) * cells, cells));
        });
        var view = input
            .WithColumn(PosteriorColumn, ColumnType.Vector(ItemKind.Float32, cells), posterior)
            .WithColumn(SplitColumn, ColumnType.Scalar(ItemKind.Boolean), isTest);
        foreach (var kv in PosteriorGridMetadata.Entries(Grid, Box, BundleSize)) view = view.WithMetadata(kv.Key, kv.Value);
        return view;
    }

    /// <summary>
    /// The bundle (row indices, the row itself first) each row's posterior is conditioned on in Transform:
    /// drawn with the saved seed from the row's parameter-space neighbours within its own part of the split. Useful to
    /// compare with an exact posterior of the same bundle.
    /// </summary>
    public int[][] Bundles(ColumnTable input)
    {
        ArgumentNullException.ThrowIfNull(input);
        int rows = input.RowCount;
        var t = input.GetColumn<float>("t").Span;
        var isTest = SplitRows(rows, TestFraction, Seed);
        var bundles = new int[rows][];
        foreach (bool part in new[] { false, true })
        {
            int[] members = [.. Enumerable.Range(0, rows).Where(r => isTest[r] == part)];
            if (members.Length == 0) continue;
            var drawn = Draw(Neighbours(t, members, Box, NeighbourCount), BundleSize, Seed);
            for (int i = 0; i < members.Length; i++) bundles[members[i]] = drawn[i];
        }
        return bundles;
    }

    // ---- shared by the estimator and Transform ----

    /// <summary>Held-out rows: the first round(f * rows) of a seeded permutation.</summary>
    internal static bool[] SplitRows(int rows, double testFraction, int seed)
    {
        var order = Enumerable.Range(0, rows).ToArray();
        new Random(seed).Shuffle(order);
        int nTest = (int)Math.Round(testFraction * rows);
        if (nTest == rows && rows > 0) nTest = rows - 1;
        var isTest = new bool[rows];
        for (int i = 0; i < nTest; i++) isTest[order[i]] = true;
        return isTest;
    }

    /// <summary>Nearest neighbours among <paramref name="members"/> only, as global row indices.</summary>
    internal static int[][] Neighbours(ReadOnlySpan<float> t, int[] members, ParameterBox box, int count)
    {
        var sub = new float[members.Length * 2];
        for (int i = 0; i < members.Length; i++) (sub[2 * i], sub[2 * i + 1]) = (t[2 * members[i]], t[2 * members[i] + 1]);
        var nb = NeighbourBundles.NearestNeighbours(sub, box, Math.Min(count, members.Length));
        foreach (var row in nb)
            for (int j = 0; j < row.Length; j++) row[j] = members[row[j]];
        return nb;
    }

    /// <summary>Bundles of exactly <paramref name="bundleSize"/> members; a part with fewer rows repeats members cyclically.</summary>
    internal static int[][] Draw(int[][] neighbours, int bundleSize, int seed)
    {
        if (neighbours.Length == 0) return [];
        var drawn = NeighbourBundles.Draw(neighbours, Math.Min(bundleSize, neighbours[0].Length), seed);
        for (int i = 0; i < drawn.Length; i++)
            if (drawn[i].Length < bundleSize)
                drawn[i] = [.. Enumerable.Range(0, bundleSize).Select(m => drawn[i][m % drawn[i].Length])];
        return drawn;
    }

    /// <summary>Stacks the bundles' states as channels: x[(i * K_bundle + m) * n + s].</summary>
    internal static void FillInput(ReadOnlySpan<sbyte> states, int n, int[][] batch, float[] x)
    {
        int kb = batch[0].Length;
        for (int i = 0; i < batch.Length; i++)
            for (int m = 0; m < kb; m++)
            {
                var src = states.Slice(batch[i][m] * n, n);
                var dst = x.AsSpan((i * kb + m) * n, n);
                for (int s = 0; s < n; s++) dst[s] = src[s];
            }
    }

    /// <summary>Per-row labels: the true cell (hard) or the Gaussian bump of eq. 128 (smoothed).</summary>
    internal sealed class LabelSource(float[] t, ParameterBox box, int grid, PosteriorLabels kind, double sigma)
    {
        private readonly float[] _scratch = new float[grid * grid];

        /// <summary>Adds weight * label(row) into <paramref name="dst"/>.</summary>
        public void Add(int row, float weight, Span<float> dst)
        {
            double t1 = t[2 * row], t2 = t[2 * row + 1];
            if (kind == PosteriorLabels.Hard)
            {
                dst[box.CellOf(t1, t2, grid, grid)] += weight;
                return;
            }
            SmoothedLabels.Fill(_scratch, t1, t2, box, grid, grid, sigma);
            for (int c = 0; c < dst.Length; c++) dst[c] += weight * _scratch[c];
        }
    }

    internal static LabelSource Labels(float[] t, ParameterBox box, int grid, PosteriorLabels kind, double sigma) => new(t, box, grid, kind, sigma);

    /// <summary>Bundle target: the mean over its members of their labels (METHOD §4a).</summary>
    internal static void FillTarget(LabelSource labels, int cells, int[][] batch, float[] y)
    {
        Array.Clear(y, 0, batch.Length * cells);
        for (int i = 0; i < batch.Length; i++)
        {
            var dst = y.AsSpan(i * cells, cells);
            float w = 1f / batch[i].Length;
            foreach (int m in batch[i]) labels.Add(m, w, dst);
        }
    }

    /// <summary>Mean cross-entropy of the posteriors of <paramref name="bundles"/> against their targets.</summary>
    internal double CrossEntropy(ReadOnlySpan<sbyte> states, LabelSource labels, int[][] bundles)
    {
        int cells = Grid * Grid;
        double total = 0;
        var y = new float[EvalBatch * cells];
        ForEachBatch(states, bundles, (start, logits) =>
        {
            int b = logits.Length / cells;
            FillTarget(labels, cells, bundles[start..(start + b)], y);
            for (int i = 0; i < b; i++)
            {
                var row = logits.AsSpan(i * cells, cells);
                float max = float.NegativeInfinity;
                foreach (float v in row) max = Math.Max(max, v);
                double z = 0;
                for (int c = 0; c < cells; c++) z += Math.Exp(row[c] - max);
                double lse = max + Math.Log(z);
                for (int c = 0; c < cells; c++)
                    if (y[i * cells + c] != 0) total -= y[i * cells + c] * (row[c] - lse);
            }
        });
        return total / bundles.Length;
    }

    private void ForEachBatch(ReadOnlySpan<sbyte> states, int[][] bundles, Action<int, float[]> consume)
    {
        using var _ = GradMode.NoGrad();
        int kb = BundleSize, n = StateLength;
        var x = new float[EvalBatch * kb * n];
        for (int start = 0; start < bundles.Length; start += EvalBatch)
        {
            int b = Math.Min(EvalBatch, bundles.Length - start);
            FillInput(states, n, bundles[start..(start + b)], x);
            var logits = _net.Forward(Var<float>.Constant(new Tensor<float>(x[..(b * kb * n)], b, kb, Height, Width))).Value.Data;
            consume(start, logits);
        }
    }

    // ---- persistence ----

    private sealed record Saved(int Grid, double[] Box, int BundleSize, int NeighbourCount, double TestFraction, int Seed,
        bool Convolutional, int Height, int Width, int StateLength, int Channels, int Hidden, PosteriorLabels Labels, double Sigma,
        double? TrainCrossEntropy, double? HeldOutCrossEntropy, PosteriorArchitecture? Architecture = null, int HeadSplineCount = 0,
        ExponentialCoordinate HeadCoordinate1 = ExponentialCoordinate.Natural, ExponentialCoordinate HeadCoordinate2 = ExponentialCoordinate.Natural);

    public override void SaveState(ComponentStateWriter context)
    {
        var p = _net.NamedParameters().ToDictionary(x => x.Name, x => x.Value);
        var head = _net as ExponentialFamilyNetwork;
        int channels = head is not null ? p["local.weight"].Dim(0) : Convolutional ? p["conv1.weight"].Dim(0) : 0;
        int hidden = head is not null ? 0 : p["out.weight"].Dim(1);
        context.SetOptions(new Saved(Grid, [Box.Lo1, Box.Hi1, Box.Lo2, Box.Hi2], BundleSize, NeighbourCount, TestFraction, Seed,
            Convolutional, Height, Width, StateLength, channels, hidden, LabelKind, Sigma,
            Finite(TrainCrossEntropy), Finite(HeldOutCrossEntropy), Architecture, head?.SplineCount ?? 0,
            head?.Coordinate1 ?? ExponentialCoordinate.Natural, head?.Coordinate2 ?? ExponentialCoordinate.Natural));
        foreach (var (name, value) in p) context.AddTensor("net." + name, value.Data, value.ShapeArray);
    }

    // JSON has no NaN: an unknown cross-entropy is stored as null and loads back as NaN.
    private static double? Finite(double v) => double.IsFinite(v) ? v : null;

    [ComponentStateLoader(KindName)]
    internal static IComponentWithState Load(ComponentStateReader context)
    {
        var o = context.GetOptions<Saved>();
        if (o.Box is not { Length: 4 }) throw context.Fail("has no box of 4 numbers");
        var box = new ParameterBox(o.Box[0], o.Box[1], o.Box[2], o.Box[3]);
        if (o.Architecture == PosteriorArchitecture.ExponentialFamily && o.HeadSplineCount < 4)
            throw context.Fail($"has HeadSplineCount {o.HeadSplineCount} (the head's spline needs >= 4)");
        // Files written before the head existed carry no Architecture: Convolutional decides between the other two.
        Module<float> net = o.Architecture == PosteriorArchitecture.ExponentialFamily
            ? new ExponentialFamilyNetwork(o.Height > 1, o.BundleSize, o.Height, o.Width, Math.Max(1, o.Channels), box, o.Grid, o.HeadSplineCount, 0,
                o.HeadCoordinate1, o.HeadCoordinate2)
            : new PosteriorGridNetwork(o.Convolutional, o.BundleSize, o.Height, o.Width,
                Math.Max(1, o.Channels), o.Hidden, o.Grid * o.Grid, 0);
        var values = new List<(string, Tensor<float>)>();
        foreach (var (name, value) in net.NamedParameters())
            values.Add((name, new Tensor<float>(context.GetFloatTensor("net." + name, value.ShapeArray), value.ShapeArray)));
        net.LoadParameters(values);
        return new PosteriorGridTransformer(net, box, o.Grid, o.BundleSize,
            o.NeighbourCount, o.TestFraction, o.Seed, o.Height, o.Width, o.StateLength, o.Labels, o.Sigma)
        {
            TrainCrossEntropy = o.TrainCrossEntropy ?? double.NaN,
            HeldOutCrossEntropy = o.HeldOutCrossEntropy ?? double.NaN,
        };
    }
}
