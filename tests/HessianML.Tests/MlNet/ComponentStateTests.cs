using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using HessianML.Data;
using HessianML.Geometry;
using HessianML.Pipeline;
using HessianML.Pipeline.MlNet;
using HessianML.Posterior;
using Microsoft.ML;
using Microsoft.ML.Data;
using static HessianML.Tests.MlNet.MlNetFixtures;

namespace HessianML.Tests.MlNet;

/// <summary>
/// A component defined outside the library: savable through <see cref="ComponentStateFile"/>, its loader found by the
/// attribute scan. Only the state matters here; the ML.NET side is not exercised.
/// </summary>
internal sealed class OffsetComponent(float[] offset) : IComponentWithState
{
    public float[] Offset { get; } = offset;

    public string Kind => "Tests.Offset";

    public bool IsRowToRowMapper => false;

    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => inputSchema;

    public IDataView Transform(IDataView input) => input;

    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => throw new NotSupportedException();

    void ICanSaveModel.Save(ModelSaveContext ctx) => throw new NotSupportedException("OffsetComponent is not an ML.NET model step");

    private sealed record Options(string Note);

    public void SaveState(ComponentStateWriter context)
    {
        context.SetOptions(new Options("offset"));
        context.AddTensor("offset", Offset, 1, Offset.Length);
    }

    [ComponentStateLoader("Tests.Offset")]
    public static IComponentWithState Load(ComponentStateReader context)
    {
        _ = context.GetOptions<Options>();
        return new OffsetComponent(context.GetFloatTensor("offset", 1, -1));
    }
}

/// <summary>
/// The state a saved component carries inside an ML.NET zip (<see cref="ComponentStateFile"/>): deterministic bytes,
/// and every kind of damage (checksum, version, kind, shapes, format, manifest) refused in one line naming the source;
/// a damaged state inside a real ML.NET zip fails the same way when the loaded model runs; components defined outside
/// the library round-trip through the attribute scan; a model that cannot be saved leaves no file.
/// </summary>
[TestClass]
public sealed class ComponentStateTests
{
    private const string Source = "test state";

    private static FeatureDistancePosteriorTransformer Fdp()
    {
        var (t, f) = NoisyFeatures(100, 1);
        var table = new ColumnTable.Builder().AddVector("t", 2, t).AddVector("features", 3, f).Build();
        return new MLContext(seed: 1).Hessian().FeatureDistancePosterior(new FeatureDistancePosteriorOptions { Grid = 3, Seed = 2 }).Fit(table);
    }

    private static string Refused(byte[] bytes)
    {
        var ex = Assert.ThrowsExactly<InvalidDataException>(() => ComponentStateFile.Load(bytes, Source));
        StringAssert.Contains(ex.Message, Source, "the message names the source");
        Assert.IsFalse(ex.Message.Contains('\n'), $"one line: {ex.Message}");
        return ex.Message;
    }

    private static byte[] EditZip(byte[] bytes, Action<ZipArchive> edit)
    {
        using var ms = new MemoryStream();
        ms.Write(bytes);
        using (var zip = new ZipArchive(ms, ZipArchiveMode.Update, leaveOpen: true)) edit(zip);
        return ms.ToArray();
    }

    private static byte[] EditManifest(byte[] bytes, Action<JsonNode> edit) => EditZip(bytes, zip =>
    {
        var entry = zip.GetEntry("manifest.json")!;
        JsonNode m;
        using (var s = entry.Open()) m = JsonNode.Parse(s)!;
        edit(m);
        entry.Delete();
        using var w = new StreamWriter(zip.CreateEntry("manifest.json").Open());
        w.Write(m.ToJsonString());
    });

    [TestMethod]
    public void StateBytesAreDeterministicAndRoundTrip()
    {
        var fdp = Fdp();
        byte[] bytes = ComponentStateFile.Save(fdp);
        var loaded = (FeatureDistancePosteriorTransformer)ComponentStateFile.Load(bytes, Source);
        CollectionAssert.AreEqual(fdp.Posterior.Centroids, loaded.Posterior.Centroids);
        Assert.AreEqual(fdp.Lambda, loaded.Lambda);
        CollectionAssert.AreEqual(bytes, ComponentStateFile.Save(loaded), "same component, same bytes");
    }

