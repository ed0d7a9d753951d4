using Microsoft.ML.Data;
using ML = Microsoft.ML;

namespace HessianML.Data;

/// <summary>
/// Dataset-level metadata (system, lattice size, seed, ...) on an ML.NET schema. ML.NET's
/// <see cref="ML.DataViewSchema"/> has no schema-level metadata, so by this library's convention each key/value pair is
/// a text annotation (<see cref="TextDataViewType"/>, <see cref="ReadOnlyMemory{T}"/> of char) with the key as its
/// name, put on every column. That way it survives transforms that pass any of the original columns through.
/// <see cref="ArrowDataView"/> attaches an Arrow file's schema metadata this way; <see cref="ArrowDataSaver"/> writes
/// back what <see cref="Read"/> collects.
/// </summary>
public static class SchemaMetadata
{
    /// <summary>
    /// ML.NET's own annotation kinds: they describe one column (a score column's kind, slot names, ...), not the
    /// dataset, so <see cref="Read"/> leaves them out even when they are text.
    /// </summary>
    public static IReadOnlySet<string> ReservedKinds { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "SlotNames", "KeyValues", "ScoreColumnSetId", "ScoreColumnKind", "ScoreValueKind", "IsNormalized",
        "IsUserVisible", "TrainingLabelValues", "CategoricalSlotRanges",
    };

    /// <summary>
    /// The text annotations of all columns of <paramref name="schema"/> (hidden ones included), as a dictionary in
    /// the order keys are first met; when columns disagree on a key the later column wins. Annotations of other types
    /// and ML.NET's <see cref="ReservedKinds"/> are left out.
    /// </summary>
    public static IReadOnlyDictionary<string, string> Read(ML.DataViewSchema schema)
    {
        ArgumentNullException.ThrowIfNull(schema);
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        ReadOnlyMemory<char> value = default;
        foreach (var column in schema)
        {
            var annotations = column.Annotations;
            foreach (var kind in annotations.Schema)
            {
                if (kind.Type is not TextDataViewType || ReservedKinds.Contains(kind.Name)) continue;
                annotations.GetGetter<ReadOnlyMemory<char>>(kind)(ref value);
                result[kind.Name] = value.ToString();
            }
        }
        return result;
    }

    /// <summary>Annotations holding <paramref name="metadata"/> as text annotations, to attach to every column of a schema.</summary>
    public static ML.DataViewSchema.Annotations ToAnnotations(IEnumerable<KeyValuePair<string, string>> metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        var builder = new ML.DataViewSchema.Annotations.Builder();
        foreach (var (key, value) in metadata)
            builder.AddPrimitiveValue(key, TextDataViewType.Instance, (value ?? "").AsMemory());
        return builder.ToAnnotations();
    }
}
