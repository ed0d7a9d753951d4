using System.Globalization;

namespace HessianML.Data;

/// <summary>
/// The geometry of a dataset's `state` vector, read from the schema metadata the simulators write (`system`,
/// `size`): an L x L torus for the Ising model (translation-invariant networks fit it), a chain of L sites for TASEP
/// (open ends: position matters). Networks choose their architecture from it.
/// </summary>
public readonly record struct SampleShape(string System, int Height, int Width)
{
    public int Sites => Height * Width;

    /// <summary>True for periodic 2D lattices, where convolutions with global pooling are the natural model.</summary>
    public bool IsLattice => Height > 1;

    /// <summary>Reads the shape of <paramref name="data"/>'s `state` column; a clear error when it cannot.</summary>
    public static SampleShape Of(ColumnTable data)
    {
        var schema = data.Schema;
        if (!schema.TryGetColumn("state", out var column) || column.Type.Kind != ItemKind.Int8 || !column.Type.IsVector)
            throw new SchemaException("the samples need an Int8 vector column 'state'", "state", "SampleShape");
        int n = column.Type.VectorLength;
        string system = schema.Metadata.TryGetValue("system", out var s) ? s : "";
        int size = schema.Metadata.TryGetValue("size", out var text) && int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : 0;
        return system switch
        {
            "ising" when size * size == n => new SampleShape(system, size, size),
            "ising" => throw new InvalidDataException($"Ising samples: metadata size '{text}' does not match state length {n} (expected size^2)"),
            _ => new SampleShape(system, 1, n),
        };
    }
}
