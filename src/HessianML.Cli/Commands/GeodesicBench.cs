using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using HessianML.Autodiff.Layers;
using HessianML.Cli.Infrastructure;
using HessianML.Geometry;
using HessianML.Geometry.Geodesics;
using HessianML.Pipeline;
using HessianML.Posterior;
using HessianML.Systems.Ising;

namespace HessianML.Cli;

/// <summary>
/// `hessian bench geodesic`: seconds per 90-point geodesic for one model INCLUDING the per-model precomputation
/// (tabulating g, the graph's edge costs), ours (global and released-Adam methods) beside the released optimiser in
/// PyTorch (shared/peers/geodesic_torch.py, whose per-step time x 5000 steps is its time per geodesic).
/// </summary>
internal static class GeodesicBench
{
    internal static Command Create()
    {
        var model = new Option<string>("--model") { Description = "a saved model with a fitted psi (default: a 16 x 16 spline psi least-squares fitted to the exact L = 6 Ising psi on [0.25, 0.65] x [-0.3, 0.3])", HelpName = "PATH" };
        var points = CliOptions.Value("--points", "points per geodesic", 90);
        var repeats = CliOptions.Value("--repeats", "timed cold runs (fresh precomputation each); the median is reported", 5);
        var pairs = CliOptions.Value("--pairs", "geodesics per cold run (they share the precomputation)", 1);
        var peerSteps = CliOptions.Value("--peer-steps", "Adam steps the peer times (its per-step time x 5000 = per geodesic)", 20);
        var threads = CliOptions.Value("--peer-threads", "torch threads for the peer", 2);
        var psiKind = new Option<string>("--psi")
        {
            Description = "without --model: spline (the default model above) or paper-mlp (an untrained 2 -> 4 x 512 LayerNorm/ReLU -> 1 " +
                          "network on the same box, the peer's own psi architecture: like for like)",
            DefaultValueFactory = _ => "spline",
        };
        psiKind.AcceptOnlyFromAmong("spline", "paper-mlp");
        var noPeer = new Option<bool>("--no-peer") { Description = "skip the PyTorch peer" };
        var command = new Command("geodesic",
            "Seconds per 90-point geodesic including the per-model precomputation, ours beside the released PyTorch optimiser.")
        {
            model, psiKind, points, repeats, pairs, peerSteps, threads, noPeer,
        };
        command.SetAction(parse =>
        {
            int n = CliOptions.Within(parse.GetValue(points), "--points", 2, 100000);
            int reps = CliOptions.Within(parse.GetValue(repeats), "--repeats", 1, 1000);
            int np = CliOptions.Within(parse.GetValue(pairs), "--pairs", 1, 100000);
            var output = Console.Out;
            LogPartitionTransformer psi;
            string what;
            if (parse.GetValue(model) is { } path)
            {
                psi = ModelInput.LoadPsi(path);
                what = path;
            }
            else if (parse.GetValue(psiKind) == "paper-mlp")
            {
                psi = new LogPartitionTransformer(MlpPsi.Untrained(new ParameterBox(0.25, 0.65, -0.3, 0.3), 512, 4, ActivationKind.Relu, 0), 32);
                what = "untrained paper MLP psi (2 -> 4 x 512 LayerNorm/ReLU -> 1, seed 0)";
            }
            else
            {
                var box = new ParameterBox(0.25, 0.65, -0.3, 0.3);
                var exact = IsingExact.Field(6, box, 32, 32);
                var t = new double[2 * exact.Count];
                for (int i = 0; i < exact.Count; i++) (t[2 * i], t[2 * i + 1]) = (exact.T1[i], exact.T2[i]);
                psi = new LogPartitionTransformer(new SplinePsi(LogPartitionTrainer.SplineLeastSquares(box, 16, t, exact.Psi, 1e-6)), 32);
                what = "spline psi fitted to the exact L = 6 Ising psi";
            }
            var b = psi.Box;
            // The peer's endpoints (0.2, 0.3) -> (0.8, 0.7), as fractions of the box.
            double a1 = b.Lo1 + 0.2 * b.Width1, a2 = b.Lo2 + 0.3 * b.Width2, e1 = b.Lo1 + 0.8 * b.Width1, e2 = b.Lo2 + 0.7 * b.Width2;
            output.WriteLine($"geodesic bench: {what} ({psi.Psi.Parametrisation}), {n} points, {np} pair(s) per cold run, " +
                             $"{Environment.ProcessorCount} cores");
            double globalSeconds = double.NaN;
            foreach (var method in new[] { GeodesicMethod.Global, GeodesicMethod.Adam })
            {
                var times = new List<double>();
                GeodesicPath? last = null;
                double prepare = 0;
                int clamped = 0, n2 = 0;
                for (int r = 0; r < reps; r++)
                {
                    var clock = Stopwatch.StartNew();
                    var geodesic = new GeodesicTransformer(psi, new GeodesicOptions { Points = n, Method = method });
                    geodesic.Solver.Prepare();
                    (clamped, n2) = (geodesic.Solver.Metric.ClampedCount, geodesic.Solver.Metric.Resolution * geodesic.Solver.Metric.Resolution);
                    double prep = clock.Elapsed.TotalSeconds;
                    for (int k = 0; k < np; k++) last = geodesic.Solve(a1, a2, e1, e2);
                    times.Add(clock.Elapsed.TotalSeconds);
                    prepare += prep / reps;
                }
                times.Sort();
                double median = times[times.Count / 2];
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"hessianml {method,-6}: {median / np:F3} s per geodesic incl. precomputation (median of {reps}; precomputation {prepare:F3} s; " +
                    $"length {last!.Length:G6}, energy {last.Energy:G6}; {clamped} of {n2} grid metrics floored as indefinite)"));
                if (method == GeodesicMethod.Global)
                {
                    globalSeconds = median / np;
                    // The yardstick: the straight segment's metric length under the same tabulated metric.
                    var table = new GeodesicTransformer(psi, new GeodesicOptions { Points = n }).Solver;
                    table.Prepare();
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"straight line: length {table.Metric.SegmentLength(a1, a2, e1, e2):G6}"));
                }
            }
            if (parse.GetValue(noPeer)) return 0;
            int steps = CliOptions.Within(parse.GetValue(peerSteps), "--peer-steps", 1, 100000);
            int th = CliOptions.Within(parse.GetValue(threads), "--peer-threads", 1, 256);
            var (peer, detail) = Peers.Measure("geodesic_torch.py", string.Create(CultureInfo.InvariantCulture, $"{th} {steps}"), "ms/step", TimeSpan.FromMinutes(10));
            if (peer is null)
            {
                output.WriteLine($"peer: not measured: {detail}");
                return 0;
            }
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"pytorch (released, MLP 512x4, 5000 Adam steps): {peer.Value * 5000 / 1000:F1} s per geodesic  ({detail})"));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"ratio: pytorch / hessianml Global = {peer.Value * 5 / globalSeconds:F0}x per geodesic (the peer's psi is its own MLP, ours the model above)"));
            return 0;
        });
        return command;
    }
}
