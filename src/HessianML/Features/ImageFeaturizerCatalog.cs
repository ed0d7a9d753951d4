namespace HessianML.Features;

/// <summary>
/// The image featuriser on <c>mlContext.Transforms</c>, beside ML.NET's own image transforms (LoadImages,
/// DnnFeaturizeImage). WHY here and not on <c>mlContext.Hessian()</c>: a featuriser draws no random numbers, so it needs
/// nothing of the context (the reason the other components hang off the context is its seed).
/// </summary>
public static class ImageFeaturizerCatalog
{
    /// <summary>Image paths -> embeddings, every option stated (<see cref="ImageFeaturizerOptions"/>).</summary>
    public static ImageFeaturizerEstimator FeaturizeImages(this Microsoft.ML.TransformsCatalog catalog, ImageFeaturizerOptions options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new ImageFeaturizerEstimator(options);
    }

    /// <summary>
    /// Image paths in <paramref name="inputColumnName"/> -> embeddings in <paramref name="outputColumnName"/> through
    /// <paramref name="encoder"/>: "resnet18" (the built-in ResNet18, 512 features) or the path of an ONNX image encoder (CLIP).
    /// </summary>
    public static ImageFeaturizerEstimator FeaturizeImages(this Microsoft.ML.TransformsCatalog catalog, string outputColumnName = "features",
        string inputColumnName = "image", string encoder = ResNet18Encoder.Name) =>
        catalog.FeaturizeImages(new ImageFeaturizerOptions { Encoder = encoder, OutputColumnName = outputColumnName, InputColumnName = inputColumnName });
}
