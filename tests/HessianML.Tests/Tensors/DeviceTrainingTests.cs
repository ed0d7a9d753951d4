using HessianML.Compute;
using HessianML.Data;
using HessianML.Geometry;
using HessianML.Onnx;
using HessianML.Pipeline.MlNet;
using HessianML.Posterior;
using HessianML.Systems.Ising;
using HessianML.Tensors.Devices;
using Microsoft.ML;

namespace HessianML.Tests.Tensors;

/// <summary>
/// The training components with <c>Device = ilgpu-cpu</c> (the GPU engine's kernels, run on the CPU): a tiny fit agrees
/// with the CPU engine's fit of the same seed, and the fitted model is an ordinary model (saved, loaded and applied on the
/// CPU) whatever trained it.
/// </summary>
[TestClass]
public sealed class DeviceTrainingTests
{
    private static ColumnTable _ising = null!;

    [ClassInitialize]
    public static void Init(TestContext _) =>
        _ising = IsingSimulation.Generate(new IsingSimulationSettings { Size = 4, Samples = 240, Seed = 5, Sweeps = 10 });

    private static PosteriorGridOptions Tiny(PosteriorArchitecture architecture, ComputeDevice device) => new()
    {
        Architecture = architecture, Grid = 5, Epochs = 2, BatchSize = 48, LearningRate = 1e-2, Channels = 4, Hidden = 8,
        HeadSplineCount = 5, Seed = 3, Device = device,
    };

    /// <summary>
    /// How far two float fits of the same seed may drift apart, relative to how far training moved the model: each of
    /// S steps computes its gradient with rounding errors of at most D units of roundoff (D the longest sum in it,
    /// gamma_D = D u), and Adam's update is smooth in the gradient, so the fits differ by at most about S D u of the
    /// distance they travelled (errors adding up step by step, none cancelling).
    /// </summary>
    private static double Drift(int steps, int depth) => steps * depth * Math.Pow(2, -24);

    private static float[] Posteriors(ITransformer model, IDataView data) =>
        model.Transform(data).AsTable().GetColumn<float>("posterior").ToArray();

    [TestMethod]
    [DataRow(PosteriorArchitecture.ExponentialFamily)]
    [DataRow(PosteriorArchitecture.Convolutional)]
    public void PosteriorGridTrainedOnTheDeviceAgreesWithTheCpuFit(PosteriorArchitecture architecture)
    {
        var cpu = new MLContext(1).Hessian().PosteriorGrid(Tiny(architecture, ComputeDevice.Cpu)).Fit(_ising);
        var device = new MLContext(1).Hessian().PosteriorGrid(Tiny(architecture, ComputeDevice.IlgpuCpu)).Fit(_ising);
        var pc = Posteriors(cpu, _ising);
        var pd = Posteriors(device, _ising);
        double worst = pc.Zip(pd, (a, b) => Math.Abs(a - (double)b)).Max();
        double moved = pc.Max(p => Math.Abs(p - 1.0 / 25));
        // 240 rows, 80% trained in batches of 48: 4 steps an epoch, 2 epochs; the longest sum is a weight gradient's, over
        // the batch's 48 bundles x 4 members x 16 sites.
        double tolerance = Drift(2 * 4, 48 * 4 * 16) * moved;
        Console.WriteLine($"{architecture}: max |p_device - p_cpu| = {worst:G3}, training moved p by up to {moved:G3}, tolerance {tolerance:G3}");
        Assert.IsLessThan(tolerance, worst, $"{architecture}: max |p_device - p_cpu| = {worst:G3} (training moved p by {moved:G3})");
    }

