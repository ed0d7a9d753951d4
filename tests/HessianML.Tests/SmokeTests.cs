namespace HessianML.Tests;

[TestClass]
public sealed class SmokeTests
{
    [TestMethod]
    public void LibraryLoads() => Assert.IsNotNull(typeof(HessianML.HessianContext).Assembly);
}
