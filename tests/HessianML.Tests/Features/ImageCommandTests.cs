using System.Diagnostics;
using System.Globalization;
using HessianML.Data;
using HessianML.Features;
using HessianML.Geometry;

namespace HessianML.Tests.Features;

/// <summary>
/// `hessian featurize` and `hessian run images` end to end on a synthetic image set whose t is encoded in the
/// colours (R ~ t1, G ~ t2, B ~ 1 - t1 t2, so distinct t give distinct embeddings), through a tiny ONNX encoder; and
/// their one-line errors with exit code 2 and nothing written.
/// </summary>
[TestClass]
public sealed class ImageCommandTests
{
    private string _dir = null!;

    public TestContext TestContext { get; set; } = null!;

    [TestInitialize]
    public void Init() => _dir = TestImages.TempDir("imgcli");

    [TestCleanup]
    public void Cleanup()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    /// <summary>n images at t uniform on [0, 1]^2 (seeded), 12 x 10 pixels (resampled to 8 x 8 by the preprocessing), named with their t.</summary>
    private string ImageFolder(int n)
    {
        string folder = Path.Combine(_dir, "images");
        Directory.CreateDirectory(folder);
        var rng = new Random(3);
        for (int i = 0; i < n; i++)
        {
            double t1 = Math.Round(rng.NextDouble(), 4), t2 = Math.Round(rng.NextDouble(), 4);
            TestImages.Write(TestImages.FromT(t1, t2, 12, 10),
                Path.Combine(folder, string.Create(CultureInfo.InvariantCulture, $"img{i:D3}_a{t1:F4}_b{t2:F4}.png")));
        }
        return folder;
    }

    private string Encoder() => TinyClipEncoder.Random(11, emb: 8).Save(_dir);

    private static int K => int.Parse(Environment.GetEnvironmentVariable("HML_K") ?? "6", CultureInfo.InvariantCulture);

    private static int N => int.Parse(Environment.GetEnvironmentVariable("HML_N") ?? "400", CultureInfo.InvariantCulture);

    [TestMethod]
    public void FeaturizeThenRunImages_WritesTheMetricHeatMapAndGeodesics()
    {
        string images = ImageFolder(N);
        string model = Encoder();
        string features = Path.Combine(_dir, "features.arrow");
        var clock = Stopwatch.StartNew();
        var (code, stdout, stderr) = CliRunner.Run("featurize", "--encoder", model, "--images", images, "--out", features, "--size", "8", "--batch", "32");
        TestContext.WriteLine($"featurize ({clock.ElapsedMilliseconds} ms): exit {code}\n{stdout}{stderr}");
        Assert.AreEqual(0, code, stderr);
        StringAssert.Contains(stdout, $"wrote {N} rows (t, features[8], image)");
        StringAssert.Contains(stderr, $"featurize: batch {(N + 31) / 32}/{(N + 31) / 32}, {N}/{N} images");
        var data = ArrowDataFile.Read(features);
        Assert.AreEqual("t: Vector<Float32, 2>, features: Vector<Float32, 8>, image: String", data.Schema.Describe());
        Assert.AreEqual("8", data.Schema.Metadata[ImageFeaturizerTransformer.EmbeddingDimensionKey]);
        Assert.AreEqual(Path.GetFullPath(model), data.Schema.Metadata[ImageFeaturizerTransformer.EncoderPathKey]);
        var f = data.GetColumn<float>("features").Span;
        for (int r = 0; r < data.RowCount; r++)
        {
            double norm = 0;
            for (int e = 0; e < 8; e++) norm += f[r * 8 + e] * f[r * 8 + e];
            Assert.AreEqual(1, Math.Sqrt(norm), 1e-5, "unit-length embeddings by default");
        }

        string run = Path.Combine(_dir, "run");
        clock.Restart();
        (code, stdout, stderr) = CliRunner.Run("run", "images", "--features", features, "--grid", K.ToString(CultureInfo.InvariantCulture), "--out", run, "--points", "40");
        TestContext.WriteLine($"run images ({clock.ElapsedMilliseconds} ms): exit {code}\n{stdout}{string.Join('\n', stderr.Split('\n').TakeLast(4))}");
        Assert.AreEqual(0, code, stderr);
        CollectionAssert.AreEquivalent(new[] { "ellipses.png", "geodesic-1.csv", "geodesic-2.csv", "geodesics.png", "metric.csv", "metric.png", "model.zip", "pictures.png", "report.html", "summary.json" },
            Directory.GetFiles(run).Select(Path.GetFileName).ToArray());
        HessianML.Tests.Figures.ReportChecks.PageListsTheFolder(run, "metric.png", "ellipses.png", "geodesics.png", "pictures.png");

        var field = MetricField.ReadCsv(Path.Combine(run, "metric.csv"));
        Assert.AreEqual(K * K, field.Count);
        var det = field.Determinant();
        int positive = Enumerable.Range(0, K * K).Count(i => field.G11[i] > 0 && field.G22[i] > 0 && det[i] > 0);
        TestContext.WriteLine($"positive-definite metric at {positive} of {K * K} cells; g11 in [{field.G11.Min():G3}, {field.G11.Max():G3}], g22 in [{field.G22.Min():G3}, {field.G22.Max():G3}]");
        Assert.IsGreaterThanOrEqualTo(0.9 * K * K, (double)positive, "t is recoverable from the colours: psi is convex over most of the box");

        var path = CsvDataFile.Read(Path.Combine(run, "geodesic-1.csv"));
        Assert.AreEqual("index,t1,t2,cumulative_length", File.ReadLines(Path.Combine(run, "geodesic-1.csv")).First());
        Assert.AreEqual(40, path.RowCount);
        var t1 = path.GetColumn<double>("t1").Span;
        Assert.AreEqual(field.T1[0], t1[0], 1e-12, "starts at the first cell centre");
        Assert.AreEqual(field.T1[^1], t1[^1], 1e-12, "ends at the last cell centre");

        // The saved model reloads and gives the same psi: `hessian metric` reads it.
        (code, stdout, stderr) = CliRunner.Run("metric", "--model", Path.Combine(run, "model.zip"), "--grid", K.ToString(CultureInfo.InvariantCulture), "--out", Path.Combine(_dir, "again.csv"));
        Assert.AreEqual(0, code, stderr);
        var again = MetricField.ReadCsv(Path.Combine(_dir, "again.csv"));
        Assert.AreEqual(0, field.Psi.Zip(again.Psi, (a, b) => Math.Abs(a - b)).Max(), 1e-12);
    }

