using HessianML.Data;
using HessianML.Evaluation;
using HessianML.Pipeline;
using HessianML.Posterior;
using HessianML.Pipeline.MlNet;
using Ml = Microsoft.ML;

namespace HessianML.Geometry;

/// <summary>Options of <see cref="FisherMetricEstimator"/>.</summary>
public sealed class FisherMetricOptions
{
    /// <summary>Column of parameters (Float32 vector[2]) at which the metric is evaluated. Default "t".</summary>
    public string ParameterColumnName { get; set; } = "t";
}

/// <summary>
/// psi -> psi, grad psi and the Fisher metric g = Hessian psi (METHOD §3 eq. 24). DESIGN: it needs the fitted psi,
/// which a chain does not pass between steps, so it takes it either explicitly (constructor argument) or, when it
/// follows <see cref="LogPartitionTrainer"/> in an ML.NET estimator chain, from the view that the fitted
/// <see cref="LogPartitionTransformer"/> produced (that transformer remembers its output views). Either way the
/// resulting <see cref="FisherMetricTransformer"/> wraps the <see cref="LogPartitionTransformer"/> and saves its psi,
/// so a saved FisherMetric step stands alone.
/// </summary>
public sealed class FisherMetricEstimator : Ml.IEstimator<FisherMetricTransformer>
{
    internal const string Name = "FisherMetric";
    private readonly FisherMetricOptions _o;
    private readonly LogPartitionTransformer? _psi;

    public FisherMetricEstimator(FisherMetricOptions? options = null, LogPartitionTransformer? logPartition = null)
    {
        var o = options ?? new FisherMetricOptions();
        _o = new FisherMetricOptions { ParameterColumnName = o.ParameterColumnName };
        _psi = logPartition;
    }

    /// <summary>The input shape plus psi, dpsi, g and g_eigen; a missing or mistyped parameter column throws, naming it.</summary>
    public Ml.SchemaShape GetOutputSchema(Ml.SchemaShape inputSchema) =>
        FisherMetricTransformer.ColumnsFor(_o.ParameterColumnName).OutputShape(inputSchema);

    /// <summary>Wraps the fitted psi (given, or produced by the LogPartition step before this one); no work on the data.</summary>
    public FisherMetricTransformer Fit(Ml.IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        FisherMetricTransformer.ColumnsFor(_o.ParameterColumnName).Check(input.Schema);
        var psi = LogPartitionTransformer.Require(_psi, input, Name, "mlContext.Hessian().FisherMetric(options, logPartition)");
        return new FisherMetricTransformer(psi, _o.ParameterColumnName);
    }
}

/// <summary>
/// Adds at each row's <c>t</c>: <c>psi</c> (Float64), <c>dpsi</c> (Float64[2]), <c>g</c> (Float64[3]: g11, g12, g22) and
/// <c>g_eigen</c> (Float64[2], ascending). Savable (kind "FisherMetric"; it stores the psi it wraps).
/// </summary>
public sealed class FisherMetricTransformer : HessianTransformer
{
    public const string KindName = "FisherMetric";

    public FisherMetricTransformer(LogPartitionTransformer logPartition, string parameterColumnName = "t")
    {
        LogPartition = logPartition ?? throw new ArgumentNullException(nameof(logPartition));
        ParameterColumnName = parameterColumnName;
    }

    public LogPartitionTransformer LogPartition { get; }

    public string ParameterColumnName { get; }

    public override string Kind => KindName;

    /// <summary>psi, gradient and metric at the k x k cell centres of <paramref name="box"/>.</summary>
    public MetricField Field(ParameterBox box, int k) => LogPartition.Field(box, k);

    /// <summary>psi, gradient and metric at the points.</summary>
    public MetricField Evaluate(double[] t1, double[] t2) => LogPartition.Evaluate(t1, t2);

