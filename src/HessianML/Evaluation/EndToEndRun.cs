using System.Diagnostics;
using HessianML.Data;
using HessianML.Geometry;
using HessianML.Geometry.Geodesics;
using HessianML.Pipeline;
using HessianML.Posterior;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace HessianML.Evaluation;

/// <summary>Settings of <see cref="EndToEndRun"/>: the three pipeline components, the baseline, and the evaluation.</summary>
public sealed class EndToEndOptions
{
    /// <summary>The mapping network (METHOD §4a); its <see cref="PosteriorGridOptions.Grid"/> K is the grid of every output table.</summary>
    public PosteriorGridOptions Posterior { get; set; } = new();

    /// <summary>The psi fit (METHOD §3, §8).</summary>
    public LogPartitionOptions LogPartition { get; set; } = new();

    /// <summary>The Mean-as-Stat baseline (METHOD §7), fitted on the same samples.</summary>
    public MeanAsStatOptions Baseline { get; set; } = new();

    /// <summary>The PCA-VAE baseline (METHOD §7), fitted on the same samples; null skips it.</summary>
    public PcaVaeOptions? PcaVae { get; set; } = new();

    /// <summary>
    /// Side of the grid the errors are computed on. Default null: twice the posterior grid (METHOD §8 measured a 24 x 24
    /// posterior on a 48 x 48 evaluation grid), so the errors also see psi between the cells it was fitted on.
    /// </summary>
    public int? EvaluationGrid { get; set; }

    /// <summary>Fraction of each side of the box that makes the "interior" region. Default 0.8 (METHOD §8).</summary>
    public double InteriorFraction { get; set; } = 0.8;

    /// <summary>
    /// With an exact answer: geodesics between <see cref="GeodesicCheck.DefaultPairs"/> on the fitted metric (ours and the
    /// released Adam method) and the straight line, measured on the exact metric (<see cref="GeodesicCheck"/>). Null skips it.
    /// </summary>
    public GeodesicOptions? Geodesics { get; set; } = new();

    /// <summary>
    /// With an exact answer: the system's Fisher information per site at the K x K cell centres, where it is not the
    /// Hessian of the exact psi (TASEP: <see cref="Systems.Tasep.TasepFisherInformation.SampledOnGrid"/>). Ours and the
    /// exact Hessian are then both scored against it (<see cref="EndToEndResult.Fisher"/>). Default null: skipped (for an
    /// exponential family such as Ising the two are the same).
    /// </summary>
    public Func<ParameterBox, int, MetricField>? FisherReference { get; set; }

    /// <summary>Receives one line per stage and per epoch; null for silence.</summary>
    public Action<string>? Progress { get; set; }

    internal int EffectiveEvaluationGrid => EvaluationGrid ?? 2 * Posterior.Grid;
}

/// <summary>
/// Metrics against the system's Fisher information (<see cref="EndToEndOptions.FisherReference"/>), interior cells of the
/// K x K grid, each with its own best scale (<see cref="MetricFieldErrors.CompareMetrics(MetricField, MetricField, ParameterBox?)"/>): ours, and the exact Hessian
/// of psi that the main table scores against.
/// </summary>
public sealed record FisherReferenceErrors(
    (double Scale, double MetricError, double MedianCellMetricError) Ours,
    (double Scale, double MetricError, double MedianCellMetricError) ExactHessian);

/// <summary>One method's METHOD §7 errors on the interior of the box and on the whole box.</summary>
public sealed record MethodErrors(MetricFieldErrors Interior, MetricFieldErrors Whole);

/// <summary>What <see cref="EndToEndRun.Run"/> produced: the fitted pipeline, the fields on the K x K grid, the errors.</summary>
public sealed class EndToEndResult
{
    /// <summary>The fitted pipeline PosteriorGrid -> LogPartition -> FisherMetric.</summary>
    public required TransformerChain<FisherMetricTransformer> Model { get; init; }

    /// <summary>The psi part alone, input <c>t</c>: what <c>model.zip</c> holds (t -> psi, dpsi, g, g_eigen).</summary>
    public FisherMetricTransformer PsiModel => Model.LastTransformer;


    public required ParameterBox Box { get; init; }

