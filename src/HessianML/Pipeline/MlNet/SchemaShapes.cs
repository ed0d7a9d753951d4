using Microsoft.ML;
using Microsoft.ML.Data;
using Ml = Microsoft.ML;

namespace HessianML.Pipeline.MlNet;

/// <summary>
/// Output shapes for our estimators through ML.NET's public API. WHY this detour: <c>SchemaShape.Column</c>'s constructor
/// is internal, so a third-party estimator cannot describe a new column itself; a <c>CustomMapping</c> estimator built
/// with a runtime <see cref="SchemaDefinition"/> can, so one probe column per output is made that way and merged with
/// the input's columns through <c>new SchemaShape(columns)</c> (public). Schema-time only: nothing is fitted or run.
/// </summary>
internal static class SchemaShapes
{
    private static readonly MLContext Probe = new(seed: 0);

    /// <summary><paramref name="input"/> with <paramref name="outputs"/> added (a same-named input column is replaced).</summary>
    public static Ml.SchemaShape With(Ml.SchemaShape input, IEnumerable<(string Name, DataViewType Type)> outputs)
    {
        var columns = input.ToList();
        foreach (var (name, type) in outputs)
        {
            columns.RemoveAll(c => c.Name == name);
            columns.Add(Column(name, type));
        }
        return new Ml.SchemaShape(columns);
    }

    private static Ml.SchemaShape.Column Column(string name, DataViewType type)
    {
        var item = type is VectorDataViewType v ? v.ItemType : type;
        string member = (type is VectorDataViewType ? "V" : "") + item.RawType.Name.Replace('`', '_');
        var definition = SchemaDefinition.Create(typeof(ProbeRow));
        definition.RemoveAll(c => c.MemberName != member);
        if (definition.Count != 1) throw new ArgumentException($"column '{name}': no probe for type {type}");
        definition[0].ColumnName = name;
        definition[0].ColumnType = type;
        Action<EmptyRow, ProbeRow> none = (_, _) => { };
        var shape = Probe.Transforms.CustomMapping(none, null, outputSchemaDefinition: definition)
            .GetOutputSchema(new Ml.SchemaShape([]));
        return shape.Single(c => c.Name == name);
    }

    private sealed class EmptyRow { }

    // One member per item type a HessianML column can have; the member's name is what Column() selects by.
#pragma warning disable CS0649 // assigned by ML.NET, never here
    private sealed class ProbeRow
    {
        public float Single;
        public double Double;
        public sbyte SByte;
        public int Int32;
        public long Int64;
        public bool Boolean;
        public ReadOnlyMemory<char> ReadOnlyMemory_1;
        public float[]? VSingle;
        public double[]? VDouble;
        public sbyte[]? VSByte;
        public int[]? VInt32;
        public long[]? VInt64;
    }
#pragma warning restore CS0649
}
