namespace HessianML.Data;

/// <summary>
/// An immutable table of typed columns (ML.NET's IDataView, simplified to in-memory columnar storage: no cursors).
/// A column's storage is one flat array: a scalar column holds <see cref="RowCount"/> items, a vector column of
/// length n holds RowCount * n items, row-major.
/// </summary>
public interface IDataView
{
    TableSchema Schema { get; }

    int RowCount { get; }

    /// <summary>
    /// Flat storage of column <paramref name="name"/>. <typeparamref name="T"/> must be the column's item type
    /// (float, double, sbyte, int, long, string, bool); a missing column or another type throws a
    /// <see cref="SchemaException"/> naming the column, the expected and the actual type.
    /// </summary>
    ReadOnlyMemory<T> GetColumn<T>(string name);
}

/// <summary>Helpers every <see cref="IDataView"/> gets.</summary>
public static class DataViewExtensions
{
    /// <summary>The items of row <paramref name="row"/> of column <paramref name="name"/> (length 1 for a scalar).</summary>
    public static ReadOnlySpan<T> GetRow<T>(this IDataView view, string name, int row)
    {
        int n = view.Schema[name].Type.ItemsPerRow;
        if ((uint)row >= (uint)view.RowCount)
            throw new ArgumentOutOfRangeException(nameof(row), $"row {row} outside 0..{view.RowCount - 1}");
        return view.GetColumn<T>(name).Span.Slice(row * n, n);
    }

    /// <summary>This view as a <see cref="ColumnTable"/> (itself when it already is one, else a copy).</summary>
    public static ColumnTable ToDataView(this IDataView view)
    {
        if (view is ColumnTable dv) return dv;
        var b = new ColumnTable.Builder();
        foreach (var c in view.Schema)
            b.AddColumn(c.Name, c.Type, ColumnTable.CopyColumn(view, c));
        foreach (var kv in view.Schema.Metadata) b.AddMetadata(kv.Key, kv.Value);
        return b.Build();
    }
}
