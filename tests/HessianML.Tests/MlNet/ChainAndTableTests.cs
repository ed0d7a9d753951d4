using HessianML.Data;
using HessianML.Geometry;
using HessianML.Posterior;
using Microsoft.ML;
using static HessianML.Tests.MlNet.MlNetFixtures;

namespace HessianML.Tests.MlNet;

/// <summary>
/// What the look-alike pipeline's tests used to cover, on ML.NET: a chain refuses a missing column of a later step
/// before any step fits, our table names the column in every error, and seeds come reproducibly from the context.
/// </summary>
[TestClass]
public sealed class ChainAndTableTests
{
    [TestMethod]
    public void AMissingColumnOfALaterStepFailsBeforeAnyStepFits()
    {
        // PosteriorGrid -> LogPartition -> Geodesic on samples without the geodesic's endpoints: EstimatorChain.Fit runs
        // every step's GetOutputSchema first, so the network is never trained.
        var ml = new MLContext(seed: 1);
        var epochs = new List<string>();
        var options = TinyGrid(1);
        options.Progress = epochs.Add;
        var chain = ml.Hessian().PosteriorGrid(options)
            .Append(ml.Hessian().LogPartition(new LogPartitionOptions { Fit = PsiFit.LogPosteriorLeastSquares, SplineCount = 4 }))
            .Append(ml.Hessian().Geodesic());
        var ex = Assert.ThrowsExactly<SchemaException>(() => chain.Fit(IsingSamples(50, 1)));
        SchemaErrors.AssertNames(ex, "from", "Geodesic", "the third step's missing column");
        StringAssert.Contains(ex.Message, "present: t, state, posterior, split, psi", "the message lists the columns the earlier steps give");
        Assert.IsEmpty(epochs, "no epoch ran");
    }

    [TestMethod]
    public void TableErrorsNameTheColumn()
    {
        var data = new ColumnTable.Builder()
            .AddVector("t", 2, new float[] { 1, 2, 3, 4, 5, 6 })
            .AddScalar("label", new[] { 1.0, 2.0, 3.0 })
            .Build();
        var missing = Assert.ThrowsExactly<SchemaException>(() => data.GetColumn<float>("tt"));
        StringAssert.Contains(missing.Message, "'tt'");
        StringAssert.Contains(missing.Message, "label: Float64", "the columns present");
        var wrong = Assert.ThrowsExactly<SchemaException>(() => data.GetColumn<float>("label"));
        StringAssert.Contains(wrong.Message, "'label'");
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
        CollectionAssert.AreEqual(new[] { 1.0, 2, 3 }, data.GetColumn<double>("label").ToArray(), "the original table is unchanged");
        CollectionAssert.AreEqual(new float[] { 5, 6, 1, 2 }, data.SelectRows([2, 0]).GetColumn<float>("t").ToArray());

        // Materialising an ML.NET view: a missing column, or one a table cannot hold, is named.
        var ml = new MLContext(seed: 1);
        var view = ml.Transforms.Conversion.MapValueToKey("label_key", "label").Fit(data).Transform(data);
        var notThere = Assert.ThrowsExactly<SchemaException>(() => ColumnTable.From(view, "t", "nope"));
        StringAssert.Contains(notThere.Message, "'nope'");
        var key = Assert.ThrowsExactly<SchemaException>(() => ColumnTable.From(view, "label_key"));
        StringAssert.Contains(key.Message, "'label_key'");
        CollectionAssert.AreEqual(data.GetColumn<float>("t").ToArray(), ColumnTable.From(view, "t").GetColumn<float>("t").ToArray());
    }

    [TestMethod]
    public void SeedsComeReproduciblyFromTheContext()
    {
        int[] Seeds(int contextSeed)
        {
            var catalog = new MLContext(contextSeed).Hessian();
            return [.. Enumerable.Range(0, 5).Select(_ => catalog.NextSeed())];
        }
        CollectionAssert.AreEqual(Seeds(42), Seeds(42));
        CollectionAssert.AreNotEqual(Seeds(42), Seeds(43));
        Assert.AreEqual(5, Seeds(42).Distinct().Count());

        // An estimator left unseeded trains the same network from the same context seed, another from another.
        var samples = IsingSamples(80, 2);
        double[][] Posterior(int contextSeed)
        {
            var options = TinyGrid(1);
            options.Seed = null;
            options.Epochs = 1;
            return Read(new MLContext(contextSeed).Hessian().PosteriorGrid(options).Fit(samples).Transform(samples), "posterior");
        }
        var a = Posterior(7);
        AssertIdentical(a, Posterior(7), "same context seed");
        Assert.IsFalse(a.Zip(Posterior(8)).All(p => p.First.SequenceEqual(p.Second)), "another context seed, another network");
    }
}
