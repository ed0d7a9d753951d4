using System.Collections.Concurrent;
using Apache.Arrow;
using Apache.Arrow.Ipc;
using Apache.Arrow.Types;
using HessianML.Data;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML = Microsoft.ML;

namespace HessianML.Tests.Data;

/// <summary>
/// The ML.NET side of Arrow files: <see cref="ArrowDataView"/> (LoadFromArrow), <see cref="ArrowDataSaver"/>
/// (SaveAsArrow) and the <see cref="SchemaMetadata"/> convention, against files the old <see cref="ArrowDataFile"/>
/// writes and files other Arrow producers write.
/// </summary>
[TestClass]
public sealed class ArrowDataViewTests
{
    private string _dir = "";

    [TestInitialize]
    public void CreateFolder()
    {
        _dir = Path.Combine(Path.GetTempPath(), "hml-arrowdv-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
    }

    [TestCleanup]
    public void DeleteFolder() => Directory.Delete(_dir, recursive: true);

    /// <summary>A row of <see cref="ArrowDataFileTests.AllTypes"/>, as ML.NET's CreateEnumerable fills it.</summary>
    public sealed class AllTypesRow
    {
        [ColumnName("f32")] public float F32 { get; set; }
        [ColumnName("f64")] public double F64 { get; set; }
        [ColumnName("i32")] public int I32 { get; set; }
        [ColumnName("i64")] public long I64 { get; set; }
        [ColumnName("s8")] public sbyte S8 { get; set; }
        [ColumnName("name")] public string Name { get; set; } = "";
        [ColumnName("flag")] public bool Flag { get; set; }
        [ColumnName("t"), VectorType(2)] public float[] T { get; set; } = [];
        [ColumnName("d3"), VectorType(3)] public double[] D3 { get; set; } = [];
        [ColumnName("state"), VectorType(16)] public sbyte[] State { get; set; } = [];
        [ColumnName("i4"), VectorType(4)] public int[] I4 { get; set; } = [];
    }

    private string WriteOld(ColumnTable view, int batchRows, string name = "data.arrow")
    {
        string path = Path.Combine(_dir, name);
        ArrowDataFile.Write(view, path, batchRows);
        return path;
    }

    private string WriteRaw(string name, Apache.Arrow.Schema schema, params IArrowArray[][] batches)
    {
        string path = Path.Combine(_dir, name);
        using var fs = File.Create(path);
        using var w = new ArrowFileWriter(fs, schema);
        foreach (var columns in batches) w.WriteRecordBatch(new RecordBatch(schema, columns, columns[0].Length));
        w.WriteEnd();
        return path;
    }

    private static int[] Bits(float[] xs) => xs.Select(BitConverter.SingleToInt32Bits).ToArray();

    private static long[] Bits(double[] xs) => xs.Select(BitConverter.DoubleToInt64Bits).ToArray();

    private static T[] Row<T>(ColumnTable v, string column, int row) => v.GetRow<T>(column, row).ToArray();

    /// <summary>Every value of every column of <paramref name="view"/>, read through a raw cursor, as boxed objects (vectors as arrays).</summary>
    private static List<object[]> ReadAll(ML.IDataView view)
    {
        var rows = new List<object[]>();
        var columns = view.Schema.Where(c => !c.IsHidden).ToArray();
        using var cursor = view.GetRowCursor(columns);
        var getters = columns.Select(c => MakeBoxingGetter(cursor, c)).ToArray();
        while (cursor.MoveNext()) rows.Add(getters.Select(g => g()).ToArray());
        return rows;
    }

    private static Func<object> MakeBoxingGetter(DataViewRow row, ML.DataViewSchema.Column c)
    {
        var method = c.Type is VectorDataViewType v
            ? typeof(ArrowDataViewTests).GetMethod(nameof(VectorGetter), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!.MakeGenericMethod(v.ItemType.RawType)
            : typeof(ArrowDataViewTests).GetMethod(nameof(ScalarGetter), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!.MakeGenericMethod(c.Type.RawType);
        return (Func<object>)method.Invoke(null, [row, c])!;
    }

    private static Func<object> ScalarGetter<T>(DataViewRow row, ML.DataViewSchema.Column c)
    {
        var g = row.GetGetter<T>(c);
        return () =>
        {
            T value = default!;
            g(ref value);
            return value is ReadOnlyMemory<char> text ? text.ToString() : value!;
        };
    }

    private static Func<object> VectorGetter<T>(DataViewRow row, ML.DataViewSchema.Column c)
    {
        var g = row.GetGetter<VBuffer<T>>(c);
        return () =>
        {
            VBuffer<T> value = default;
            g(ref value);
            Assert.IsTrue(value.IsDense, $"column '{c.Name}' must read dense");
            var items = value.DenseValues().ToArray();
            return items is ReadOnlyMemory<char>[] text ? text.Select(x => x.ToString()).ToArray() : items;
        };
    }

    /// <summary>Compares two row lists exactly (floats bitwise).</summary>
    private static void AssertSameRows(List<object[]> expected, List<object[]> actual)
    {
        Assert.AreEqual(expected.Count, actual.Count, "row count");
        for (int r = 0; r < expected.Count; r++)
        {
            for (int c = 0; c < expected[r].Length; c++)
            {
                object e = expected[r][c], a = actual[r][c];
                string where = $"row {r} column {c}";
                switch (e)
                {
                    case float f: Assert.AreEqual(BitConverter.SingleToInt32Bits(f), BitConverter.SingleToInt32Bits((float)a), where); break;
                    case double d: Assert.AreEqual(BitConverter.DoubleToInt64Bits(d), BitConverter.DoubleToInt64Bits((double)a), where); break;
                    case float[] fs: CollectionAssert.AreEqual(Bits(fs), Bits((float[])a), where); break;
                    case double[] ds: CollectionAssert.AreEqual(Bits(ds), Bits((double[])a), where); break;
                    case System.Array arr: CollectionAssert.AreEqual(arr, (System.Array)a, where); break;
                    default: Assert.AreEqual(e, a, where); break;
                }
            }
        }
    }

    [TestMethod]
    public void LoadsAnOldFileExactlyThroughCreateEnumerableAndRawCursors()
    {
        var old = ArrowDataFileTests.AllTypes(1000, 3);
        string path = WriteOld(old, batchRows: 128); // 8 batches, the last partial
        var ml = new MLContext(seed: 1);
        var view = ml.Data.LoadFromArrow(path);

        Assert.IsInstanceOfType<ArrowDataView>(view);
        Assert.AreEqual(8, ((ArrowDataView)view).BatchCount);
        Assert.AreEqual(1000L, view.GetRowCount());
        Assert.IsFalse(view.CanShuffle);
        var s = view.Schema;
        Assert.AreEqual(NumberDataViewType.Single, s["f32"].Type);
        Assert.AreEqual(NumberDataViewType.Double, s["f64"].Type);
        Assert.AreEqual(NumberDataViewType.Int32, s["i32"].Type);
        Assert.AreEqual(NumberDataViewType.Int64, s["i64"].Type);
        Assert.AreEqual(NumberDataViewType.SByte, s["s8"].Type);
        Assert.AreEqual(TextDataViewType.Instance, s["name"].Type);
        Assert.AreEqual(BooleanDataViewType.Instance, s["flag"].Type);
        Assert.AreEqual(new VectorDataViewType(NumberDataViewType.Single, 2), s["t"].Type);
        Assert.AreEqual(new VectorDataViewType(NumberDataViewType.Double, 3), s["d3"].Type);
        Assert.AreEqual(new VectorDataViewType(NumberDataViewType.SByte, 16), s["state"].Type);
        Assert.AreEqual(new VectorDataViewType(NumberDataViewType.Int32, 4), s["i4"].Type);

        var rows = ml.Data.CreateEnumerable<AllTypesRow>(view, reuseRowObject: false).ToList();
        Assert.AreEqual(1000, rows.Count);
        for (int r = 0; r < rows.Count; r++)
        {
            var x = rows[r];
            string at = $"row {r}";
            Assert.AreEqual(BitConverter.SingleToInt32Bits(old.GetColumn<float>("f32").Span[r]), BitConverter.SingleToInt32Bits(x.F32), at);
            Assert.AreEqual(BitConverter.DoubleToInt64Bits(old.GetColumn<double>("f64").Span[r]), BitConverter.DoubleToInt64Bits(x.F64), at);
            Assert.AreEqual(old.GetColumn<int>("i32").Span[r], x.I32, at);
            Assert.AreEqual(old.GetColumn<long>("i64").Span[r], x.I64, at);
            Assert.AreEqual(old.GetColumn<sbyte>("s8").Span[r], x.S8, at);
            Assert.AreEqual(old.GetColumn<string>("name").Span[r] ?? "", x.Name, at); // a null string reads as empty text
            Assert.AreEqual(old.GetColumn<bool>("flag").Span[r], x.Flag, at);
            CollectionAssert.AreEqual(Bits(Row<float>(old, "t", r)), Bits(x.T), at);
            CollectionAssert.AreEqual(Bits(Row<double>(old, "d3", r)), Bits(x.D3), at);
            CollectionAssert.AreEqual(Row<sbyte>(old, "state", r), x.State, at);
            CollectionAssert.AreEqual(Row<int>(old, "i4", r), x.I4, at);
        }

        // Raw cursor: a subset of columns, ids, positions and batches.
        using var cursor = view.GetRowCursor([s["i64"], s["t"]]);
        Assert.IsTrue(cursor.IsColumnActive(s["t"]));
        Assert.IsFalse(cursor.IsColumnActive(s["f32"]));
        Assert.ThrowsExactly<InvalidOperationException>(() => cursor.GetGetter<float>(s["f32"]), "inactive column");
        Assert.ThrowsExactly<InvalidOperationException>(() => cursor.GetGetter<int>(s["i64"]), "wrong type");
        var getI64 = cursor.GetGetter<long>(s["i64"]);
        var getT = cursor.GetGetter<VBuffer<float>>(s["t"]);
        var getId = cursor.GetIdGetter();
        long value = 0;
        Assert.AreEqual(-1L, cursor.Position);
        Assert.ThrowsExactly<InvalidOperationException>(() => getI64(ref value), "no row before MoveNext");
        VBuffer<float> t = default;
        DataViewRowId id = default;
        var ids = new HashSet<DataViewRowId>();
        long lastBatch = -1;
        int n = 0;
        while (cursor.MoveNext())
        {
            Assert.AreEqual((long)n, cursor.Position);
            Assert.AreEqual(n / 128L, cursor.Batch);
            Assert.IsTrue(cursor.Batch >= lastBatch);
            lastBatch = cursor.Batch;
            getI64(ref value);
            getT(ref t);
            getId(ref id);
            Assert.AreEqual(old.GetColumn<long>("i64").Span[n], value);
            CollectionAssert.AreEqual(Bits(Row<float>(old, "t", n)), Bits(t.DenseValues().ToArray()));
            Assert.IsTrue(ids.Add(id), $"row id of row {n} repeats");
            Assert.AreEqual(new DataViewRowId((ulong)n, 0), id);
            n++;
        }
        Assert.AreEqual(1000, n);
        Assert.AreEqual(-1L, cursor.Position);
        Assert.IsFalse(cursor.MoveNext());
    }

    [TestMethod]
    public void SchemaMetadataIsATextAnnotationOnEveryColumn()
    {
        string path = WriteOld(ArrowDataFileTests.AllTypes(20, 1), batchRows: 8);
        var view = new MLContext(seed: 1).Data.LoadFromArrow(path);
        var expected = new Dictionary<string, string> { ["system"] = "ising", ["L"] = "4", ["seed"] = "17" };
        Assert.AreEqual(11, view.Schema.Count);
        foreach (var column in view.Schema)
        {
            var kinds = column.Annotations.Schema;
            Assert.AreEqual(3, kinds.Count, column.Name);
            foreach (var (key, val) in expected)
            {
                Assert.AreEqual(TextDataViewType.Instance, kinds[key].Type, $"{column.Name}.{key}");
                ReadOnlyMemory<char> got = default;
                column.Annotations.GetValue(key, ref got);
                Assert.AreEqual(val, got.ToString(), $"{column.Name}.{key}");
            }
        }
        CollectionAssert.AreEquivalent(expected.ToList(), SchemaMetadata.Read(view.Schema).ToList());
    }

    [TestMethod]
    public void SchemaMetadataReadLetsLaterColumnsWinAndSkipsNonTextAndReservedKinds()
    {
        var b = new ML.DataViewSchema.Builder();
        var first = new ML.DataViewSchema.Annotations.Builder();
        first.AddPrimitiveValue("system", TextDataViewType.Instance, "ising".AsMemory());
        first.AddPrimitiveValue("L", TextDataViewType.Instance, "4".AsMemory());
        first.AddPrimitiveValue("count", NumberDataViewType.Int32, 5);
        b.AddColumn("a", NumberDataViewType.Single, first.ToAnnotations());
        var second = new ML.DataViewSchema.Annotations.Builder();
        second.AddPrimitiveValue("L", TextDataViewType.Instance, "8".AsMemory());
        second.AddPrimitiveValue("ScoreColumnKind", TextDataViewType.Instance, "Regression".AsMemory());
        b.AddColumn("b", NumberDataViewType.Single, second.ToAnnotations());
        var meta = SchemaMetadata.Read(b.ToSchema());
        CollectionAssert.AreEqual(new[] { "system", "L" }, meta.Keys.ToArray());
        Assert.AreEqual("ising", meta["system"]);
        Assert.AreEqual("8", meta["L"]);
    }

    [TestMethod]
    public void ParallelCursorSetCoversEveryRowExactlyOnceOnSeveralThreads()
    {
        var old = ArrowDataFileTests.AllTypes(1000, 7);
        string path = WriteOld(old, batchRows: 150); // 7 batches
        var view = new MLContext(seed: 1).Data.LoadFromArrow(path);
        var columns = new[] { view.Schema["i32"], view.Schema["name"], view.Schema["state"] };
        var cursors = view.GetRowCursorSet(columns, 3);
        Assert.AreEqual(3, cursors.Length);
        var seen = new ConcurrentDictionary<ulong, int>();
        var batchesOf = new List<long>[cursors.Length];
        var errors = new ConcurrentQueue<Exception>();
        var threads = cursors.Select((cursor, k) => new Thread(() =>
        {
            try { Consume(cursor, k); }
            catch (Exception ex) { errors.Enqueue(ex); }
        })).ToArray();
        void Consume(DataViewRowCursor cursor, int k)
        {
            batchesOf[k] = [];
            var getI32 = cursor.GetGetter<int>(columns[0]);
            var getName = cursor.GetGetter<ReadOnlyMemory<char>>(columns[1]);
            var getState = cursor.GetGetter<VBuffer<sbyte>>(columns[2]);
            var getId = cursor.GetIdGetter();
            int i32 = 0;
            ReadOnlyMemory<char> name = default;
            VBuffer<sbyte> state = default;
            DataViewRowId id = default;
            while (cursor.MoveNext())
            {
                getId(ref id);
                getI32(ref i32);
                getName(ref name);
                getState(ref state);
                int r = (int)id.Low;
                Assert.AreEqual(old.GetColumn<int>("i32").Span[r], i32);
                Assert.AreEqual(old.GetColumn<string>("name").Span[r] ?? "", name.ToString());
                CollectionAssert.AreEqual(Row<sbyte>(old, "state", r), state.DenseValues().ToArray());
                seen.AddOrUpdate(id.Low, 1, (_, c) => c + 1);
                if (batchesOf[k].Count == 0 || batchesOf[k][^1] != cursor.Batch) batchesOf[k].Add(cursor.Batch);
            }
            cursor.Dispose();
        }
        foreach (var t in threads) t.Start();
        foreach (var t in threads) t.Join();
        Assert.IsTrue(errors.IsEmpty, string.Join("; ", errors));
        Assert.AreEqual(1000, seen.Count, "every row");
        Assert.IsTrue(seen.Values.All(c => c == 1), "exactly once");
        CollectionAssert.AreEquivalent(Enumerable.Range(0, 1000).Select(i => (ulong)i).ToArray(), seen.Keys.ToArray());
        // Whole batches, disjoint, in increasing order within each cursor, every cursor busy.
        foreach (var b in batchesOf)
        {
            Assert.IsTrue(b.Count >= 2, "each of 3 cursors gets 2 or 3 of the 7 batches");
            CollectionAssert.AreEqual(b.Order().ToArray(), b.ToArray());
        }
        CollectionAssert.AreEquivalent(Enumerable.Range(0, 7).Select(i => (long)i).ToArray(), batchesOf.SelectMany(b => b).ToArray());

        // No more cursors than batches; a non-positive n still gives a usable set.
        Assert.AreEqual(7, view.GetRowCursorSet(columns, 100).Length);
        var defaults = view.GetRowCursorSet(columns, 0);
        Assert.IsTrue(defaults.Length is >= 1 and <= 7);
        long total = 0;
        foreach (var c in defaults)
        {
            while (c.MoveNext()) total++;
            c.Dispose();
        }
        Assert.AreEqual(1000L, total);
    }

    public sealed class Point
    {
        [ColumnName("t"), VectorType(2)] public float[] T { get; set; } = [];
        [ColumnName("x")] public float X { get; set; }
    }

    public sealed class Normalized
    {
        [VectorType(3)] public float[] Features { get; set; } = [];
    }

    [TestMethod]
    public void StockTransformsFitAndApplyOverTheFileAsOverMemory()
    {
        var rng = new Random(5);
        var points = Enumerable.Range(0, 700).Select(_ => new Point
        {
            T = [(float)rng.NextDouble() * 4 - 1, (float)(rng.NextDouble() * 0.1)],
            X = (float)(rng.NextDouble() * 100 + 50),
        }).ToArray();
        var old = new ColumnTable.Builder()
            .AddVector("t", 2, points.SelectMany(p => p.T).ToArray())
            .AddScalar("x", points.Select(p => p.X).ToArray())
            .AddMetadata("system", "potts")
            .Build();
        string path = WriteOld(old, batchRows: 100);

        var ml = new MLContext(seed: 1);
        var pipeline = ml.Transforms.Concatenate("Features", "t", "x")
            .Append(ml.Transforms.NormalizeMeanVariance("Features", fixZero: false));
        var fromFile = pipeline.Fit(ml.Data.LoadFromArrow(path)).Transform(ml.Data.LoadFromArrow(path));
        var fromMemory = pipeline.Fit(ml.Data.LoadFromEnumerable(points)).Transform(ml.Data.LoadFromEnumerable(points));

        var a = ml.Data.CreateEnumerable<Normalized>(fromFile, reuseRowObject: false).Select(r => r.Features).ToArray();
        var b = ml.Data.CreateEnumerable<Normalized>(fromMemory, reuseRowObject: false).Select(r => r.Features).ToArray();
        Assert.AreEqual(700, a.Length);
        for (int r = 0; r < a.Length; r++) CollectionAssert.AreEqual(b[r], a[r], $"row {r}");
        for (int k = 0; k < 3; k++)
        {
            double mean = a.Average(f => f[k]);
            double sd = Math.Sqrt(a.Average(f => (f[k] - mean) * (f[k] - mean)));
            Assert.AreEqual(0, mean, 1e-4, $"slot {k} mean");
            Assert.AreEqual(1, sd, 1e-2, $"slot {k} sd");
        }

        // The transformed view saves (the hidden pre-normalisation "Features" is left out) and the file's metadata rides along.
        string saved = Path.Combine(_dir, "normalized.arrow");
        ml.Data.SaveAsArrow(fromFile, saved);
        var back = ml.Data.LoadFromArrow(saved);
        CollectionAssert.AreEqual(new[] { "t", "x", "Features" }, back.Schema.Select(c => c.Name).ToArray());
        Assert.AreEqual("potts", SchemaMetadata.Read(back.Schema)["system"]);
        var c = ml.Data.CreateEnumerable<Normalized>(back, reuseRowObject: false).Select(r => r.Features).ToArray();
        for (int r = 0; r < a.Length; r++) CollectionAssert.AreEqual(a[r], c[r], $"saved row {r}");
    }

    [TestMethod]
    public void SaveThenLoadGivesBackSchemaAnnotationsAndValues()
    {
        var old = ArrowDataFileTests.AllTypes(500, 11);
        string path = WriteOld(old, batchRows: 64);
        var ml = new MLContext(seed: 1);
        var view = ml.Data.LoadFromArrow(path);

        using var stream = new MemoryStream();
        ml.Data.SaveAsArrow(view, stream, batchRows: 100);
        string saved = Path.Combine(_dir, "saved.arrow");
        File.WriteAllBytes(saved, stream.ToArray());
        var back = ml.Data.LoadFromArrow(saved);

        Assert.AreEqual(5, ((ArrowDataView)back).BatchCount, "500 rows in batches of 100");
        Assert.AreEqual(view.Schema.Count, back.Schema.Count);
        for (int i = 0; i < view.Schema.Count; i++)
        {
            Assert.AreEqual(view.Schema[i].Name, back.Schema[i].Name);
            Assert.AreEqual(view.Schema[i].Type, back.Schema[i].Type, view.Schema[i].Name);
            CollectionAssert.AreEqual(view.Schema[i].Annotations.Schema.Select(a => a.Name).ToArray(),
                back.Schema[i].Annotations.Schema.Select(a => a.Name).ToArray());
        }
        CollectionAssert.AreEquivalent(SchemaMetadata.Read(view.Schema).ToList(), SchemaMetadata.Read(back.Schema).ToList());
        AssertSameRows(ReadAll(view), ReadAll(back));

        // The file contract holds: the old reader reads what the saver wrote (null strings come back as empty ones).
        var oldBack = ArrowDataFile.Read(saved);
        var expected = old.WithScalarColumn("name", old.GetColumn<string>("name").ToArray().Select(x => x ?? "").ToArray());
        ArrowDataFileTests.AssertSameData(expected, oldBack);
        Assert.AreEqual("ising", oldBack.Schema.Metadata["system"]);

        // And Apache.Arrow's own reader sees the fixed-size-list layout ArrowDataFile writes.
        using var reader = new ArrowFileReader(File.OpenRead(saved));
        var schema = reader.Schema;
        Assert.IsInstanceOfType<FixedSizeListType>(schema.GetFieldByName("state").DataType);
        Assert.AreEqual(16, ((FixedSizeListType)schema.GetFieldByName("state").DataType).ListSize);
        Assert.AreEqual("17", schema.Metadata["seed"]);
    }

    public sealed class Exotic
    {
        public byte B { get; set; }
        public short S16 { get; set; }
        public ushort U16 { get; set; }
        public uint U32 { get; set; }
        public ulong U64 { get; set; }
        public float[] Ragged { get; set; } = [];
        [VectorType(2)] public string[] Words { get; set; } = [];
        [VectorType(3)] public bool[] Flags { get; set; } = [];
        public string[] Tokens { get; set; } = [];
    }

    [TestMethod]
    public void SaveThenLoadCoversOtherNumbersVariableLengthAndTextVectors()
    {
        var rng = new Random(2);
        var rows = Enumerable.Range(0, 257).Select(r => new Exotic
        {
            B = (byte)rng.Next(256),
            S16 = (short)rng.Next(short.MinValue, short.MaxValue),
            U16 = (ushort)rng.Next(ushort.MaxValue),
            U32 = (uint)rng.NextInt64(uint.MaxValue),
            U64 = (ulong)rng.NextInt64() * 2,
            Ragged = Enumerable.Range(0, r % 4).Select(_ => (float)rng.NextDouble()).ToArray(),
            Words = [$"w{r}", r % 3 == 0 ? "" : "é✓"],
            Flags = [r % 2 == 0, r % 3 == 0, true],
            Tokens = Enumerable.Range(0, r % 3).Select(k => $"tok{k}").ToArray(),
        }).ToArray();
        var ml = new MLContext(seed: 1);
        var view = ml.Data.LoadFromEnumerable(rows);
        Assert.AreEqual(new VectorDataViewType(NumberDataViewType.Single), view.Schema["Ragged"].Type);

        string path = Path.Combine(_dir, "exotic.arrow");
        ml.Data.SaveAsArrow(view, path, batchRows: 50);
        var back = ml.Data.LoadFromArrow(path);
        foreach (var c in view.Schema) Assert.AreEqual(c.Type, back.Schema[c.Name].Type, c.Name);
        AssertSameRows(ReadAll(view), ReadAll(back));
        var again = ml.Data.CreateEnumerable<Exotic>(back, reuseRowObject: false).ToArray();
        CollectionAssert.AreEqual(rows.Select(r => r.U64).ToArray(), again.Select(r => r.U64).ToArray());
        CollectionAssert.AreEqual(rows[7].Tokens, again[7].Tokens);
    }

    public sealed class WithDate
    {
        public float X { get; set; }
        public DateTime When { get; set; }
    }

    [TestMethod]
    public void UnsupportedMlNetColumnsAreRefusedNamingTheColumnBeforeWriting()
    {
        var ml = new MLContext(seed: 1);
        string path = WriteOld(ArrowDataFileTests.AllTypes(30, 1), batchRows: 10);
        var keyed = ml.Transforms.Conversion.MapValueToKey("Key", "name").Fit(ml.Data.LoadFromArrow(path)).Transform(ml.Data.LoadFromArrow(path));
        using var stream = new MemoryStream();
        var ex = Assert.ThrowsExactly<SchemaException>(() => ml.Data.SaveAsArrow(keyed, stream));
        StringAssert.Contains(ex.Message, "'Key'");
        Assert.AreEqual(0L, stream.Length, "nothing written");
        Assert.IsFalse(ex.Message.Contains('\n'));

        var dates = ml.Data.LoadFromEnumerable(new[] { new WithDate { X = 1, When = DateTime.UnixEpoch } });
        string target = Path.Combine(_dir, "dates.arrow");
        var ex2 = Assert.ThrowsExactly<SchemaException>(() => ml.Data.SaveAsArrow(dates, target));
        StringAssert.Contains(ex2.Message, "'When'");
        Assert.IsFalse(File.Exists(target));
        Assert.AreEqual(1, Directory.GetFiles(_dir).Length, "no temporary file left behind");
    }

    private static void AssertOneLine(Exception ex, params string[] parts)
    {
        Assert.IsFalse(ex.Message.Contains('\n') || ex.Message.Contains('\r'), $"one line: {ex.Message}");
        foreach (var p in parts) StringAssert.Contains(ex.Message, p);
    }

    [TestMethod]
    public void BadFilesGiveOneLineErrorsNamingTheFileAndColumn()
    {
        var data = new MLContext(seed: 1).Data;
        string missing = Path.Combine(_dir, "absent.arrow");
        AssertOneLine(Assert.ThrowsExactly<FileNotFoundException>(() => data.LoadFromArrow(missing)), missing);

        string text = Path.Combine(_dir, "notes.arrow");
        File.WriteAllText(text, "t1,t2\n0.1,0.2\n");
        AssertOneLine(Assert.ThrowsExactly<InvalidDataException>(() => data.LoadFromArrow(text)), text, "not an Arrow IPC file");

        string good = WriteOld(ArrowDataFileTests.AllTypes(300, 5), batchRows: 100, "good.arrow");
        byte[] bytes = File.ReadAllBytes(good);
        foreach (int keep in new[] { bytes.Length - 10, bytes.Length - 1, bytes.Length / 2, 20, 3, 0 })
        {
            string cut = Path.Combine(_dir, $"cut{keep}.arrow");
            File.WriteAllBytes(cut, bytes[..keep]);
            AssertOneLine(Assert.ThrowsExactly<InvalidDataException>(() => data.LoadFromArrow(cut), $"kept {keep} bytes"), cut);
        }
        // A damaged footer: its first bytes (the flatbuffer's root offset and tables) overwritten.
        var damaged = (byte[])bytes.Clone();
        int footerStart = damaged.Length - 10 - BitConverter.ToInt32(damaged, damaged.Length - 10);
        for (int i = footerStart; i < footerStart + 16; i++) damaged[i] = 0xEE;
        string bad = Path.Combine(_dir, "damaged.arrow");
        File.WriteAllBytes(bad, damaged);
        AssertOneLine(Assert.ThrowsExactly<InvalidDataException>(() => data.LoadFromArrow(bad)), bad);

        var dateSchema = new Apache.Arrow.Schema.Builder()
            .Field(new Field("x", FloatType.Default, false))
            .Field(new Field("when", Date32Type.Default, false)).Build();
        string withDate = WriteRaw("date.arrow", dateSchema,
            [new FloatArray.Builder().Append(1).Build(), new Date32Array.Builder().Append(new DateTime(2025, 1, 1)).Build()]);
        AssertOneLine(Assert.ThrowsExactly<InvalidDataException>(() => data.LoadFromArrow(withDate)), withDate, "'when'", "date32");

        // An Arrow IPC stream (no footer) is told apart from a file.
        string streamPath = Path.Combine(_dir, "stream.arrows");
        using (var fs = File.Create(streamPath))
        using (var w = new ArrowStreamWriter(fs, dateSchema))
        {
            w.WriteRecordBatch(new RecordBatch(dateSchema,
                [new FloatArray.Builder().Append(1).Build(), new Date32Array.Builder().Append(new DateTime(2025, 1, 1)).Build()], 1));
            w.WriteEnd();
        }
        AssertOneLine(Assert.ThrowsExactly<InvalidDataException>(() => data.LoadFromArrow(streamPath)), streamPath, "stream");
    }

    [TestMethod]
    public void ReadsPyarrowStyleFilesWithNullableFieldsAndItems()
    {
        // pyarrow marks every field and list item nullable; Apache.Arrow builders make the arrays here.
        var schema = new Apache.Arrow.Schema.Builder()
            .Field(new Field("t", new FixedSizeListType(new Field("item", FloatType.Default, true), 2), true))
            .Field(new Field("energy", DoubleType.Default, true))
            .Field(new Field("spins", new ListType(new Field("item", Int8Type.Default, true)), true))
            .Field(new Field("label", StringType.Default, true))
            .Metadata("system", "potts")
            .Metadata("q", "3")
            .Build();
        IArrowArray[] Batch(int k)
        {
            var values = new FloatArray.Builder().AppendRange([k, k + 0.5f, -k, 1e-3f * k]).Build();
            var t = new FixedSizeListArray(new ArrayData(schema.FieldsList[0].DataType, 2, 0, 0, [ArrowBuffer.Empty], [values.Data]));
            var spins = new ListArray.Builder(Int8Type.Default);
            var items = (Int8Array.Builder)spins.ValueBuilder;
            spins.Append();
            items.Append(1).Append(-1).Append(1);
            spins.Append();
            return [t, new DoubleArray.Builder().Append(-1.5 * k).Append(k).Build(), spins.Build(),
                new StringArray.Builder().Append($"μ{k}").Append("").Build()];
        }
        string path = WriteRaw("pyarrow-style.arrow", schema, Batch(1), Batch(2));
        var ml = new MLContext(seed: 1);
        var view = ml.Data.LoadFromArrow(path);
        Assert.AreEqual(new VectorDataViewType(NumberDataViewType.SByte), view.Schema["spins"].Type);
        var rows = ReadAll(view);
        Assert.AreEqual(4, rows.Count);
        CollectionAssert.AreEqual(new float[] { 1, 1.5f }, (float[])rows[0][0]);
        CollectionAssert.AreEqual(new float[] { -2, 2e-3f }, (float[])rows[3][0]);
        CollectionAssert.AreEqual(new[] { -1.5, 1, -3, 2 }, rows.Select(r => (double)r[1]).ToArray());
        CollectionAssert.AreEqual(new sbyte[] { 1, -1, 1 }, (sbyte[])rows[2][2]);
        Assert.AreEqual(0, ((sbyte[])rows[3][2]).Length);
        CollectionAssert.AreEqual(new[] { "μ1", "", "μ2", "" }, rows.Select(r => (string)r[3]).ToArray());
        CollectionAssert.AreEquivalent(new Dictionary<string, string> { ["system"] = "potts", ["q"] = "3" }.ToList(),
            SchemaMetadata.Read(view.Schema).ToList());
    }

    [TestMethod]
    public void NullsAreRefusedWhenTheirBatchIsReadAndOnlyInRequestedColumns()
    {
        // pyarrow-style nullable fields; the second of three batches holds a null double.
        var schema = new Apache.Arrow.Schema.Builder()
            .Field(new Field("e", DoubleType.Default, true))
            .Field(new Field("ok", Int32Type.Default, true))
            .Field(new Field("s", StringType.Default, true))
            .Metadata("system", "potts")
            .Build();
        IArrowArray[] Batch(double? e1, int k) =>
        [
            (e1 is { } v ? new DoubleArray.Builder().Append(1.5).Append(v) : new DoubleArray.Builder().Append(1.5).AppendNull()).Build(),
            new Int32Array.Builder().Append(2 * k).Append(2 * k + 1).Build(),
            new StringArray.Builder().Append($"s{k}").AppendNull().Build(),
        ];
        string path = WriteRaw("nulls.arrow", schema, Batch(2.5, 0), Batch(null, 1), Batch(3.5, 2));
        var view = new MLContext(seed: 1).Data.LoadFromArrow(path);
        Assert.AreEqual(6L, view.GetRowCount());

        // Only "ok" and "s" requested: the null in "e" is never decoded. Null strings read as empty.
        var values = new List<(int, string)>();
        using (var cursor = view.GetRowCursor([view.Schema["ok"], view.Schema["s"]]))
        {
            var ok = cursor.GetGetter<int>(view.Schema["ok"]);
            var s = cursor.GetGetter<ReadOnlyMemory<char>>(view.Schema["s"]);
            int i = 0;
            ReadOnlyMemory<char> str = default;
            while (cursor.MoveNext())
            {
                ok(ref i);
                s(ref str);
                values.Add((i, str.ToString()));
            }
        }
        CollectionAssert.AreEqual(new[] { (0, "s0"), (1, ""), (2, "s1"), (3, ""), (4, "s2"), (5, "") }, values);

        // With "e": the first batch reads; the second throws, naming file, column and batch.
        using var c2 = view.GetRowCursor([view.Schema["e"]]);
        var e = c2.GetGetter<double>(view.Schema["e"]);
        double d = 0;
        Assert.IsTrue(c2.MoveNext());
        e(ref d);
        Assert.AreEqual(1.5, d);
        Assert.IsTrue(c2.MoveNext());
        var ex = Assert.ThrowsExactly<InvalidDataException>(() => c2.MoveNext());
        AssertOneLine(ex, path, "'e'", "nulls", "batch 1");
        Assert.ThrowsExactly<InvalidOperationException>(() => e(ref d), "no stale value after a failed read");
    }

    [TestMethod]
    public void ACursorReadsOnlyTheBatchesItReaches()
    {
        var old = ArrowDataFileTests.AllTypes(8000, 4);
        string path = WriteOld(old, batchRows: 2000); // 4 batches
        long size = new FileInfo(path).Length;
        var view = (ArrowDataView)new MLContext(seed: 1).Data.LoadFromArrow(path);

        // Opening reads the footer and batch headers only.
        Assert.AreEqual(8000L, view.GetRowCount());
        Assert.AreEqual(0L, view.BatchesRead);
        Assert.IsTrue(view.BytesRead < size / 20, $"opening read {view.BytesRead} of {size} bytes");

        using (var cursor = view.GetRowCursor(view.Schema))
        {
            var get = cursor.GetGetter<long>(view.Schema["i64"]);
            long v = 0;
            for (int r = 0; r < 10; r++)
            {
                Assert.IsTrue(cursor.MoveNext());
                get(ref v);
                Assert.AreEqual(old.GetColumn<long>("i64").Span[r], v);
            }
            Assert.AreEqual(1L, view.BatchesRead, "ten rows need the first batch only");
            Assert.IsTrue(view.BytesRead < size * 2 / 5, $"first rows read {view.BytesRead} of {size} bytes");
            for (int r = 10; r < 2001; r++) Assert.IsTrue(cursor.MoveNext());
            Assert.AreEqual(2L, view.BatchesRead, "row 2000 opens the second batch");
        }

        // A cursor run to the end reads each batch once more.
        using (var cursor = view.GetRowCursor([]))
        {
            long n = 0;
            while (cursor.MoveNext()) n++;
            Assert.AreEqual(8000L, n);
        }
        Assert.AreEqual(6L, view.BatchesRead);
    }

    [TestMethod]
    public void AnEmptyFileRoundTrips()
    {
        string path = WriteOld(ArrowDataFileTests.AllTypes(0, 1), batchRows: 10);
        var ml = new MLContext(seed: 1);
        var view = ml.Data.LoadFromArrow(path);
        Assert.AreEqual(0L, view.GetRowCount());
        using (var cursor = view.GetRowCursor(view.Schema)) Assert.IsFalse(cursor.MoveNext());
        Assert.AreEqual(1, view.GetRowCursorSet(view.Schema, 4).Length);

        string saved = Path.Combine(_dir, "empty-again.arrow");
        ml.Data.SaveAsArrow(view, saved);
        var back = ArrowDataFile.Read(saved);
        Assert.AreEqual(0, back.RowCount);
        Assert.AreEqual(11, back.Schema.Count);
        Assert.AreEqual("ising", back.Schema.Metadata["system"]);
    }
}
