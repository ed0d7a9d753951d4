using HessianML.Data;

namespace HessianML.Pipeline.Transforms;

/// <summary>
/// Concatenates numeric scalar/vector columns of one item kind into one vector column, row by row (ML.NET's
/// ColumnConcatenatingTransformer). Needs no fitting; savable (kind "Concatenate", options only).
/// </summary>
public sealed class ConcatenateTransformer : IComponentWithState
{
    public const string KindName = "Concatenate";

    public ConcatenateTransformer(string outputColumnName, params string[] inputColumnNames)
    {
        SchemaShape.RequireName(outputColumnName, KindName, "output column");
        if (inputColumnNames is null || inputColumnNames.Length == 0)
            throw new ArgumentException($"{KindName}: at least one input column is needed");
        (OutputColumnName, InputColumnNames) = (outputColumnName, [.. inputColumnNames]);
    }

    public string OutputColumnName { get; }

    public IReadOnlyList<string> InputColumnNames { get; }

    public string Kind => KindName;

    public TableSchema GetOutputSchema(TableSchema inputSchema)
    {
        ItemKind? kind = null;
        int length = 0;
        bool known = true;
        foreach (var name in InputColumnNames)
        {
            var req = ColumnRequirement.Any(name, kind is { } k ? [k] : [ItemKind.Float32, ItemKind.Float64, ItemKind.Int8, ItemKind.Int32, ItemKind.Int64]);
            var col = SchemaShape.RequireColumn(inputSchema, KindName, req);
            kind = col.Type.Kind;
            known &= col.Type.IsKnownSize;
            length += col.Type.ItemsPerRow;
        }
        return inputSchema.WithColumn(OutputColumnName, known ? ColumnType.Vector(kind!.Value, length) : ColumnType.VariableVector(kind!.Value));
    }

    public IDataView Transform(IDataView input)
    {
        var outType = GetOutputSchema(input.Schema)[OutputColumnName].Type;
        var view = input.ToDataView();
        int rows = input.RowCount, total = outType.VectorLength;
        var dst = Array.CreateInstance(outType.ItemClrType, (long)rows * total);
        int at = 0;
        foreach (var name in InputColumnNames)
        {
            var src = view.GetColumnData(name);
            int n = input.Schema[name].Type.ItemsPerRow;
            for (int r = 0; r < rows; r++) Array.Copy(src, (long)r * n, dst, (long)r * total + at, n);
            at += n;
        }
        return outType.Kind switch
        {
            ItemKind.Float32 => view.WithColumn(OutputColumnName, outType, (float[])dst),
            ItemKind.Float64 => view.WithColumn(OutputColumnName, outType, (double[])dst),
            ItemKind.Int8 => view.WithColumn(OutputColumnName, outType, (sbyte[])dst),
            ItemKind.Int32 => view.WithColumn(OutputColumnName, outType, (int[])dst),
            _ => view.WithColumn(OutputColumnName, outType, (long[])dst),
        };
    }

    private sealed record Saved(string OutputColumnName, string[] InputColumnNames);

    public void SaveState(ComponentStateWriter context) => context.SetOptions(new Saved(OutputColumnName, [.. InputColumnNames]));

    [ComponentStateLoader(KindName)]
    internal static ITransformer Load(ComponentStateReader context)
    {
        var o = context.GetOptions<Saved>();
        return new ConcatenateTransformer(o.OutputColumnName, o.InputColumnNames);
    }
}
