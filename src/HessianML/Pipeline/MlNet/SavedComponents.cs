using HessianML.Features;
using HessianML.Geometry;
using HessianML.Geometry.Geodesics;
using HessianML.Posterior;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;

namespace HessianML.Pipeline.MlNet;

// The saved forms of the components (see SavedForm): fixed input and output columns, contract names versioned.

/// <summary>Input row of a saved psi component: the parameter point t.</summary>
public sealed class PsiInputRow : SavedComponentRow
{
    /// <summary>t (copied from the component's parameter column).</summary>
    [ColumnName(SavedForm.InputPrefix + "t"), VectorType(2)]
    public float[] T = new float[2];
}

/// <summary>Output row of a saved LogPartition: psi.</summary>
public sealed class LogPartitionOutputRow
{
    /// <summary>psi(t).</summary>
    [ColumnName("psi")]
    public double Psi;
}

/// <summary>Output row of a saved FisherMetric: psi, grad psi, g = Hessian psi (g11, g12, g22), its eigenvalues.</summary>
public sealed class FisherMetricOutputRow
{
    /// <summary>psi(t).</summary>
    [ColumnName("psi")]
    public double Psi;

    /// <summary>(d psi / dt1, d psi / dt2).</summary>
    [ColumnName("dpsi"), VectorType(2)]
    public double[] Dpsi = new double[2];

    /// <summary>(g11, g12, g22).</summary>
    [ColumnName("g"), VectorType(3)]
    public double[] G = new double[3];

    /// <summary>Eigenvalues of g, ascending.</summary>
    [ColumnName("g_eigen"), VectorType(2)]
    public double[] GEigen = new double[2];
}

/// <summary>Loaded by ML.NET by its contract name: a saved LogPartition's psi at each row's t.</summary>
[CustomMappingFactoryAttribute(Contract)]
public sealed class LogPartitionMappingFactory : SavedComponentFactory<PsiInputRow, LogPartitionOutputRow, LogPartitionTransformer>
{
    internal const string Contract = "HessianML.LogPartition.v1";

    /// <inheritdoc/>
    protected override void Map(LogPartitionTransformer component, PsiInputRow src, LogPartitionOutputRow dst) =>
        dst.Psi = component.Evaluate([src.T[0]], [src.T[1]]).Psi[0];
}

/// <summary>Loaded by ML.NET by its contract name: a saved FisherMetric's outputs at each row's t.</summary>
[CustomMappingFactoryAttribute(Contract)]
public sealed class FisherMetricMappingFactory : SavedComponentFactory<PsiInputRow, FisherMetricOutputRow, FisherMetricTransformer>
{
    internal const string Contract = "HessianML.FisherMetric.v1";

    /// <inheritdoc/>
    protected override void Map(FisherMetricTransformer component, PsiInputRow src, FisherMetricOutputRow dst)
    {
        var f = component.Evaluate([src.T[0]], [src.T[1]]);
        dst.Psi = f.Psi[0];
        dst.Dpsi = [f.Dpsi1[0], f.Dpsi2[0]];
        dst.G = [f.G11[0], f.G12[0], f.G22[0]];
        var (low, high) = FisherMetricTransformer.Eigenvalues(f.G11[0], f.G12[0], f.G22[0]);
        dst.GEigen = [low, high];
    }
}

/// <summary>Input row of a saved Geodesic: the endpoints.</summary>
public sealed class GeodesicInputRow : SavedComponentRow
{
    /// <summary>The start (copied from the component's from column).</summary>
    [ColumnName(SavedForm.InputPrefix + "from"), VectorType(2)]
    public float[] From = new float[2];

    /// <summary>The end (copied from the component's to column).</summary>
    [ColumnName(SavedForm.InputPrefix + "to"), VectorType(2)]
    public float[] To = new float[2];
}

/// <summary>Output row of a saved Geodesic (vector lengths follow the saved options' Points).</summary>
public sealed class GeodesicOutputRow
{
    /// <summary>t1, t2 interleaved, N points.</summary>
    [ColumnName("path")]
    public float[] Path = [];

    /// <summary>Metric length from the start to each point.</summary>
    [ColumnName("cumulative_length")]
    public double[] CumulativeLength = [];

    /// <summary>Metric length of the path.</summary>
    [ColumnName("length")]
    public double Length;

