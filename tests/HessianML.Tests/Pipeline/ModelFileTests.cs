using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using HessianML.Data;
using HessianML.Pipeline;
using HessianML.Pipeline.Transforms;

namespace HessianML.Tests.Pipeline;

/// <summary>A savable transformer defined outside the library: its loader is found by the attribute scan.</summary>
internal sealed class OffsetTransformer(string column, float[] offset) : IComponentWithState
{
    public float[] Offset { get; } = offset;

    public string Kind => "Tests.Offset";

    public TableSchema GetOutputSchema(TableSchema inputSchema)
    {
        SchemaShape.Require(inputSchema, "Offset", ColumnRequirement.Vector(column, Offset.Length, ItemKind.Float32));
        return inputSchema;
    }

    public IDataView Transform(IDataView input)
    {
        GetOutputSchema(input.Schema);
        var v = input.GetColumn<float>(column).ToArray();
        for (int i = 0; i < v.Length; i++) v[i] += Offset[i % Offset.Length];
        return input.ToDataView().WithVectorColumn(column, Offset.Length, v);
    }

    private sealed record Options(string Column);

    public void SaveState(ComponentStateWriter context)
    {
        context.SetOptions(new Options(column));
        context.AddTensor("offset", Offset, 1, Offset.Length);
    }

    [ComponentStateLoader("Tests.Offset")]
    public static ITransformer Load(ComponentStateReader context) =>
        new OffsetTransformer(context.GetOptions<Options>().Column, context.GetFloatTensor("offset", 1, -1));
}

[TestClass]
public sealed class ModelFileTests
{
    private static string _dir = "";

