using HessianML.Data;

namespace HessianML.Pipeline.Transforms;

/// <summary>Options of <see cref="NormalizeMeanVarianceEstimator"/>.</summary>
public sealed class NormalizeMeanVarianceOptions
{
    /// <summary>Column written by the transformer.</summary>
    public string OutputColumnName { get; set; } = "";

    /// <summary>Column read (Float32 or Float64, scalar or vector); null or empty means <see cref="OutputColumnName"/>.</summary>
    public string? InputColumnName { get; set; }

    /// <summary>Elements whose standard deviation is at most this are only centred (scale 1), not blown up.</summary>
    public double MinimumStd { get; set; } = 1e-12;
}

/// <summary>
/// Fits the per-element mean and (population) standard deviation of a Float32/Float64 column and returns a
/// <see cref="NormalizeMeanVarianceTransformer"/> writing (x - mean) / std with the input's type.
/// </summary>
public sealed class NormalizeMeanVarianceEstimator : IEstimator<NormalizeMeanVarianceTransformer>
{
    private const string Name = "NormalizeMeanVariance";
    private readonly NormalizeMeanVarianceOptions _o;

    public NormalizeMeanVarianceEstimator(NormalizeMeanVarianceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        SchemaShape.RequireName(options.OutputColumnName, Name, "OutputColumnName");
        if (!(options.MinimumStd >= 0)) throw new ArgumentOutOfRangeException(nameof(options), "MinimumStd must be >= 0");
        _o = new NormalizeMeanVarianceOptions
        {
            OutputColumnName = options.OutputColumnName,
            InputColumnName = string.IsNullOrEmpty(options.InputColumnName) ? options.OutputColumnName : options.InputColumnName,
            MinimumStd = options.MinimumStd,
        };
    }

    private ColumnRequirement Input => ColumnRequirement.Any(_o.InputColumnName!, ItemKind.Float32, ItemKind.Float64);

    public TableSchema GetOutputSchema(TableSchema inputSchema)
    {
        var col = SchemaShape.RequireColumn(inputSchema, Name, Input);
        return inputSchema.WithColumn(_o.OutputColumnName, col.Type);
    }

    public NormalizeMeanVarianceTransformer Fit(IDataView input)
    {
        var col = SchemaShape.RequireColumn(input.Schema, Name, Input);
        if (!col.Type.IsKnownSize) throw new SchemaException($"{Name}: column '{col.Name}' has unknown length", col.Name, Name);
        int n = col.Type.ItemsPerRow, rows = input.RowCount;
        if (rows == 0) throw new ArgumentException($"{Name}: cannot fit on an empty data view");
        double[] values = col.Type.Kind == ItemKind.Float32
            ? Array.ConvertAll(input.GetColumn<float>(col.Name).ToArray(), x => (double)x)
            : input.GetColumn<double>(col.Name).ToArray();
        var mean = new double[n];
        var m2 = new double[n];
        // Welford per element: stable for large offsets (e.g. features around 1e4 with small spread).
        for (int r = 0; r < rows; r++)
            for (int k = 0; k < n; k++)
            {
                double x = values[r * n + k], d = x - mean[k];
                mean[k] += d / (r + 1);
                m2[k] += d * (x - mean[k]);
            }
        var scale = new double[n];
        for (int k = 0; k < n; k++)
        {
            double std = Math.Sqrt(m2[k] / rows);
            scale[k] = std > _o.MinimumStd ? 1 / std : 1;
        }
        return new NormalizeMeanVarianceTransformer(_o.InputColumnName!, _o.OutputColumnName, col.Type, mean, scale);
    }
}

/// <summary>Writes (x - mean) * scale per element into the output column. Savable (kind "NormalizeMeanVariance").</summary>
public sealed class NormalizeMeanVarianceTransformer : IComponentWithState
{
    public const string KindName = "NormalizeMeanVariance";
    private readonly double[] _mean, _scale;

    public NormalizeMeanVarianceTransformer(string inputColumnName, string outputColumnName, ColumnType type, double[] mean, double[] scale)
    {
        if (mean.Length != type.ItemsPerRow || scale.Length != type.ItemsPerRow)
            throw new ArgumentException($"{KindName}: mean/scale lengths {mean.Length}/{scale.Length} do not match {type}");
        (InputColumnName, OutputColumnName, ColumnType, _mean, _scale) = (inputColumnName, outputColumnName, type, [.. mean], [.. scale]);
    }

    public string InputColumnName { get; }

    public string OutputColumnName { get; }

    /// <summary>The fitted column type (the input must have exactly this type).</summary>
    public ColumnType ColumnType { get; }

    public IReadOnlyList<double> Mean => _mean;

    /// <summary>1 / std per element (1 where the std was below the minimum).</summary>
    public IReadOnlyList<double> Scale => _scale;

    public string Kind => KindName;

    public TableSchema GetOutputSchema(TableSchema inputSchema)
    {
        var req = ColumnType.IsVector
            ? ColumnRequirement.Vector(InputColumnName, ColumnType.VectorLength, ColumnType.Kind)
            : ColumnRequirement.Scalar(InputColumnName, ColumnType.Kind);
        SchemaShape.RequireColumn(inputSchema, KindName, req);
        return inputSchema.WithColumn(OutputColumnName, ColumnType);
    }

    public IDataView Transform(IDataView input)
    {
        GetOutputSchema(input.Schema);
        int n = ColumnType.ItemsPerRow;
        var view = input.ToDataView();
        if (ColumnType.Kind == ItemKind.Float32)
        {
            var src = input.GetColumn<float>(InputColumnName).Span;
            var dst = new float[src.Length];
            for (int i = 0; i < src.Length; i++) dst[i] = (float)((src[i] - _mean[i % n]) * _scale[i % n]);
            return view.WithColumn(OutputColumnName, ColumnType, dst);
        }
        else
        {
            var src = input.GetColumn<double>(InputColumnName).Span;
            var dst = new double[src.Length];
            for (int i = 0; i < src.Length; i++) dst[i] = (src[i] - _mean[i % n]) * _scale[i % n];
            return view.WithColumn(OutputColumnName, ColumnType, dst);
        }
    }

    private sealed record Saved(string InputColumnName, string OutputColumnName, ItemKind ItemKind, int VectorLength);

    public void SaveState(ComponentStateWriter context)
    {
        context.SetOptions(new Saved(InputColumnName, OutputColumnName, ColumnType.Kind, ColumnType.VectorLength));
        context.AddTensor("mean", _mean);
        context.AddTensor("scale", _scale);
    }

    [ComponentStateLoader(KindName)]
    internal static ITransformer Load(ComponentStateReader context)
    {
        var o = context.GetOptions<Saved>();
        var type = o.VectorLength == 0 ? ColumnType.Scalar(o.ItemKind) : ColumnType.Vector(o.ItemKind, o.VectorLength);
        int n = type.ItemsPerRow;
        return new NormalizeMeanVarianceTransformer(o.InputColumnName, o.OutputColumnName, type,
            context.GetDoubleTensor("mean", n), context.GetDoubleTensor("scale", n));
    }
}