    /// <summary>Energy of the path.</summary>
    [ColumnName("energy")]
    public double Energy;

    /// <summary>Curvature of the path in the plane.</summary>
    [ColumnName("curvature")]
    public double Curvature;
}

/// <summary>Loaded by ML.NET by its contract name: a saved Geodesic's path for each row's pair (its saved metric table, no re-tabulation).</summary>
[CustomMappingFactoryAttribute(Contract)]
public sealed class GeodesicMappingFactory : SavedComponentFactory<GeodesicInputRow, GeodesicOutputRow, GeodesicTransformer>
{
    internal const string Contract = "HessianML.Geodesic.v1";

    /// <inheritdoc/>
    protected override void Map(GeodesicTransformer component, GeodesicInputRow src, GeodesicOutputRow dst)
    {
        var p = component.SolveInBox(src.From[0], src.From[1], src.To[0], src.To[1], -1);
        int n = p.T1.Length;
        var path = new float[2 * n];
        for (int i = 0; i < n; i++) (path[2 * i], path[2 * i + 1]) = ((float)p.T1[i], (float)p.T2[i]);
        dst.Path = path;
        dst.CumulativeLength = [.. p.CumulativeLength];
        (dst.Length, dst.Energy, dst.Curvature) = (p.Length, p.Energy, p.Curvature);
    }
}

/// <summary>Input row of a saved FeatureDistancePosterior: the features.</summary>
public sealed class FeaturesInputRow : SavedComponentRow
{
    /// <summary>f(x) (copied from the component's feature column).</summary>
    [ColumnName(SavedForm.InputPrefix + "features")]
    public float[] Features = [];
}

/// <summary>Input row of a saved PosteriorGrid: one bundle of states, stacked (the row's own state for bundles of one).</summary>
public sealed class BundleInputRow : SavedComponentRow
{
    /// <summary>K_bundle states of n sites, one after the other.</summary>
    [ColumnName(SavedForm.InputPrefix + "bundle")]
    public sbyte[] Bundle = [];
}

/// <summary>Output row of a saved posterior component: p(t'_k | x) on the K x K grid (index k = i*K + j).</summary>
public sealed class PosteriorOutputRow
{
    /// <summary>The posterior over the grid's cells.</summary>
    [ColumnName(PosteriorGridTransformer.PosteriorColumn)]
    public float[] Posterior = [];
}

/// <summary>Loaded by ML.NET by its contract name: a saved FeatureDistancePosterior's posterior for each row's features.</summary>
[CustomMappingFactoryAttribute(Contract)]
public sealed class FeatureDistancePosteriorMappingFactory : SavedComponentFactory<FeaturesInputRow, PosteriorOutputRow, FeatureDistancePosteriorTransformer>
{
    internal const string Contract = "HessianML.FeatureDistancePosterior.v1";

    /// <inheritdoc/>
    protected override void Map(FeatureDistancePosteriorTransformer component, FeaturesInputRow src, PosteriorOutputRow dst)
    {
        var p = component.Posterior;
        if (src.Features.Length != p.Dimension)
            throw new ArgumentException($"{FeatureDistancePosteriorTransformer.KindName}: a row has {src.Features.Length} features, the model {p.Dimension}");
        var posterior = new float[component.Grid * component.Grid];
        p.Posterior(src.Features, posterior);
        dst.Posterior = posterior;
    }
}

/// <summary>Loaded by ML.NET by its contract name: a saved PosteriorGrid's posterior for each row's bundle.</summary>
[CustomMappingFactoryAttribute(Contract)]
public sealed class PosteriorGridMappingFactory : SavedComponentFactory<BundleInputRow, PosteriorOutputRow, PosteriorGridTransformer>
{
    internal const string Contract = "HessianML.PosteriorGrid.v1";

    /// <inheritdoc/>
    protected override void Map(PosteriorGridTransformer component, BundleInputRow src, PosteriorOutputRow dst) =>
        dst.Posterior = component.PosteriorOfBundle(src.Bundle);
}

/// <summary>Input row of a saved ImageFeaturizer: the image's path.</summary>
public sealed class ImageInputRow : SavedComponentRow
{
    /// <summary>The image file (copied from the component's image column).</summary>
    [ColumnName(SavedForm.InputPrefix + "image")]
    public ReadOnlyMemory<char> Image;
}

