using System.Globalization;
using System.Text;

namespace HessianML.Data;

/// <summary>How <see cref="CsvDataFile.Write(ColumnTable, string, CsvWriteOptions?)"/> lays out columns.</summary>
public sealed class CsvWriteOptions
{
    /// <summary>
    /// Header names for vector columns, e.g. <c>["t"] = ["t1", "t2"]</c>. A vector column not listed here, of
    /// length n, is written as <c>c0..c(n-1)</c>.
    /// </summary>
    public Dictionary<string, string[]> ExpandedNames { get; } = new(StringComparer.Ordinal);

    /// <summary>Columns to write, in order; null writes every column.</summary>
    public IReadOnlyList<string>? Columns { get; set; }
}

/// <summary>How <see cref="CsvDataFile.Read(string, CsvReadOptions?)"/> types and groups CSV columns.</summary>
public sealed class CsvReadOptions
{
    /// <summary>Kind of every CSV column not otherwise mentioned (Float64 by default).</summary>
    public ItemKind DefaultKind { get; set; } = ItemKind.Float64;

    /// <summary>Per-column kinds, e.g. <c>["index"] = ItemKind.Int32</c>.</summary>
    public Dictionary<string, ItemKind> ColumnKinds { get; } = new(StringComparer.Ordinal);

    internal List<(string Name, ItemKind Kind, string[] Sources)> Vectors { get; } = [];

    /// <summary>Gathers CSV columns <paramref name="sources"/> (in order) into one vector column <paramref name="name"/>.</summary>
    public CsvReadOptions Vector(string name, ItemKind kind, params string[] sources)
    {
        if (sources.Length == 0) throw new ArgumentException($"vector '{name}' needs at least one source column");
        Vectors.Add((name, kind, sources));
        return this;
    }
}

