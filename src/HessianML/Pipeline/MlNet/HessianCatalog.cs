using HessianML.Features;
using HessianML.Geometry;
using HessianML.Geometry.Geodesics;
using HessianML.Posterior;
using Microsoft.ML;
using Microsoft.ML.Runtime;

namespace HessianML;

/// <summary>
/// HessianML's components on an <see cref="MLContext"/>: <c>mlContext.Hessian().LogPartition(options)</c>. WHY on the
/// context rather than on <c>mlContext.Transforms</c>: a catalog's environment is internal to ML.NET, so an extension
/// of <c>mlContext.Transforms</c> could not reach the context's seed; the context itself is a public
/// <see cref="IHostEnvironment"/>, and a host registered on it draws reproducible seeds from <c>MLContext(seed)</c>.
/// </summary>
public sealed class HessianCatalog
{
    private readonly IHost _host;

    internal HessianCatalog(MLContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        Context = context;
        _host = ((IHostEnvironment)context).Register(nameof(HessianCatalog));
    }

    /// <summary>The context the components are reached from.</summary>
    public MLContext Context { get; }

    /// <summary>The next seed from the context (for options that leave their seed unset).</summary>
    internal int NextSeed() => _host.Rand.Next();

    /// <summary>
    /// Samples (t, state) -> the mapping network's posterior over a K x K grid of the box (METHOD §4a). A null options
    /// object means the documented defaults; an unset <see cref="PosteriorGridOptions.Seed"/> comes from the context.
    /// </summary>
    public PosteriorGridEstimator PosteriorGrid(PosteriorGridOptions? options = null)
    {
        var o = options ?? new PosteriorGridOptions();
        return new PosteriorGridEstimator(o, o.Seed ?? NextSeed());
    }

    /// <summary>The mapping network on a <paramref name="grid"/> x <paramref name="grid"/> grid of <paramref name="box"/>, other options at their defaults.</summary>
    public PosteriorGridEstimator PosteriorGrid(ParameterBox box, int grid = 24) => PosteriorGrid(new PosteriorGridOptions { Box = box, Grid = grid });

    /// <summary>
    /// Features (t, f(x)) -> the feature-distance posterior of METHOD §4b (eq. 16-19), for deterministic generators and
    /// pretrained featurisers. An unset <see cref="FeatureDistancePosteriorOptions.Seed"/> comes from the context.
    /// </summary>
    public FeatureDistancePosteriorEstimator FeatureDistancePosterior(FeatureDistancePosteriorOptions? options = null)
    {
        var o = options ?? new FeatureDistancePosteriorOptions();
        return new FeatureDistancePosteriorEstimator(o, o.Seed ?? NextSeed());
    }

    /// <summary>The feature-distance posterior of column <paramref name="featuresColumnName"/> on a <paramref name="grid"/> x <paramref name="grid"/> grid.</summary>
    public FeatureDistancePosteriorEstimator FeatureDistancePosterior(string featuresColumnName, int grid = 24) =>
        FeatureDistancePosterior(new FeatureDistancePosteriorOptions { FeaturesColumnName = featuresColumnName, Grid = grid });

    /// <summary>Posterior grid -> fitted psi (METHOD §3, §8). A null options object means the documented defaults.</summary>
    public LogPartitionTrainer LogPartition(LogPartitionOptions? options = null) => new(options);

    /// <summary>psi fitted by <paramref name="fit"/> with <paramref name="splineCount"/> B-splines per axis, other options at their defaults.</summary>
    public LogPartitionTrainer LogPartition(PsiFit fit, int splineCount = 24) => new(new LogPartitionOptions { Fit = fit, SplineCount = splineCount });

    /// <summary>
    /// psi -> psi, grad psi, g = Hessian psi and its eigenvalues at each row's t. Append it right after
    /// <see cref="LogPartition(LogPartitionOptions?)"/>, or pass an already fitted <paramref name="logPartition"/>.
    /// </summary>
    public FisherMetricEstimator FisherMetric(FisherMetricOptions? options = null, LogPartitionTransformer? logPartition = null) =>
        new(options, logPartition);

    /// <summary>
    /// Endpoint pairs (<c>from</c>, <c>to</c>) -> globally shortest paths under g = Hessian psi. Append it right after
    /// <see cref="LogPartition(LogPartitionOptions?)"/>, or pass an already fitted <paramref name="logPartition"/>.
    /// </summary>
    public GeodesicEstimator Geodesic(GeodesicOptions? options = null, LogPartitionTransformer? logPartition = null) => new(options, logPartition);

    /// <summary>Geodesics from column <paramref name="fromColumnName"/> to <paramref name="toColumnName"/>, <paramref name="points"/> points each.</summary>
    public GeodesicEstimator Geodesic(string fromColumnName, string toColumnName, int points = 90) =>
        new(new GeodesicOptions { FromColumnName = fromColumnName, ToColumnName = toColumnName, Points = points });
}

/// <summary>The entry to HessianML from ML.NET.</summary>
public static class MLContextHessianExtensions
{
    /// <summary>HessianML's components, seeded from this context.</summary>
    public static HessianCatalog Hessian(this MLContext context) => new(context);
}
