using System.Diagnostics;
using HessianML.Autodiff;
using HessianML.Autodiff.Layers;
using HessianML.Compute;
using HessianML.Tensors;
using HessianML.Tensors.Devices;

namespace HessianML.Geometry;

/// <summary>
/// One training step of the paper's log-partition MLP (2 -> depth x [Linear hidden, LayerNorm, ReLU] -> 1) under the
/// Bregman JSD loss, set up exactly as the PyTorch peer shared/peers/psi_step_torch.py does (grid = K x K points of
/// linspace(0, 1), batch t uniform in the unit square, Gaussian target posteriors of width 0.05, Adam lr 1e-4), so that
/// the two timings are of the same work and their ratio means something.
/// </summary>
public sealed class PsiStepBenchmark
{
    private readonly Sequential<float> _net;
    private readonly Adam<float> _adam;
    private readonly Tensor<float> _grid, _t, _target;

    public int Grid { get; }
    public int Batch { get; }

    /// <summary>The accelerator the step runs on; null for the CPU engine.</summary>
    public DeviceAccelerator? Device { get; }

    public PsiStepBenchmark(int grid, int batch, int hidden, int depth, ulong seed = 0, ComputeDevice device = default)
    {
        (Grid, Batch) = (grid, batch);
        Device = DeviceAccelerator.For(device);
        _net = Mlp.Create<float>(2, hidden, depth, 1, ActivationKind.Relu, layerNorm: true, seed);
        _net.MoveTo(Device);
        _adam = new Adam<float>(_net.Parameters(), lr: 1e-4);
        var rng = new SplitMix64(seed + 1);

        int k = grid * grid;
        var g = new float[2 * k];
        for (int i = 0; i < grid; i++)
            for (int j = 0; j < grid; j++)
            {
                g[2 * (i * grid + j)] = grid == 1 ? 0 : (float)i / (grid - 1);
                g[2 * (i * grid + j) + 1] = grid == 1 ? 0 : (float)j / (grid - 1);
            }
        _grid = Tensor<float>.FromArray(g, k, 2);
        _t = Tensor<float>.RandomUniform(rng, 0, 1, batch, 2);

        var target = new float[batch * k];
        const double width = 0.05;
        for (int b = 0; b < batch; b++)
        {
            var row = target.AsSpan(b * k, k);
            double max = double.NegativeInfinity;
            var logits = new double[k];
            for (int c = 0; c < k; c++)
            {
                double d1 = g[2 * c] - _t[b, 0], d2 = g[2 * c + 1] - _t[b, 1];
                logits[c] = -(d1 * d1 + d2 * d2) / (2 * width * width);
                max = Math.Max(max, logits[c]);
            }
            double sum = 0;
            for (int c = 0; c < k; c++) sum += logits[c] = Math.Exp(logits[c] - max);
            for (int c = 0; c < k; c++) row[c] = (float)(logits[c] / sum);
        }
        _target = Tensor<float>.FromArray(target, batch, k);
        // The step's inputs live on the device for the whole run, as the peer's do (torch.set_default_device).
        (_grid, _t, _target) = (_grid.To(Device), _t.To(Device), _target.To(Device));
    }

    /// <summary>
    /// One step: zero gradients, loss, backward, Adam update. Returns the loss before the update (read back to the host,
    /// which waits for the device, as the peer's loss.item() does).
    /// </summary>
    public float Step()
    {
        _adam.ZeroGrad();
        var loss = BregmanJsdLoss.Compute<float>(_net.Forward, _grid, _t, _target);
        loss.Backward();
        _adam.Step();
        return loss.Value.ToHost()[0];
    }

    /// <summary>Runs <paramref name="warmup"/> untimed steps (JIT, buffers), then returns the mean ms over <paramref name="steps"/>.</summary>
    public double MeasureMillisecondsPerStep(int warmup, int steps, Action<int, float>? progress = null)
    {
        for (int i = 0; i < warmup; i++) Step();
        var watch = Stopwatch.StartNew();
        for (int i = 0; i < steps; i++)
        {
            float loss = Step();
            progress?.Invoke(i + 1, loss);
        }
        return watch.Elapsed.TotalMilliseconds / steps;
    }
}
