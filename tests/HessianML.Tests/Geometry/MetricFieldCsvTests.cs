using HessianML.Geometry;

namespace HessianML.Tests.Geometry;

[TestClass]
public sealed class MetricFieldCsvTests
{
    [TestMethod]
    public void CsvRoundTripIsExactWithTheContractHeader()
    {
        var rng = new Random(3);
        double[] R() => Enumerable.Range(0, 5).Select(_ => rng.NextDouble() * 10 - 5).ToArray();
        var field = new MetricField(R(), R(), R(), R(), R(), R(), R(), R());
        var path = Path.Combine(Path.GetTempPath(), $"metric-{Guid.NewGuid():N}.csv");
        try
        {
            field.WriteCsv(path);
            Assert.AreEqual("t1,t2,psi,dpsi_dt1,dpsi_dt2,g11,g12,g22", File.ReadLines(path).First());
            var back = MetricField.ReadCsv(path);
            for (int c = 0; c < 8; c++)
                CollectionAssert.AreEqual(field.Columns[c], back.Columns[c], MetricField.CsvColumns[c]);
        }
        finally { File.Delete(path); }
    }

    [TestMethod]
    public void MissingColumnIsNamed()
    {
        var path = Path.Combine(Path.GetTempPath(), $"metric-{Guid.NewGuid():N}.csv");
        try
        {
            File.WriteAllText(path, "t1,t2,psi\n0,0,1\n");
            var ex = Assert.ThrowsExactly<InvalidDataException>(() => MetricField.ReadCsv(path));
            StringAssert.Contains(ex.Message, "dpsi_dt1");
        }
        finally { File.Delete(path); }
    }
}