    [ClassInitialize]
    public static void Init(TestContext _)
    {
        _dir = Path.Combine(Path.GetTempPath(), "hml-model-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
    }

    [ClassCleanup]
    public static void Cleanup() => Directory.Delete(_dir, true);

    private static ColumnTable Samples(int rows, int seed)
    {
        var rng = new Random(seed);
        var t = new float[rows * 2];
        var a = new float[rows];
        var state = new sbyte[rows * 9];
        for (int r = 0; r < rows; r++)
        {
            t[2 * r] = 0.2f + 0.5f * (float)rng.NextDouble();
            t[2 * r + 1] = -0.3f + 0.6f * (float)rng.NextDouble();
            a[r] = 1000 + 3 * (float)rng.NextDouble();
            for (int k = 0; k < 9; k++) state[9 * r + k] = (sbyte)(rng.Next(2) * 2 - 1);
        }
        return new ColumnTable.Builder().AddVector("t", 2, t).AddScalar("a", a).AddVector("state", 9, state)
            .AddMetadata("system", "ising").AddMetadata("L", "3").AddMetadata("seed", seed.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .Build();
    }

    /// <summary>Arrow file -> fit Concatenate + NormalizeMeanVariance -> model zip; returns the pieces.</summary>
    private static (HessianContext Ctx, ColumnTable Data, TransformerChain<NormalizeMeanVarianceTransformer> Model, string Path) Fitted(string name)
    {
        var ctx = new HessianContext(seed: 1);
        string arrow = Path.Combine(_dir, name + ".arrow");
        ctx.Data.SaveAsArrow(Samples(200, 5), arrow);
        var data = ctx.Data.LoadFromArrow(arrow);
        var pipeline = ctx.Transforms.Concatenate("features", "t", "a")
            .Append(ctx.Transforms.NormalizeMeanVariance("features_n", "features"));
        var model = pipeline.Fit(data);
        string zip = Path.Combine(_dir, name + ".zip");
        ctx.Model.Save(model, data.Schema, zip);
        return (ctx, data, model, zip);
    }

    private static float[] Bits(IDataView v, string col) => v.GetColumn<float>(col).ToArray();

    [TestMethod]
    public void EndToEndArrowFitSaveLoadGivesIdenticalOutput()
    {
        var (ctx, data, model, zip) = Fitted("e2e");
        var output = model.Transform(data);
        var f = Bits(output, "features_n");
        Assert.AreEqual(200 * 3, f.Length);
        for (int k = 0; k < 3; k++)
        {
            var col = Enumerable.Range(0, 200).Select(r => (double)f[3 * r + k]).ToArray();
            double mean = col.Average(), var = col.Select(x => (x - mean) * (x - mean)).Average();
            Assert.AreEqual(0, mean, 1e-4, $"element {k} centred");
            Assert.AreEqual(1, var, 1e-3, $"element {k} unit variance");
        }

        var loaded = ctx.Model.Load(zip, out var inputSchema);
        Assert.IsTrue(inputSchema.SameAs(data.Schema), "input schema with metadata survives");
        Assert.AreEqual("ising", inputSchema.Metadata["system"]);
        var again = loaded.Transform(data);
        CollectionAssert.AreEqual(
            Bits(output, "features_n").Select(BitConverter.SingleToInt32Bits).ToArray(),
            Bits(again, "features_n").Select(BitConverter.SingleToInt32Bits).ToArray());
        Assert.IsTrue(output.Schema.SameAs(again.Schema));
        var chain = (TransformerChain<ITransformer>)loaded;
        Assert.IsInstanceOfType<NormalizeMeanVarianceTransformer>(chain.LastTransformer);
        CollectionAssert.AreEqual(model.LastTransformer!.Mean.ToArray(), ((NormalizeMeanVarianceTransformer)chain.LastTransformer!).Mean.ToArray());

        // Same model, same bytes: files are deterministic.
        string zip2 = Path.Combine(_dir, "e2e-again.zip");
        ctx.Model.Save(loaded, inputSchema, zip2);
        CollectionAssert.AreEqual(File.ReadAllBytes(zip), File.ReadAllBytes(zip2));

        using var archive = ZipFile.OpenRead(zip);
        var manifest = JsonNode.Parse(archive.GetEntry("manifest.json")!.Open())!;
        Assert.AreEqual("hessianml-model", manifest["format"]!.GetValue<string>());
        Assert.AreEqual(1, manifest["formatVersion"]!.GetValue<int>());
        Assert.AreEqual("Concatenate", manifest["components"]![0]!["kind"]!.GetValue<string>());
        Assert.IsNotNull(archive.GetEntry("tensors/1/mean.bin"));
    }

    [TestMethod]
    public void TransformerDefinedElsewhereRoundTripsThroughTheAttributeScan()
    {
        var data = Samples(10, 2);
        var model = new OffsetTransformer("t", [0.5f, -2f]).Append(new ConcatenateTransformer("ta", "t", "a"));
        string zip = Path.Combine(_dir, "offset.zip");
        ModelFile.Save(model, data.Schema, zip);
        var loaded = ModelFile.Load(zip, out _);
        CollectionAssert.AreEqual(Bits(model.Transform(data), "ta"), Bits(loaded.Transform(data), "ta"));
        Assert.IsTrue(ComponentStateRegistry.IsRegistered("Tests.Offset"));
    }

    private static string Variant(string name, Action<ZipArchive> edit)
    {
        var (_, _, _, zip) = Fitted(name + "-src");
        string path = Path.Combine(_dir, name + ".zip");
        File.Copy(zip, path);
        using (var archive = ZipFile.Open(path, ZipArchiveMode.Update)) edit(archive);
        return path;
    }

    private static void EditManifest(ZipArchive archive, Action<JsonNode> edit)
    {
        var entry = archive.GetEntry("manifest.json")!;
        JsonNode m;
        using (var s = entry.Open()) m = JsonNode.Parse(s)!;
        edit(m);
        entry.Delete();
        using var w = new StreamWriter(archive.CreateEntry("manifest.json").Open());
        w.Write(m.ToJsonString());
    }

    private static string Refused(string path)
    {
        var ex = Assert.ThrowsExactly<InvalidDataException>(() => new HessianContext(1).Model.Load(path, out _));
        StringAssert.Contains(ex.Message, path);
        Assert.IsFalse(ex.Message.Contains('\n'), "one-line message");
        return ex.Message;
    }

    [TestMethod]
    public void TruncatedRandomAndForeignFilesAreRefused()
    {
        var (_, _, _, zip) = Fitted("damage");
        byte[] bytes = File.ReadAllBytes(zip);
        string cut = Path.Combine(_dir, "cut.zip");
        File.WriteAllBytes(cut, bytes[..(bytes.Length * 2 / 3)]);
        StringAssert.Contains(Refused(cut), "is not a HessianML model (not a zip archive)");

        string random = Path.Combine(_dir, "random.zip");
        var noise = new byte[4096];
        new Random(3).NextBytes(noise);
        File.WriteAllBytes(random, noise);
        StringAssert.Contains(Refused(random), "is not a HessianML model (not a zip archive)");

        string foreign = Path.Combine(_dir, "foreign.zip");
        using (var a = ZipFile.Open(foreign, ZipArchiveMode.Create))
        using (var w = new StreamWriter(a.CreateEntry("readme.txt").Open()))
            w.Write("hello");
        StringAssert.Contains(Refused(foreign), "is not a HessianML model (a zip archive without manifest.json)");

        string otherFormat = Variant("other-format", a => EditManifest(a, m => m["format"] = "onnx-ish"));
        StringAssert.Contains(Refused(otherFormat), "manifest format is 'onnx-ish'");
    }

    [TestMethod]
    public void FlippedTensorByteIsCaughtByTheChecksum()
    {
        var (_, _, model, zip) = Fitted("flip");
        byte[] bytes = File.ReadAllBytes(zip);
        // Tensors are stored uncompressed: find the "scale" tensor's bytes in the file and flip one bit in the middle.
        byte[] scale = MemoryMarshal.AsBytes(model.LastTransformer!.Scale.ToArray().AsSpan()).ToArray();
        int at = bytes.AsSpan().IndexOf(scale);
        Assert.IsGreaterThanOrEqualTo(0, at, "scale tensor bytes found in the zip");
        bytes[at + scale.Length / 2] ^= 0x10;
        string flipped = Path.Combine(_dir, "flipped.zip");
        File.WriteAllBytes(flipped, bytes);
        string msg = Refused(flipped);
        StringAssert.Contains(msg, "tensor 'scale'");
        StringAssert.Contains(msg, "corrupted");
    }

    [TestMethod]
    public void VersionKindTensorAndShapeProblemsEachGetTheirMessage()
    {
        string v2 = Variant("v2", a => EditManifest(a, m => m["formatVersion"] = 2));
        StringAssert.Contains(Refused(v2), "was written by format version 2; this build reads 1");

        string kind = Variant("kind", a => EditManifest(a, m => m["components"]![1]!["kind"] = "Mystery"));
        StringAssert.Contains(Refused(kind), "component 1 has unknown kind 'Mystery'");

        string missing = Variant("missing", a => a.GetEntry("tensors/1/mean.bin")!.Delete());
        string mm = Refused(missing);
        StringAssert.Contains(mm, "tensor 'mean'");
        StringAssert.Contains(mm, "is missing");

        string shape = Variant("shape", a => EditManifest(a, m => m["components"]![1]!["tensors"]![0]!["shape"] = new JsonArray(4)));
        StringAssert.Contains(Refused(shape), "shape mismatch");

        // Consistent bytes and manifest, but not the shape the loader expects (3 features): the loader refuses.
        string loaderShape = Variant("loader-shape", a => EditManifest(a, m =>
            m["components"]![1]!["tensors"]![0]!["shape"] = new JsonArray(3, 1)));
        StringAssert.Contains(Refused(loaderShape), "tensor 'mean' has shape [3,1], expected [3]");

        string garbage = Variant("garbage", a =>
        {
            a.GetEntry("manifest.json")!.Delete();
            using var w = new StreamWriter(a.CreateEntry("manifest.json").Open());
            w.Write("{ not json");
        });
        StringAssert.Contains(Refused(garbage), "manifest.json is damaged");
    }

    private sealed class NotSavable : ITransformer
    {
        public TableSchema GetOutputSchema(TableSchema inputSchema) => inputSchema;

        public IDataView Transform(IDataView input) => input;
    }

    [TestMethod]
    public void SavingRefusesUnsavableComponentsAndLeavesNoFile()
    {
        var data = Samples(5, 1);
        string path = Path.Combine(_dir, "unsavable", "m.zip");
        var ex = Assert.ThrowsExactly<InvalidOperationException>(() =>
            ModelFile.Save(new ConcatenateTransformer("x", "t").Append(new NotSavable()), data.Schema, path));
        StringAssert.Contains(ex.Message, "component 1 (NotSavable)");
        Assert.AreEqual(0, Directory.GetFiles(Path.GetDirectoryName(path)!).Length);
    }
}
