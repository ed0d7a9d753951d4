using HessianML.Posterior;

namespace HessianML.Tests.Posterior;

[TestClass]
public sealed class ParameterBoxTests
{
    [TestMethod]
    public void CellCentresAreRowMajorWithT2Fastest()
    {
        var box = new ParameterBox(0, 1, 10, 14);
        var c = box.CellCentres(2, 4);
        CollectionAssert.AreEqual(new[] { 0.25, 10.5, 0.25, 11.5, 0.25, 12.5, 0.25, 13.5, 0.75, 10.5 }, c[..10]);
        Assert.AreEqual(5, box.CellOf(0.75, 11.5, 2, 4));
        Assert.AreEqual(7, box.CellOf(1.0, 14.0, 2, 4), "upper edges belong to the last cell");
    }

    [TestMethod]
    public void BadRangesAreRefusedWithTheAxisNamed()
    {
        var ex = Assert.ThrowsExactly<ArgumentException>(() => new ParameterBox(0, 1, 2, 1));
        StringAssert.Contains(ex.Message, "t2");
        Assert.ThrowsExactly<ArgumentException>(() => new ParameterBox(double.NaN, 1, 0, 1));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new ParameterBox(0, 1, 0, 1).Inner(0));
    }
}
