using HessianML.Data;
using HessianML.Pipeline;

namespace HessianML.Tests.Pipeline;

[TestClass]
public sealed class ChainSchemaTests
{
    /// <summary>Needs a Float32 vector of length 2 named <c>need</c>; records whether Fit ran; adds <c>out</c>.</summary>
    private sealed class RecordingEstimator(string need, string output) : IEstimator<RecordingTransformer>
    {
        public bool FitRan { get; private set; }

        public TableSchema GetOutputSchema(TableSchema inputSchema)
        {
            SchemaShape.Require(inputSchema, "RecordingEstimator", ColumnRequirement.Vector(need, 2, ItemKind.Float32));
            return inputSchema.WithColumn(output, ColumnType.Scalar(ItemKind.Float64));
        }

        public RecordingTransformer Fit(IDataView input)
        {
            FitRan = true;
            GetOutputSchema(input.Schema);
            return new RecordingTransformer(need, output);
        }
    }

    private sealed class RecordingTransformer(string need, string output) : ITransformer
    {
        public int Transforms { get; private set; }

        public TableSchema GetOutputSchema(TableSchema inputSchema)
        {
            SchemaShape.Require(inputSchema, "RecordingTransformer", ColumnRequirement.Vector(need, 2, ItemKind.Float32));
            return inputSchema.WithColumn(output, ColumnType.Scalar(ItemKind.Float64));
        }

        public IDataView Transform(IDataView input)
        {
            GetOutputSchema(input.Schema);
            Transforms++;
            var t = input.GetColumn<float>(need).Span;
            var sum = new double[input.RowCount];
            for (int r = 0; r < sum.Length; r++) sum[r] = t[2 * r] + t[2 * r + 1];
            return input.ToDataView().WithScalarColumn(output, sum);
        }
    }

    private static ColumnTable Data() => new ColumnTable.Builder()
        .AddVector("t", 2, new float[] { 1, 2, 3, 4, 5, 6 })
        .AddScalar("label", new[] { 1.0, 2.0, 3.0 })
        .AddVector("bad", 3, new float[9])
        .Build();

    [TestMethod]
    public void MissingColumnInALaterStepFailsBeforeAnyStepFits()
    {
        var first = new RecordingEstimator("t", "s1");
        var second = new RecordingEstimator("nope", "s2");
        var chain = first.Append(second);
        var ex = Assert.ThrowsExactly<SchemaException>(() => chain.Fit(Data()));
        Assert.IsFalse(first.FitRan, "the first step must not fit when the second cannot run");
        Assert.IsFalse(second.FitRan);
        StringAssert.Contains(ex.Message, "'nope'");
        StringAssert.Contains(ex.Message, "RecordingEstimator");
        StringAssert.Contains(ex.Message, "step 2 of 2");
        StringAssert.Contains(ex.Message, "t: Vector<Float32, 2>", "the message lists the columns present");
        Assert.AreEqual("nope", ex.ColumnName);
        Assert.AreEqual("RecordingEstimator", ex.Component);
    }

    [TestMethod]
    public void MistypedColumnNamesExpectedAndActualType()
    {
        foreach (var (col, actual) in new[] { ("label", "Float64"), ("bad", "Vector<Float32, 3>") })
        {
            var est = new RecordingEstimator(col, "s");
            var ex = Assert.ThrowsExactly<SchemaException>(() => new EstimatorChain<ITransformer>().Append(est).Fit(Data()));
            Assert.IsFalse(est.FitRan);
            StringAssert.Contains(ex.Message, $"'{col}'");
            StringAssert.Contains(ex.Message, "Vector<Float32, 2>");
            StringAssert.Contains(ex.Message, "is " + actual);
        }
    }

