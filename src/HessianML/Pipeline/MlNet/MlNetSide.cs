using HessianML.Data;
using Ml = Microsoft.ML;

namespace HessianML.Pipeline.MlNet;

/// <summary>
/// The ML.NET face every HessianML component shares: fit on the columns it declares, transform in one batch and append
/// the outputs to whatever the input holds. One place, so that every component behaves the same inside ML.NET chains.
/// </summary>
internal static class MlNetSide
{
    /// <summary>The declared input columns of <paramref name="input"/> (and those of <paramref name="optional"/> present) as a table.</summary>
    public static ColumnTable Table(Ml.IDataView input, ComponentColumns columns, params string[] optional)
    {
        ArgumentNullException.ThrowIfNull(input);
        columns.Check(input.Schema);
        string[] names = [.. columns.Inputs.Select(c => c.Name), .. optional.Where(n => input.Schema.GetColumnOrNull(n) is not null)];
        var table = ColumnTable.From(input, [.. names.Distinct()]);
        foreach (var (name, type) in columns.Inputs)
            if (type.IsVector && type.IsKnownSize && table.Schema[name].Type.VectorLength != type.VectorLength)
                throw new SchemaException($"{columns.Component}: input column '{name}' has vectors of {table.Schema[name].Type.VectorLength} items; it needs {type.VectorLength}", name, columns.Component);
        return table;
    }

    /// <summary>Runs <paramref name="component"/> on the input's declared columns and appends its declared outputs.</summary>
    public static Ml.IDataView Transform(HessianTransformer component, ComponentColumns columns, Ml.IDataView input, params string[] optional)
    {
        var output = component.TransformTable(Table(input, columns, optional));
        if (input is ColumnTable own)
        {
            // Our own table in, our own table out: no per-row indirection in chains of HessianML components.
            var result = own;
            foreach (var (name, type) in columns.Outputs) result = result.WithColumnData(name, type, output.GetColumnData(name));
            foreach (var (key, value) in output.Schema.Metadata) result = result.WithMetadata(key, value);
            return result;
        }
        var added = new ColumnTable.Builder();
        foreach (var (key, value) in output.Schema.Metadata) added.AddMetadata(key, value);
        foreach (var (name, type) in columns.Outputs) added.AddColumn(name, type, output.GetColumnData(name));
        return new AppendedColumnsView(input, added.Build());
    }
}
