using HessianML.Pipeline;
using HessianML.Pipeline.Transforms;

namespace HessianML;

/// <summary>Normalisation transforms on <see cref="TransformsCatalog"/>.</summary>
public static class NormalizationCatalog
{
    /// <summary>ML.NET's NormalizeMeanVariance: (x - mean) / std per element of a Float32/Float64 column.</summary>
    public static NormalizeMeanVarianceEstimator NormalizeMeanVariance(this TransformsCatalog catalog, string outputColumnName, string? inputColumnName = null) =>
        new(new NormalizeMeanVarianceOptions { OutputColumnName = outputColumnName, InputColumnName = inputColumnName });

    public static NormalizeMeanVarianceEstimator NormalizeMeanVariance(this TransformsCatalog catalog, NormalizeMeanVarianceOptions options) =>
        new(options);
}

/// <summary>Column-combining transforms on <see cref="TransformsCatalog"/>.</summary>
public static class ConcatenateCatalog
{
    /// <summary>ML.NET's Concatenate: joins the input columns (same item kind) into one vector column.</summary>
    public static TrivialEstimator<ConcatenateTransformer> Concatenate(this TransformsCatalog catalog, string outputColumnName, params string[] inputColumnNames) =>
        new(new ConcatenateTransformer(outputColumnName, inputColumnNames));
}
