using HessianML.Posterior;

namespace HessianML;

/// <summary>The mapping-network posterior on <see cref="TransformsCatalog"/>: <c>ctx.Transforms.PosteriorGrid(options)</c>.</summary>
public static class PosteriorGridCatalog
{
    /// <summary>Samples -> posterior on a K x K grid (METHOD §4a); without a seed in the options, takes the context's next seed.</summary>
    public static PosteriorGridEstimator PosteriorGrid(this TransformsCatalog catalog, PosteriorGridOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        options ??= new PosteriorGridOptions();
        return new PosteriorGridEstimator(options, options.Seed ?? catalog.Context.NextSeed());
    }
}
