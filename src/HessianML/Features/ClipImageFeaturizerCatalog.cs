using HessianML.Data;
using HessianML.Features;

namespace HessianML;

/// <summary>
/// Images on the catalogs: <c>ctx.Data.LoadImages(folderOrCsv)</c> (image paths + t) and
/// <c>ctx.Transforms.ClipImageFeaturizer(options)</c> (paths -> CLIP embeddings, the <c>features</c> that
/// <c>ctx.Transforms.FeatureDistancePosterior</c> reads).
/// </summary>
public static class ClipImageFeaturizerCatalog
{
    /// <summary>Image paths -> embeddings through an ONNX image encoder, preprocessed as CLIP does (see <see cref="ClipImageFeaturizerOptions"/>).</summary>
    public static ClipImageFeaturizerEstimator ClipImageFeaturizer(this TransformsCatalog catalog, ClipImageFeaturizerOptions options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new ClipImageFeaturizerEstimator(options);
    }

    /// <summary>A folder of images named <c>..._a&lt;t1&gt;_b&lt;t2&gt;...</c>, or a CSV <c>file,t1,t2</c>, as columns <c>image</c> and <c>t</c> (<see cref="ImageDataset"/>).</summary>
    public static ColumnTable LoadImages(this DataOperationsCatalog catalog, string folderOrCsv)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return ImageDataset.Load(folderOrCsv);
    }
}
