using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using HessianML.Autodiff;
using HessianML.Autodiff.Layers;
using HessianML.Cli.Infrastructure;
using HessianML.Posterior;
using HessianML.Tensors;
using HessianML.Tensors.Devices;

namespace HessianML.Cli;

/// <summary>
/// `hessian bench posterior`: one training step of the posterior network of `hessian run ising` (its defaults: the
/// exponential-family head, L = 8, bundles of 4, 32 channels, a 24 x 24 grid, 24 splines, batches of 128), split into
/// data assembly, forward, backward and optimiser, plus the per-epoch held-out forward, with the bytes each allocates.
/// It has no peer: it is where `run ising` spends its time, measured phase by phase (README, "Speed").
/// </summary>
internal static class PosteriorBench
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    internal static Command Create()
    {
        var size = CliOptions.Value("--size", "lattice side L", 8);
        var steps = CliOptions.Value("--steps", "timed steps (after 20 warm-up steps)", 300);
        var batch = CliOptions.Value("--batch", "bundles per step", 128);
        var channels = CliOptions.Value("--channels", "channels of the local statistic", 32);
        var device = CliOptions.Device("where the network trains: cpu, cuda[:N] or ilgpu-cpu (our GPU kernels on the CPU)");
        var command = new Command("posterior",
            "Milliseconds and allocated bytes per training step of run ising's posterior network, by phase.")
        {
            size, steps, batch, channels, device,
        };
        command.SetAction(parse =>
        {
            int l = CliOptions.Within(parse.GetValue(size), "--size", 2, 256);
            int n = CliOptions.Within(parse.GetValue(steps), "--steps", 1, 1_000_000);
            int bs = CliOptions.Within(parse.GetValue(batch), "--batch", 1, 65536);
            int c = CliOptions.Within(parse.GetValue(channels), "--channels", 1, 1024);
            Measure(Console.Out, l, n, bs, c, DeviceAccelerator.For(parse.GetValue(device)));
            return 0;
        });
        return command;
    }

    /// <summary>
    /// On a device the network, prior and optimiser state stay there; each step uploads its batch, and every phase ends
    /// with a wait for the device, so that each phase's time is its own (kernels are queued asynchronously).
    /// </summary>
    private static void Measure(TextWriter output, int l, int steps, int bs, int channels, DeviceAccelerator? device)
    {
        const int kb = 4, grid = 24, splines = 24, rows = 24000;
        int sites = l * l, cells = grid * grid;
        var box = new ParameterBox(0.25, 0.65, -0.3, 0.3);
        var rng = new Random(1);
        var states = new sbyte[rows * sites];
        for (int i = 0; i < states.Length; i++) states[i] = (sbyte)(rng.Next(2) * 2 - 1);
        var t = new float[rows * 2];
        for (int i = 0; i < rows; i++)
        {
            t[2 * i] = (float)(box.Lo1 + box.Width1 * rng.NextDouble());
            t[2 * i + 1] = (float)(box.Lo2 + box.Width2 * rng.NextDouble());
        }
        var labels = PosteriorGridTransformer.Labels(t, box, grid, PosteriorLabels.Hard, 0.5 / grid);
        var net = new ExponentialFamilyNetwork(true, kb, l, l, channels, box, grid, splines, 1);
        var prior = Var<float>.Constant(Tensor<float>.Zeros(cells).To(device));
        net.MoveTo(device);
        var adam = new Adam<float>(net.Parameters(), 2e-3);
        var x = new float[bs * kb * sites];
        var y = new float[bs * cells];
        var bundles = new int[rows][];
        for (int i = 0; i < rows; i++) bundles[i] = [i, rng.Next(rows), rng.Next(rows), rng.Next(rows)];

        double data = 0, forward = 0, backward = 0, optimiser = 0;
        long bytes = 0;
        int gc0 = 0, gc2 = 0;
        for (int s = -20; s < steps; s++)
        {
            bool timed = s >= 0;
            long a0 = GC.GetTotalAllocatedBytes(true);
            int g0 = GC.CollectionCount(0), g2 = GC.CollectionCount(2);
            long t0 = Stopwatch.GetTimestamp();
            int start = (s + 20) * bs % (rows - bs);
            var batchRows = bundles[start..(start + bs)];
            PosteriorGridTransformer.FillInput(states, sites, batchRows, x);
            PosteriorGridTransformer.FillTarget(labels, cells, batchRows, y);
            var xv = Var<float>.Constant(new Tensor<float>(x, bs, kb, l, l).To(device));
            var yv = Var<float>.Constant(new Tensor<float>(y, bs, cells).To(device));
            device?.Synchronize();
            long t1 = Stopwatch.GetTimestamp();
            var logits = Ops.Add(net.Forward(xv), prior);
            var loss = Ops.Scale(Ops.SoftmaxLogLikelihood(logits, yv), -1.0 / bs);
            device?.Synchronize();
            long t2 = Stopwatch.GetTimestamp();
            adam.ZeroGrad();
            loss.Backward();
            device?.Synchronize();
            long t3 = Stopwatch.GetTimestamp();
            adam.Step();
            _ = loss.Value.ToHost(); // the training loop reads each step's loss
            long t4 = Stopwatch.GetTimestamp();
            if (!timed) continue;
            data += Stopwatch.GetElapsedTime(t0, t1).TotalMilliseconds;
            forward += Stopwatch.GetElapsedTime(t1, t2).TotalMilliseconds;
            backward += Stopwatch.GetElapsedTime(t2, t3).TotalMilliseconds;
            optimiser += Stopwatch.GetElapsedTime(t3, t4).TotalMilliseconds;
            bytes += GC.GetTotalAllocatedBytes(true) - a0;
            gc0 += GC.CollectionCount(0) - g0;
            gc2 += GC.CollectionCount(2) - g2;
        }

        // The held-out pass of every epoch: forward only, batches of 512 bundles, under NoGrad.
        const int evalBatch = 512;
        int evalSteps = Math.Max(1, steps / 4);
        var xe = new float[evalBatch * kb * sites];
        double eval = 0;
        long evalBytes = 0;
        for (int s = -5; s < evalSteps; s++)
        {
            long a0 = GC.GetTotalAllocatedBytes(true);
            long t0 = Stopwatch.GetTimestamp();
            int start = (s + 5) * evalBatch % (rows - evalBatch);
            using (GradMode.NoGrad())
            {
                PosteriorGridTransformer.FillInput(states, sites, bundles[start..(start + evalBatch)], xe);
                _ = net.Forward(Var<float>.Constant(new Tensor<float>(xe, evalBatch, kb, l, l).To(device))).Value.ToHost();
            }
            if (s < 0) continue;
            eval += Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            evalBytes += GC.GetTotalAllocatedBytes(true) - a0;
        }

        output.WriteLine(string.Create(Inv,
            $"posterior step: Ising L = {l}, batch {bs} bundles of {kb}, {channels} channels, grid {grid}x{grid}, {splines} splines, " +
            $"{Environment.ProcessorCount} cores, {steps} steps, device {(device is null ? "cpu" : $"{device.Device} ({device.Name})")}"));
        output.WriteLine(string.Create(Inv,
            $"  data {data / steps:F3} ms  forward {forward / steps:F3} ms  backward {backward / steps:F3} ms  " +
            $"optimiser {optimiser / steps:F3} ms  total {(data + forward + backward + optimiser) / steps:F3} ms/step"));
        output.WriteLine(string.Create(Inv,
            $"  allocated {bytes / (double)steps / 1e6:F3} MB/step; gen0 GCs {gc0}, gen2 GCs {gc2} over {steps} steps"));
        output.WriteLine(string.Create(Inv,
            $"  held-out forward: {eval / evalSteps:F3} ms and {evalBytes / (double)evalSteps / 1e6:F3} MB per {evalBatch} bundles"));
        int trainSteps = (int)Math.Ceiling(rows * 0.8 / bs);
        double epoch = (data + forward + backward + optimiser) / steps * trainSteps + eval / evalSteps * Math.Ceiling(rows * 0.2 / evalBatch);
        output.WriteLine(string.Create(Inv,
            $"  one epoch of run ising ({trainSteps} steps + held-out pass): about {epoch / 1000:F2} s"));
    }
}
