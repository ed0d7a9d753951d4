using HessianML.Compute;

namespace HessianML.Tests.Compute;

[TestClass]
public class ComputeDeviceTests
{
    [TestMethod]
    public void ParsesEveryAcceptedFormAndPrintsItBack()
    {
        Assert.AreEqual(ComputeDevice.Cpu, ComputeDevice.Parse("cpu"));
        Assert.AreEqual(ComputeDevice.Cuda(0), ComputeDevice.Parse("CUDA"));
        Assert.AreEqual(ComputeDevice.Cuda(3), ComputeDevice.Parse("cuda:3"));
        Assert.AreEqual("cuda:3", ComputeDevice.Cuda(3).ToString());
        Assert.AreEqual("cpu", default(ComputeDevice).ToString());
        Assert.IsFalse(ComputeDevice.Parse("cpu").IsCuda);
        Assert.AreEqual(ComputeDevice.IlgpuCpu, ComputeDevice.Parse("ILGPU-CPU"));
        Assert.AreEqual("ilgpu-cpu", ComputeDevice.IlgpuCpu.ToString());
        Assert.IsTrue(ComputeDevice.IlgpuCpu.UsesDeviceEngine && !ComputeDevice.IlgpuCpu.IsCuda);
        Assert.IsFalse(ComputeDevice.Cpu.UsesDeviceEngine);
    }

    [TestMethod]
    [DataRow("gpu")]
    [DataRow("cuda:")]
    [DataRow("cuda:-1")]
    [DataRow("cuda:x")]
    [DataRow("")]
    public void RefusesOtherTextInOneLineNamingIt(string text)
    {
        var e = Assert.ThrowsExactly<FormatException>(() => ComputeDevice.Parse(text));
        StringAssert.Contains(e.Message, $"'{text}'");
        Assert.IsFalse(e.Message.Contains('\n'));
    }
}
