using Apache.Arrow;
using Apache.Arrow.Ipc;
using ML = Microsoft.ML;

namespace HessianML.Data;

/// <summary>
/// Writes any ML.NET <see cref="ML.IDataView"/> as an Arrow IPC file, streaming it through one cursor in record
/// batches, with <see cref="ArrowDataView"/>'s type mapping in reverse: numbers, bool and text as primitive/utf8
/// columns, known-size vectors as <c>fixed_size_list&lt;item: T&gt;[n]</c> (what <see cref="ArrowDataFile"/> writes,
/// so its reader and pyarrow read them), variable-size vectors as <c>list&lt;item: T&gt;</c>; sparse vectors are
/// written dense. Hidden columns are left out. The schema metadata is <see cref="SchemaMetadata.Read"/> of the
/// view's schema. Loading the result with <see cref="ArrowDataView"/> gives back the same schema, annotations
/// (those <see cref="SchemaMetadata"/> carries) and values.
/// </summary>
public static class ArrowDataSaver
{
    public const int DefaultBatchRows = 65536;

    /// <summary>
    /// Writes <paramref name="data"/> to <paramref name="stream"/> (left open). A column of a type that cannot be
    /// written (key types, date/time, images, ...) throws <see cref="SchemaException"/> naming it before anything is
    /// written.
    /// </summary>
    public static void Save(ML.IDataView data, Stream stream, int batchRows = DefaultBatchRows)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(stream);
        if (batchRows < 1) throw new ArgumentOutOfRangeException(nameof(batchRows), "batch size must be positive");
        var columns = data.Schema.Where(c => !c.IsHidden).ToArray();
        var writers = new ArrowColumnWriter[columns.Length];
        for (int i = 0; i < columns.Length; i++)
        {
            writers[i] = ArrowItemType.WriterFor(columns[i].Name, columns[i].Type) ?? throw new SchemaException(
                $"column '{columns[i].Name}' has type {columns[i].Type}, which cannot be saved as Arrow; supported: numbers, bool, text and vectors of these",
                columns[i].Name);
        }
        var builder = new Apache.Arrow.Schema.Builder();
        foreach (var w in writers) builder.Field(new Field(w.Name, w.ArrowType, w.Nullable));
        foreach (var kv in SchemaMetadata.Read(data.Schema)) builder.Metadata(kv.Key, kv.Value);
        var schema = builder.Build();

        using var cursor = data.GetRowCursor(columns);
        for (int i = 0; i < columns.Length; i++) writers[i].Bind(cursor, columns[i]);
        using var writer = new ArrowFileWriter(stream, schema, leaveOpen: true);
        writer.WriteStart();
        int rows = 0;
        long row = 0, batches = 0;
        void Flush()
        {
            var arrays = new IArrowArray[writers.Length];
            for (int i = 0; i < writers.Length; i++) arrays[i] = writers[i].Flush(rows);
            using var batch = new RecordBatch(schema, arrays, rows);
            writer.WriteRecordBatch(batch);
            batches++;
            rows = 0;
        }
        while (cursor.MoveNext())
        {
            foreach (var w in writers) w.Append(row);
            row++;
            if (++rows == batchRows) Flush();
        }
        // An empty view still gets one (empty) batch, as ArrowDataFile writes it.
        if (rows > 0 || batches == 0) Flush();
        writer.WriteEnd();
    }

    /// <summary>Writes <paramref name="data"/> to <paramref name="path"/> atomically (temporary file + rename, see <see cref="AtomicFile"/>).</summary>
    public static void Save(ML.IDataView data, string path, int batchRows = DefaultBatchRows)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (batchRows < 1) throw new ArgumentOutOfRangeException(nameof(batchRows), "batch size must be positive");
        AtomicFile.Write(path, stream => Save(data, stream, batchRows));
    }
}
