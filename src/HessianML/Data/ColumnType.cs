namespace HessianML.Data;

/// <summary>Element type of a column: the scalar type, or the item type of a fixed-length vector column.</summary>
public enum ItemKind
{
    Float32,
    Float64,
    Int8,
    Int32,
    Int64,
    String,
    Boolean,
}

/// <summary>
/// A column's type: a scalar of <see cref="Kind"/>, or a fixed-length vector of <see cref="Kind"/> with
/// <see cref="VectorLength"/> items per row. Vectors are stored row-major, so a vector column of N rows is one flat
/// array of N * VectorLength items. An estimator that cannot know a vector's length before fitting may announce a
/// <see cref="VariableVector"/> in its output schema; a data view itself only ever holds known lengths.
/// </summary>
public readonly record struct ColumnType
{
    /// <summary>Item type (of the scalar, or of each vector item).</summary>
    public ItemKind Kind { get; }

    /// <summary>0 for a scalar, the item count for a fixed-length vector, -1 for a vector of not yet known length.</summary>
    public int VectorLength { get; }

    private ColumnType(ItemKind kind, int vectorLength) => (Kind, VectorLength) = (kind, vectorLength);

    public bool IsVector => VectorLength != 0;

    /// <summary>True for scalars and vectors whose length is known.</summary>
    public bool IsKnownSize => VectorLength >= 0;

    /// <summary>Items per row: 1 for a scalar, the vector length otherwise.</summary>
    public int ItemsPerRow => VectorLength == 0 ? 1 : VectorLength;

    /// <summary>The CLR type of one item (float, double, sbyte, int, long, string, bool).</summary>
    public Type ItemClrType => ClrTypeOf(Kind);

    public static ColumnType Scalar(ItemKind kind) => new(kind, 0);

    public static ColumnType Vector(ItemKind kind, int length)
    {
        if (length < 1)
            throw new ArgumentOutOfRangeException(nameof(length), $"vector length must be at least 1, got {length}");
        if (kind is ItemKind.String or ItemKind.Boolean)
            throw new ArgumentException($"vector columns hold numbers (Float32, Float64, Int8, Int32, Int64), not {kind}", nameof(kind));
        return new(kind, length);
    }

    /// <summary>A vector whose length is only known after fitting (output schemas of estimators only).</summary>
    public static ColumnType VariableVector(ItemKind kind)
    {
        if (kind is ItemKind.String or ItemKind.Boolean)
            throw new ArgumentException($"vector columns hold numbers (Float32, Float64, Int8, Int32, Int64), not {kind}", nameof(kind));
        return new(kind, -1);
    }

    public static Type ClrTypeOf(ItemKind kind) => kind switch
    {
        ItemKind.Float32 => typeof(float),
        ItemKind.Float64 => typeof(double),
        ItemKind.Int8 => typeof(sbyte),
        ItemKind.Int32 => typeof(int),
        ItemKind.Int64 => typeof(long),
        ItemKind.String => typeof(string),
        ItemKind.Boolean => typeof(bool),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown data kind"),
    };

    /// <summary>The kind whose items are of CLR type <paramref name="type"/>, or null.</summary>
    public static ItemKind? KindOf(Type type) =>
        type == typeof(float) ? ItemKind.Float32
        : type == typeof(double) ? ItemKind.Float64
        : type == typeof(sbyte) ? ItemKind.Int8
        : type == typeof(int) ? ItemKind.Int32
        : type == typeof(long) ? ItemKind.Int64
        : type == typeof(string) ? ItemKind.String
        : type == typeof(bool) ? ItemKind.Boolean
        : null;

    /// <summary>"Float32", "Vector&lt;Float32, 2&gt;" or "Vector&lt;Float32, ?&gt;".</summary>
    public override string ToString() => VectorLength switch
    {
        0 => Kind.ToString(),
        < 0 => $"Vector<{Kind}, ?>",
        _ => $"Vector<{Kind}, {VectorLength}>",
    };
}