    [TestMethod]
    public void EveryKindOfDamageIsRefusedInOneLine()
    {
        var fdp = Fdp();
        byte[] good = ComponentStateFile.Save(fdp);

        // Tensors are stored uncompressed: flip one bit in the middle of the centroids.
        byte[] flipped = [.. good];
        byte[] centroids = MemoryMarshal.AsBytes(fdp.Posterior.Centroids.AsSpan()).ToArray();
        int at = flipped.AsSpan().IndexOf(centroids);
        Assert.IsGreaterThanOrEqualTo(0, at, "the centroids' bytes are in the state");
        flipped[at + centroids.Length / 2] ^= 0x10;
        string flip = Refused(flipped);
        StringAssert.Contains(flip, "tensor 'centroids' is corrupted (SHA-256 checksum mismatch)");

        StringAssert.Contains(Refused(good[..(good.Length / 2)]), "is damaged (not a zip archive)");
        StringAssert.Contains(Refused(EditManifest(good, m => m["formatVersion"] = 2)), "was written by format version 2; this build reads 1");
        StringAssert.Contains(Refused(EditManifest(good, m => m["kind"] = "Mystery")), "has unknown kind 'Mystery'");
        StringAssert.Contains(Refused(EditManifest(good, m => m["format"] = "onnx-ish")), "is not a HessianML component state (format 'onnx-ish'");
        StringAssert.Contains(Refused(EditManifest(good, m => m["tensors"]![0]!["shape"] = new JsonArray(4))), "shape mismatch");
        // Bytes and manifest agree, but not with what the loader expects (9 cells x 3 features).
        StringAssert.Contains(Refused(EditManifest(good, m => m["tensors"]![0]!["shape"] = new JsonArray(3, 9))),
            "tensor 'centroids' has shape [3,9], expected [9,3]");
        string missing = Refused(EditZip(good, z => z.GetEntry("tensors/cell_counts.bin")!.Delete()));
        StringAssert.Contains(missing, "tensor 'cell_counts' is missing");
        StringAssert.Contains(Refused(EditZip(good, z =>
        {
            z.GetEntry("manifest.json")!.Delete();
            using var w = new StreamWriter(z.CreateEntry("manifest.json").Open());
            w.Write("{ not json");
        })), "manifest.json is damaged");
    }

    [TestMethod]
    public void ADamagedStateInsideAnMlNetZipFailsInOneLineWhenTheModelRuns()
    {
        // The saved chain of a FisherMetric, built by hand with a state that is not base64, saved and loaded.
        var ml = new MLContext(seed: 1);
        var table = new ColumnTable.Builder().AddVector("t", 2, PointsInBox(3, 1)).Build();
        var t = ml.Transforms;
        var chain = t.CustomMapping(new StateKeyFactory().GetMapping(), SavedForm.KeyContract)
            .Append(t.Conversion.MapValue(SavedForm.StateColumn, [new KeyValuePair<string, string>(SavedForm.KeyValue, "not base64!")], SavedForm.KeyColumn))
            .Append(t.CopyColumns(SavedForm.InputPrefix + "t", "t"))
            .Append(new FisherMetricMappingFactory().Estimator(t, FisherMetricMappingFactory.Contract));
        string dir = TempFolder("damaged-state");
        try
        {
            var (loaded, _) = SaveAndLoad(ml, chain.Fit(table), ((IDataView)table).Schema, Path.Combine(dir, "m.zip"));
            // ML.NET may run the mapping on a worker thread and wrap what it throws: the cause is ours, in one line.
            var ex = Assert.Throws<Exception>(() => Read(loaded.Transform(table), "psi"));
            while (ex is not InvalidDataException && ex.InnerException is { } inner) ex = inner;
            Assert.AreEqual("saved HessianML state is damaged (not base64)", ex.Message);
            var recover = Assert.ThrowsExactly<InvalidDataException>(() => SavedForm.Components(loaded));
            Assert.AreEqual("saved HessianML state is damaged (not base64)", recover.Message);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [TestMethod]
    public void AComponentDefinedElsewhereRoundTripsThroughTheAttributeScan()
    {
        var component = new OffsetComponent([0.5f, -2f]);
        var loaded = ComponentStateFile.Load(ComponentStateFile.Save(component), Source);
        CollectionAssert.AreEqual(component.Offset, Assert.IsInstanceOfType<OffsetComponent>(loaded).Offset);
        Assert.IsTrue(ComponentStateRegistry.IsRegistered("Tests.Offset"));
    }

    [TestMethod]
    public void AModelThatCannotBeSavedLeavesNoFile()
    {
        string dir = TempFolder("unsavable");
        try
        {
            string path = Path.Combine(dir, "m.zip");
            Assert.ThrowsExactly<NotSupportedException>(() => ModelFiles.Save(new OffsetComponent([1f]), ModelFiles.ParameterSchema, path));
            Assert.IsEmpty(Directory.GetFiles(dir), "neither the model nor a temporary file");
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
