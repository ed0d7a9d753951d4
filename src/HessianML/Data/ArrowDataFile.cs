namespace HessianML.Data;

/// <summary>
/// Our in-memory tables as Arrow IPC files (the "file" format with a footer, what pyarrow's <c>pa.ipc.new_file</c> /
/// <c>feather.write_feather(..., compression="uncompressed")</c> produce), so datasets open in Python/pandas: the
/// table forms of <see cref="ArrowDataView"/> (reading) and <see cref="ArrowDataSaver"/> (writing, in record batches,
/// atomically), which hold the one implementation of the format.
/// </summary>
public static class ArrowDataFile
{
    public const int DefaultBatchRows = ArrowDataSaver.DefaultBatchRows;

    /// <summary>Writes <paramref name="view"/> to <paramref name="path"/> atomically.</summary>
    public static void Write(ColumnTable view, string path, int batchRows = DefaultBatchRows) => ArrowDataSaver.Save(view, path, batchRows);

    /// <summary>The whole file as a table; a missing, foreign or unsupported file throws one line naming it.</summary>
    public static ColumnTable Read(string path)
    {
        var view = ArrowDataView.Open(path);
        foreach (var c in ((Microsoft.ML.IDataView)view).Schema)
            if (ColumnTable.FromMlType(c.Type) is null)
                throw new InvalidDataException($"Arrow file '{path}': column '{c.Name}' has type {c.Type}, which a HessianML table cannot hold");
        return ColumnTable.From(view);
    }
}
