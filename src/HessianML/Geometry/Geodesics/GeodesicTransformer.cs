using HessianML.Data;
using HessianML.Pipeline;
using HessianML.Pipeline.MlNet;
using Ml = Microsoft.ML;

namespace HessianML.Geometry.Geodesics;

/// <summary>
/// Pairs of endpoints -> geodesics under the Fisher metric g = Hessian psi of a fitted psi. Like
/// <see cref="FisherMetricEstimator"/> it takes the psi explicitly or, right after <c>mlContext.Hessian().LogPartition</c> in a
/// chain, from the view the fitted <see cref="LogPartitionTransformer"/> produced. Fitting does no work on the pairs.
/// </summary>
public sealed class GeodesicEstimator : Ml.IEstimator<GeodesicTransformer>
{
    internal const string Name = "Geodesic";
    private readonly GeodesicOptions _o;
    private readonly LogPartitionTransformer? _psi;

    public GeodesicEstimator(GeodesicOptions? options = null, LogPartitionTransformer? logPartition = null)
    {
        _o = (options ?? new GeodesicOptions()).Clone();
        _o.Validate();
        _psi = logPartition;
    }

    /// <summary>The input shape plus the path columns; a missing or mistyped endpoint column throws, naming it.</summary>
    public Ml.SchemaShape GetOutputSchema(Ml.SchemaShape inputSchema) => GeodesicTransformer.ColumnsFor(_o).OutputShape(inputSchema);

    /// <summary>Wraps the fitted psi (given, or produced by the LogPartition step before this one); no work on the pairs.</summary>
    public GeodesicTransformer Fit(Ml.IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        GeodesicTransformer.ColumnsFor(_o).Check(input.Schema);
        var psi = LogPartitionTransformer.Require(_psi, input, Name, "mlContext.Hessian().Geodesic(options, logPartition)");
        return new GeodesicTransformer(psi, _o);
    }
}

/// <summary>
/// Adds per row (a pair of Float32[2] columns <c>from</c>, <c>to</c>): <c>path</c> (Float32 vector of 2N: t1, t2
/// interleaved, ends = the inputs), <c>cumulative_length</c> (Float64 vector N), <c>length</c>, <c>energy</c> and
/// <c>curvature</c> (Float64). All rows share one tabulation of the metric (made on the first Transform and kept).
/// Savable (kind "Geodesic"; it stores its options, the psi it wraps and the tabulated metric, so a loaded model does
/// no per-model precomputation but the graph's edge costs).
/// </summary>
public sealed class GeodesicTransformer : HessianTransformer
{
    public const string KindName = "Geodesic";

    public GeodesicTransformer(LogPartitionTransformer logPartition, GeodesicOptions? options = null)
    {
        LogPartition = logPartition ?? throw new ArgumentNullException(nameof(logPartition));
        Solver = new GeodesicSolver(new PsiMetricSource(logPartition.Psi), options);
    }

    public LogPartitionTransformer LogPartition { get; }

    /// <summary>The solver (and its cached precomputation) all rows use.</summary>
    public GeodesicSolver Solver { get; }

    public GeodesicOptions Options => Solver.Options.Clone();

    public override string Kind => KindName;

    /// <summary>The geodesic from a to b (double endpoints, used as they are: the path's ends are these numbers).</summary>
    public GeodesicPath Solve(double a1, double a2, double b1, double b2) => Solver.Solve(a1, a2, b1, b2);

    internal static ComponentColumns ColumnsFor(GeodesicOptions o) => new(KindName,
        [(o.FromColumnName, ColumnType.Vector(ItemKind.Float32, 2)), (o.ToColumnName, ColumnType.Vector(ItemKind.Float32, 2))],
        [("path", ColumnType.Vector(ItemKind.Float32, 2 * o.Points)), ("cumulative_length", ColumnType.Vector(ItemKind.Float64, o.Points)),
         ("length", ColumnType.Scalar(ItemKind.Float64)), ("energy", ColumnType.Scalar(ItemKind.Float64)), ("curvature", ColumnType.Scalar(ItemKind.Float64))]);

    private protected override ComponentColumns Columns => ColumnsFor(Solver.Options);

    private protected override Ml.ITransformer BuildSavedForm() => SavedForm.Build(this, Columns.Inputs,
        [(Solver.Options.FromColumnName, "from"), (Solver.Options.ToColumnName, "to")],
        t => new GeodesicMappingFactory().Estimator(t, GeodesicMappingFactory.Contract));

