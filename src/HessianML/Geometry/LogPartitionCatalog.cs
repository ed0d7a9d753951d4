using HessianML.Geometry;

namespace HessianML;

/// <summary>The log-partition trainer on <see cref="TrainersCatalog"/>: <c>ctx.Trainers.LogPartition(options)</c>.</summary>
public static class LogPartitionCatalog
{
    /// <summary>Posterior grid -> fitted psi (METHOD §3, §8). A null options object means the documented defaults.</summary>
    public static LogPartitionTrainer LogPartition(this TrainersCatalog catalog, LogPartitionOptions? options = null) => new(options);
}

/// <summary>The Fisher metric transform on <see cref="TransformsCatalog"/>: <c>ctx.Transforms.FisherMetric(options)</c>.</summary>
public static class FisherMetricCatalog
{
    /// <summary>
    /// psi -> psi, grad psi, g = Hessian psi and its eigenvalues at each row's t. Append it right after
    /// <c>ctx.Trainers.LogPartition(...)</c>, or pass an already fitted <paramref name="logPartition"/>.
    /// </summary>
    public static FisherMetricEstimator FisherMetric(this TransformsCatalog catalog, FisherMetricOptions? options = null,
        LogPartitionTransformer? logPartition = null) => new(options, logPartition);
}

/// <summary>The geodesic transform on <see cref="TransformsCatalog"/>: <c>ctx.Transforms.Geodesic(options)</c>.</summary>
public static class GeodesicCatalog
{
    /// <summary>
    /// Endpoint pairs (<c>from</c>, <c>to</c>) -> globally shortest paths under g = Hessian psi. Append it right after
    /// <c>ctx.Trainers.LogPartition(...)</c>, or pass an already fitted <paramref name="logPartition"/>.
    /// </summary>
    public static Geometry.Geodesics.GeodesicEstimator Geodesic(this TransformsCatalog catalog,
        Geometry.Geodesics.GeodesicOptions? options = null, LogPartitionTransformer? logPartition = null) => new(options, logPartition);
}
