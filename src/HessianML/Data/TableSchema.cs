using System.Collections;

namespace HessianML.Data;

/// <summary>
/// Ordered, uniquely named, typed columns plus schema-level metadata (string -> string, e.g. system, lattice size,
/// seed). Immutable; build one with <see cref="Builder"/> or derive one with <see cref="WithColumn"/>.
/// Lookups by a missing name throw a <see cref="SchemaException"/> that lists the columns present, because
/// "column not found" alone is the least useful error a pipeline can give.
/// </summary>
public sealed class TableSchema : IReadOnlyList<TableSchema.Column>
{
    /// <summary>One column: its position, name and type.</summary>
    public sealed record Column(int Index, string Name, ColumnType Type)
    {
        public override string ToString() => $"{Name}: {Type}";
    }

    private readonly Column[] _columns;
    private readonly Dictionary<string, int> _byName;

    /// <summary>Schema-level metadata, e.g. "system" -> "ising", "L" -> "16".</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    public TableSchema(IEnumerable<(string Name, ColumnType Type)> columns, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var list = new List<Column>();
        _byName = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (name, type) in columns)
        {
            if (string.IsNullOrEmpty(name))
                throw new ArgumentException("column names must be non-empty");
            if (!_byName.TryAdd(name, list.Count))
                throw new ArgumentException($"duplicate column name '{name}'");
            list.Add(new Column(list.Count, name, type));
        }
        _columns = list.ToArray();
        Metadata = new Dictionary<string, string>(metadata ?? new Dictionary<string, string>(), StringComparer.Ordinal);
    }

    public int Count => _columns.Length;

    public Column this[int index] => _columns[index];

    /// <summary>The column named <paramref name="name"/>; throws naming it and listing the columns present.</summary>
    public Column this[string name] => TryGetColumn(name, out var c) ? c : throw MissingColumn(name);

    public bool TryGetColumn(string name, out Column column)
    {
        if (_byName.TryGetValue(name, out int i))
        {
            column = _columns[i];
            return true;
        }
        column = null!;
        return false;
    }

    public bool Contains(string name) => _byName.ContainsKey(name);

    /// <summary>"a: Float32, t: Vector&lt;Float32, 2&gt;" — used in error messages.</summary>
    public string Describe() => _columns.Length == 0 ? "(no columns)" : string.Join(", ", _columns.Select(c => c.ToString()));

    internal SchemaException MissingColumn(string name) =>
        new($"column '{name}' not found; present: {Describe()}", name);

    /// <summary>A new schema with <paramref name="name"/> replaced in place, or appended if absent.</summary>
    public TableSchema WithColumn(string name, ColumnType type)
    {
        var cols = _columns.Select(c => (c.Name, c.Type)).ToList();
        if (_byName.TryGetValue(name, out int i)) cols[i] = (name, type);
        else cols.Add((name, type));
        return new TableSchema(cols, Metadata);
    }

    /// <summary>A new schema with the given metadata (replacing this one's).</summary>
    public TableSchema WithMetadata(IReadOnlyDictionary<string, string> metadata) =>
        new(_columns.Select(c => (c.Name, c.Type)), metadata);

    /// <summary>Same names, types, order and metadata.</summary>
    public bool SameAs(TableSchema other) =>
        other.Count == Count
        && _columns.Zip(other._columns).All(p => p.First.Name == p.Second.Name && p.First.Type == p.Second.Type)
        && Metadata.Count == other.Metadata.Count
        && Metadata.All(kv => other.Metadata.TryGetValue(kv.Key, out var v) && v == kv.Value);

    public IEnumerator<Column> GetEnumerator() => ((IEnumerable<Column>)_columns).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => Describe();

    /// <summary>Collects columns and metadata in order.</summary>
    public sealed class Builder
    {
        private readonly List<(string, ColumnType)> _cols = [];
        private readonly Dictionary<string, string> _meta = new(StringComparer.Ordinal);

        public Builder AddColumn(string name, ColumnType type)
        {
            _cols.Add((name, type));
            return this;
        }

        public Builder AddMetadata(string key, string value)
        {
            _meta[key] = value;
            return this;
        }

        public TableSchema Build() => new(_cols, _meta);
    }
}
