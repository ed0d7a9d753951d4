using HessianML.Geometry;
using HessianML.Onnx;

namespace HessianML;

/// <summary>psi export on <c>mlContext.Model</c>, beside ML.NET's own <c>ConvertToOnnx</c> (which knows none of our components).</summary>
public static class OnnxConversionCatalog
{
    /// <summary>
    /// Writes the psi of <paramref name="model"/> (its last LogPartition, FisherMetric or Geodesic component) as ONNX: see
    /// <see cref="PsiOnnxExporter"/> for the graph's inputs and outputs.
    /// </summary>
    public static void ConvertToOnnx(this Microsoft.ML.ModelOperationsCatalog catalog, Microsoft.ML.ITransformer model, Stream stream)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        PsiOnnxExporter.Write(LogPartitionTransformer.FindIn(model).Psi, stream);
    }
}
