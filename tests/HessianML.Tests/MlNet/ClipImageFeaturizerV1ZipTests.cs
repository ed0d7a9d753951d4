using System.Globalization;
using System.Security.Cryptography;
using HessianML.Features;
using HessianML.Pipeline.MlNet;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace HessianML.Tests.MlNet;

/// <summary>
/// Zips written by the featuriser before its rename (ClipImageFeaturizer, contract "HessianML.ClipImageFeaturizer.v1",
/// commit 191b802; Assets/clip-v1/README.md says how they were made) load with today's <c>Model.Load</c> and give the
/// features the old code computed. The old format stores the encoder's absolute path, so the test puts the encoder there.
/// </summary>
[TestClass]
public sealed class ClipImageFeaturizerV1ZipTests
{
    private const string RecordedEncoder = "/tmp/hessianml-clip-v1/encoder.onnx";
    private const string RemovedEncoder = "/tmp/hessianml-clip-v1-removed/encoder.onnx";
    private static readonly string Assets = Path.Combine(AppContext.BaseDirectory, "Assets", "clip-v1");

    public sealed class FileRow
    {
        public string file = "";
    }

    /// <summary>The old code's output: image file -> embedding, written with "R" (round-trip) formatting.</summary>
    private static List<(string File, float[] Features)> OldFeatures() =>
        [.. File.ReadAllLines(Path.Combine(Assets, "features.csv")).Select(line => line.Split(','))
            .Select(f => (Path.Combine(Assets, f[0]), f[1..].Select(x => float.Parse(x, CultureInfo.InvariantCulture)).ToArray()))];

    private static List<float[]> Embeddings(IDataView view) => [.. ColumnCursorExtensions.GetColumn<float[]>(view, "embedding")];

    private static IDataView Files(IEnumerable<string> files) => new MLContext().Data.LoadFromEnumerable(files.Select(f => new FileRow { file = f }));

    // Written beside and moved into place: another test run may be reading the same recorded path.
    private static void PutEncoderAtRecordedPath()
    {
        var bytes = File.ReadAllBytes(Path.Combine(Assets, "encoder.onnx"));
        if (File.Exists(RecordedEncoder) && File.ReadAllBytes(RecordedEncoder).AsSpan().SequenceEqual(bytes)) return;
        Directory.CreateDirectory(Path.GetDirectoryName(RecordedEncoder)!);
        string temp = RecordedEncoder + "." + Guid.NewGuid().ToString("N");
        File.WriteAllBytes(temp, bytes);
        File.Move(temp, RecordedEncoder, overwrite: true);
    }

    [TestMethod]
    public void AClipImageFeaturizerZipLoadsAndGivesTheOldFeatures()
    {
        PutEncoderAtRecordedPath();
        var old = OldFeatures();
        var loaded = new MLContext().Model.Load(Path.Combine(Assets, "clip-v1.zip"), out var schema);
        var features = Embeddings(loaded.Transform(Files(old.Select(o => o.File))));
        Assert.HasCount(old.Count, features);
        // The same ONNX Runtime kernels; another CPU may order each embedding's ~50 float32 sums differently, each
        // rounding within 2^-24 of values below 1: 50 * 2^-24 < 3e-6.
        for (int r = 0; r < old.Count; r++)
            for (int k = 0; k < old[r].Features.Length; k++)
                Assert.AreEqual(old[r].Features[k], features[r][k], 3e-6, $"row {r}, feature {k}");

        // Read into today's featuriser with the old settings (non-default mean, std, columns, batch size).
        using var component = (ImageFeaturizerTransformer)SavedForm.Components(loaded).Single();
        Assert.AreEqual(RecordedEncoder, component.Encoder);
        Assert.AreEqual(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(RecordedEncoder))), component.EncoderSha256);
        Assert.IsFalse(component.EmbedEncoder, "the old format references the encoder");
        Assert.AreEqual((8, 3, "file", "embedding", 6), (component.ImageSize, component.BatchSize, component.InputColumnName, component.OutputColumnName, component.EmbeddingDimension));

        // Saved again, it is today's ImageFeaturizer, with the same features (batched now: the same per-image arithmetic).
        string zip = Path.Combine(Path.GetTempPath(), $"hml-clip-v1-{Guid.NewGuid():N}.zip");
        try
        {
            var ml = new MLContext();
            ml.Model.Save(component, schema, zip);
            var again = Embeddings(ml.Model.Load(zip, out _).Transform(Files(old.Select(o => o.File))));
            var batched = Embeddings(component.Transform(Files(old.Select(o => o.File))));
            for (int r = 0; r < old.Count; r++)
            {
                CollectionAssert.AreEqual(features[r], again[r], $"row {r}: re-saved as ImageFeaturizer");
                for (int k = 0; k < features[r].Length; k++) Assert.AreEqual(features[r][k], batched[r][k], 3e-6, $"row {r}, feature {k}: batched");
            }
        }
        finally
        {
            File.Delete(zip);
        }
    }

    [TestMethod]
    public void AClipImageFeaturizerZipWhoseEncoderIsGoneNamesTheFileInOneLine()
    {
        Assert.IsFalse(File.Exists(RemovedEncoder), "the old program deleted this encoder after saving");
        var loaded = new MLContext().Model.Load(Path.Combine(Assets, "clip-v1-encoder-removed.zip"), out _);
        var ex = Assert.ThrowsExactly<InvalidDataException>(() => SavedForm.Components(loaded));
        TestContext.WriteLine(ex.Message);
        // Row by row, ML.NET's cursor wraps what the mapping throws: the innermost exception is the same line.
        var wrapped = Assert.Throws<Exception>(() => Embeddings(loaded.Transform(Files([OldFeatures()[0].File]))));
        Assert.IsInstanceOfType<InvalidDataException>(wrapped.GetBaseException());
        Assert.AreEqual(ex.Message, wrapped.GetBaseException().Message);
        StringAssert.Contains(ex.Message, $"'{RemovedEncoder}'");
        StringAssert.Contains(ex.Message, "not there");
        Assert.IsFalse(ex.Message.Contains('\n'), "one line");
    }

    public TestContext TestContext { get; set; } = null!;
}
