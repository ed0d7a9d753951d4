using Microsoft.ML.Data;
using Ml = Microsoft.ML;

namespace HessianML.Data;

/// <summary>
/// The in-memory table seen by ML.NET: every <see cref="ColumnTable"/> is also a <see cref="Ml.IDataView"/>, so our tables
/// go straight into ML.NET's own transforms, <c>CreateEnumerable</c> and prediction engines. Scalars map to
/// <see cref="NumberDataViewType"/> / <see cref="BooleanDataViewType"/> / <see cref="TextDataViewType"/>, vectors to
/// dense <see cref="VectorDataViewType"/> read through <see cref="VBuffer{T}"/>, and the schema metadata to text
/// annotations on every column (<see cref="SchemaMetadata"/>). Cursors only read the immutable arrays, so any number
/// of them may run on different threads.
/// </summary>
public sealed partial class ColumnTable : Ml.IDataView
{
    private Ml.DataViewSchema? _mlSchema;

    /// <summary>This table's schema in ML.NET's terms (built once).</summary>
    public Ml.DataViewSchema MlSchema => _mlSchema ??= BuildMlSchema();

    Ml.DataViewSchema Ml.IDataView.Schema => MlSchema;

    bool Ml.IDataView.CanShuffle => false;

    long? Ml.IDataView.GetRowCount() => RowCount;

    Ml.DataViewRowCursor Ml.IDataView.GetRowCursor(IEnumerable<Ml.DataViewSchema.Column> columnsNeeded, Random? rand) =>
        new Cursor(this, 0, RowCount);

    Ml.DataViewRowCursor[] Ml.IDataView.GetRowCursorSet(IEnumerable<Ml.DataViewSchema.Column> columnsNeeded, int n, Random? rand)
    {
        // Contiguous ranges of rows, one per cursor: each reads only its own slice of the shared arrays.
        n = Math.Clamp(n, 1, Math.Max(1, RowCount));
        var cursors = new Ml.DataViewRowCursor[n];
        for (int i = 0; i < n; i++)
            cursors[i] = new Cursor(this, (int)((long)RowCount * i / n), (int)((long)RowCount * (i + 1) / n));
        return cursors;
    }

    private Ml.DataViewSchema BuildMlSchema()
    {
        var builder = new Ml.DataViewSchema.Builder();
        var annotations = SchemaMetadata.ToAnnotations(Schema.Metadata);
        foreach (var c in Schema) builder.AddColumn(c.Name, ToMlType(c.Type), annotations);
        return builder.ToSchema();
    }

    /// <summary>ML.NET's type for one of ours.</summary>
    public static DataViewType ToMlType(ColumnType type)
    {
        PrimitiveDataViewType item = type.Kind switch
        {
            ItemKind.Float32 => NumberDataViewType.Single,
            ItemKind.Float64 => NumberDataViewType.Double,
            ItemKind.Int8 => NumberDataViewType.SByte,
            ItemKind.Int32 => NumberDataViewType.Int32,
            ItemKind.Int64 => NumberDataViewType.Int64,
            ItemKind.String => TextDataViewType.Instance,
            ItemKind.Boolean => BooleanDataViewType.Instance,
            _ => throw new ArgumentOutOfRangeException(nameof(type), type, "unknown column type"),
        };
        return type.IsVector ? new VectorDataViewType(item, Math.Max(0, type.VectorLength)) : item;
    }

    /// <summary>Our type for an ML.NET one, or null where we hold no such column (keys, images, variable vectors...).</summary>
    public static ColumnType? FromMlType(DataViewType type)
    {
        static ItemKind? Kind(DataViewType t) =>
            t == NumberDataViewType.Single ? ItemKind.Float32
            : t == NumberDataViewType.Double ? ItemKind.Float64
            : t == NumberDataViewType.SByte ? ItemKind.Int8
            : t == NumberDataViewType.Int32 ? ItemKind.Int32
            : t == NumberDataViewType.Int64 ? ItemKind.Int64
            : t is TextDataViewType ? ItemKind.String
            : t is BooleanDataViewType ? ItemKind.Boolean
            : null;
        if (type is VectorDataViewType v)
            return v.IsKnownSize && Kind(v.ItemType) is { } k && k is not (ItemKind.String or ItemKind.Boolean) ? ColumnType.Vector(k, v.Size) : null;
        return Kind(type) is { } kind ? ColumnType.Scalar(kind) : null;
    }

