using HessianML.Geometry;
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

    /// <summary>Posterior grid -> fitted psi (METHOD §3, §8). A null options object means the documented defaults.</summary>
    public LogPartitionTrainer LogPartition(LogPartitionOptions? options = null) => new(options);

    /// <summary>
    /// psi -> psi, grad psi, g = Hessian psi and its eigenvalues at each row's t. Append it right after
    /// <see cref="LogPartition"/>, or pass an already fitted <paramref name="logPartition"/>.
    /// </summary>
    public FisherMetricEstimator FisherMetric(FisherMetricOptions? options = null, LogPartitionTransformer? logPartition = null) =>
        new(options, logPartition);
}

/// <summary>The entry to HessianML from ML.NET.</summary>
public static class MLContextHessianExtensions
{
    /// <summary>HessianML's components, seeded from this context.</summary>
    public static HessianCatalog Hessian(this MLContext context) => new(context);
}
