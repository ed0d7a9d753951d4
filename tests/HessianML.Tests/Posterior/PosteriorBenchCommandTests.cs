namespace HessianML.Tests.Posterior;

/// <summary>`hessian bench posterior` runs a few steps of run ising's posterior network and prints its phase split.</summary>
[TestClass]
public sealed class PosteriorBenchCommandTests
{
    [TestMethod]
    public void PrintsThePhasesAndTheAllocation()
    {
        var r = CliRunner.Run("bench", "posterior", "--steps", "3", "--batch", "8", "--channels", "4");
        Assert.AreEqual(0, r.Code, r.Err);
        foreach (var part in new[] { "forward", "backward", "optimiser", "ms/step", "MB/step", "held-out forward", "one epoch" })
            StringAssert.Contains(r.Out, part);
    }
}
