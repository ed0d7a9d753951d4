namespace HessianML.Tests;
using Microsoft.ML;
using Microsoft.ML.Data;

[TestClass]
public sealed class SmokeTests
{
    [TestMethod]
    public void LibraryLoads() => Assert.IsNotNull(typeof(HessianML.HessianCatalog).Assembly);
}
