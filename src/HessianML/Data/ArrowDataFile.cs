using System.Runtime.InteropServices;
using Apache.Arrow;
using Apache.Arrow.Ipc;
using Apache.Arrow.Types;
using Array = System.Array;
using ArrowSchema = Apache.Arrow.Schema;

namespace HessianML.Data;

/// <summary>
/// Reads and writes data views as Arrow IPC files (the "file" format with a footer, what pyarrow's
/// <c>pa.ipc.new_file</c> / <c>feather.write_feather(..., compression="uncompressed")</c> produce), so datasets open
/// in Python/pandas. Scalar columns are primitive arrays (float32, float64, int8, int32, int64, utf8, bool); vector
/// columns are <c>fixed_size_list&lt;item: T&gt;[n]</c>; schema metadata is kept. Writes go in record batches of
/// <see cref="DefaultBatchRows"/> rows (a single batch would need one contiguous copy of the whole table) and are
/// atomic (temporary file + rename).
/// </summary>
public static class ArrowDataFile
{
    public const int DefaultBatchRows = 65536;

    /// <summary>Writes <paramref name="view"/> to <paramref name="path"/>; checks every column's length before creating any file.</summary>
    public static void Write(ColumnTable view, string path, int batchRows = DefaultBatchRows)
    {
        ArgumentNullException.ThrowIfNull(view);
        if (batchRows < 1) throw new ArgumentOutOfRangeException(nameof(batchRows), "batch size must be positive");
        var schema = view.Schema;
        int rows = view.RowCount;
        // Validate up front: a bad view must fail before a file exists.
        foreach (var c in schema)
        {
            if (!c.Type.IsKnownSize)
                throw new SchemaException($"column '{c.Name}' has type {c.Type}: cannot write a vector of unknown length", c.Name);
            long need = (long)rows * c.Type.ItemsPerRow;
            long have = ColumnLength(view, c);
            if (have != need)
                throw new SchemaException(
                    $"column '{c.Name}' has {have} items but {rows} rows of {c.Type} need {need}; nothing written to '{path}'", c.Name);
        }
        var arrowSchema = ToArrow(schema);
        AtomicFile.Write(path, stream =>
        {
            using var writer = new ArrowFileWriter(stream, arrowSchema, leaveOpen: true);
            writer.WriteStart();
            for (int start = 0; start < rows || (start == 0 && rows == 0); start += batchRows)
            {
                int count = Math.Min(batchRows, rows - start);
                var arrays = new IArrowArray[schema.Count];
                for (int i = 0; i < schema.Count; i++)
                    arrays[i] = BuildArray(view, schema[i], start, count);
                writer.WriteRecordBatch(new RecordBatch(arrowSchema, arrays, count));
                if (rows == 0) break;
            }
            writer.WriteEnd();
        });
    }