    [TestMethod]
    public void MlpPsiTrainedOnTheDeviceAgreesWithTheCpuFit()
    {
        var box = new ParameterBox(-1, 1, -1, 1);
        const int k = 6;
        var c = box.CellCentres(k, k);
        var psiGrid = Enumerable.Range(0, k * k).Select(i => 0.5 * (2 * c[2 * i] * c[2 * i] + c[2 * i + 1] * c[2 * i + 1])).ToArray();
        var (t, p) = SyntheticPosteriors.Generate(box, k, psiGrid, (t1, t2) => (2 * t1, t2), 8, 96, 7);
        var td = Array.ConvertAll(t, x => (double)x);
        LogPartitionOptions Options(ComputeDevice d) => new()
        {
            Parametrisation = PsiParametrisation.SmoothMlp, Hidden = 8, Depth = 2, Epochs = 2, BatchSize = 32, Seed = 3, Device = d,
        };
        var cpu = LogPartitionTrainer.FitPsi(Options(ComputeDevice.Cpu), box, k, td, p);
        var device = LogPartitionTrainer.FitPsi(Options(ComputeDevice.IlgpuCpu), box, k, td, p);
        var t1 = Enumerable.Range(0, k * k).Select(i => c[2 * i]).ToArray();
        var t2 = Enumerable.Range(0, k * k).Select(i => c[2 * i + 1]).ToArray();
        var fc = cpu.Evaluate(t1, t2);
        var fd = device.Evaluate(t1, t2);
        var untrained = Options(ComputeDevice.Cpu);
        untrained.Epochs = 0;
        var init = LogPartitionTrainer.FitPsi(untrained, box, k, td, p).Evaluate(t1, t2);
        // Compared through the metric g = Hessian psi: the JSD loss does not see psi's constant (nor linear) part, so the
        // output bias gets a zero gradient up to rounding noise, which Adam (a sign-like step where the gradient is ~0)
        // turns into lr-sized steps of either sign on either engine. The metric is what psi is for.
        double[] Metric(MetricField f) => [.. f.G11, .. f.G12, .. f.G22];
        double worst = Metric(fc).Zip(Metric(fd), (a, b) => Math.Abs(a - b)).Max();
        double moved = Metric(fc).Zip(Metric(init), (a, b) => Math.Abs(a - b)).Max();
        // 96 rows in batches of 32: 3 steps an epoch, 2 epochs; the longest sum is the loss's, over 32 rows x 36 cells.
        double tolerance = Drift(2 * 3, 32 * 36) * moved;
        Console.WriteLine($"MLP psi: max |g_device - g_cpu| = {worst:G3}, training moved g by up to {moved:G3}, tolerance {tolerance:G3}");
        Assert.IsLessThan(tolerance, worst, $"max |g_device - g_cpu| = {worst:G3} (training moved g by {moved:G3})");
    }

    [TestMethod]
    public void AModelTrainedOnTheDeviceSavesLoadsAndRunsOnTheCpu()
    {
        var ml = new MLContext(1);
        var options = Tiny(PosteriorArchitecture.ExponentialFamily, ComputeDevice.IlgpuCpu);
        options.BundleSize = 1; // row to row, so the loaded model reads the rows themselves
        var model = ml.Hessian().PosteriorGrid(options).Fit(_ising);
        var path = Path.Combine(Path.GetTempPath(), $"device-trained-{Guid.NewGuid():N}.zip");
        try
        {
            ml.Model.Save(model, ((IDataView)_ising).Schema, path);
            var loaded = new MLContext(2).Model.Load(path, out _);
            CollectionAssert.AreEqual(Posteriors(model, _ising), Posteriors(loaded, _ising));
        }
        finally { File.Delete(path); }
    }

    [TestMethod]
    public void FittingOnAMissingCudaDeviceFailsInOneLine()
    {
        var est = new MLContext(1).Hessian().PosteriorGrid(Tiny(PosteriorArchitecture.ExponentialFamily, ComputeDevice.Cuda(63)));
        var e = Assert.ThrowsExactly<GpuUnavailableException>(() => est.Fit(_ising));
        StringAssert.Contains(e.Message, "cuda:63");
        Assert.IsFalse(e.Message.Contains('\n'));
    }

    [TestMethod]
    public void TheCliRefusesAMissingCudaDeviceInOneLineAndWritesNothing()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"device-run-{Guid.NewGuid():N}");
        var (code, _, err) = CliRunner.Run("run", "ising", "--size", "4", "--samples", "100", "--device", "cuda:63", "--out", dir);
        Assert.AreEqual(2, code, err);
        StringAssert.Contains(err, "cuda:63");
        Assert.AreEqual(1, err.Trim().Split('\n').Length, err);
        Assert.IsFalse(Directory.Exists(dir));
    }
}
