namespace HessianML.Data;

/// <summary>Element type of a column: the scalar type, or the item type of a fixed-length vector column.</summary>
public enum DataKind
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
    public DataKind Kind { get; }

    /// <summary>0 for a scalar, the item count for a fixed-length vector, -1 for a vector of not yet known length.</summary>
    public int VectorLength { get; }

    private ColumnType(DataKind kind, int vectorLength) => (Kind, VectorLength) = (kind, vectorLength);

    public bool IsVector => VectorLength != 0;

    /// <summary>True for scalars and vectors whose length is known.</summary>
    public bool IsKnownSize => VectorLength >= 0;

    /// <summary>Items per row: 1 for a scalar, the vector length otherwise.</summary>
    public int ItemsPerRow => VectorLength == 0 ? 1 : VectorLength;

    /// <summary>The CLR type of one item (float, double, sbyte, int, long, string, bool).</summary>
    public Type ItemClrType => ClrTypeOf(Kind);

    public static ColumnType Scalar(DataKind kind) => new(kind, 0);

    public static ColumnType Vector(DataKind kind, int length)
    {
        if (length < 1)
            throw new ArgumentOutOfRangeException(nameof(length), $"vector length must be at least 1, got {length}");
        if (kind is DataKind.String or DataKind.Boolean)
            throw new ArgumentException($"vector columns hold numbers (Float32, Float64, Int8, Int32, Int64), not {kind}", nameof(kind));
        return new(kind, length);
    }

    /// <summary>A vector whose length is only known after fitting (output schemas of estimators only).</summary>
    public static ColumnType VariableVector(DataKind kind)
    {
        if (kind is DataKind.String or DataKind.Boolean)
            throw new ArgumentException($"vector columns hold numbers (Float32, Float64, Int8, Int32, Int64), not {kind}", nameof(kind));
        return new(kind, -1);
    }

    public static Type ClrTypeOf(DataKind kind) => kind switch
    {
        DataKind.Float32 => typeof(float),
        DataKind.Float64 => typeof(double),
        DataKind.Int8 => typeof(sbyte),
        DataKind.Int32 => typeof(int),
        DataKind.Int64 => typeof(long),
        DataKind.String => typeof(string),
        DataKind.Boolean => typeof(bool),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown data kind"),
    };

    /// <summary>The kind whose items are of CLR type <paramref name="type"/>, or null.</summary>
    public static DataKind? KindOf(Type type) =>
        type == typeof(float) ? DataKind.Float32
        : type == typeof(double) ? DataKind.Float64
        : type == typeof(sbyte) ? DataKind.Int8
        : type == typeof(int) ? DataKind.Int32
        : type == typeof(long) ? DataKind.Int64
        : type == typeof(string) ? DataKind.String
        : type == typeof(bool) ? DataKind.Boolean
        : null;

    /// <summary>"Float32", "Vector&lt;Float32, 2&gt;" or "Vector&lt;Float32, ?&gt;".</summary>
    public override string ToString() => VectorLength switch
    {
        0 => Kind.ToString(),
        < 0 => $"Vector<{Kind}, ?>",
        _ => $"Vector<{Kind}, {VectorLength}>",
    };
}
