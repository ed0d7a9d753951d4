using HessianML.Data;

namespace HessianML.Tests.Data;

[TestClass]
public sealed class ArrowDataFileTests
{
    private static string TempDir()
    {
        string dir = Path.Combine(Path.GetTempPath(), "hml-arrow-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>Every supported column type, with awkward values (NaN, infinities, extremes, null and non-ASCII strings).</summary>
    internal static ColumnTable AllTypes(int rows, int seed)
    {
        var rng = new Random(seed);
        var f32 = new float[rows];
        var f64 = new double[rows];
        var i32 = new int[rows];
        var i64 = new long[rows];
        var s8 = new sbyte[rows];
        var str = new string[rows];
        var flag = new bool[rows];
        var t = new float[rows * 2];
        var d3 = new double[rows * 3];
        var state = new sbyte[rows * 16];
        var i4 = new int[rows * 4];
        for (int r = 0; r < rows; r++)
        {
            f32[r] = (float)(rng.NextDouble() * 2 - 1) * MathF.Pow(10, rng.Next(-30, 30));
            f64[r] = (rng.NextDouble() * 2 - 1) * Math.Pow(10, rng.Next(-300, 300));
            i32[r] = rng.Next(int.MinValue, int.MaxValue);
            i64[r] = rng.NextInt64(long.MinValue, long.MaxValue);
            s8[r] = (sbyte)rng.Next(-128, 128);
            str[r] = r % 5 == 3 ? null! : $"row {r} — ñ,\"q\"";
            flag[r] = rng.Next(2) == 1;
            t[2 * r] = (float)rng.NextDouble();
            t[2 * r + 1] = (float)rng.NextDouble();
            for (int k = 0; k < 3; k++) d3[3 * r + k] = rng.NextDouble();
            for (int k = 0; k < 16; k++) state[16 * r + k] = rng.Next(2) == 0 ? (sbyte)-1 : (sbyte)1;
            for (int k = 0; k < 4; k++) i4[4 * r + k] = rng.Next();
        }
        if (rows > 2)
        {
            f32[0] = float.NaN;
            f32[1] = float.NegativeInfinity;
            f64[0] = double.Epsilon;
            f64[1] = double.NaN;
        }
        return new ColumnTable.Builder()
            .AddScalar("f32", f32).AddScalar("f64", f64).AddScalar("i32", i32).AddScalar("i64", i64)
            .AddScalar("s8", s8).AddScalar("name", str).AddScalar("flag", flag)
            .AddVector("t", 2, t).AddVector("d3", 3, d3).AddVector("state", 16, state).AddVector("i4", 4, i4)
            .AddMetadata("system", "ising").AddMetadata("L", "4").AddMetadata("seed", "17")
            .Build();
    }

    internal static void AssertSameData(ColumnTable expected, ColumnTable actual)
    {
        Assert.IsTrue(expected.Schema.SameAs(actual.Schema), $"schema {expected.Schema} vs {actual.Schema}");
        Assert.AreEqual(expected.RowCount, actual.RowCount);
        foreach (var c in expected.Schema)
        {
            switch (c.Type.Kind)
            {
                case ItemKind.Float32:
                    // Bitwise: NaN payloads and signed zeros must survive too.
                    CollectionAssert.AreEqual(
                        expected.GetColumn<float>(c.Name).ToArray().Select(BitConverter.SingleToInt32Bits).ToArray(),
                        actual.GetColumn<float>(c.Name).ToArray().Select(BitConverter.SingleToInt32Bits).ToArray(), c.Name);
                    break;
                case ItemKind.Float64:
                    CollectionAssert.AreEqual(
                        expected.GetColumn<double>(c.Name).ToArray().Select(BitConverter.DoubleToInt64Bits).ToArray(),
                        actual.GetColumn<double>(c.Name).ToArray().Select(BitConverter.DoubleToInt64Bits).ToArray(), c.Name);
                    break;
                case ItemKind.Int8: CollectionAssert.AreEqual(expected.GetColumn<sbyte>(c.Name).ToArray(), actual.GetColumn<sbyte>(c.Name).ToArray(), c.Name); break;
                case ItemKind.Int32: CollectionAssert.AreEqual(expected.GetColumn<int>(c.Name).ToArray(), actual.GetColumn<int>(c.Name).ToArray(), c.Name); break;
                case ItemKind.Int64: CollectionAssert.AreEqual(expected.GetColumn<long>(c.Name).ToArray(), actual.GetColumn<long>(c.Name).ToArray(), c.Name); break;
                // ML.NET text has no null: a null string is written, and read back, as empty text.
                case ItemKind.String: CollectionAssert.AreEqual(expected.GetColumn<string>(c.Name).ToArray().Select(x => x ?? "").ToArray(), actual.GetColumn<string>(c.Name).ToArray(), c.Name); break;
                case ItemKind.Boolean: CollectionAssert.AreEqual(expected.GetColumn<bool>(c.Name).ToArray(), actual.GetColumn<bool>(c.Name).ToArray(), c.Name); break;
                default: Assert.Fail($"unexpected kind {c.Type.Kind}"); break;
            }
        }
    }

    [TestMethod]
    public void RoundTripsEveryColumnTypeAndMetadataAcrossSeveralBatches()
    {
        string dir = TempDir();
        try
        {
            var view = AllTypes(1000, 3);
            string path = Path.Combine(dir, "all.arrow");
            // 1000 rows in batches of 128: the last batch is partial, exercising offsets on read.
            ArrowDataFile.Write(view, path, batchRows: 128);
            var back = ArrowDataFile.Read(path);
            AssertSameData(view, back);
            Assert.AreEqual("ising", back.Schema.Metadata["system"]);
            Assert.AreEqual(ColumnType.Vector(ItemKind.Int8, 16), back.Schema["state"].Type);
            Assert.AreEqual(1, Directory.GetFiles(dir).Length, "no temporary file may remain");
        }
        finally { Directory.Delete(dir, true); }
    }

    [TestMethod]
    public void RoundTripsAnEmptyView()
    {
        string dir = TempDir();
        try
        {
            var view = AllTypes(0, 1);
            string path = Path.Combine(dir, "empty.arrow");
            ArrowDataFile.Write(view, path);
            var back = ArrowDataFile.Read(path);
            Assert.AreEqual(0, back.RowCount);
            Assert.IsTrue(view.Schema.SameAs(back.Schema));
        }
        finally { Directory.Delete(dir, true); }
    }

    [TestMethod]
    public void TruncatedAndForeignFilesAreRefusedNamingTheFile()
    {
        string dir = TempDir();
        try
        {
            string path = Path.Combine(dir, "good.arrow");
            ArrowDataFile.Write(AllTypes(300, 5), path, batchRows: 100);
            byte[] bytes = File.ReadAllBytes(path);
            foreach (int keep in new[] { bytes.Length - 10, bytes.Length / 2, 20, 3 })
            {
                string cut = Path.Combine(dir, $"cut{keep}.arrow");
                File.WriteAllBytes(cut, bytes[..keep]);
                var ex = Assert.ThrowsExactly<InvalidDataException>(() => ArrowDataFile.Read(cut), $"kept {keep} bytes");
                StringAssert.Contains(ex.Message, cut);
            }
            string text = Path.Combine(dir, "notes.arrow");
            File.WriteAllText(text, "t1,t2\n0.1,0.2\n");
            var ex2 = Assert.ThrowsExactly<InvalidDataException>(() => ArrowDataFile.Read(text));
            StringAssert.Contains(ex2.Message, text);
            Assert.ThrowsExactly<FileNotFoundException>(() => ArrowDataFile.Read(Path.Combine(dir, "absent.arrow")));
        }
        finally { Directory.Delete(dir, true); }
    }

    /// <summary>An ML.NET view over a table whose cursor fails after <paramref name="failAfterRows"/> rows.</summary>
    private sealed class FaultyView(ColumnTable inner, int failAfterRows) : Microsoft.ML.IDataView
    {
        private Microsoft.ML.IDataView Inner => inner;
        public bool CanShuffle => false;
        public Microsoft.ML.DataViewSchema Schema => Inner.Schema;
        public long? GetRowCount() => Inner.GetRowCount();

        public Microsoft.ML.DataViewRowCursor GetRowCursor(IEnumerable<Microsoft.ML.DataViewSchema.Column> columnsNeeded, Random? rand = null) =>
            new Cursor(Inner.GetRowCursor(columnsNeeded), failAfterRows);

        public Microsoft.ML.DataViewRowCursor[] GetRowCursorSet(IEnumerable<Microsoft.ML.DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
            [GetRowCursor(columnsNeeded, rand)];

        private sealed class Cursor(Microsoft.ML.DataViewRowCursor inner, int failAfterRows) : Microsoft.ML.DataViewRowCursor
        {
            public override Microsoft.ML.DataViewSchema Schema => inner.Schema;
            public override long Position => inner.Position;
            public override long Batch => inner.Batch;
            public override bool IsColumnActive(Microsoft.ML.DataViewSchema.Column column) => inner.IsColumnActive(column);
            public override Microsoft.ML.ValueGetter<Microsoft.ML.Data.DataViewRowId> GetIdGetter() => inner.GetIdGetter();
            public override Microsoft.ML.ValueGetter<TValue> GetGetter<TValue>(Microsoft.ML.DataViewSchema.Column column) => inner.GetGetter<TValue>(column);

            public override bool MoveNext() =>
                inner.Position + 1 >= failAfterRows ? throw new IOException("simulated failure while writing") : inner.MoveNext();
        }
    }

    [TestMethod]
    public void FailedWritesLeaveNoFileAndKeepThePreviousOne()
    {
        string dir = TempDir();
        try
        {
            var view = AllTypes(50, 2);
            string path = Path.Combine(dir, "out.arrow");
            // A failure in the middle of writing (the first batch of 16 rows already written) leaves nothing behind.
            Assert.ThrowsExactly<IOException>(() => ArrowDataSaver.Save(new FaultyView(view, 40), path, batchRows: 16));
            Assert.AreEqual(0, Directory.GetFiles(dir).Length, "a half-written temporary must be removed");

            // And an existing file survives a failed overwrite untouched.
            ArrowDataFile.Write(view, path);
            byte[] before = File.ReadAllBytes(path);
            Assert.ThrowsExactly<IOException>(() => ArrowDataSaver.Save(new FaultyView(AllTypes(60, 9), 40), path, batchRows: 16));
            CollectionAssert.AreEqual(before, File.ReadAllBytes(path));
            Assert.AreEqual(1, Directory.GetFiles(dir).Length);
        }
        finally { Directory.Delete(dir, true); }
    }
}
