namespace HessianML.Data;

/// <summary>
/// The in-memory columnar <see cref="ColumnTable"/>: each column is one flat array (vectors row-major). Immutable:
/// <see cref="WithColumn{T}"/>, <see cref="DropColumns"/>, <see cref="SelectRows"/> and <see cref="WithMetadata"/>
/// return new views that share the untouched column arrays, so adding a transformer's output column costs only
/// that column. Arrays handed to the builder are taken over, not copied: do not modify them afterwards.
/// </summary>
public sealed partial class ColumnTable
{
    private readonly Array[] _data;

    public TableSchema Schema { get; }

    public int RowCount { get; }

    private ColumnTable(TableSchema schema, Array[] data, int rowCount) => (Schema, _data, RowCount) = (schema, data, rowCount);

    /// <summary>Validates and wraps: each array must have the column's CLR item type and RowCount * items-per-row items.</summary>
    internal static ColumnTable Create(TableSchema schema, Array[] data)
    {
        if (data.Length != schema.Count)
            throw new ArgumentException($"{schema.Count} columns but {data.Length} arrays");
        int rows = -1;
        for (int i = 0; i < data.Length; i++)
        {
            var c = schema[i];
            if (!c.Type.IsKnownSize)
                throw new SchemaException($"column '{c.Name}' has type {c.Type}: a data view needs every vector length", c.Name);
            var elem = data[i].GetType().GetElementType();
            if (data[i].Rank != 1 || elem != c.Type.ItemClrType)
                throw new SchemaException(
                    $"column '{c.Name}': type {c.Type} needs a {c.Type.ItemClrType.Name}[] but got {data[i].GetType().Name}", c.Name);
            int n = c.Type.ItemsPerRow;
            if (data[i].Length % n != 0)
                throw new SchemaException(
                    $"column '{c.Name}': {data[i].Length} items is not a whole number of rows of {n} items", c.Name);
            int r = data[i].Length / n;
            if (rows < 0) rows = r;
            else if (r != rows)
                throw new SchemaException(
                    $"column '{c.Name}' has {r} rows but column '{schema[0].Name}' has {rows}", c.Name);
        }
        return new ColumnTable(schema, data, Math.Max(rows, 0));
    }

    /// <inheritdoc/>
    public ReadOnlyMemory<T> GetColumn<T>(string name) => (T[])GetColumnArray(name, typeof(T));

    /// <summary>The items of row <paramref name="row"/> of column <paramref name="name"/> (length 1 for a scalar).</summary>
    public ReadOnlySpan<T> GetRow<T>(string name, int row)
    {
        int n = Schema[name].Type.ItemsPerRow;
        if ((uint)row >= (uint)RowCount)
            throw new ArgumentOutOfRangeException(nameof(row), $"row {row} outside 0..{RowCount - 1}");
        return GetColumn<T>(name).Span.Slice(row * n, n);
    }

    /// <summary>The column's flat storage as an untyped array (its element type is the column's item type).</summary>
    public Array GetColumnData(string name) => _data[Schema[name].Index];

    private Array GetColumnArray(string name, Type requested)
    {
        if (!Schema.TryGetColumn(name, out var c))
            throw new SchemaException($"column '{name}' not found; present: {Schema.Describe()}", name);
        if (c.Type.ItemClrType != requested)
            throw new SchemaException(
                $"column '{name}' is {c.Type} (items of {c.Type.ItemClrType.Name}), not {requested.Name}", name);
        return _data[c.Index];
    }

