using HessianML.Geometry;
using HessianML.Tests.MlNet;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace HessianML.Tests.Data;

/// <summary>Our CSV tables are files other tools read: ML.NET's own text loader among them.</summary>
[TestClass]
public sealed class CsvThroughMlNetTests
{
    public sealed class MetricRow
    {
        [LoadColumn(0)] public double t1;
        [LoadColumn(1)] public double t2;
        [LoadColumn(2)] public double psi;
        [LoadColumn(3)] public double dpsi_dt1;
        [LoadColumn(4)] public double dpsi_dt2;
        [LoadColumn(5)] public double g11;
        [LoadColumn(6)] public double g12;
        [LoadColumn(7)] public double g22;
    }

    [TestMethod]
    public void LoadFromTextFileReadsTheMetricFieldCsvExactly()
    {
        var lp = MlNetFixtures.SplinePsi();
        var field = lp.Field(lp.Box, 7);
        string dir = MlNetFixtures.TempFolder("csv-mlnet");
        try
        {
            string path = Path.Combine(dir, "metric.csv");
            field.WriteCsv(path);
            var ml = new MLContext(seed: 1);
            var rows = ml.Data.CreateEnumerable<MetricRow>(
                ml.Data.LoadFromTextFile<MetricRow>(path, separatorChar: ',', hasHeader: true), reuseRowObject: false).ToList();
            Assert.AreEqual(49, rows.Count);
            for (int i = 0; i < rows.Count; i++)
            {
                // Shortest round-trip text in, the same double out.
                Assert.AreEqual(field.T1[i], rows[i].t1, 0, $"row {i} t1");
                Assert.AreEqual(field.Psi[i], rows[i].psi, 0, $"row {i} psi");
                Assert.AreEqual(field.Dpsi2[i], rows[i].dpsi_dt2, 0, $"row {i} dpsi_dt2");
                Assert.AreEqual(field.G12[i], rows[i].g12, 0, $"row {i} g12");
            }
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
