using HessianML.Geometry;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;

namespace HessianML.Pipeline.MlNet;

// The saved forms of the psi components (see SavedForm): fixed input and output columns, contract names versioned.

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