    /// <summary>
    /// Reads an Arrow IPC file. A file that is missing throws <see cref="FileNotFoundException"/>; one that is not
    /// Arrow, is truncated, holds nulls in numeric columns or holds column types other than the supported ones throws
    /// <see cref="InvalidDataException"/> naming the file.
    /// </summary>
    public static ColumnTable Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Arrow file '{path}' not found", path);
        try
        {
            using var stream = File.OpenRead(path);
            using var reader = new ArrowFileReader(stream);
            var batches = new List<RecordBatch>();
            try
            {
                RecordBatch? b;
                while ((b = reader.ReadNextRecordBatch()) != null) batches.Add(b);
                var arrowSchema = reader.Schema;
                var schema = FromArrow(arrowSchema, path);
                long total = batches.Sum(x => (long)x.Length);
                if (total > int.MaxValue) throw new InvalidDataException($"file '{path}' has {total} rows; at most {int.MaxValue} are supported");
                var data = new Array[schema.Count];
                for (int i = 0; i < schema.Count; i++)
                    data[i] = ReadColumn(batches, i, schema[i], (int)total, path);
                return ColumnTable.Create(schema, data);
            }
            finally
            {
                foreach (var b in batches) b.Dispose();
            }
        }
        catch (InvalidDataException ex) when (ex.Message.Contains(path, StringComparison.Ordinal))
        {
            throw;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException and not FileNotFoundException and not UnauthorizedAccessException)
        {
            throw new InvalidDataException($"file '{path}' is not a readable Arrow IPC file: {ex.Message}", ex);
        }
    }

    private static long ColumnLength(ColumnTable view, TableSchema.Column c) => c.Type.Kind switch
    {
        ItemKind.Float32 => view.GetColumn<float>(c.Name).Length,
        ItemKind.Float64 => view.GetColumn<double>(c.Name).Length,
        ItemKind.Int8 => view.GetColumn<sbyte>(c.Name).Length,
        ItemKind.Int32 => view.GetColumn<int>(c.Name).Length,
        ItemKind.Int64 => view.GetColumn<long>(c.Name).Length,
        ItemKind.String => view.GetColumn<string>(c.Name).Length,
        ItemKind.Boolean => view.GetColumn<bool>(c.Name).Length,
        _ => throw new InvalidOperationException(),
    };

    private static IArrowType ArrowItemType(ItemKind kind) => kind switch
    {
        ItemKind.Float32 => FloatType.Default,
        ItemKind.Float64 => DoubleType.Default,
        ItemKind.Int8 => Int8Type.Default,
        ItemKind.Int32 => Int32Type.Default,
        ItemKind.Int64 => Int64Type.Default,
        ItemKind.String => StringType.Default,
        ItemKind.Boolean => BooleanType.Default,
        _ => throw new InvalidOperationException(),
    };

    private static IArrowType ArrowType(ColumnType t) =>
        t.IsVector ? new FixedSizeListType(new Field("item", ArrowItemType(t.Kind), nullable: false), t.VectorLength) : ArrowItemType(t.Kind);

    internal static ArrowSchema ToArrow(TableSchema schema)
    {
        var b = new ArrowSchema.Builder();
        foreach (var c in schema)
            b.Field(new Field(c.Name, ArrowType(c.Type), nullable: c.Type.Kind == ItemKind.String));
        foreach (var kv in schema.Metadata) b.Metadata(kv.Key, kv.Value);
        return b.Build();
    }

    private static ItemKind? KindOf(IArrowType t) => t.TypeId switch
    {
        ArrowTypeId.Float => ItemKind.Float32,
        ArrowTypeId.Double => ItemKind.Float64,
        ArrowTypeId.Int8 => ItemKind.Int8,
        ArrowTypeId.Int32 => ItemKind.Int32,
        ArrowTypeId.Int64 => ItemKind.Int64,
        ArrowTypeId.String => ItemKind.String,
        ArrowTypeId.Boolean => ItemKind.Boolean,
        _ => null,
    };

    private static TableSchema FromArrow(ArrowSchema s, string path)
    {
        var cols = new List<(string, ColumnType)>();
        foreach (var f in s.FieldsList)
        {
            ColumnType? type = null;
            if (f.DataType is FixedSizeListType fl)
            {
                var k = KindOf(fl.ValueDataType);
                if (k is not null and not ItemKind.String and not ItemKind.Boolean && fl.ListSize > 0)
                    type = ColumnType.Vector(k.Value, fl.ListSize);
            }
            else if (KindOf(f.DataType) is { } k)
            {
                type = ColumnType.Scalar(k);
            }
            if (type is null)
                throw new InvalidDataException(
                    $"file '{path}': column '{f.Name}' has Arrow type {Describe(f.DataType)}; supported: float32, float64, int8, int32, int64, utf8, bool and fixed_size_list of the numeric ones");
            cols.Add((f.Name, type.Value));
        }
        var meta = s.HasMetadata ? s.Metadata.ToDictionary(kv => kv.Key, kv => kv.Value) : null;
        return new TableSchema(cols, meta);
    }

    private static string Describe(IArrowType t) => t is FixedSizeListType fl ? $"fixed_size_list<{Describe(fl.ValueDataType)}>[{fl.ListSize}]" : t.Name;

    private static IArrowArray BuildArray(ColumnTable view, TableSchema.Column c, int start, int count)
    {
        int n = c.Type.ItemsPerRow;
        IArrowArray values = c.Type.Kind switch
        {
            ItemKind.Float32 => Primitive(FloatType.Default, view.GetColumn<float>(c.Name).Span.Slice(start * n, count * n)),
            ItemKind.Float64 => Primitive(DoubleType.Default, view.GetColumn<double>(c.Name).Span.Slice(start * n, count * n)),
            ItemKind.Int8 => Primitive(Int8Type.Default, view.GetColumn<sbyte>(c.Name).Span.Slice(start * n, count * n)),
            ItemKind.Int32 => Primitive(Int32Type.Default, view.GetColumn<int>(c.Name).Span.Slice(start * n, count * n)),
            ItemKind.Int64 => Primitive(Int64Type.Default, view.GetColumn<long>(c.Name).Span.Slice(start * n, count * n)),
            ItemKind.String => Strings(view.GetColumn<string>(c.Name).Span.Slice(start, count)),
            ItemKind.Boolean => Booleans(view.GetColumn<bool>(c.Name).Span.Slice(start, count)),
            _ => throw new InvalidOperationException(),
        };
        if (!c.Type.IsVector) return values;
        var data = new ArrayData(ArrowType(c.Type), count, 0, 0, [ArrowBuffer.Empty], [values.Data]);
        return new FixedSizeListArray(data);
    }

    private static IArrowArray Primitive<T>(IArrowType type, ReadOnlySpan<T> items) where T : unmanaged
    {
        var bytes = new ArrowBuffer(MemoryMarshal.AsBytes(items).ToArray());
        return ArrowArrayFactory.BuildArray(new ArrayData(type, items.Length, 0, 0, [ArrowBuffer.Empty, bytes]));
    }

    private static StringArray Strings(ReadOnlySpan<string> items)
    {
        var b = new StringArray.Builder();
        foreach (var s in items)
        {
            if (s is null) b.AppendNull();
            else b.Append(s);
        }
        return b.Build();
    }

    private static BooleanArray Booleans(ReadOnlySpan<bool> items)
    {
        var b = new BooleanArray.Builder();
        b.Reserve(items.Length);
        foreach (var v in items) b.Append(v);
        return b.Build();
    }

    private static Array ReadColumn(List<RecordBatch> batches, int index, TableSchema.Column c, int rows, string path)
    {
        int n = c.Type.ItemsPerRow;
        switch (c.Type.Kind)
        {
            case ItemKind.Float32: return ReadNumeric<float>(batches, index, c, rows, path);
            case ItemKind.Float64: return ReadNumeric<double>(batches, index, c, rows, path);
            case ItemKind.Int8: return ReadNumeric<sbyte>(batches, index, c, rows, path);
            case ItemKind.Int32: return ReadNumeric<int>(batches, index, c, rows, path);
            case ItemKind.Int64: return ReadNumeric<long>(batches, index, c, rows, path);
            case ItemKind.String:
            {
                var dst = new string[rows];
                int at = 0;
                foreach (var b in batches)
                {
                    var a = (StringArray)b.Column(index);
                    for (int r = 0; r < a.Length; r++) dst[at++] = a.IsNull(r) ? null! : a.GetString(r);
                }
                return dst;
            }
            case ItemKind.Boolean:
            {
                var dst = new bool[rows];
                int at = 0;
                foreach (var b in batches)
                {
                    var a = (BooleanArray)b.Column(index);
                    for (int r = 0; r < a.Length; r++)
                        dst[at++] = a.GetValue(r) ?? throw NullIn(c, path);
                }
                return dst;
            }
            default:
                throw new InvalidOperationException($"unexpected kind {c.Type.Kind} (n={n})");
        }
    }

    private static InvalidDataException NullIn(TableSchema.Column c, string path) =>
        new($"file '{path}': column '{c.Name}' ({c.Type}) holds nulls; only string columns may");

    private static T[] ReadNumeric<T>(List<RecordBatch> batches, int index, TableSchema.Column c, int rows, string path)
        where T : struct, IEquatable<T>
    {
        int n = c.Type.ItemsPerRow;
        var dst = new T[(long)rows * n];
        long at = 0;
        foreach (var b in batches)
        {
            var col = b.Column(index);
            if (col.NullCount > 0) throw NullIn(c, path);
            ReadOnlySpan<T> src;
            if (col is FixedSizeListArray list)
            {
                if (list.Values is not PrimitiveArray<T> child) throw new InvalidDataException($"file '{path}': column '{c.Name}' items are not {typeof(T).Name}");
                if (child.NullCount > 0) throw NullIn(c, path);
                // The list's own offset counts lists; the child's offset is already applied by Values.
                src = child.Values.Slice(list.Offset * n, list.Length * n);
            }
            else
            {
                src = ((PrimitiveArray<T>)col).Values;
            }
            src.CopyTo(dst.AsSpan((int)at));
            at += src.Length;
        }
        return dst;
    }
}