/// <summary>
/// CSV for small tables (metric fields, geodesics, examples): invariant culture, numbers written round-trippably
/// (shortest "R" form, so float and double read back bit-exactly), RFC 4180 quoting for strings. The reader is meant
/// for numeric CSVs (header + numbers); every error names the file, line and column.
/// </summary>
public static class CsvDataFile
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static void Write(ColumnTable view, string path, CsvWriteOptions? options = null) =>
        AtomicFile.Write(path, stream =>
        {
            using var w = new StreamWriter(stream, new UTF8Encoding(false), leaveOpen: true);
            Write(view, w, options);
        });

    public static void Write(ColumnTable view, TextWriter writer, CsvWriteOptions? options = null)
    {
        options ??= new CsvWriteOptions();
        var cols = (options.Columns ?? view.Schema.Select(c => c.Name).ToList()).Select(n => view.Schema[n]).ToArray();
        var header = new List<string>();
        foreach (var c in cols)
        {
            if (!c.Type.IsVector)
            {
                header.Add(c.Name);
                continue;
            }
            if (options.ExpandedNames.TryGetValue(c.Name, out var names))
            {
                if (names.Length != c.Type.VectorLength)
                    throw new SchemaException(
                        $"column '{c.Name}' is {c.Type} but {names.Length} expanded names were given ({string.Join(",", names)})", c.Name);
                header.AddRange(names);
            }
            else
            {
                for (int k = 0; k < c.Type.VectorLength; k++) header.Add(c.Name + k.ToString(Inv));
            }
        }
        writer.Write(string.Join(",", header.Select(Quote)));
        writer.Write('\n');
        var cells = cols.Select(c => Formatter(view, c)).ToArray();
        var sb = new StringBuilder();
        for (int r = 0; r < view.RowCount; r++)
        {
            sb.Clear();
            for (int i = 0; i < cols.Length; i++)
            {
                int n = cols[i].Type.ItemsPerRow;
                for (int k = 0; k < n; k++)
                {
                    if (sb.Length > 0) sb.Append(',');
                    sb.Append(cells[i](r * n + k));
                }
            }
            sb.Append('\n');
            writer.Write(sb);
        }
    }

    private static Func<int, string> Formatter(ColumnTable view, TableSchema.Column c)
    {
        switch (c.Type.Kind)
        {
            case ItemKind.Float32: { var a = view.GetColumn<float>(c.Name); return i => a.Span[i].ToString("R", Inv); }
            case ItemKind.Float64: { var a = view.GetColumn<double>(c.Name); return i => a.Span[i].ToString("R", Inv); }
            case ItemKind.Int8: { var a = view.GetColumn<sbyte>(c.Name); return i => a.Span[i].ToString(Inv); }
            case ItemKind.Int32: { var a = view.GetColumn<int>(c.Name); return i => a.Span[i].ToString(Inv); }
            case ItemKind.Int64: { var a = view.GetColumn<long>(c.Name); return i => a.Span[i].ToString(Inv); }
            case ItemKind.Boolean: { var a = view.GetColumn<bool>(c.Name); return i => a.Span[i] ? "true" : "false"; }
            case ItemKind.String: { var a = view.GetColumn<string>(c.Name); return i => a.Span[i] is { } s ? Quote(s) : ""; }
            default: throw new InvalidOperationException();
        }
    }

    private static string Quote(string s) =>
        s.AsSpan().IndexOfAny(",\"\r\n") >= 0 || (s.Length > 0 && (char.IsWhiteSpace(s[0]) || char.IsWhiteSpace(s[^1])))
            ? "\"" + s.Replace("\"", "\"\"", StringComparison.Ordinal) + "\""
            : s;

    /// <summary>Reads a CSV with a header line into a <see cref="ColumnTable"/>; empty trailing lines are ignored.</summary>
    public static ColumnTable Read(string path, CsvReadOptions? options = null)
    {
        using var reader = new StreamReader(path, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        return Read(reader, path, options);
    }

    /// <summary>Reads CSV text; <paramref name="name"/> is used in error messages.</summary>
    public static ColumnTable Read(TextReader reader, string name, CsvReadOptions? options = null)
    {
        options ??= new CsvReadOptions();
        string? headerLine = reader.ReadLine();
        if (headerLine is null) throw new InvalidDataException($"file '{name}' is empty: a CSV needs a header line");
        var header = Split(headerLine, name, 1);
        var position = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < header.Count; i++)
            if (!position.TryAdd(header[i], i))
                throw new InvalidDataException($"file '{name}', line 1: column '{header[i]}' appears twice");

        // Output columns: vectors at the position of their first source, the other CSV columns as scalars.
        var grouped = new HashSet<string>(StringComparer.Ordinal);
        var vectorAt = new Dictionary<int, (string Name, ItemKind Kind, int[] Sources)>();
        foreach (var (vname, kind, sources) in options.Vectors)
        {
            var idx = new int[sources.Length];
            for (int k = 0; k < sources.Length; k++)
            {
                if (!position.TryGetValue(sources[k], out idx[k]))
                    throw new InvalidDataException($"file '{name}': column '{sources[k]}' (for vector '{vname}') not in header {headerLine}");
                if (!grouped.Add(sources[k]))
                    throw new ArgumentException($"CSV column '{sources[k]}' is used by two vectors");
            }
            vectorAt[idx.Min()] = (vname, kind, idx);
        }
        var outCols = new List<(string Name, ColumnType Type, int[] Sources)>();
        for (int i = 0; i < header.Count; i++)
        {
            if (vectorAt.TryGetValue(i, out var v))
                outCols.Add((v.Name, ColumnType.Vector(v.Kind, v.Sources.Length), v.Sources));
            if (!grouped.Contains(header[i]))
                outCols.Add((header[i], ColumnType.Scalar(options.ColumnKinds.GetValueOrDefault(header[i], options.DefaultKind)), [i]));
        }

        var cells = new List<string[]>();
        var lines = new List<int>();
        string? line;
        int lineNo = 1;
        while ((line = reader.ReadLine()) != null)
        {
            lineNo++;
            if (line.Length == 0) continue;
            var f = Split(line, name, lineNo);
            if (f.Count != header.Count)
                throw new InvalidDataException($"file '{name}', line {lineNo}: {f.Count} fields but the header has {header.Count}");
            cells.Add([.. f]);
            lines.Add(lineNo);
        }

        var b = new ColumnTable.Builder();
        foreach (var (cname, type, sources) in outCols)
        {
            int n = sources.Length, rows = cells.Count;
            Array data = Array.CreateInstance(type.ItemClrType, rows * n);
            for (int r = 0; r < rows; r++)
                for (int k = 0; k < n; k++)
                {
                    string s = cells[r][sources[k]];
                    object value;
                    try
                    {
                        value = Parse(s, type.Kind);
                    }
                    catch (Exception ex) when (ex is FormatException or OverflowException)
                    {
                        throw new InvalidDataException(
                            $"file '{name}', line {lines[r]}, column {sources[k] + 1} ('{header[sources[k]]}'): cannot read '{s}' as {type.Kind}");
                    }
                    data.SetValue(value, r * n + k);
                }
            b.AddColumn(cname, type, data);
        }
        return b.Build();
    }

    private static object Parse(string s, ItemKind kind)
    {
        var t = s.AsSpan().Trim();
        const NumberStyles Fl = NumberStyles.Float;
        return kind switch
        {
            ItemKind.Float32 => float.Parse(t, Fl, Inv),
            ItemKind.Float64 => double.Parse(t, Fl, Inv),
            ItemKind.Int8 => sbyte.Parse(t, NumberStyles.Integer, Inv),
            ItemKind.Int32 => int.Parse(t, NumberStyles.Integer, Inv),
            ItemKind.Int64 => long.Parse(t, NumberStyles.Integer, Inv),
            ItemKind.Boolean => t is "1" ? true : t is "0" ? false : bool.Parse(t),
            ItemKind.String => s,
            _ => throw new InvalidOperationException(),
        };
    }

    /// <summary>Splits one line into fields, honouring RFC 4180 double quotes (fields do not span lines here).</summary>
    internal static List<string> Split(string line, string name, int lineNo)
    {
        var fields = new List<string>();
        var sb = new StringBuilder();
        int i = 0;
        while (true)
        {
            sb.Clear();
            if (i < line.Length && line[i] == '"')
            {
                i++;
                while (true)
                {
                    if (i >= line.Length)
                        throw new InvalidDataException($"file '{name}', line {lineNo}, column {fields.Count + 1}: unterminated quoted field");
                    if (line[i] == '"')
                    {
                        if (i + 1 < line.Length && line[i + 1] == '"') { sb.Append('"'); i += 2; continue; }
                        i++;
                        break;
                    }
                    sb.Append(line[i++]);
                }
                if (i < line.Length && line[i] != ',')
                    throw new InvalidDataException($"file '{name}', line {lineNo}, column {fields.Count + 1}: text after a closing quote");
            }
            else
            {
                while (i < line.Length && line[i] != ',') sb.Append(line[i++]);
            }
            fields.Add(sb.ToString());
            if (i >= line.Length) break;
            i++; // the comma
        }
        return fields;
    }
}