    /// <summary>Refuses an endpoint that is not a number or lies outside the box psi was fitted on, naming the row and column.</summary>
    private void CheckPair(double a1, double a2, double b1, double b2, int row)
    {
        var o = Solver.Options;
        foreach (var (p, q, col) in new[] { (a1, a2, o.FromColumnName), (b1, b2, o.ToColumnName) })
        {
            if (!double.IsFinite(p) || !double.IsFinite(q))
                throw new ArgumentException($"{KindName}: row {row}: {col} ({p}, {q}) is not a finite point");
            if (!LogPartition.Box.Contains(p, q))
                throw new ArgumentException($"{KindName}: row {row}: {col} ({p}, {q}) is outside the box psi was fitted on, {LogPartition.Box}");
        }
    }

    /// <summary>The pair from (<paramref name="a1"/>, <paramref name="a2"/>) to (<paramref name="b1"/>, <paramref name="b2"/>), refused outside the box.</summary>
    internal GeodesicPath SolveInBox(double a1, double a2, double b1, double b2, int row)
    {
        CheckPair(a1, a2, b1, b2, row);
        return Solver.Solve(a1, a2, b1, b2);
    }

    internal override ColumnTable TransformTable(ColumnTable input)
    {
        var o = Solver.Options;
        var from = input.GetColumn<float>(o.FromColumnName).ToArray();
        var to = input.GetColumn<float>(o.ToColumnName).ToArray();
        int rows = input.RowCount, n = o.Points;
        for (int r = 0; r < rows; r++) CheckPair(from[2 * r], from[2 * r + 1], to[2 * r], to[2 * r + 1], r); // every pair before any work
        Solver.Prepare();
        var paths = new GeodesicPath[rows];
        Parallel.For(0, rows, r => paths[r] = Solver.Solve(from[2 * r], from[2 * r + 1], to[2 * r], to[2 * r + 1]));
        var path = new float[rows * 2 * n];
        var cumulative = new double[rows * n];
        var length = new double[rows];
        var energy = new double[rows];
        var curvature = new double[rows];
        for (int r = 0; r < rows; r++)
        {
            var p = paths[r];
            for (int i = 0; i < n; i++)
            {
                path[r * 2 * n + 2 * i] = (float)p.T1[i];
                path[r * 2 * n + 2 * i + 1] = (float)p.T2[i];
                cumulative[r * n + i] = p.CumulativeLength[i];
            }
            (length[r], energy[r], curvature[r]) = (p.Length, p.Energy, p.Curvature);
        }
        return input
            .WithColumn("path", ColumnType.Vector(ItemKind.Float32, 2 * n), path)
            .WithColumn("cumulative_length", ColumnType.Vector(ItemKind.Float64, n), cumulative)
            .WithColumn("length", ColumnType.Scalar(ItemKind.Float64), length)
            .WithColumn("energy", ColumnType.Scalar(ItemKind.Float64), energy)
            .WithColumn("curvature", ColumnType.Scalar(ItemKind.Float64), curvature);
    }

    private GeodesicTransformer(LogPartitionTransformer logPartition, GeodesicOptions options, TabulatedMetric table)
    {
        LogPartition = logPartition;
        Solver = new GeodesicSolver(new PsiMetricSource(logPartition.Psi), options, table);
    }

    // TableIndefinite last with a default: states saved before it existed still load (and read 0).
    private sealed record SavedBoth(GeodesicOptions Geodesic, LogPartitionTransformer.Saved Psi, int TableClamped, double TableFloor,
        int TableIndefinite = 0);

    /// <summary>
    /// Saves the options, the psi and the tabulated metric (tabulating it now if no Transform has yet). WHY the table:
    /// it is the per-model precomputation, and for an MLP psi (a double-backward Hessian at R^2 points) it costs seconds;
    /// a loaded model answers its first geodesic without it.
    /// </summary>
    public override void SaveState(ComponentStateWriter context)
    {
        var table = Solver.Metric;
        context.SetOptions(new SavedBoth(Solver.Options, new LogPartitionTransformer.Saved(
            LogPartition.Psi.Describe(), LogPartition.Grid, LogPartition.ParameterColumnName), table.ClampedCount, table.Floor,
            table.IndefiniteCount));
        LogPartition.Psi.Save(context, "psi.");
        context.AddTensor("metric.table", table.Values, table.Resolution, table.Resolution, 3);
    }

    [ComponentStateLoader(KindName)]
    internal static IComponentWithState Load(ComponentStateReader context)
    {
        var s = context.GetOptions<SavedBoth>();
        var lp = new LogPartitionTransformer(FittedPsi.Load(context, s.Psi.Psi, "psi."), s.Psi.Grid, s.Psi.ParameterColumnName);
        int r = s.Geodesic.Resolution;
        var values = context.GetDoubleTensor("metric.table", r, r, 3);
        return new GeodesicTransformer(lp, s.Geodesic, TabulatedMetric.Restore(lp.Box, r, values, s.TableClamped, s.TableFloor, s.TableIndefinite));
    }
}
