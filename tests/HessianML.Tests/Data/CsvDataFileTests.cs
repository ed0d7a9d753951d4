using HessianML.Data;

namespace HessianML.Tests.Data;

[TestClass]
public sealed class CsvDataFileTests
{
    private static ColumnTable Sample(int rows, int seed)
    {
        var rng = new Random(seed);
        var t = new float[rows * 2];
        var psi = new double[rows];
        var g = new double[rows * 3];
        var index = new int[rows];
        for (int r = 0; r < rows; r++)
        {
            t[2 * r] = (float)rng.NextDouble() / 3;
            t[2 * r + 1] = -(float)rng.NextDouble() * 1e-7f;
            psi[r] = Math.Exp(rng.NextDouble() * 40 - 20) / 7;
            for (int k = 0; k < 3; k++) g[3 * r + k] = rng.NextDouble() - 0.5;
            index[r] = r - 3;
        }
        return new ColumnTable.Builder().AddScalar("index", index).AddVector("t", 2, t).AddScalar("psi", psi).AddVector("g", 3, g).Build();
    }

    [TestMethod]
    public void RoundTripsNumbersExactlyWithNamedAndDefaultHeaderExpansion()
    {
        var view = Sample(40, 11);
        var opts = new CsvWriteOptions();
        opts.ExpandedNames["t"] = ["t1", "t2"];
        var text = new StringWriter();
        CsvDataFile.Write(view, text, opts);
        string csv = text.ToString();
        Assert.AreEqual("index,t1,t2,psi,g0,g1,g2", csv[..csv.IndexOf('\n')]);
        Assert.AreEqual(41, csv.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);

        var read = new CsvReadOptions().Vector("t", ItemKind.Float32, "t1", "t2").Vector("g", ItemKind.Float64, "g0", "g1", "g2");
        read.ColumnKinds["index"] = ItemKind.Int32;
        var back = CsvDataFile.Read(new StringReader(csv), "mem.csv", read);
        ArrowDataFileTests.AssertSameData(view, back);
    }

    [TestMethod]
    public void FileRoundTripKeepsStringsBooleansAndSpecialValues()
    {
        string path = Path.Combine(Path.GetTempPath(), $"hml-csv-{Guid.NewGuid():N}.csv");
        try
        {
            var view = new ColumnTable.Builder()
                .AddScalar("x", new[] { float.NaN, float.PositiveInfinity, -0f, 1.17549435E-38f })
                .AddScalar("name", new[] { "plain", "with,comma", "say \"hi\"", " padded " })
                .AddScalar("ok", new[] { true, false, true, false })
                .Build();
            CsvDataFile.Write(view, path);
            var opts = new CsvReadOptions();
            opts.ColumnKinds["x"] = ItemKind.Float32;
            opts.ColumnKinds["name"] = ItemKind.String;
            opts.ColumnKinds["ok"] = ItemKind.Boolean;
            ArrowDataFileTests.AssertSameData(view, CsvDataFile.Read(path, opts));
        }
        finally { File.Delete(path); }
    }

    [TestMethod]
    public void BadNumbersAndRaggedLinesNameFileLineAndColumn()
    {
        const string csv = "t1,t2,psi\n0.1,0.2,3\n0.3,0..4,5\n";
        var ex = Assert.ThrowsExactly<InvalidDataException>(() => CsvDataFile.Read(new StringReader(csv), "grid.csv"));
        StringAssert.Contains(ex.Message, "grid.csv");
        StringAssert.Contains(ex.Message, "line 3");
        StringAssert.Contains(ex.Message, "column 2");
        StringAssert.Contains(ex.Message, "'t2'");
        StringAssert.Contains(ex.Message, "0..4");

        var ragged = Assert.ThrowsExactly<InvalidDataException>(() => CsvDataFile.Read(new StringReader("a,b\n1,2\n\n3\n"), "r.csv"));
        StringAssert.Contains(ragged.Message, "line 4");

        var opts = new CsvReadOptions();
        opts.ColumnKinds["n"] = ItemKind.Int8;
        var overflow = Assert.ThrowsExactly<InvalidDataException>(() => CsvDataFile.Read(new StringReader("m,n\n1,2\n1,300\n"), "o.csv", opts));
        StringAssert.Contains(overflow.Message, "line 3, column 2 ('n')");
    }

    [TestMethod]
    public void ExpandedNamesMustMatchTheVectorLength()
    {
        var opts = new CsvWriteOptions();
        opts.ExpandedNames["t"] = ["t1", "t2", "t3"];
        var ex = Assert.ThrowsExactly<SchemaException>(() => CsvDataFile.Write(Sample(3, 1), new StringWriter(), opts));
        StringAssert.Contains(ex.Message, "'t'");
    }
}
