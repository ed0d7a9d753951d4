using HessianML.Data;
using Microsoft.ML.Data;
using Ml = Microsoft.ML;

namespace HessianML.Pipeline.MlNet;

/// <summary>
/// What a HessianML component reads and writes, declared once and used for every ML.NET schema question: the input
/// columns it needs (name and type; a vector length of -1 accepts any length), the columns it adds, and the metadata
/// (<see cref="SchemaMetadata"/>) it puts on them.
/// </summary>
internal sealed record ComponentColumns(
    string Component,
    IReadOnlyList<(string Name, ColumnType Type)> Inputs,
    IReadOnlyList<(string Name, ColumnType Type)> Outputs,
    IReadOnlyDictionary<string, string>? OutputMetadata = null)
{
    /// <summary>Checks an input schema: a missing or mistyped column throws a <see cref="SchemaException"/> naming it.</summary>
    public void Check(Ml.DataViewSchema schema)
    {
        foreach (var (name, type) in Inputs)
        {
            var c = schema.GetColumnOrNull(name);
            if (c is null)
                throw new SchemaException($"{Component}: input column '{name}' ({Describe(type)}) not found; present: {ColumnTable.Describe(schema)}", name, Component);
            if (!Accepts(type, c.Value.Type))
                throw new SchemaException($"{Component}: input column '{name}' must be {Describe(type)} but is {c.Value.Type}", name, Component);
        }
    }

    /// <summary>Checks an estimator's input shape (vector lengths are not part of a shape, so any length passes).</summary>
    public void Check(Ml.SchemaShape shape)
    {
        foreach (var (name, type) in Inputs)
        {
            var found = shape.Where(c => c.Name == name).ToList();
            if (found.Count == 0)
                throw new SchemaException($"{Component}: input column '{name}' ({Describe(type)}) not found; present: {string.Join(", ", shape.Select(c => c.Name))}", name, Component);
            var c = found[^1];
            bool vector = c.Kind != Ml.SchemaShape.Column.VectorKind.Scalar;
            var item = ColumnTable.ToMlType(ColumnType.Scalar(type.Kind));
            if (vector != type.IsVector || !c.ItemType.Equals(item) || c.IsKey)
                throw new SchemaException($"{Component}: input column '{name}' must be {Describe(type)} but is {(vector ? $"a vector of {c.ItemType}" : c.ItemType.ToString())}", name, Component);
        }
    }

    /// <summary>The output schema of the fitted component: the input's columns, then the added ones.</summary>
    public Ml.DataViewSchema OutputSchema(Ml.DataViewSchema input)
    {
        Check(input);
        var builder = new Ml.DataViewSchema.Builder();
        builder.AddColumns(input);
        var annotations = SchemaMetadata.ToAnnotations(OutputMetadata ?? new Dictionary<string, string>());
        foreach (var (name, type) in Outputs) builder.AddColumn(name, ColumnTable.ToMlType(type), annotations);
        return builder.ToSchema();
    }

    /// <summary>The output shape of the estimator (see <see cref="SchemaShapes"/>).</summary>
    public Ml.SchemaShape OutputShape(Ml.SchemaShape input)
    {
        Check(input);
        // A vector whose length the fit decides (an encoder's embedding) is still of known size once fitted: a shape
        // records the kind only, so any length stands for it.
        return SchemaShapes.With(input, Outputs.Select(o => (o.Name,
            ColumnTable.ToMlType(o.Type.IsKnownSize ? o.Type : ColumnType.Vector(o.Type.Kind, 1)))));
    }

    private static bool Accepts(ColumnType wanted, DataViewType actual)
    {
        var item = ColumnTable.ToMlType(ColumnType.Scalar(wanted.Kind));
        if (!wanted.IsVector) return actual.Equals(item);
        // A vector of unknown length (what a loaded model's or a prediction engine's row form gives) may hold the right
        // length: the table a batch reads is checked once materialised, a row form checks each row.
        return actual is VectorDataViewType v && v.ItemType.Equals(item) && (wanted.VectorLength < 0 || !v.IsKnownSize || v.Size == wanted.VectorLength);
    }

    private static string Describe(ColumnType t)
    {
        string item = ColumnTable.ToMlType(ColumnType.Scalar(t.Kind)).ToString() ?? t.Kind.ToString();
        return !t.IsVector ? item : t.VectorLength < 0 ? $"Vector<{item}>" : $"Vector<{item}, {t.VectorLength}>";
    }
}
