using HessianML.Data;
using Microsoft.ML;

namespace HessianML.Tests;

/// <summary>Reading ML.NET views in tests: any view's columns as flat arrays (a <see cref="ColumnTable"/> is read in place).</summary>
internal static class TableViews
{
    public static ColumnTable AsTable(this IDataView view) => ColumnTable.From(view);

    public static ReadOnlyMemory<T> GetColumn<T>(this IDataView view, string name) => ColumnTable.From(view).GetColumn<T>(name);

    /// <summary>Same visible column names and types, in order (annotations aside).</summary>
    public static bool SameColumns(this DataViewSchema a, DataViewSchema b)
    {
        var x = a.Where(c => !c.IsHidden).Select(c => (c.Name, c.Type)).ToList();
        var y = b.Where(c => !c.IsHidden).Select(c => (c.Name, c.Type)).ToList();
        return x.SequenceEqual(y);
    }
}