    /// <summary>Side K of the posterior grid and of the tables <see cref="Ours"/>, <see cref="Baseline"/>, <see cref="Exact"/>.</summary>
    public required int Grid { get; init; }

    /// <summary>Side of the grid the errors were computed on.</summary>
    public required int EvaluationGrid { get; init; }

    /// <summary>Our psi, gradient and metric at the K x K cell centres (raw: the model's own scale and gauge).</summary>
    public required MetricField Ours { get; init; }

    /// <summary>The Mean-as-Stat baseline's field at the same points.</summary>
    public required MetricField Baseline { get; init; }

    /// <summary>The exact field at the same points; null when the system has no exact answer at this size.</summary>
    public MetricField? Exact { get; init; }

    /// <summary>Errors of ours and of the baseline against the exact answer; null without one.</summary>
    public MethodErrors? OursErrors { get; init; }

    public MethodErrors? BaselineErrors { get; init; }

    /// <summary>The PCA-VAE baseline's field at the K x K cells; null when it was skipped.</summary>
    public MetricField? PcaVae { get; init; }

    /// <summary>Errors of the PCA-VAE baseline against the exact answer; null without one or when it was skipped.</summary>
    public MethodErrors? PcaVaeErrors { get; init; }

    /// <summary>
    /// The resolution floor: errors of the EXACT psi known only at the K x K cell centres, through the same psi the fit
    /// puts through its grid values (log-posterior least squares: its log-sum-exp or penalised spline; JSD: a spline of
    /// <see cref="LogPartitionOptions.SplineCount"/> per axis). No psi learned on this grid with this parametrisation can
    /// do better, so a gap between it and <see cref="OursErrors"/> is the method's, the rest is the grid's.
    /// </summary>
    public MethodErrors? FloorErrors { get; init; }

    /// <summary>Geodesic lengths on the exact metric (<see cref="EndToEndOptions.Geodesics"/>); null without an exact answer or when skipped.</summary>
    public GeodesicCheckResult? Geodesics { get; init; }

    /// <summary>Ours and the exact Hessian against the Fisher information; null unless <see cref="EndToEndOptions.FisherReference"/> is set.</summary>
    public FisherReferenceErrors? Fisher { get; init; }

    public PosteriorGridTransformer Posterior => (PosteriorGridTransformer)Model.First();

    public FittedPsi Psi => Model.LastTransformer.LogPartition.Psi;

    /// <summary>Wall time of each stage in seconds, in the order they ran.</summary>
    public required IReadOnlyList<(string Stage, double Seconds)> Timings { get; init; }
}

