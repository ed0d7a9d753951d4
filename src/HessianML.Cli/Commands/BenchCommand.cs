using System.CommandLine;
using System.Globalization;
using HessianML.Cli.Infrastructure;
using HessianML.Geometry;

namespace HessianML.Cli;

/// <summary>
/// `hessian bench ...`: speed measured the way the brief asks — ours and the paper's own implementation (the peers
/// in shared/peers) side by side in one run, reported as a ratio, never as a lone timing.
/// </summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var bench = new Command("bench", "Measure speed against the paper's reference implementations in one run.");
        bench.Add(PsiStep());
        bench.Add(IsingCommands.Bench());
        bench.Add(GeodesicBench.Create());
        bench.Add(PosteriorBench.Create());
        bench.Add(FeaturizeBench.Create());
        return bench;
    }

    private static Command PsiStep()
    {
        var grid = CliOptions.Value("--grid", "grid cells per side (K x K posterior grid)", 64);
        var batch = CliOptions.Value("--batch", "samples per step", 128);
        var hidden = CliOptions.Value("--hidden", "hidden width of the psi MLP", 512);
        var depth = CliOptions.Value("--depth", "hidden layers (Linear + LayerNorm + ReLU)", 4);
        var steps = CliOptions.Value("--steps", "timed steps (after 3 warm-up steps)", 10);
        var threads = CliOptions.Value("--peer-threads", "torch threads for the peer (this machine has 2 cores)", 2);
        var noPeer = new Option<bool>("--no-peer") { Description = "skip the PyTorch peer (shared/peers/psi_step_torch.py)" };
        var device = CliOptions.Device("where ours and the peer run: cpu, cuda[:N] (the peer runs on torch's cuda), or ilgpu-cpu (our GPU kernels on the CPU; no peer)");
        var command = new Command("psi-step",
            "One training step of the paper's log-partition MLP under the JSD loss (METHOD.md §3), ours against PyTorch's.")
        {
            grid, batch, hidden, depth, steps, threads, noPeer, device,
        };
        command.SetAction(parse =>
        {
            int k = CliOptions.Within(parse.GetValue(grid), "--grid", 2, 512);
            int b = CliOptions.Within(parse.GetValue(batch), "--batch", 1, 65536);
            int h = CliOptions.Within(parse.GetValue(hidden), "--hidden", 1, 8192);
            int d = CliOptions.Within(parse.GetValue(depth), "--depth", 1, 64);
            int n = CliOptions.Within(parse.GetValue(steps), "--steps", 1, 100000);
            var output = Console.Out; // HessianCli points Console.Out at the caller's writer

            var on = parse.GetValue(device);
            var benchmark = new PsiStepBenchmark(k, b, h, d, device: on);
            output.WriteLine($"psi-step: grid {k}x{k}, batch {b}, MLP 2 -> {d} x {h} (LayerNorm, ReLU) -> 1, float32, " +
                             $"{Environment.ProcessorCount} cores, device {on}{(benchmark.Device is null ? "" : $" ({benchmark.Device.Name})")}");
            double ours = benchmark.MeasureMillisecondsPerStep(3, n,
                (i, loss) => Console.Error.Write($"\r  step {i}/{n}  loss {loss:F5}   "));
            Console.Error.WriteLine();
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"hessianml: {ours:F1} ms/step"));

            if (parse.GetValue(noPeer))
                return 0;
            if (on.IsIlgpuCpu)
            {
                output.WriteLine("peer: skipped (ilgpu-cpu checks our GPU kernels on the CPU; it has no PyTorch counterpart)");
                return 0;
            }
            // The peer script has the paper's sizes built in: a ratio is only meaningful at those sizes.
            if (k != 64 || b != 128 || h != 512 || d != 4)
            {
                output.WriteLine("peer: skipped (psi_step_torch.py runs only --grid 64 --batch 128 --hidden 512 --depth 4)");
                return 0;
            }
            int peerThreads = CliOptions.Within(parse.GetValue(threads), "--peer-threads", 1, 256);
            var (peer, detail) = Peers.Measure("psi_step_torch.py", peerThreads.ToString(CultureInfo.InvariantCulture) + (on.IsCuda ? $" {on}" : ""),
                "ms/step", TimeSpan.FromMinutes(10));
            if (peer is null)
            {
                output.WriteLine($"peer: not measured: {detail}");
                return 0;
            }
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"pytorch:   {peer:F1} ms/step  ({detail})"));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"ratio: ours / pytorch = {ours / peer.Value:F2}  ({(ours <= peer ? "ours faster or equal" : "ours slower")})"));
            return 0;
        });
        return command;
    }
}
