using System.Collections.Immutable;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace HessianML.Data;

/// <summary>
/// Dataset-level metadata (system, lattice size, seed; the posterior grid's K and box) on an ML.NET schema. ML.NET's
/// <see cref="Microsoft.ML.DataViewSchema"/> has no schema-level metadata, only per-column annotations, so each entry is
/// a text annotation (<see cref="TextDataViewType"/>) of the same name on every column. WHY every column: ML.NET
/// transforms pass input columns through with their annotations, so the entries survive any column being dropped,
/// copied or replaced downstream.
/// </summary>
public static class SchemaMetadata
{
    /// <summary>The text annotations of all columns (a later column wins where two disagree).</summary>
    public static IReadOnlyDictionary<string, string> Read(Microsoft.ML.DataViewSchema schema)
    {
        ArgumentNullException.ThrowIfNull(schema);
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var column in schema)
            foreach (var a in column.Annotations.Schema)
            {
                if (a.Type is not TextDataViewType) continue;
                ReadOnlyMemory<char> value = default;
                column.Annotations.GetValue(a.Name, ref value);
                result[a.Name] = value.ToString();
            }
        return result;
    }

    /// <summary>The entries as one column's annotations.</summary>
    public static Microsoft.ML.DataViewSchema.Annotations ToAnnotations(IReadOnlyDictionary<string, string> metadata)
    {
        var builder = new Microsoft.ML.DataViewSchema.Annotations.Builder();
        foreach (var (key, value) in metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            var text = value.AsMemory();
            builder.Add(key, TextDataViewType.Instance, (ref ReadOnlyMemory<char> v) => v = text);
        }
        return builder.ToAnnotations();
    }
}