    [TestMethod]
    public void Featurize_FromCsv_SkipsOrRefusesBadImages()
    {
        string images = ImageFolder(9);
        var names = Directory.GetFiles(images).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray();
        File.WriteAllBytes(Path.Combine(images, "broken.png"), [0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);
        var lines = new List<string> { "file,t1,t2" };
        lines.AddRange(names.Select((n, i) => $"images/{n},{i},{i * 0.5}"));
        lines.Insert(3, "images/broken.png,9,9");
        string csv = Path.Combine(_dir, "list.csv");
        File.WriteAllLines(csv, lines);
        string model = Encoder();
        string outPath = Path.Combine(_dir, "f.arrow");

        var (code, stdout, stderr) = CliRunner.Run("featurize", "--encoder", model, "--images", csv, "--out", outPath, "--size", "8");
        TestContext.WriteLine(stderr);
        Assert.AreEqual(2, code);
        StringAssert.Contains(stderr, "broken.png' (row 2) is ");
        StringAssert.Contains(stderr, "--on-bad-image skip");
        Assert.AreEqual(1, stderr.Trim().Split('\n').Count(l => l.StartsWith("hessian: error:", StringComparison.Ordinal)));
        Assert.IsTrue(stderr.Trim().Split('\n')[^1].StartsWith("hessian: error:", StringComparison.Ordinal), "the error is the last line");
        Assert.IsFalse(File.Exists(outPath), "nothing written");

        (code, stdout, stderr) = CliRunner.Run("featurize", "--encoder", model, "--images", csv, "--out", outPath, "--size", "8", "--on-bad-image", "skip");
        TestContext.WriteLine(stdout + stderr);
        Assert.AreEqual(0, code, stderr);
        StringAssert.Contains(stderr, "skipped 1 unreadable image(s):");
        StringAssert.Contains(stderr, "row 2: " + Path.Combine(images, "broken.png"));
        var data = ArrowDataFile.Read(outPath);
        Assert.AreEqual(9, data.RowCount);
        Assert.AreEqual("1", data.Schema.Metadata[ImageFeaturizerTransformer.SkippedImagesKey]);
        CollectionAssert.AreEqual(new float[] { 0, 0, 1, 0.5f, 2, 1, 3, 1.5f }, data.GetColumn<float>("t").ToArray()[..8]);
    }

    [TestMethod]
    public void BadInput_IsOneLineAndExitCode2_WithNothingWritten()
    {
        string images = ImageFolder(4);
        string model = Encoder();
        string outPath = Path.Combine(_dir, "out.arrow");
        void Expect(string[] args, params string[] parts)
        {
            var (code, _, stderr) = CliRunner.Run(args);
            TestContext.WriteLine(stderr.Trim());
            Assert.AreEqual(2, code, stderr);
            var errors = stderr.Trim().Split('\n').Where(l => l.StartsWith("hessian: error:", StringComparison.Ordinal)).ToArray();
            Assert.AreEqual(1, errors.Length, stderr);
            foreach (var p in parts) StringAssert.Contains(stderr, p);
            Assert.IsFalse(File.Exists(outPath));
        }
        Expect(["featurize", "--encoder", Path.Combine(_dir, "none.onnx"), "--images", images, "--out", outPath], "--encoder", "no such file");
        Expect(["featurize", "--encoder", model, "--images", Path.Combine(_dir, "nowhere"), "--out", outPath], "nowhere", "no such file or folder");
        Expect(["featurize", "--encoder", model, "--images", images, "--out", outPath], "expected Float[N, 3, 224, 224]", "--size");
        Expect(["featurize", "--encoder", model, "--images", images, "--out", Path.Combine(_dir, "out.csv"), "--size", "8"], "use a .arrow name");
        Expect(["featurize", "--encoder", model, "--images", images, "--out", outPath, "--size", "8", "--on-bad-image", "ignore"], "ignore");
        Expect(["featurize", "--encoder", model, "--images", images, "--out", outPath, "--batch", "0"], "--batch 0 is out of range");
        Expect(["featurize", "--encoder", model, "--images", images, "--out", outPath, "--size", "8", "--device", "gpu"], "--device 'gpu'");
        Expect(["featurize", "--encoder", model, "--images", images, "--out", outPath, "--size", "8", "--device", "ilgpu-cpu"], "--device ilgpu-cpu", "cpu or cuda");
        if (!Microsoft.ML.OnnxRuntime.OrtEnv.Instance().GetAvailableProviders().Contains("CUDAExecutionProvider"))
            Expect(["featurize", "--images", images, "--out", outPath, "--device", "cuda"], "GPU 0", "CPU build", "-p:HessianOnnxGpu=true", "--fallback-to-cpu");
        Expect(["featurize", "--images", images, "--out", outPath, "--size", "8"], "ResNet18 takes 224 x 224");
        Expect(["simulate", "shapes", "--out", images], "is not empty");
        File.WriteAllText(Path.Combine(images, "holiday.png"), "x");
        Expect(["featurize", "--encoder", model, "--images", images, "--out", outPath, "--size", "8"], "'holiday.png'", "carry no coordinates");

        string run = Path.Combine(_dir, "run");
        Expect(["run", "images", "--features", Path.Combine(_dir, "none.arrow"), "--out", run], "--features", "no such file");
        string noFeatures = Path.Combine(_dir, "samples.arrow");
        ArrowDataFile.Write(new ColumnTable.Builder().AddVector("t", 2, new float[] { 0, 0, 1, 1 }).AddVector("state", 2, new sbyte[4]).Build(), noFeatures);
        Expect(["run", "images", "--features", noFeatures, "--out", run], "samples.arrow", "'features'");
        string flat = Path.Combine(_dir, "flat.arrow");
        ArrowDataFile.Write(new ColumnTable.Builder().AddVector("t", 2, new float[] { 0, 1, 1, 1, 2, 1 }).AddVector("features", 1, new float[] { 0, 1, 2 }).Build(), flat);
        Expect(["run", "images", "--features", flat, "--out", run], "positive width");
        Expect(["run", "images", "--features", flat, "--out", run, "--grid", "1"], "--grid 1 is out of range");
        Expect(["run", "images", "--features", flat, "--out", run, "--lambda", "2", "--posterior-width", "3"], "not both");
        Assert.IsFalse(Directory.Exists(run), "no run folder left behind (the --out check's folder is removed on failure)");
    }

    /// <summary>README's image story, small: shape pictures -> ResNet18 (the default encoder) -> run images with the deterministic-generator lambda.</summary>
    [TestMethod]
    public void ShapesThroughResNet18_RunAsTheReadmeSays()
    {
        string renders = Path.Combine(_dir, "renders"), features = Path.Combine(_dir, "features.arrow"), run = Path.Combine(_dir, "run");
        var (code, stdout, stderr) = CliRunner.Run("simulate", "shapes", "--grid", "6", "--out", renders);
        Assert.AreEqual(0, code, stderr);
        StringAssert.Contains(stdout, "wrote 36 pictures");
        (code, stdout, stderr) = CliRunner.Run("featurize", "--images", renders, "--out", features);
        Assert.AreEqual(0, code, stderr);
        StringAssert.Contains(stdout, "features[512]");
        StringAssert.Contains(stdout, "encoder resnet18");
        var data = ArrowDataFile.Read(features);
        Assert.AreEqual(36, data.RowCount);
        Assert.AreEqual("resnet18", data.Schema.Metadata[ImageFeaturizerTransformer.EncoderPathKey]);
        (code, stdout, stderr) = CliRunner.Run("run", "images", "--features", features, "--grid", "3", "--posterior-width", "1", "--out", run);
        Assert.AreEqual(0, code, stderr);
        Assert.IsTrue(File.Exists(Path.Combine(run, "metric.csv")));
    }
}
