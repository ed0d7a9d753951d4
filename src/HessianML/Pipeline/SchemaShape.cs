using HessianML.Data;

namespace HessianML.Pipeline;

/// <summary>Whether a required column must be a scalar, a vector, or may be either.</summary>
public enum ColumnShape
{
    Any,
    Scalar,
    Vector,
}

/// <summary>
/// What a component needs of one input column: its name, the acceptable item kinds (empty = any), scalar or vector,
/// and (for vectors) an exact length (0 = any). Build with <see cref="Scalar"/>, <see cref="Vector(string, ItemKind[])"/>,
/// <see cref="Vector(string, int, ItemKind[])"/> or <see cref="Any"/>.
/// </summary>
public sealed record ColumnRequirement(string Name, IReadOnlyList<ItemKind> Kinds, ColumnShape Shape, int Length = 0)
{
    public static ColumnRequirement Scalar(string name, params ItemKind[] kinds) => new(name, kinds, ColumnShape.Scalar);

    public static ColumnRequirement Vector(string name, params ItemKind[] kinds) => new(name, kinds, ColumnShape.Vector);

    public static ColumnRequirement Vector(string name, int length, params ItemKind[] kinds) => new(name, kinds, ColumnShape.Vector, length);

    public static ColumnRequirement Any(string name, params ItemKind[] kinds) => new(name, kinds, ColumnShape.Any);

    /// <summary>Whether <paramref name="type"/> satisfies this requirement (a vector of unknown length satisfies any length).</summary>
    public bool Accepts(ColumnType type) =>
        (Kinds.Count == 0 || Kinds.Contains(type.Kind))
        && Shape switch
        {
            ColumnShape.Scalar => !type.IsVector,
            ColumnShape.Vector => type.IsVector && (Length == 0 || !type.IsKnownSize || type.VectorLength == Length),
            _ => true,
        };

    /// <summary>"Vector&lt;Float32|Float64, 2&gt;", "Scalar&lt;Int32&gt;", "any type".</summary>
    public string Describe()
    {
        string kinds = Kinds.Count == 0 ? "any" : string.Join("|", Kinds);
        return Shape switch
        {
            ColumnShape.Scalar => $"Scalar<{kinds}>",
            ColumnShape.Vector => Length > 0 ? $"Vector<{kinds}, {Length}>" : $"Vector<{kinds}, any length>",
            _ => Kinds.Count == 0 ? "any type" : $"scalar or vector of {kinds}",
        };
    }
}

/// <summary>
/// Schema checks in one line for components: <c>SchemaShape.Require(input, "MyTransformer", ColumnRequirement.Vector("t", 2, ItemKind.Float32))</c>
/// throws a <see cref="SchemaException"/> naming the component, the column, what was expected and what is there.
/// </summary>
public static class SchemaShape
{
    /// <summary>Checks every requirement; the first unmet one throws.</summary>
    public static void Require(TableSchema schema, string component, params ColumnRequirement[] columns)
    {
        foreach (var c in columns) RequireColumn(schema, component, c);
    }

    /// <summary>Checks one requirement and returns the matching column.</summary>
    public static TableSchema.Column RequireColumn(TableSchema schema, string component, ColumnRequirement requirement)
    {
        if (!schema.TryGetColumn(requirement.Name, out var col))
            throw new SchemaException(
                $"{component}: input column '{requirement.Name}' ({requirement.Describe()}) not found; present: {schema.Describe()}",
                requirement.Name, component);
        if (!requirement.Accepts(col.Type))
            throw new SchemaException(
                $"{component}: input column '{requirement.Name}' must be {requirement.Describe()} but is {col.Type}",
                requirement.Name, component);
        return col;
    }

    /// <summary>Throws when an output column name would be empty.</summary>
    public static void RequireName(string? name, string component, string what)
    {
        if (string.IsNullOrWhiteSpace(name))
            throw new ArgumentException($"{component}: {what} must be a non-empty column name");
    }
}
