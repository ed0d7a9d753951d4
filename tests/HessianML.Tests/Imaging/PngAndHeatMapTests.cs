using System.Buffers.Binary;
using System.IO.Compression;
using HessianML.Imaging;

namespace HessianML.Tests.Imaging;

[TestClass]
public sealed class PngAndHeatMapTests
{
    /// <summary>Minimal PNG reader for the files we write: checks chunk CRCs and inflates the pixels back.</summary>
    internal static (int W, int H, byte[] Rgb) Decode(byte[] png)
    {
        CollectionAssert.AreEqual(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, png[..8]);
        int pos = 8, w = 0, h = 0;
        var idat = new MemoryStream();
        while (pos < png.Length)
        {
            int len = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(pos));
            var type = System.Text.Encoding.ASCII.GetString(png, pos + 4, 4);
            var data = png.AsSpan(pos + 8, len);
            uint crc = BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(pos + 8 + len));
            Assert.AreEqual(PngWriter.Crc(0xFFFFFFFF, png.AsSpan(pos + 4, 4 + len)) ^ 0xFFFFFFFF, crc, $"CRC of {type}");
            if (type == "IHDR") { w = BinaryPrimitives.ReadInt32BigEndian(data); h = BinaryPrimitives.ReadInt32BigEndian(data[4..]); }
            if (type == "IDAT") idat.Write(data);
            pos += 12 + len;
        }
        idat.Position = 0;
        using var z = new ZLibStream(idat, CompressionMode.Decompress);
        var raw = new MemoryStream();
        z.CopyTo(raw);
        var bytes = raw.ToArray();
        var rgb = new byte[w * h * 3];
        for (int y = 0; y < h; y++)
        {
            Assert.AreEqual(0, bytes[y * (w * 3 + 1)], "filter type");
            Array.Copy(bytes, y * (w * 3 + 1) + 1, rgb, y * w * 3, w * 3);
        }
        return (w, h, rgb);
    }

    [TestMethod]
    public void PngRoundTripsPixelsExactly()
    {
        var rgb = new byte[7 * 3 * 3];
        new Random(3).NextBytes(rgb);
        var (w, h, back) = Decode(PngWriter.Encode(rgb, 7, 3));
        Assert.AreEqual(7, w);
        Assert.AreEqual(3, h);
        CollectionAssert.AreEqual(rgb, back);
        Assert.ThrowsExactly<ArgumentException>(() => PngWriter.Encode(rgb, 7, 4));
    }

    [TestMethod]
    public void HeatMapPutsLowValuesDarkAndHighValuesBrightInTheRightCells()
    {
        // 2 x 2 grid: value = index; cell (i=1, j=1) is the maximum and sits at the top right.
        var panel = new HeatMapPanel("test", [0, 1, 2, 3], 2, 2);
        var canvas = HeatMapFigure.Render([panel], 1, panelSize: 100);
        int x0 = 10, y0 = 10 + 14;
        Assert.AreEqual(ColorMap.Map(0), canvas[x0 + 25, y0 + 75], "t1 low, t2 low: bottom left");
        Assert.AreEqual(ColorMap.Map(1), canvas[x0 + 75, y0 + 25], "t1 high, t2 high: top right");
        Assert.AreEqual(ColorMap.Map(1.0 / 3), canvas[x0 + 25, y0 + 25], "t1 low, t2 high: top left");
        var file = Path.Combine(Path.GetTempPath(), $"hm-{Guid.NewGuid():N}.png");
        try
        {
            canvas.SavePng(file);
            var (w, h, _) = Decode(File.ReadAllBytes(file));
            Assert.AreEqual(canvas.Width, w);
            Assert.AreEqual(canvas.Height, h);
        }
        finally { File.Delete(file); }
    }
}