    private sealed class Cursor(ColumnTable view, int start, int end) : Ml.DataViewRowCursor
    {
        private int _row = start - 1;

        public override Ml.DataViewSchema Schema => view.MlSchema;

        public override long Position => _row - start;

        public override long Batch => start;

        public override bool MoveNext() => ++_row < end;

        public override bool IsColumnActive(Ml.DataViewSchema.Column column) => true;

        public override Ml.ValueGetter<Ml.Data.DataViewRowId> GetIdGetter() =>
            (ref Ml.Data.DataViewRowId id) => id = new Ml.Data.DataViewRowId((ulong)_row, 0);

        public override Ml.ValueGetter<TValue> GetGetter<TValue>(Ml.DataViewSchema.Column column)
        {
            var c = view.Schema[column.Index];
            var data = view._data[column.Index];
            int n = c.Type.ItemsPerRow;
            Delegate getter = data switch
            {
                string[] s when !c.Type.IsVector => (Ml.ValueGetter<ReadOnlyMemory<char>>)((ref ReadOnlyMemory<char> v) => v = (s[_row] ?? "").AsMemory()),
                float[] a => Make(a, n, c.Type.IsVector),
                double[] a => Make(a, n, c.Type.IsVector),
                sbyte[] a => Make(a, n, c.Type.IsVector),
                int[] a => Make(a, n, c.Type.IsVector),
                long[] a => Make(a, n, c.Type.IsVector),
                bool[] a => Make(a, n, c.Type.IsVector),
                _ => throw new InvalidOperationException($"column '{c.Name}': no getter for {c.Type}"),
            };
            return getter as Ml.ValueGetter<TValue> ?? throw new InvalidOperationException(
                $"column '{c.Name}' is {column.Type}; it cannot be read as {typeof(TValue).Name}");
        }

        private Delegate Make<T>(T[] data, int n, bool vector)
        {
            if (!vector) return (Ml.ValueGetter<T>)((ref T v) => v = data[_row]);
            return (Ml.ValueGetter<VBuffer<T>>)((ref VBuffer<T> v) =>
            {
                var editor = VBufferEditor.Create(ref v, n);
                data.AsSpan(_row * n, n).CopyTo(editor.Values);
                v = editor.Commit();
            });
        }
    }

    /// <summary>
    /// The named columns of any ML.NET view (all columns we can hold when none are named) copied into a table, with the
    /// view's metadata (<see cref="SchemaMetadata"/>). A <see cref="ColumnTable"/> comes back as itself. A named column that is
    /// missing or of a type we cannot hold throws a <see cref="SchemaException"/> naming it.
    /// </summary>
    public static ColumnTable From(Ml.IDataView view, params string[] columns)
    {
        ArgumentNullException.ThrowIfNull(view);
        if (view is ColumnTable own) return columns.Length == 0 ? own : own.Select(columns);
        var schema = view.Schema;
        var picked = new List<(Ml.DataViewSchema.Column Column, ColumnType Type)>();
        if (columns.Length == 0)
        {
            foreach (var c in schema)
                if (!c.IsHidden && Holdable(c.Type) is { } t) picked.Add((c, t));
        }
        else
        {
            foreach (string name in columns)
            {
                var c = schema.GetColumnOrNull(name) ?? throw new SchemaException(
                    $"column '{name}' not found; present: {Describe(schema)}", name);
                var t = Holdable(c.Type) ?? throw new SchemaException(
                    $"column '{name}' has type {c.Type}, which a HessianML table cannot hold (numbers, text, booleans; numeric vectors)", name);
                picked.Add((c, t));
            }
        }
        var builder = new Builder();
        foreach (var (key, value) in SchemaMetadata.Read(schema)) builder.AddMetadata(key, value);
        var sinks = picked.Select(p => ColumnSink.For(p.Column.Name, p.Type)).ToArray();
        using (var cursor = view.GetRowCursor(picked.Select(p => p.Column)))
        {
            var readers = picked.Select((p, i) => sinks[i].Reader(cursor, p.Column)).ToArray();
            while (cursor.MoveNext())
                foreach (var read in readers) read();
        }
        for (int i = 0; i < picked.Count; i++) builder.AddColumn(picked[i].Column.Name, sinks[i].Type, sinks[i].ToArray());
        return builder.Build();
    }