/// <summary>Input row of a saved ImageFeaturizer fitted on ML.NET images (<c>LoadImages</c>): the image.</summary>
public sealed class MLImageInputRow : SavedComponentRow
{
    /// <summary>The image (copied from the component's image column).</summary>
    [ColumnName(SavedForm.InputPrefix + "image"), AnyImageType]
    public MLImage? Image;
}

/// <summary>
/// Marks an <see cref="MLImage"/> field as ML.NET's Image type of any size, what <c>LoadImages</c> gives. WHY our own:
/// ML.NET 6's <c>[ImageType]</c> without a size fails when registered (it builds an image type of height 0).
/// </summary>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Property)]
public sealed class AnyImageTypeAttribute : DataViewTypeAttribute
{
    /// <inheritdoc/>
    public override void Register() => DataViewTypeManager.Register(new Microsoft.ML.Transforms.Image.ImageDataViewType(), typeof(MLImage), this);

    /// <inheritdoc/>
    public override bool Equals(DataViewTypeAttribute other) => other is AnyImageTypeAttribute;

    /// <inheritdoc/>
    public override int GetHashCode() => typeof(AnyImageTypeAttribute).GetHashCode();
}

/// <summary>Output row of a saved ImageFeaturizer: the embedding (length: the encoder's) under an internal name, which the saved chain copies to the component's output column.</summary>
public sealed class EmbeddingOutputRow
{
    /// <summary>The image's embedding (unit length when the featuriser normalises).</summary>
    [ColumnName(ImageFeaturizerMappingFactory.OutputColumn)]
    public float[] Features = [];
}

/// <summary>
/// Loaded by ML.NET by its contract name: a saved ImageFeaturizer's embedding of each row's image (the encoder
/// file must still be there, unchanged). It writes an internal column; the saved chain copies it to the component's
/// <see cref="ImageFeaturizerTransformer.OutputColumnName"/>, so a user's column of the same name is never touched.
/// </summary>
[CustomMappingFactoryAttribute(Contract)]
public sealed class ImageFeaturizerMappingFactory : SavedComponentFactory<ImageInputRow, EmbeddingOutputRow, ImageFeaturizerTransformer>
{
    internal const string Contract = "HessianML.ImageFeaturizer.v1";
    internal const string OutputColumn = "__hessianml_out_features";

    /// <inheritdoc/>
    protected override void Map(ImageFeaturizerTransformer component, ImageInputRow src, EmbeddingOutputRow dst) =>
        dst.Features = component.FeaturizeOne(src.Image.ToString());
}

/// <summary>
/// Loaded by ML.NET by its contract name: zips saved before the featuriser was renamed (ClipImageFeaturizer, its
/// encoder referenced by path and SHA-256). Same rows as <see cref="ImageFeaturizerMappingFactory"/>; the state is read
/// by <see cref="ImageFeaturizerTransformer.LoadClipV1"/>. Contract names are permanent.
/// </summary>
[CustomMappingFactoryAttribute(Contract)]
public sealed class ClipImageFeaturizerMappingFactory : SavedComponentFactory<ImageInputRow, EmbeddingOutputRow, ImageFeaturizerTransformer>
{
    internal const string Contract = "HessianML.ClipImageFeaturizer.v1";

    /// <inheritdoc/>
    protected override void Map(ImageFeaturizerTransformer component, ImageInputRow src, EmbeddingOutputRow dst) =>
        dst.Features = component.FeaturizeOne(src.Image.ToString());
}

/// <summary>
/// Loaded by ML.NET by its contract name: a saved ImageFeaturizer fitted on an Image column (<c>LoadImages</c>): the
/// embedding of each row's image, written to the same internal column as <see cref="ImageFeaturizerMappingFactory"/>.
/// </summary>
[CustomMappingFactoryAttribute(Contract)]
public sealed class ImageFeaturizerMLImageMappingFactory : SavedComponentFactory<MLImageInputRow, EmbeddingOutputRow, ImageFeaturizerTransformer>
{
    internal const string Contract = "HessianML.ImageFeaturizer.MLImage.v1";

    /// <inheritdoc/>
    protected override void Map(ImageFeaturizerTransformer component, MLImageInputRow src, EmbeddingOutputRow dst) =>
        dst.Features = component.FeaturizeOne(src.Image);
}