    [TestMethod]
    public void ChainFeedsEachFittedStepsOutputToTheNextAndTransformerChainValidatesFirst()
    {
        var first = new RecordingEstimator("t", "s1");
        // The second step needs a column only the first step's output has: it must see transformed data.
        var model = first.Append(new HessianContext(1).Transforms.Concatenate("pair", "s1", "label"))
            .Append(new RecordingEstimator("t", "s2")).Fit(Data());
        Assert.IsTrue(first.FitRan);
        Assert.AreEqual(3, model.Transformers.Count);
        Assert.IsInstanceOfType<RecordingTransformer>(model.LastTransformer);
        var output = model.Transform(Data());
        CollectionAssert.AreEqual(new[] { 3.0, 1, 7, 2, 11, 3 }, output.GetColumn<double>("pair").ToArray());
        CollectionAssert.AreEqual(new[] { 3.0, 7, 11 }, output.GetColumn<double>("s2").ToArray());

        // Step 1 could run on this input; step 2 (Concatenate) cannot: nothing may run.
        var withoutLabel = Data().DropColumns("label");
        int before = ((RecordingTransformer)model.Transformers[0]).Transforms;
        var ex = Assert.ThrowsExactly<SchemaException>(() => model.Transform(withoutLabel));
        StringAssert.Contains(ex.Message, "'label'");
        StringAssert.Contains(ex.Message, "step 2 of 3: Concatenate");
        Assert.AreEqual(before, ((RecordingTransformer)model.Transformers[0]).Transforms, "no step transforms when a later one cannot run");
    }

    [TestMethod]
    public void DataViewErrorsNameTheColumn()
    {
        var data = Data();
        var missing = Assert.ThrowsExactly<SchemaException>(() => data.GetColumn<float>("tt"));
        StringAssert.Contains(missing.Message, "'tt'");
        StringAssert.Contains(missing.Message, "label: Float64");
        var wrong = Assert.ThrowsExactly<SchemaException>(() => data.GetColumn<float>("label"));
        StringAssert.Contains(wrong.Message, "Float64");
        StringAssert.Contains(wrong.Message, "Single");
        var ragged = Assert.ThrowsExactly<SchemaException>(() => new ColumnTable.Builder()
            .AddScalar("a", new[] { 1, 2, 3 }).AddVector("v", 2, new float[8]).Build());
        StringAssert.Contains(ragged.Message, "'v'");
        var partial = Assert.ThrowsExactly<SchemaException>(() => new ColumnTable.Builder().AddVector("v", 2, new float[5]).Build());
        StringAssert.Contains(partial.Message, "'v'");
        var add = Assert.ThrowsExactly<SchemaException>(() => data.WithScalarColumn("label", new double[2]));
        StringAssert.Contains(add.Message, "'label'");

        var replaced = data.WithScalarColumn("label", new[] { 7.0, 8, 9 });
        Assert.AreEqual(1, replaced.Schema["label"].Index, "replacing keeps the position");
        CollectionAssert.AreEqual(new[] { 1.0, 2, 3 }, data.GetColumn<double>("label").ToArray(), "the original view is unchanged");
        var rows = data.SelectRows([2, 0]);
        CollectionAssert.AreEqual(new float[] { 5, 6, 1, 2 }, rows.GetColumn<float>("t").ToArray());
        CollectionAssert.AreEqual(new float[] { 3, 4 }, data.GetRow<float>("t", 1).ToArray());
    }

    [TestMethod]
    public void ContextSeedsAndSplitsAreReproducible()
    {
        var a = new HessianContext(42);
        var b = new HessianContext(42);
        var c = new HessianContext(43);
        int[] sa = [.. Enumerable.Range(0, 5).Select(_ => a.NextSeed())];
        int[] sb = [.. Enumerable.Range(0, 5).Select(_ => b.NextSeed())];
        int[] sc = [.. Enumerable.Range(0, 5).Select(_ => c.NextSeed())];
        CollectionAssert.AreEqual(sa, sb);
        CollectionAssert.AreNotEqual(sa, sc);
        Assert.AreEqual(5, sa.Distinct().Count());

        var data = new ColumnTable.Builder().AddScalar("i", Enumerable.Range(0, 100).ToArray()).Build();
        var s1 = new HessianContext(7).Data.TrainTestSplit(data, 0.25);
        var s2 = new HessianContext(7).Data.TrainTestSplit(data, 0.25);
        Assert.AreEqual(25, s1.TestSet.RowCount);
        Assert.AreEqual(75, s1.TrainSet.RowCount);
        CollectionAssert.AreEqual(s1.TestSet.GetColumn<int>("i").ToArray(), s2.TestSet.GetColumn<int>("i").ToArray());
        var all = s1.TrainSet.GetColumn<int>("i").ToArray().Concat(s1.TestSet.GetColumn<int>("i").ToArray()).Order();
        CollectionAssert.AreEqual(Enumerable.Range(0, 100).ToArray(), all.ToArray(), "a split is a partition");
        CollectionAssert.AreNotEqual(Enumerable.Range(0, 25).ToArray(), s1.TestSet.GetColumn<int>("i").ToArray(), "rows are shuffled");
    }
}
