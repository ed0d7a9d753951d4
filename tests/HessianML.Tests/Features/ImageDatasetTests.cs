using HessianML.Data;
using HessianML.Features;
using Microsoft.ML;
using Microsoft.ML.Data;
using SkiaSharp;

namespace HessianML.Tests.Features;

/// <summary>Image datasets (CSV and file names), string columns through Arrow, and what the decoder makes of colour types.</summary>
[TestClass]
public sealed class ImageDatasetTests
{
    private string _dir = null!;

    public TestContext TestContext { get; set; } = null!;

    [TestInitialize]
    public void Init() => _dir = TestImages.TempDir("images");

    [TestCleanup]
    public void Cleanup()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private string Png(string relative, int seed = 1)
    {
        string path = Path.Combine(_dir, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        return TestImages.Write(ClipPreprocessingTests.Random(4, 4, seed), path);
    }

    private string Csv(string text, string name = "images.csv")
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    [TestMethod]
    public void Csv_ResolvesPathsAgainstItsFolder_AnyColumnOrder_Quotes()
    {
        string a = Png("sub/a.png"), b = Png("b, with comma.png", 2);
        string csv = Csv("id,t2,file,t1\n1,0.5,sub/a.png,-1.25\n2,2e-1,\"b, with comma.png\",3\n\n");
        var view = new MLContext(1).Data.LoadImageDataset(csv);
        CollectionAssert.AreEqual(new[] { a, b }, view.GetColumn<string>("image").ToArray());
        CollectionAssert.AreEqual(new[] { -1.25f, 0.5f, 3f, 0.2f }, view.GetColumn<float>("t").ToArray());
        Assert.AreEqual(ColumnType.Vector(ItemKind.Float32, 2), view.Schema["t"].Type);
        Assert.AreEqual(ColumnType.Scalar(ItemKind.String), view.Schema["image"].Type);
        Assert.AreEqual(Path.GetFullPath(csv), view.Schema.Metadata[ImageDataset.SourceKey]);
    }

    [TestMethod]
    public void Csv_ErrorsNameTheFileAndLine()
    {
        Png("a.png");
        void Expect(string text, params string[] parts)
        {
            string csv = Csv(text);
            var ex = Assert.ThrowsExactly<InvalidDataException>(() => ImageDataset.Load(csv));
            TestContext.WriteLine(ex.Message);
            StringAssert.Contains(ex.Message, "images.csv");
            foreach (var p in parts) StringAssert.Contains(ex.Message, p);
        }
        Expect("file,t1,t2\na.png,0,0\nmissing.png,1,1\n", "line 3", "'missing.png' not found");
        Expect("file,t1,t2\na.png,0,zero\n", "line 2", "t2 'zero' is not a finite number");
        Expect("file,t1,t2\na.png,0,NaN\n", "line 2", "t2 'NaN'");
        Expect("file,t1,t2\na.png,0\n", "line 2", "2 fields, the header has 3");
        Expect("path,t1,t2\na.png,0,0\n", "line 1", "file, t1 and t2");
        Expect("file,t1,t2\n", "no rows");
        Expect("", "is empty");
        Expect("file,t1,t2\n\"a.png,0,0\n", "line 2", "unterminated");
        Assert.ThrowsExactly<FileNotFoundException>(() => ImageDataset.Load(Path.Combine(_dir, "nothing-here")));
    }

    [TestMethod]
    public void Folder_ReadsCoordinatesFromNames_SortedByName()
    {
        string b = Png("img_a0.5000_b-0.2500_s1.png");
        string a = Png("img_a0.1234_b0.5678.jpg".Replace(".jpg", ".png"));
        string c = Png("x-a1e-3_b2.png");
        File.WriteAllText(Path.Combine(_dir, "readme.txt"), "not an image: ignored");
        var view = ImageDataset.Load(_dir);
        CollectionAssert.AreEqual(new[] { a, b, c }, view.GetColumn<string>("image").ToArray());
        CollectionAssert.AreEqual(new[] { 0.1234f, 0.5678f, 0.5f, -0.25f, 0.001f, 2f }, view.GetColumn<float>("t").ToArray());

        Png("photo.png");
        Png("img_a0.1_bX.png");
        var ex = Assert.ThrowsExactly<InvalidDataException>(() => ImageDataset.Load(_dir));
        TestContext.WriteLine(ex.Message);
        StringAssert.Contains(ex.Message, "2 of 5 image names carry no coordinates");
        StringAssert.Contains(ex.Message, "'photo.png'");
        StringAssert.Contains(ex.Message, "'img_a0.1_bX.png'");

        string empty = Path.Combine(_dir, "empty");
        Directory.CreateDirectory(empty);
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => ImageDataset.Load(empty)).Message, "holds no images");
    }

    [TestMethod]
    public void CoordinatesInNames()
    {
        void Yes(string name, double a, double b)
        {
            Assert.IsTrue(ImageDataset.TryParseCoordinates(name, out double x, out double y), name);
            Assert.AreEqual(a, x, name);
            Assert.AreEqual(b, y, name);
        }
        void No(string name) => Assert.IsFalse(ImageDataset.TryParseCoordinates(name, out _, out _), name);
        Yes("sample_a0.1234_b0.5678_seed3.png", 0.1234, 0.5678);
        Yes("a-0.5_b+.25.png", -0.5, 0.25);
        Yes("run7_a12_b3.5e-2.jpeg", 12, 0.035);
        Yes("img_a0.1_b0.2_copy_a0.1_b0.2.png", 0.1, 0.2);   // repeated, the same pair
        No("img_a0.1_b0.2_then_a0.3_b0.4.png");                // two different pairs: ambiguous
        No("data_0.1_0.2.png");
        No("banana0.1_b0.2.png");                              // 'a' must start a name part
        No("img_a0.1_b0.2x.png");                              // b's number must end the part
        No("img_a_b.png");
    }

    [TestMethod]
    public void StringColumns_RoundTripThroughArrow()
    {
        string[] paths = ["/data/ä ö/img_a0.1_b0.2.png", "relative/x,y.png", "", "日本/画像.jpg"];
        var view = new ColumnTable.Builder()
            .AddScalar("image", paths)
            .AddVector("t", 2, new float[] { 0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f, 0.8f })
            .AddMetadata(ImageDataset.SourceKey, "/data")
            .Build();
        string file = Path.Combine(_dir, "images.arrow");
        ArrowDataFile.Write(view, file, batchRows: 3); // two record batches
        var back = ArrowDataFile.Read(file);
        Assert.IsTrue(back.Schema.SameAs(view.Schema), back.Schema.Describe());
        CollectionAssert.AreEqual(paths, back.GetColumn<string>("image").ToArray());
        CollectionAssert.AreEqual(view.GetColumn<float>("t").ToArray(), back.GetColumn<float>("t").ToArray());
        Assert.AreEqual("/data", back.Schema.Metadata[ImageDataset.SourceKey]);
    }

    [TestMethod]
    public void Decoder_ColourTypes()
    {
        var rgb = ClipPreprocessingTests.Random(5, 3, 1);
        string png = TestImages.Write(rgb, Path.Combine(_dir, "rgb.png"));
        CollectionAssert.AreEqual(rgb.Pixels, ImageDecoder.Decode(png).Pixels, "PNG is lossless");

        var grayPixels = new byte[] { 0, 50, 100, 150, 200, 250 }.SelectMany(v => new[] { v, v, v }).ToArray();
        string gray = TestImages.Write(new RgbImage(3, 2, grayPixels), Path.Combine(_dir, "gray.png"), grayscale: true);
        CollectionAssert.AreEqual(grayPixels, ImageDecoder.Decode(gray).Pixels, "gray replicated into R, G, B");

        // Alpha dropped, colour kept as stored (PIL's convert("RGB")); ML.NET's MLImage would premultiply it to (5, 10, 15).
        string rgba = Path.Combine(_dir, "rgba.png");
        using (var bitmap = new SKBitmap(new SKImageInfo(2, 2, SKColorType.Rgba8888, SKAlphaType.Unpremul)))
        {
            bitmap.Erase(new SKColor(10, 20, 30, 128));
            using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
            File.WriteAllBytes(rgba, data.ToArray());
        }
        CollectionAssert.AreEqual(new byte[] { 10, 20, 30 }, ImageDecoder.Decode(rgba).Pixels[..3], "alpha dropped, colour kept");
        using (var premultiplied = MLImage.CreateFromFile(rgba))
        {
            Assert.IsTrue(ImageDecoder.TryFromMLImage(premultiplied, out var viaMl, out _));
            TestContext.WriteLine($"MLImage.CreateFromFile gives ({viaMl!.Pixels[0]}, {viaMl.Pixels[1]}, {viaMl.Pixels[2]})");
        }

        // Half a PNG: MLImage.CreateFromFile fills the missing rows with zeros; the decoder refuses it.
        string half = Path.Combine(_dir, "half.png");
        var whole = File.ReadAllBytes(TestImages.Write(ClipPreprocessingTests.Random(40, 30, 5), Path.Combine(_dir, "whole.png")));
        File.WriteAllBytes(half, whole[..(whole.Length / 2)]);
        Assert.IsFalse(ImageDecoder.TryDecode(half, out _, out var truncated));
        StringAssert.Contains(truncated, "truncated");

        string svg = Path.Combine(_dir, "drawing.png");
        File.WriteAllText(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"4\" height=\"4\"><rect width=\"4\" height=\"4\"/></svg>");
        Assert.IsFalse(ImageDecoder.TryDecode(svg, out _, out var why));
        TestContext.WriteLine($"svg: {why}");
        Assert.IsFalse(ImageDecoder.TryDecode(Path.Combine(_dir, "none.png"), out _, out why));
        Assert.AreEqual("not found", why);
        File.WriteAllBytes(Path.Combine(_dir, "empty.png"), []);
        Assert.IsFalse(ImageDecoder.TryDecode(Path.Combine(_dir, "empty.png"), out _, out why));
        Assert.AreEqual("is empty", why);
    }

    /// <summary>ML.NET's LoadImages and the featuriser's decoder give the same pixels (one decoder: MLImage).</summary>
    [TestMethod]
    public void Decoder_MatchesLoadImages()
    {
        var rgb = ClipPreprocessingTests.Random(7, 5, 3);
        string png = TestImages.Write(rgb, Path.Combine(_dir, "x.png"));
        string jpeg = TestImages.Write(ClipPreprocessingTests.Random(9, 6, 4, smooth: true), Path.Combine(_dir, "y.jpg"), TestImageFormat.Jpeg);
        var ml = new MLContext(seed: 1);
        var paths = new ColumnTable.Builder().AddScalar("path", new[] { png, jpeg }).Build();
        var loaded = ml.Transforms.LoadImages("img", imageFolder: null, inputColumnName: "path").Fit(paths).Transform(paths);
        using var cursor = loaded.GetRowCursor(loaded.Schema);
        var get = cursor.GetGetter<MLImage>(loaded.Schema["img"]);
        foreach (string file in new[] { png, jpeg })
        {
            Assert.IsTrue(cursor.MoveNext());
            MLImage image = null!;
            get(ref image);
            Assert.IsTrue(ImageDecoder.TryFromMLImage(image, out var fromLoadImages, out _));
            CollectionAssert.AreEqual(ImageDecoder.Decode(file).Pixels, fromLoadImages!.Pixels, file);
        }
        CollectionAssert.AreEqual(rgb.Pixels, ImageDecoder.Decode(png).Pixels, "PNG is lossless");
    }
}