    // A column we can hold; a vector of variable length (what a loaded model's CustomMapping declares) is read with the
    // length its rows have, which must be one length for all rows.
    private static ColumnType? Holdable(DataViewType type) =>
        FromMlType(type) ?? (type is VectorDataViewType { IsKnownSize: false } v && FromMlType(v.ItemType) is { IsVector: false } item
            && item.Kind is not (ItemKind.String or ItemKind.Boolean) ? ColumnType.VariableVector(item.Kind) : null);

    /// <summary>A new table with column <paramref name="name"/> set to flat storage of any item type (see <see cref="WithColumn{T}"/>).</summary>
    internal ColumnTable WithColumnData(string name, ColumnType type, Array data)
    {
        var schema = Schema.WithColumn(name, type);
        var arrays = new Array[schema.Count];
        Array.Copy(_data, arrays, _data.Length);
        arrays[schema[name].Index] = data;
        return Create(schema, arrays);
    }

    /// <summary>A table of only the named columns (arrays shared).</summary>
    private ColumnTable Select(string[] columns) => DropColumns([.. Schema.Select(c => c.Name).Where(n => !columns.Contains(n))]);

    /// <summary>"t: Vector&lt;Single, 2&gt;, state: ..." for error messages.</summary>
    public static string Describe(Ml.DataViewSchema schema) =>
        schema.Count == 0 ? "(no columns)" : string.Join(", ", schema.Where(c => !c.IsHidden).Select(c => $"{c.Name}: {c.Type}"));

    /// <summary>Grows one column's flat array while a cursor runs.</summary>
    private abstract class ColumnSink
    {
        public static ColumnSink For(string name, ColumnType type) => type.Kind switch
        {
            ItemKind.Float32 => new Sink<float>(name, type),
            ItemKind.Float64 => new Sink<double>(name, type),
            ItemKind.Int8 => new Sink<sbyte>(name, type),
            ItemKind.Int32 => new Sink<int>(name, type),
            ItemKind.Int64 => new Sink<long>(name, type),
            ItemKind.Boolean => new Sink<bool>(name, type),
            ItemKind.String => new TextSink(type),
            _ => throw new ArgumentOutOfRangeException(nameof(type)),
        };

        /// <summary>The column's type; a variable-length vector's becomes known once its rows are read.</summary>
        public ColumnType Type { get; protected set; }

        public abstract Action Reader(Ml.DataViewRowCursor cursor, Ml.DataViewSchema.Column column);

        public abstract Array ToArray();
    }

    private sealed class Sink<T> : ColumnSink
    {
        private readonly List<T> _items = [];
        private readonly string _name;

        public Sink(string name, ColumnType type) => (_name, Type) = (name, type);

        public override Action Reader(Ml.DataViewRowCursor cursor, Ml.DataViewSchema.Column column)
        {
            var type = Type;
            string name = _name;
            if (!type.IsVector)
            {
                var get = cursor.GetGetter<T>(column);
                T value = default!;
                return () => { get(ref value); _items.Add(value); };
            }
            var getVector = cursor.GetGetter<VBuffer<T>>(column);
            var buffer = default(VBuffer<T>);
            int length = type.VectorLength;
            var dense = length > 0 ? new T[length] : [];
            long row = 0;
            return () =>
            {
                getVector(ref buffer);
                if (length < 0)
                {
                    length = buffer.Length;
                    dense = new T[length];
                    Type = ColumnType.Vector(type.Kind, Math.Max(1, length));
                }
                else if (buffer.Length != length)
                    throw new SchemaException($"column '{name}' has a vector of {buffer.Length} items at row {row}, but {length} before: a table needs one length", name);
                buffer.CopyTo(dense);
                _items.AddRange(dense);
                row++;
            };
        }

        public override Array ToArray()
        {
            if (!Type.IsKnownSize) Type = ColumnType.Vector(Type.Kind, 1); // no rows: any length holds them
            return _items.ToArray();
        }
    }

    private sealed class TextSink : ColumnSink
    {
        public TextSink(ColumnType type) => Type = type;

        private readonly List<string> _items = [];

        public override Action Reader(Ml.DataViewRowCursor cursor, Ml.DataViewSchema.Column column)
        {
            var get = cursor.GetGetter<ReadOnlyMemory<char>>(column);
            ReadOnlyMemory<char> value = default;
            return () => { get(ref value); _items.Add(value.ToString()); };
        }

        public override Array ToArray() => _items.ToArray();
    }
}
