using HessianML.Data;
using HessianML.Pipeline;
using HessianML.Pipeline.MlNet;
using Ml = Microsoft.ML;

namespace HessianML.Posterior;

/// <summary>
/// METHOD §4b (eq. 16-19), the posterior without a network, for deterministic generators and pre-trained featurisers:
/// from features f(x) at known parameters t, Fit learns the mean feature mu_k of each cell of a K x K grid of the box,
/// from the training rows only (the rows split == false of PosteriorGrid's seeded split), and the fitted
/// <see cref="FeatureDistancePosteriorTransformer"/> gives p(t'_k|x) ∝ exp(-lambda ||f(x) - mu_k||^2) for each row.
/// </summary>
public sealed class FeatureDistancePosteriorEstimator : Ml.IEstimator<FeatureDistancePosteriorTransformer>
{
    internal const string Name = FeatureDistancePosteriorTransformer.KindName;
    private readonly FeatureDistancePosteriorOptions _o;
    private readonly int _seed;

    /// <summary>Creates the estimator; <paramref name="seed"/> is used when the options carry none.</summary>
    public FeatureDistancePosteriorEstimator(FeatureDistancePosteriorOptions options, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _o = options.Clone();
        _seed = options.Seed ?? seed;
    }

    private ComponentColumns Columns => new(Name,
        [(_o.ParameterColumnName, ColumnType.Vector(ItemKind.Float32, 2)), (_o.FeaturesColumnName, ColumnType.VariableVector(ItemKind.Float32))],
        FeatureDistancePosteriorTransformer.OutputColumns(_o.Grid));

    /// <summary>The input shape plus <c>posterior</c> and <c>split</c>; a missing or mistyped t or feature column throws, naming it.</summary>
    public Ml.SchemaShape GetOutputSchema(Ml.SchemaShape inputSchema) => Columns.OutputShape(inputSchema);

    /// <summary>Learns the cell centroids of the features from the training rows of <paramref name="input"/>.</summary>
    public FeatureDistancePosteriorTransformer Fit(Ml.IDataView input) => FitTable(MlNetSide.Table(input, Columns));

    internal FeatureDistancePosteriorTransformer FitTable(ColumnTable input)
    {
        ArgumentNullException.ThrowIfNull(input);
        int rows = input.RowCount;
        if (rows < 2) throw new ArgumentException($"{Name}: need at least 2 rows to fit, got {rows}");
        var tAll = input.GetColumn<float>(_o.ParameterColumnName).Span;
        var fAll = input.GetColumn<float>(_o.FeaturesColumnName).Span;
        int d = fAll.Length / rows;
        if (d < 1) throw new SchemaException($"{Name}: input column '{_o.FeaturesColumnName}' has no items", _o.FeaturesColumnName, Name);
        var box = _o.Box ?? PosteriorGridEstimator.BoundingBox(tAll);
        if (!box.IsProper) throw new ArgumentException($"{Name}: the parameter box {box} is degenerate; give FeatureDistancePosteriorOptions.Box");

        var isTest = PosteriorGridTransformer.SplitRows(rows, _o.TestFraction, _seed);
        int[] train = [.. Enumerable.Range(0, rows).Where(r => !isTest[r])];
        var t = new float[2 * train.Length];
        var f = new float[d * train.Length];
        for (int i = 0; i < train.Length; i++)
        {
            tAll.Slice(2 * train[i], 2).CopyTo(t.AsSpan(2 * i));
            fAll.Slice(d * train[i], d).CopyTo(f.AsSpan(d * i));
        }
        var model = FeatureDistancePosterior.Fit(f, d, t, box, _o.Grid, _o.Grid, _o.Lambda ?? 1);
        if (_o.Lambda is null)
        {
            double m = model.MeanSquaredDistanceToOwnCell(f, t);
            if (!(m > 0))
                throw new ArgumentException($"{Name}: the features do not vary within a cell, so the default lambda d / (2 m) is infinite; give FeatureDistancePosteriorOptions.Lambda");
            model = model.WithLambda(d / (2 * m));
        }
        return new FeatureDistancePosteriorTransformer(model, _o.FeaturesColumnName, _o.TestFraction, _seed);
    }
}
