using HessianML.Posterior;

namespace HessianML;

/// <summary>The feature-distance posterior on <see cref="TransformsCatalog"/>: <c>ctx.Transforms.FeatureDistancePosterior(options)</c>.</summary>
public static class FeatureDistancePosteriorCatalog
{
    /// <summary>Features -> posterior on a K x K grid (METHOD §4b); without a seed in the options, takes the context's next seed.</summary>
    public static FeatureDistancePosteriorEstimator FeatureDistancePosterior(this TransformsCatalog catalog,
        FeatureDistancePosteriorOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        options ??= new FeatureDistancePosteriorOptions();
        return new FeatureDistancePosteriorEstimator(options, options.Seed ?? catalog.Context.NextSeed());
    }
}
