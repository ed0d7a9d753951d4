using Apache.Arrow;
using Apache.Arrow.Ipc;
using Apache.Arrow.Types;
using HessianML.Data;

namespace HessianML.Tests.Data;

/// <summary>Files written by other Arrow producers: nullable fields, builder-made arrays, unsupported types, nulls.</summary>
[TestClass]
public sealed class ForeignArrowTests
{
    private static string WriteRaw(string name, Apache.Arrow.Schema schema, params IArrowArray[] columns)
    {
        string path = Path.Combine(Path.GetTempPath(), $"hml-foreign-{name}-{Guid.NewGuid():N}.arrow");
        using var fs = File.Create(path);
        using var w = new ArrowFileWriter(fs, schema);
        w.WriteRecordBatch(new RecordBatch(schema, columns, columns[0].Length));
        w.WriteEnd();
        return path;
    }

    private static FixedSizeListArray Pairs(params float[] flat)
    {
        var values = new FloatArray.Builder().AppendRange(flat).Build();
        var type = new FixedSizeListType(new Field("item", FloatType.Default, nullable: true), 2);
        return new FixedSizeListArray(new ArrayData(type, flat.Length / 2, 0, 0, [ArrowBuffer.Empty], [values.Data]));
    }

    [TestMethod]
    public void ReadsPyarrowStyleNullableFieldsWithMetadata()
    {
        // pyarrow marks every field nullable and names list items "item"; no nulls present means we can read it.
        var schema = new Apache.Arrow.Schema.Builder()
            .Field(new Field("t", new FixedSizeListType(new Field("item", FloatType.Default, true), 2), true))
            .Field(new Field("energy", DoubleType.Default, true))
            .Metadata("system", "potts")
            .Build();
        string path = WriteRaw("ok", schema, Pairs(1, 2, 3, 4, 5, 6), new DoubleArray.Builder().AppendRange([-1.5, 0, 2.25]).Build());
        try
        {
            var v = ArrowDataFile.Read(path);
            Assert.AreEqual(ColumnType.Vector(ItemKind.Float32, 2), v.Schema["t"].Type);
            CollectionAssert.AreEqual(new float[] { 1, 2, 3, 4, 5, 6 }, v.GetColumn<float>("t").ToArray());
            CollectionAssert.AreEqual(new[] { -1.5, 0, 2.25 }, v.GetColumn<double>("energy").ToArray());
            Assert.AreEqual("potts", v.Schema.Metadata["system"]);
        }
        finally { File.Delete(path); }
    }

    [TestMethod]
    public void NullsAndUnsupportedTypesAreRefusedNamingFileAndColumn()
    {
        var schema = new Apache.Arrow.Schema.Builder().Field(new Field("e", DoubleType.Default, true)).Build();
        string withNull = WriteRaw("null", schema, new DoubleArray.Builder().Append(1).AppendNull().Append(3).Build());
        var dateSchema = new Apache.Arrow.Schema.Builder().Field(new Field("when", Date32Type.Default, false)).Build();
        string withDate = WriteRaw("date", dateSchema, new Date32Array.Builder().Append(new DateTime(2025, 1, 1)).Build());
        try
        {
            var ex = Assert.ThrowsExactly<InvalidDataException>(() => ArrowDataFile.Read(withNull));
            StringAssert.Contains(ex.Message, withNull);
            StringAssert.Contains(ex.Message, "'e'");
            StringAssert.Contains(ex.Message, "nulls");
            var ex2 = Assert.ThrowsExactly<InvalidDataException>(() => ArrowDataFile.Read(withDate));
            StringAssert.Contains(ex2.Message, withDate);
            StringAssert.Contains(ex2.Message, "'when'");
        }
        finally
        {
            File.Delete(withNull);
            File.Delete(withDate);
        }
    }
}
