using HessianML.Data;

namespace HessianML.Geometry;

/// <summary>
/// psi, its gradient and its Hessian g (the Fisher metric) tabulated at points t = (t1, t2): the interchange record
/// behind the metric-field CSV `t1,t2,psi,dpsi_dt1,dpsi_dt2,g11,g12,g22`. Arrays are parallel, one entry per point.
/// </summary>
public sealed class MetricField
{
    /// <summary>The CSV header every metric-field file carries, in this order.</summary>
    public static readonly string[] CsvColumns = ["t1", "t2", "psi", "dpsi_dt1", "dpsi_dt2", "g11", "g12", "g22"];

    public double[] T1 { get; }
    public double[] T2 { get; }
    public double[] Psi { get; }
    public double[] Dpsi1 { get; }
    public double[] Dpsi2 { get; }
    public double[] G11 { get; }
    public double[] G12 { get; }
    public double[] G22 { get; }

    public int Count => T1.Length;

    public MetricField(double[] t1, double[] t2, double[] psi, double[] dpsi1, double[] dpsi2,
        double[] g11, double[] g12, double[] g22)
    {
        int n = t1.Length;
        foreach (var (name, a) in new[] { ("t2", t2), ("psi", psi), ("dpsi_dt1", dpsi1), ("dpsi_dt2", dpsi2),
                     ("g11", g11), ("g12", g12), ("g22", g22) })
            if (a.Length != n)
                throw new ArgumentException($"metric field column {name} has {a.Length} values, t1 has {n}");
        (T1, T2, Psi, Dpsi1, Dpsi2, G11, G12, G22) = (t1, t2, psi, dpsi1, dpsi2, g11, g12, g22);
    }

    /// <summary>An empty field at the given points, to be filled in place.</summary>
    public static MetricField AtPoints(double[] t1, double[] t2)
    {
        int n = t1.Length;
        return new MetricField(t1, t2, new double[n], new double[n], new double[n], new double[n], new double[n], new double[n]);
    }

    /// <summary>An empty field at the K x K cell centres of <paramref name="box"/> (row-major, t2 fastest), to be filled in place.</summary>
    public static MetricField AtCellCentres(Posterior.ParameterBox box, int grid)
    {
        ArgumentNullException.ThrowIfNull(box);
        var centres = box.CellCentres(grid, grid);
        int count = grid * grid;
        var t1 = new double[count];
        var t2 = new double[count];
        for (int i = 0; i < count; i++) (t1[i], t2[i]) = (centres[2 * i], centres[2 * i + 1]);
        return AtPoints(t1, t2);
    }

    /// <summary>The columns in CSV order.</summary>
    public double[][] Columns => [T1, T2, Psi, Dpsi1, Dpsi2, G11, G12, G22];

    /// <summary>det g at each point (positive where psi is strictly convex).</summary>
    public double[] Determinant() => Enumerable.Range(0, Count).Select(i => G11[i] * G22[i] - G12[i] * G12[i]).ToArray();

    /// <summary>The field as a data view of Float64 columns named as in <see cref="CsvColumns"/>.</summary>
    public ColumnTable ToDataView()
    {
        var builder = new ColumnTable.Builder();
        foreach (var (name, column) in CsvColumns.Zip(Columns))
            builder.AddScalar(name, column);
        return builder.Build();
    }

    /// <summary>Writes the metric-field CSV (`t1,t2,psi,dpsi_dt1,dpsi_dt2,g11,g12,g22`), atomically, numbers round-trippable.</summary>
    public void WriteCsv(string path) => CsvDataFile.Write(ToDataView(), path);

    /// <summary>Reads a metric-field CSV; a missing column is an error naming it and the file.</summary>
    public static MetricField ReadCsv(string path)
    {
        var view = CsvDataFile.Read(path);
        double[] Column(string name) => view.Schema.Contains(name)
            ? view.GetColumn<double>(name).ToArray()
            : throw new InvalidDataException($"metric-field file '{path}' has no column '{name}' (expected {string.Join(',', CsvColumns)})");
        var c = CsvColumns.Select(Column).ToArray();
        return new MetricField(c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]);
    }
}
