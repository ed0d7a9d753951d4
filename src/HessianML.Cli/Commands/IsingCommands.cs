using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using HessianML.Cli.Infrastructure;
using HessianML.Data;
using HessianML.Posterior;
using HessianML.Systems;
using HessianML.Systems.Ising;

namespace HessianML.Cli;

/// <summary>
/// The `ising` subcommands of `simulate`, `exact` and `bench`: each factory builds the `ising` command only, and the
/// parent (`simulate` / `exact` / `bench`) adds it, so this file does not touch the registration list.
/// </summary>
internal static class IsingCommands
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>`hessian simulate ising --size L --beta LO:HI --field LO:HI --samples N --seed S --out FILE`.</summary>
    internal static Command Simulate()
    {
        var size = CliOptions.Value("--size", "lattice side L (L x L torus)", 8);
        var beta = CliOptions.Range("--beta", "inverse temperature beta, uniform over the range", "0.25:0.65");
        var field = CliOptions.Range("--field", "field h (natural parameter), uniform over the range", "-0.3:0.3");
        var samples = CliOptions.Value("--samples", "number of independent samples", 24000);
        var seed = CliOptions.Value("--seed", "random seed (same seed, same bytes, whatever the thread count)", 1UL);
        var sweeps = CliOptions.Value("--sweeps", "Metropolis sweeps per chain from a hot start",
            IsingSimulationSettings.DefaultSweeps);
        var clusterEvery = CliOptions.Value("--cluster-every",
            "a Swendsen-Wang update (ghost spin) after every this many sweeps and at the end; 0 = none",
            IsingSimulationSettings.DefaultClusterEvery);
        var threads = CliOptions.Value("--threads", "worker threads (0 = all cores)", 0);
        var output = CliOptions.RequiredPath("--out", "output file: .arrow (Arrow IPC) or .csv (t1,t2,x0,...)");
        var command = new Command("ising",
            "Sample 2D Ising configurations on an L x L torus, each an independent chain at its own t = (beta, h) " +
            "drawn uniformly from the box.")
        {
            size, beta, field, samples, seed, sweeps, clusterEvery, threads, output,
        };
        command.SetAction(parse =>
        {
            string path = parse.GetValue(output)!;
            var kind = OutputFiles.FormatOf(path, allowArrow: true);
            var b = parse.GetValue(beta);
            var h = parse.GetValue(field);
            if (b.Lo < 0) throw new CliException($"--beta {b}: beta must be >= 0");
            var settings = new IsingSimulationSettings
            {
                Size = CliOptions.Within(parse.GetValue(size), "--size", 2, 1024),
                BetaLo = b.Lo, BetaHi = b.Hi, FieldLo = h.Lo, FieldHi = h.Hi,
                Samples = CliOptions.Within(parse.GetValue(samples), "--samples", 1, int.MaxValue),
                Seed = parse.GetValue(seed),
                Sweeps = CliOptions.Within(parse.GetValue(sweeps), "--sweeps", 0, 1_000_000),
                ClusterEvery = CliOptions.Within(parse.GetValue(clusterEvery), "--cluster-every", 0, 1_000_000),
            };
            settings.Validate();
            int nThreads = CliOptions.Within(parse.GetValue(threads), "--threads", 0, 4096);
            OutputFiles.EnsureWritable(path);
            var clock = Stopwatch.StartNew();
            var progress = new StderrProgress("simulate ising", settings.Samples, "samples");
            var view = IsingSimulation.Generate(settings, progress, nThreads == 0 ? -1 : nThreads);
            progress.Finish();
            OutputFiles.WriteSamples(view, path, kind);
            Console.Out.WriteLine(string.Create(Inv,
                $"wrote {settings.Samples} Ising samples ({settings.Size}x{settings.Size}, beta {b}, field {h}, seed {settings.Seed}, {settings.Sweeps} sweeps, cluster every {settings.ClusterEvery}) to {path} in {clock.Elapsed.TotalSeconds:F1} s"));
            return 0;
        });
        return command;
    }

    /// <summary>`hessian exact ising --size L --beta LO:HI --field LO:HI --grid K --out FILE.csv`.</summary>
    internal static Command Exact()
    {
        var size = CliOptions.Value("--size", $"lattice side L (transfer matrix, L <= {IsingExact.MaxSize})", 8);
        var beta = CliOptions.Range("--beta", "inverse temperature beta", "0.25:0.65");
        var field = CliOptions.Range("--field", "field h", "-0.3:0.3");
        var grid = CliOptions.Value("--grid", "K: the K x K cell centres of the box", 32);
        var output = CliOptions.RequiredPath("--out", "metric-field CSV: t1,t2,psi,dpsi_dt1,dpsi_dt2,g11,g12,g22");
        var command = new Command("ising",
            "Exact psi = (1/N) log Z of the L x L Ising torus, its gradient and Hessian (Fisher metric) on the grid, " +
            "by the row-to-row transfer matrix with exact derivatives.")
        {
            size, beta, field, grid, output,
        };
        command.SetAction(parse =>
        {
            string path = parse.GetValue(output)!;
            OutputFiles.FormatOf(path, allowArrow: false);
            int l = parse.GetValue(size);
            if (l < 2 || l > IsingExact.MaxSize)
                throw new CliException(
                    $"--size {l}: the exact transfer matrix handles 2 <= L <= {IsingExact.MaxSize} (it works on 2^L row states)");
            var b = parse.GetValue(beta);
            var h = parse.GetValue(field);
            if (b.Lo < 0) throw new CliException($"--beta {b}: beta must be >= 0");
            int k = CliOptions.Within(parse.GetValue(grid), "--grid", 1, 4096);
            OutputFiles.EnsureWritable(path);
            var clock = Stopwatch.StartNew();
            var progress = new StderrProgress("exact ising", k * k, "points");
            var metric = IsingExact.Field(l, new ParameterBox(b.Lo, b.Hi, h.Lo, h.Hi), k, k, progress);
            progress.Finish();
            metric.WriteCsv(path);
            Console.Out.WriteLine(string.Create(Inv,
                $"wrote the exact Ising metric field ({l}x{l} torus, {k}x{k} grid, beta {b}, field {h}) to {path} in {clock.Elapsed.TotalSeconds:F1} s"));
            return 0;
        });
        return command;
    }

    /// <summary>`hessian bench ising --size 128`: local-update throughput on all cores beside the numpy peer.</summary>
    internal static Command Bench()
    {
        var size = CliOptions.Value("--size", "lattice side L", 128);
        var sweeps = CliOptions.Value("--sweeps", "timed Metropolis sweeps per thread", 400);
        var threads = CliOptions.Value("--threads", "threads, one lattice each (0 = all cores)", 0);
        var noPeer = new Option<bool>("--no-peer") { Description = "skip the numpy peer" };
        var command = new Command("ising",
            "Spin-flip attempts per second of the production local-update sampler (Metropolis sweeps, one lattice per " +
            "core) beside shared/peers/ising_numpy.py, and the time the paper's dataset would take.")
        {
            size, sweeps, threads, noPeer,
        };
        command.SetAction(parse =>
        {
            int l = CliOptions.Within(parse.GetValue(size), "--size", 4, 16384);
            int nSweeps = CliOptions.Within(parse.GetValue(sweeps), "--sweeps", 1, 1_000_000);
            int nThreads = CliOptions.Within(parse.GetValue(threads), "--threads", 0, 4096);
            if (nThreads == 0) nThreads = Environment.ProcessorCount;
            var o = Console.Out;
            double metropolis = Rate(l, nSweeps, nThreads, cluster: false);
            string how = PackedMetropolis.Supports(l) ? "multi-spin-coded checkerboard Metropolis" : "typewriter Metropolis";
            o.WriteLine(string.Create(Inv,
                $"ising L={l}: {metropolis / 1e6:F1} M spin-flip attempts/s ({how}, {nThreads} threads, beta 0.44, h 0)"));
            double cluster = Rate(l, Math.Max(1, nSweeps / 8), nThreads, cluster: true);
            o.WriteLine(string.Create(Inv,
                $"ising L={l}: {cluster / 1e6:F1} M spins/s in Swendsen-Wang updates (ghost spin, {nThreads} threads)"));
            if (!parse.GetValue(noPeer))
            {
                var (peer, detail) = Peers.Measure("ising_numpy.py", string.Create(Inv, $"{l} 200"),
                    @"M spin-flip attempts/s", TimeSpan.FromMinutes(5));
                if (peer is double p)
                    o.WriteLine(string.Create(Inv,
                        $"peer ising_numpy.py L={l}: {p:F1} M spin-flip attempts/s; ratio {metropolis / 1e6 / p:F1}x"));
                else
                    o.WriteLine($"peer: not run ({detail})");
            }
            // The paper's dataset: 5.4e5 configurations, each an independent chain with the default settings.
            const double configurations = 5.4e5;
            double spins = (double)l * l;
            int sw = IsingSimulationSettings.DefaultSweeps;
            int clusters = sw / IsingSimulationSettings.DefaultClusterEvery;
            double seconds = configurations * (sw * spins / metropolis + clusters * spins / cluster);
            o.WriteLine(string.Create(Inv,
                $"estimate: 5.4e5 configurations of {l}x{l}, {sw} Metropolis sweeps + {clusters} Swendsen-Wang updates each ~ {seconds / 3600:F2} h on {nThreads} threads"));
            return 0;
        });
        return command;
    }

    /// <summary>Attempts (or cluster-updated spins) per second over all threads, one lattice per thread.</summary>
    private static double Rate(int size, int sweeps, int threads, bool cluster)
    {
        var samplers = new IsingSampler[threads];
        var rngs = new SampleRandom[threads];
        for (int t = 0; t < threads; t++)
        {
            samplers[t] = new IsingSampler(size);
            samplers[t].SetParameters(0.44, 0);
            rngs[t] = SampleRandom.ForStream(12345, (ulong)t);
            samplers[t].Randomize(ref rngs[t]);
        }
        void Run(int t, int count)
        {
            var rng = rngs[t];
            for (int s = 0; s < count; s++)
                if (cluster) samplers[t].ClusterSweep(ref rng);
            if (!cluster) samplers[t].LocalSweeps(ref rng, count); // packed once per call, as in the dataset chains
            rngs[t] = rng;
        }
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t => Run(t, 5)); // warm-up, JIT
        var clock = Stopwatch.StartNew();
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t => Run(t, sweeps));
        return (double)threads * sweeps * size * size / clock.Elapsed.TotalSeconds;
    }
}
