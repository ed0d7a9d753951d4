using HessianML.Data;
using ML = Microsoft.ML;

namespace HessianML;

/// <summary>
/// Arrow IPC files through ML.NET's data catalog, in ML.NET's style (<c>mlContext.Data.LoadFromArrow(path)</c>,
/// <c>mlContext.Data.SaveAsArrow(view, stream)</c>), beside its LoadFromTextFile / SaveAsText.
/// </summary>
public static class ArrowCatalogExtensions
{
    /// <summary>A view over the Arrow IPC file at <paramref name="path"/>, streamed by record batch; see <see cref="ArrowDataView"/>.</summary>
    public static ML.IDataView LoadFromArrow(this ML.DataOperationsCatalog catalog, string path)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return ArrowDataView.Open(path);
    }

    /// <summary>Writes <paramref name="data"/> to <paramref name="stream"/> as an Arrow IPC file; see <see cref="ArrowDataSaver"/>.</summary>
    public static void SaveAsArrow(this ML.DataOperationsCatalog catalog, ML.IDataView data, Stream stream, int batchRows = ArrowDataSaver.DefaultBatchRows)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArrowDataSaver.Save(data, stream, batchRows);
    }

    /// <summary>Writes <paramref name="data"/> to <paramref name="path"/> as an Arrow IPC file, atomically (the old file stays until the new one is complete).</summary>
    public static void SaveAsArrow(this ML.DataOperationsCatalog catalog, ML.IDataView data, string path, int batchRows = ArrowDataSaver.DefaultBatchRows)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArrowDataSaver.Save(data, path, batchRows);
    }
}
