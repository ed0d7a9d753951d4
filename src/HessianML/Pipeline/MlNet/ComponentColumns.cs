using HessianML.Data;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;
using Ml = Microsoft.ML;

namespace HessianML.Pipeline.MlNet;

/// <summary>
/// What a HessianML component reads and writes, declared once and used for every ML.NET schema question: the input
/// columns it needs (name and type; a vector length of -1 accepts any length), the columns it adds, and the metadata
/// (<see cref="SchemaMetadata"/>) it puts on them. An input named in <c>ImageInputs</c> is an image column instead
/// (its declared type is ignored): file paths (String), ML.NET's Image type (<c>LoadImages</c>), or either.
/// </summary>
internal sealed record ComponentColumns(
    string Component,
    IReadOnlyList<(string Name, ColumnType Type)> Inputs,
    IReadOnlyList<(string Name, ColumnType Type)> Outputs,
    IReadOnlyDictionary<string, string>? OutputMetadata = null,
    IReadOnlyDictionary<string, ImageColumnKinds>? ImageInputs = null)
{
    /// <summary>Checks an input schema: a missing or mistyped column throws a <see cref="SchemaException"/> naming it.</summary>
    public void Check(Ml.DataViewSchema schema)
    {
        foreach (var (name, type) in Inputs)
        {
            var c = schema.GetColumnOrNull(name);
            if (c is null)
                throw new SchemaException($"{Component}: input column '{name}' ({Describe(name, type)}) not found; present: {ColumnTable.Describe(schema)}", name, Component);
            if (!(ImageKinds(name) is { } kinds ? kinds.Accepts(c.Value.Type) : Accepts(type, c.Value.Type)))
                throw new SchemaException($"{Component}: input column '{name}' must be {Describe(name, type)} but is {c.Value.Type}", name, Component);
        }
    }

    /// <summary>Checks an estimator's input shape (vector lengths are not part of a shape, so any length passes).</summary>
    public void Check(Ml.SchemaShape shape)
    {
        foreach (var (name, type) in Inputs)
        {
            var found = shape.Where(c => c.Name == name).ToList();
            if (found.Count == 0)
                throw new SchemaException($"{Component}: input column '{name}' ({Describe(name, type)}) not found; present: {string.Join(", ", shape.Select(c => c.Name))}", name, Component);
            var c = found[^1];
            bool vector = c.Kind != Ml.SchemaShape.Column.VectorKind.Scalar;
            if (ImageKinds(name) is { } kinds)
            {
                if (vector || c.IsKey || !kinds.Accepts(c.ItemType))
                    throw new SchemaException($"{Component}: input column '{name}' must be {kinds.Describe()} but is {(vector ? $"a vector of {c.ItemType}" : c.ItemType.ToString())}", name, Component);
                continue;
            }
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

    private ImageColumnKinds? ImageKinds(string name) => ImageInputs is not null && ImageInputs.TryGetValue(name, out var k) ? k : null;

    private string Describe(string name, ColumnType t) => ImageKinds(name) is { } kinds ? kinds.Describe() : Describe(t);

    private static string Describe(ColumnType t)
    {
        string item = ColumnTable.ToMlType(ColumnType.Scalar(t.Kind)).ToString() ?? t.Kind.ToString();
        return !t.IsVector ? item : t.VectorLength < 0 ? $"Vector<{item}>" : $"Vector<{item}, {t.VectorLength}>";
    }
}

/// <summary>What an image input column may hold.</summary>
[Flags]
internal enum ImageColumnKinds
{
    /// <summary>Image file paths: String.</summary>
    Paths = 1,

    /// <summary>Decoded images: ML.NET's Image type (<see cref="MLImage"/>, what <c>mlContext.Transforms.LoadImages</c> gives).</summary>
    Images = 2,

    Either = Paths | Images,
}

internal static class ImageColumnKindsExtensions
{
    public static bool Accepts(this ImageColumnKinds kinds, DataViewType type) =>
        (kinds.HasFlag(ImageColumnKinds.Paths) && type is TextDataViewType) || (kinds.HasFlag(ImageColumnKinds.Images) && type is ImageDataViewType);

    public static string Describe(this ImageColumnKinds kinds) => kinds switch
    {
        ImageColumnKinds.Paths => "String (image file paths)",
        ImageColumnKinds.Images => "Image (mlContext.Transforms.LoadImages)",
        _ => "String (image file paths) or Image (mlContext.Transforms.LoadImages)",
    };
}