    internal override ColumnTable TransformTable(ColumnTable input)
    {
        var (t1, t2) = LogPartitionTransformer.ReadT(input, ParameterColumnName);
        var f = Evaluate(t1, t2);
        int n = t1.Length;
        var dpsi = new double[2 * n];
        var g = new double[3 * n];
        var eig = new double[2 * n];
        for (int i = 0; i < n; i++)
        {
            (dpsi[2 * i], dpsi[2 * i + 1]) = (f.Dpsi1[i], f.Dpsi2[i]);
            (g[3 * i], g[3 * i + 1], g[3 * i + 2]) = (f.G11[i], f.G12[i], f.G22[i]);
            (eig[2 * i], eig[2 * i + 1]) = Eigenvalues(f.G11[i], f.G12[i], f.G22[i]);
        }
        return input
            .WithColumn("psi", ColumnType.Scalar(ItemKind.Float64), f.Psi)
            .WithColumn("dpsi", ColumnType.Vector(ItemKind.Float64, 2), dpsi)
            .WithColumn("g", ColumnType.Vector(ItemKind.Float64, 3), g)
            .WithColumn("g_eigen", ColumnType.Vector(ItemKind.Float64, 2), eig);
    }

    /// <summary>Eigenvalues of the symmetric 2 x 2 matrix [[a, b], [b, c]], ascending.</summary>
    public static (double Low, double High) Eigenvalues(double a, double b, double c)
    {
        double mean = 0.5 * (a + c), r = Math.Sqrt(0.25 * (a - c) * (a - c) + b * b);
        return (mean - r, mean + r);
    }

    private sealed record Saved(string ParameterColumnName);

    // ---- ML.NET: batch Transform, saved form for rows and zips ----

    internal static ComponentColumns ColumnsFor(string parameterColumn) => new(KindName, [(parameterColumn, ColumnType.Vector(ItemKind.Float32, 2))],
        [("psi", ColumnType.Scalar(ItemKind.Float64)), ("dpsi", ColumnType.Vector(ItemKind.Float64, 2)),
         ("g", ColumnType.Vector(ItemKind.Float64, 3)), ("g_eigen", ColumnType.Vector(ItemKind.Float64, 2))]);

    private protected override ComponentColumns Columns => ColumnsFor(ParameterColumnName);

    private protected override Ml.ITransformer BuildSavedForm() => SavedForm.Build(this, Columns.Inputs, [(ParameterColumnName, "t")],
        t => new FisherMetricMappingFactory().Estimator(t, FisherMetricMappingFactory.Contract));

    public override void SaveState(ComponentStateWriter context)
    {
        context.SetOptions(new SavedBoth(new Saved(ParameterColumnName), new LogPartitionTransformer.Saved(
            LogPartition.Psi.Describe(), LogPartition.Grid, LogPartition.ParameterColumnName)));
        LogPartition.Psi.Save(context, "psi.");
    }

    private sealed record SavedBoth(Saved Fisher, LogPartitionTransformer.Saved Psi);

    [ComponentStateLoader(KindName)]
    internal static IComponentWithState Load(ComponentStateReader context)
    {
        var s = context.GetOptions<SavedBoth>();
        var lp = new LogPartitionTransformer(FittedPsi.Load(context, s.Psi.Psi, "psi."), s.Psi.Grid, s.Psi.ParameterColumnName);
        return new FisherMetricTransformer(lp, s.Fisher.ParameterColumnName);
    }
}

/// <summary>METHOD §7 errors of a fitted psi against an exact field, on the inner 80% of the box and on the whole box.</summary>
public static class LogPartitionEvaluation
{
    /// <summary>
    /// Evaluates <paramref name="psi"/> at the exact field's points and compares (free positive scale and affine part
    /// fitted away). <paramref name="box"/> is the box the inner region is taken from.
    /// </summary>
    public static (MetricFieldErrors Interior, MetricFieldErrors Whole) Compare(MetricField exact, FittedPsi psi, ParameterBox box, double innerFraction = 0.8)
    {
        ArgumentNullException.ThrowIfNull(exact);
        ArgumentNullException.ThrowIfNull(psi);
        var estimate = psi.Evaluate(exact.T1, exact.T2);
        return (MetricFieldErrors.Compare(exact, estimate, box.Inner(innerFraction)), MetricFieldErrors.Compare(exact, estimate));
    }
}