    /// <summary>
    /// A new view with column <paramref name="name"/> set to <paramref name="data"/> of <paramref name="type"/>:
    /// replaced in place if present, appended otherwise. <paramref name="data"/> is taken over, not copied.
    /// </summary>
    public ColumnTable WithColumn<T>(string name, ColumnType type, T[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        bool onlyColumn = Schema.Count == 0 || (Schema.Count == 1 && Schema.Contains(name));
        if (!onlyColumn && type.IsKnownSize && data.Length != (long)RowCount * type.ItemsPerRow)
            throw new SchemaException(
                $"column '{name}' has {data.Length} items; the view's {RowCount} rows of {type} need {(long)RowCount * type.ItemsPerRow}", name);
        var schema = Schema.WithColumn(name, type);
        var arrays = new Array[schema.Count];
        Array.Copy(_data, arrays, _data.Length);
        arrays[schema[name].Index] = data;
        return Create(schema, arrays);
    }

    /// <summary>A new view with a scalar column (see <see cref="WithColumn{T}"/>).</summary>
    public ColumnTable WithScalarColumn<T>(string name, T[] data) => WithColumn(name, ColumnType.Scalar(KindFor<T>()), data);

    /// <summary>A new view with a vector column of <paramref name="length"/> items per row, flat row-major data.</summary>
    public ColumnTable WithVectorColumn<T>(string name, int length, T[] data) => WithColumn(name, ColumnType.Vector(KindFor<T>(), length), data);

    /// <summary>A new view without the named columns (each must exist).</summary>
    public ColumnTable DropColumns(params string[] names)
    {
        foreach (var n in names) _ = Schema[n];
        var keep = Schema.Where(c => !names.Contains(c.Name)).ToArray();
        return new ColumnTable(new TableSchema(keep.Select(c => (c.Name, c.Type)), Schema.Metadata),
            keep.Select(c => _data[c.Index]).ToArray(), keep.Length == 0 ? 0 : RowCount);
    }

    /// <summary>A new view holding rows <paramref name="rows"/> in that order (repeats allowed): train/test splits.</summary>
    public ColumnTable SelectRows(IReadOnlyList<int> rows)
    {
        foreach (int r in rows)
            if ((uint)r >= (uint)RowCount)
                throw new ArgumentOutOfRangeException(nameof(rows), $"row index {r} outside 0..{RowCount - 1}");
        var arrays = new Array[_data.Length];
        for (int i = 0; i < _data.Length; i++)
        {
            int n = Schema[i].Type.ItemsPerRow;
            var src = _data[i];
            var dst = Array.CreateInstance(src.GetType().GetElementType()!, rows.Count * n);
            for (int k = 0; k < rows.Count; k++)
                Array.Copy(src, (long)rows[k] * n, dst, (long)k * n, n);
            arrays[i] = dst;
        }
        return new ColumnTable(Schema, arrays, rows.Count);
    }

    /// <summary>A new view with one metadata entry set.</summary>
    public ColumnTable WithMetadata(string key, string value)
    {
        var meta = new Dictionary<string, string>(Schema.Metadata) { [key] = value };
        return new ColumnTable(Schema.WithMetadata(meta), _data, RowCount);
    }

    internal static ItemKind KindFor<T>() =>
        ColumnType.KindOf(typeof(T)) ?? throw new ArgumentException($"{typeof(T).Name} is not a column item type");

    /// <summary>Copies one column of any view into a fresh array of its item type.</summary>
    internal static Array CopyColumn(ColumnTable view, TableSchema.Column c) => c.Type.Kind switch
    {
        ItemKind.Float32 => view.GetColumn<float>(c.Name).ToArray(),
        ItemKind.Float64 => view.GetColumn<double>(c.Name).ToArray(),
        ItemKind.Int8 => view.GetColumn<sbyte>(c.Name).ToArray(),
        ItemKind.Int32 => view.GetColumn<int>(c.Name).ToArray(),
        ItemKind.Int64 => view.GetColumn<long>(c.Name).ToArray(),
        ItemKind.String => view.GetColumn<string>(c.Name).ToArray(),
        ItemKind.Boolean => view.GetColumn<bool>(c.Name).ToArray(),
        _ => throw new InvalidOperationException(),
    };

    /// <summary>Collects columns (arrays taken over, not copied) and metadata; <see cref="Build"/> checks lengths.</summary>
    public sealed class Builder
    {
        private readonly List<(string Name, ColumnType Type)> _cols = [];
        private readonly List<Array> _data = [];
        private readonly Dictionary<string, string> _meta = new(StringComparer.Ordinal);

        public Builder AddScalar<T>(string name, T[] data) => AddColumn(name, ColumnType.Scalar(KindFor<T>()), data);

        public Builder AddVector<T>(string name, int length, T[] flat) => AddColumn(name, ColumnType.Vector(KindFor<T>(), length), flat);

        /// <summary>Adds a column given its type and flat storage (element type must match the type's items).</summary>
        public Builder AddColumn(string name, ColumnType type, Array data)
        {
            _cols.Add((name, type));
            _data.Add(data);
            return this;
        }

        public Builder AddMetadata(string key, string value)
        {
            _meta[key] = value;
            return this;
        }

        /// <summary>The view; inconsistent row counts or wrong array types throw a <see cref="SchemaException"/> naming the column.</summary>
        public ColumnTable Build() => Create(new TableSchema(_cols, _meta), _data.ToArray());
    }
}