/// <summary>
/// The whole method on one data set (METHOD §3, §4, §7): fit PosteriorGrid -> LogPartition -> FisherMetric as one
/// pipeline, fit the Mean-as-Stat baseline on the same samples, and score both against the exact answer with the free
/// scale and affine part fitted away. This is what <c>hessian run</c> does between simulating and writing files.
/// </summary>
public static class EndToEndRun
{
    /// <summary>
    /// Runs the method. <paramref name="exact"/> gives the exact field at the k x k cell centres of a box (e.g.
    /// <c>(b, k) => IsingExact.Field(8, b, k, k)</c>); null skips the evaluation.
    /// </summary>
    public static EndToEndResult Run(MLContext ml, ColumnTable samples, ParameterBox box,
        Func<ParameterBox, int, MetricField>? exact, EndToEndOptions options)
    {
        ArgumentNullException.ThrowIfNull(ml);
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentNullException.ThrowIfNull(box);
        ArgumentNullException.ThrowIfNull(options);
        if (!box.IsProper) throw new ArgumentException($"the parameter box {box} has zero width");
        int k = options.Posterior.Grid, evalK = options.EffectiveEvaluationGrid;
        if (evalK < 2) throw new ArgumentOutOfRangeException(nameof(options), $"evaluation grid {evalK} must be at least 2");
        var say = options.Progress ?? (_ => { });
        var timings = new List<(string, double)>();
        var clock = Stopwatch.StartNew();
        T Stage<T>(string name, Func<T> work)
        {
            say($"{name}...");
            clock.Restart();
            var result = work();
            timings.Add((name, clock.Elapsed.TotalSeconds));
            return result;
        }

        var posterior = options.Posterior.Clone();
        posterior.Box = box;
        posterior.Progress ??= options.Progress;
        var logPartition = options.LogPartition.Clone();
        logPartition.Progress ??= options.Progress;
        var hessian = ml.Hessian();
        var pipeline = hessian.PosteriorGrid(posterior)
            .Append(hessian.LogPartition(logPartition))
            .Append(hessian.FisherMetric());
        var model = Stage("fit the pipeline (posterior grid -> psi -> metric)", () => pipeline.Fit(samples));

        var baseline = options.Baseline.Clone();
        baseline.Progress ??= options.Progress;
        var baselinePsi = Stage("fit the Mean-as-Stat baseline", () => new SplinePsi(MeanAsStatBaseline.Fit(samples, box, baseline).Psi));
        SplinePsi? pcaVaePsi = null;
        if (options.PcaVae is { } vae)
        {
            vae = vae.Clone();
            vae.Progress ??= options.Progress;
            pcaVaePsi = Stage("fit the PCA-VAE baseline", () => new SplinePsi(PcaVaeBaseline.Fit(samples, box, vae).Psi));
        }

        var psi = model.LastTransformer.LogPartition.Psi;
        MetricField? exactField = null;
        MethodErrors? ours = null, theirs = null, vaeErrors = null, floor = null;
        GeodesicCheckResult? geodesics = null;
        FisherReferenceErrors? fisherErrors = null;
        if (exact is not null)
        {
            var (onGrid, onEval) = Stage("exact answer", () => (exact(box, k), exact(box, evalK)));
            exactField = onGrid;
            ours = Compare(onEval, psi, box, options.InteriorFraction);
            theirs = Compare(onEval, baselinePsi, box, options.InteriorFraction);
            if (pcaVaePsi is not null) vaeErrors = Compare(onEval, pcaVaePsi, box, options.InteriorFraction);
            // The exact values through the fit's own psi (a log-sum-exp, or least squares' spline with its penalty); a JSD
            // spline is fitted without a penalty.
            var floorPsi = options.LogPartition.Fit == PsiFit.LogPosteriorLeastSquares || options.LogPartition.EffectiveParametrisation == PsiParametrisation.LogSumExp
                ? LogPartitionTrainer.FitGridValues(options.LogPartition, box, box.CellCentres(k, k), onGrid.Psi)
                : new SplinePsi(LogPartitionTrainer.SplineLeastSquares(box, options.LogPartition.SplineCount, box.CellCentres(k, k), onGrid.Psi, 1e-8));
            floor = Compare(onEval, floorPsi, box, options.InteriorFraction);
            if (options.Geodesics is { } geodesicOptions)
                geodesics = Stage("geodesics on the exact metric", () =>
                    GeodesicCheck.Run(psi, exact, GeodesicCheck.DefaultPairs(box, options.InteriorFraction), geodesicOptions));
            if (options.FisherReference is { } fisher)
            {
                var fisherField = Stage("Fisher information", () => fisher(box, k));
                var inner = box.Inner(options.InteriorFraction);
                fisherErrors = new FisherReferenceErrors(
                    MetricFieldErrors.CompareMetrics(fisherField, psi.Field(box, k), inner),
                    MetricFieldErrors.CompareMetrics(fisherField, onGrid, inner));
            }
        }
        return new EndToEndResult
        {
            Model = model,
            Box = box,
            Grid = k,
            EvaluationGrid = evalK,
            Ours = psi.Field(box, k),
            Baseline = baselinePsi.Field(box, k),
            PcaVae = pcaVaePsi?.Field(box, k),
            PcaVaeErrors = vaeErrors,
            Exact = exactField,
            OursErrors = ours,
            BaselineErrors = theirs,
            FloorErrors = floor,
            Geodesics = geodesics,
            Fisher = fisherErrors,
            Timings = timings,
        };
    }

    /// <summary>Scores <paramref name="psi"/> against <paramref name="exact"/> on the interior and on the whole box.</summary>
    public static MethodErrors Compare(MetricField exact, FittedPsi psi, ParameterBox box, double interiorFraction = 0.8)
    {
        var (interior, whole) = LogPartitionEvaluation.Compare(exact, psi, box, interiorFraction);
        return new MethodErrors(interior, whole);
    }
}
