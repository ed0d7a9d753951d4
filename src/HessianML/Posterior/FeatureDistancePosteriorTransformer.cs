using System.Diagnostics;
using System.Globalization;
using HessianML.Data;
using HessianML.Pipeline;
using HessianML.Pipeline.MlNet;
using Ml = Microsoft.ML;

namespace HessianML.Posterior;

/// <summary>
/// The fitted feature-distance posterior (kind "FeatureDistancePosterior", METHOD §4b). Transform reads only the
/// feature column (rows of unknown t work too) and adds, in PosteriorGrid's contract: <c>posterior</c> (Float32
/// vector[K*K], p(t'_k|x) ∝ exp(-lambda ||f(x) - mu_k||^2), index k = i*K + j as <see cref="ParameterBox.CellCentres"/>),
/// <c>split</c> (Boolean, true = held out: the seeded rule of <see cref="PosteriorGridTransformer"/>, on the training
/// view exactly the rows that did not contribute to the centroids) and the metadata of <see cref="PosteriorGridMetadata"/>
/// with bundle 1 (each posterior is conditioned on one sample).
/// </summary>
public sealed class FeatureDistancePosteriorTransformer : HessianTransformer
{
    public const string KindName = "FeatureDistancePosterior";

    internal FeatureDistancePosteriorTransformer(FeatureDistancePosterior posterior, string featuresColumnName, double testFraction, int seed) =>
        (Posterior, FeaturesColumnName, TestFraction, Seed) = (posterior, featuresColumnName, testFraction, seed);

    /// <summary>The centroids, lambda, box and grid (METHOD eq. 16-19).</summary>
    public FeatureDistancePosterior Posterior { get; }

    public string FeaturesColumnName { get; }
    public double TestFraction { get; }
    public int Seed { get; }
    public int Grid => Posterior.K1;
    public ParameterBox Box => Posterior.Box;
    public double Lambda => Posterior.Lambda;

    public override string Kind => KindName;

    internal static IReadOnlyList<(string, ColumnType)> OutputColumns(int grid) =>
        [(PosteriorGridTransformer.PosteriorColumn, ColumnType.Vector(ItemKind.Float32, grid * grid)),
         (PosteriorGridTransformer.SplitColumn, ColumnType.Scalar(ItemKind.Boolean))];

    private protected override ComponentColumns Columns => new(KindName, [(FeaturesColumnName, ColumnType.Vector(ItemKind.Float32, Posterior.Dimension))],
        OutputColumns(Grid), PosteriorGridMetadata.Entries(Grid, Box, 1));

    // Row by row (a PredictionEngine, a loaded model) gives the posterior; the split is a property of a whole view.
    private protected override Ml.ITransformer BuildSavedForm() => SavedForm.Build(this, Columns.Inputs, [(FeaturesColumnName, "features")],
        t => new FeatureDistancePosteriorMappingFactory().Estimator(t, FeatureDistancePosteriorMappingFactory.Contract));

    internal override ColumnTable TransformTable(ColumnTable input)
    {
        int rows = input.RowCount, cells = Grid * Grid, d = Posterior.Dimension;
        var f = input.GetColumn<float>(FeaturesColumnName);
        var posterior = new float[(long)rows * cells];
        Parallel.For(0, rows, r => Posterior.Posterior(f.Span.Slice(r * d, d), posterior.AsSpan(r * cells, cells)));
        var view = input
            .WithColumn(PosteriorGridTransformer.PosteriorColumn, ColumnType.Vector(ItemKind.Float32, cells), posterior)
            .WithColumn(PosteriorGridTransformer.SplitColumn, ColumnType.Scalar(ItemKind.Boolean),
                PosteriorGridTransformer.SplitRows(rows, TestFraction, Seed));
        foreach (var kv in PosteriorGridMetadata.Entries(Grid, Box, 1)) view = view.WithMetadata(kv.Key, kv.Value);
        return view;
    }

    // ---- persistence ----

    private sealed record Saved(int Grid, double[] Box, double Lambda, int Dimension, string FeaturesColumnName, double TestFraction, int Seed);

    public override void SaveState(ComponentStateWriter context)
    {
        var p = Posterior;
        context.SetOptions(new Saved(Grid, [Box.Lo1, Box.Hi1, Box.Lo2, Box.Hi2], p.Lambda, p.Dimension, FeaturesColumnName, TestFraction, Seed));
        context.AddTensor("centroids", p.Centroids, Grid * Grid, p.Dimension);
        context.AddTensor("cell_counts", p.CellCounts, Grid * Grid);
    }

    [ComponentStateLoader(KindName)]
    internal static IComponentWithState Load(ComponentStateReader context)
    {
        var o = context.GetOptions<Saved>();
        if (o.Box is not { Length: 4 }) throw context.Fail("has no box of 4 numbers");
        if (o.Grid < 1 || o.Dimension < 1) throw context.Fail($"has grid {o.Grid} and feature length {o.Dimension} (both must be >= 1)");
        if (!(o.Lambda > 0 && double.IsFinite(o.Lambda))) throw context.Fail($"has lambda {o.Lambda} (must be positive and finite)");
        if (string.IsNullOrWhiteSpace(o.FeaturesColumnName)) throw context.Fail("has no feature column name");
        int cells = o.Grid * o.Grid;
        var posterior = new FeatureDistancePosterior(new ParameterBox(o.Box[0], o.Box[1], o.Box[2], o.Box[3]), o.Grid, o.Grid, o.Lambda,
            context.GetFloatTensor("centroids", cells, o.Dimension), context.GetInt32Tensor("cell_counts", cells));
        return new FeatureDistancePosteriorTransformer(posterior, o.FeaturesColumnName, o.TestFraction, o.Seed);
    }
}
