using HessianML.Autodiff;
using HessianML.Autodiff.Layers;
using HessianML.Geometry;
using HessianML.Tensors;

namespace HessianML.Tests.Geometry;

[TestClass]
public sealed class BregmanJsdLossTests
{
    private const int Batch = 3, GridSide = 4, Cells = GridSide * GridSide;

    private static (Sequential<double> Net, Tensor<double> Grid, Tensor<double> T, Tensor<double> Target) Problem(ulong seed)
    {
        var net = Mlp.Create<double>(2, 6, 2, 1, ActivationKind.Softplus, layerNorm: true, seed);
        var rng = new SplitMix64(seed + 7);
        var grid = new double[2 * Cells];
        for (int i = 0; i < GridSide; i++)
            for (int j = 0; j < GridSide; j++)
                (grid[2 * (i * GridSide + j)], grid[2 * (i * GridSide + j) + 1]) = ((i + 0.5) / GridSide, (j + 0.5) / GridSide);
        var t = Tensor<double>.RandomUniform(rng, 0, 1, Batch, 2);
        var target = Tensor<double>.RandomUniform(rng, 0.01, 1, Batch, Cells);
        for (int b = 0; b < Batch; b++)
        {
            var row = target.Data.AsSpan(b * Cells, Cells);
            double s = 0;
            foreach (var v in row) s += v;
            for (int c = 0; c < Cells; c++) row[c] /= s;
        }
        target.Data[5] = 0; // one empty cell: 0 log 0 must count as 0
        return (net, Tensor<double>.FromArray(grid, Cells, 2), t, target);
    }

    /// <summary>psi at one point, without the graph.</summary>
    private static double Psi(Sequential<double> net, double t1, double t2)
    {
        using var _ = GradMode.NoGrad();
        return net.Forward(Var<double>.Constant(Tensor<double>.FromArray([t1, t2], 1, 2))).Value[0];
    }

    /// <summary>The loss written out in plain doubles, with grad psi by central differences: an independent yardstick.</summary>
    private static double ReferenceLoss(Sequential<double> net, Tensor<double> grid, Tensor<double> t, Tensor<double> target)
    {
        const double h = 1e-5;
        var psiGrid = Enumerable.Range(0, Cells).Select(c => Psi(net, grid[c, 0], grid[c, 1])).ToArray();
        double total = 0;
        for (int b = 0; b < Batch; b++)
        {
            double g1 = (Psi(net, t[b, 0] + h, t[b, 1]) - Psi(net, t[b, 0] - h, t[b, 1])) / (2 * h);
            double g2 = (Psi(net, t[b, 0], t[b, 1] + h) - Psi(net, t[b, 0], t[b, 1] - h)) / (2 * h);
            var logits = Enumerable.Range(0, Cells).Select(c => g1 * grid[c, 0] + g2 * grid[c, 1] - psiGrid[c]).ToArray();
            double max = logits.Max(), z = logits.Sum(l => Math.Exp(l - max));
            double jsd = 0;
            for (int c = 0; c < Cells; c++)
            {
                double q = Math.Exp(logits[c] - max) / z, p = target[b, c], m = 0.5 * (q + p);
                jsd += 0.5 * q * Math.Log(q / m) + (p > 0 ? 0.5 * p * Math.Log(p / m) : 0);
            }
            total += jsd;
        }
        return total / Batch;
    }

    [TestMethod]
    public void ValueIsTheJensenShannonDivergenceOfTheBregmanModel()
    {
        var (net, grid, t, target) = Problem(3);
        double loss = BregmanJsdLoss.Compute<double>(net.Forward, grid, t, target).Value[0];
        Assert.AreEqual(ReferenceLoss(net, grid, t, target), loss, 1e-8);
        Assert.IsTrue(loss > 0.01, $"random targets are far from the model: loss {loss}");
    }

    [TestMethod]
    public void LossVanishesWhenTheTargetIsTheModelItself()
    {
        var (net, grid, t, random) = Problem(4);
        // Target = q_psi itself, computed here from grad psi and psi on the grid.
        var tVar = Var<double>.Parameter(t.Clone());
        var gradT = Autograd.Grad(Ops.Sum(net.Forward(tVar)), tVar);
        var psiGrid = net.Forward(Var<double>.Constant(grid)).Value;
        var q = new double[Batch * Cells];
        for (int b = 0; b < Batch; b++)
        {
            var logits = Enumerable.Range(0, Cells)
                .Select(c => gradT.Value[b, 0] * grid[c, 0] + gradT.Value[b, 1] * grid[c, 1] - psiGrid[c]).ToArray();
            double max = logits.Max(), z = logits.Sum(l => Math.Exp(l - max));
            for (int c = 0; c < Cells; c++) q[b * Cells + c] = Math.Exp(logits[c] - max) / z;
        }
        double self = BregmanJsdLoss.Compute<double>(net.Forward, grid, t, Tensor<double>.FromArray(q, Batch, Cells)).Value[0];
        double other = BregmanJsdLoss.Compute<double>(net.Forward, grid, t, random).Value[0];
        Assert.AreEqual(0, self, 1e-10);
        Assert.IsTrue(other > 0.01, $"a different target must cost something: {other}");
    }

    [TestMethod]
    public void ParameterGradientMatchesFiniteDifferences()
    {
        // The gradient flows through grad_t psi (double backward): check it over every parameter of the MLP.
        var (net, grid, t, target) = Problem(5);
        foreach (var p in net.Parameters()) p.Grad = null;
        BregmanJsdLoss.Compute<double>(net.Forward, grid, t, target).Backward();
        const double h = 1e-6;
        int checkedCount = 0;
        foreach (var (name, p) in net.NamedParameterVars())
        {
            Assert.IsNotNull(p.Grad, $"{name} got no gradient");
            for (int i = 0; i < p.Length; i += 1 + p.Length / 7)
            {
                double saved = p.Value.Data[i];
                p.Value.Data[i] = saved + h;
                double up = BregmanJsdLoss.Compute<double>(net.Forward, grid, t, target).Value[0];
                p.Value.Data[i] = saved - h;
                double down = BregmanJsdLoss.Compute<double>(net.Forward, grid, t, target).Value[0];
                p.Value.Data[i] = saved;
                double fd = (up - down) / (2 * h), analytic = p.Grad!.Data[i];
                Assert.AreEqual(fd, analytic, 1e-7 + 1e-5 * Math.Abs(fd), $"d loss / d {name}[{i}]");
                checkedCount++;
            }
        }
        Assert.IsTrue(checkedCount > 20);
    }

    [TestMethod]
    public void MismatchedShapesAreNamed()
    {
        var (net, grid, t, _) = Problem(6);
        var ex = Assert.ThrowsExactly<ArgumentException>(() =>
            BregmanJsdLoss.Compute<double>(net.Forward, grid, t, Tensor<double>.Zeros(Batch, Cells + 1)));
        StringAssert.Contains(ex.Message, "target posterior");
    }
}
