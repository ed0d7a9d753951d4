using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using HessianML.Autodiff.Layers;
using HessianML.Cli.Infrastructure;
using HessianML.Compute;
using HessianML.Data;
using HessianML.Evaluation;
using HessianML.Geometry;
using HessianML.Posterior;
using HessianML.Systems.Ising;
using HessianML.Systems.Tasep;
using HessianML.Tensors.Devices;

namespace HessianML.Cli;

/// <summary>
/// `hessian run ising|tasep`: simulate, fit PosteriorGrid -> LogPartition -> FisherMetric and the Mean-as-Stat
/// baseline on the same samples, score both against the exact answer, and write the run folder
/// (<see cref="EndToEndReport"/>). Every flag has a default; the defaults are the README's main job.
/// </summary>
internal static class RunCommands
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    internal static Command Create() => new("run",
        "The whole method on a system with an exact answer: simulate -> posterior grid -> psi -> Fisher metric, the " +
        "Mean-as-Stat baseline on the same samples, and the error table of both against the exact answer.")
    {
        Ising(),
        Tasep(),
        DiffusionRunCommand.Create(),
        ImageCommands.RunImages(),
    };

    /// <summary>
    /// The method's knobs, shared by every system; each system passes its own measured defaults (README, "The method end
    /// to end"), so `--help` of `run ising` and of `run tasep` each show what that system runs with.
    /// </summary>
    private sealed class MethodOptions(string posterior, string fit, string labels, int splines, int epochs, double? learningRate = null,
        int bundle = 4, int neighbours = 8)
    {
        public readonly Option<int> Samples = CliOptions.Value("--samples", "number of samples, each at its own uniform t", 24000);
        public readonly Option<int> Grid = CliOptions.Value("--grid", "K: posterior grid and output tables are K x K cells", 24);
        public readonly Option<int> EvalGrid = CliOptions.Value("--eval-grid", "side of the grid the errors are computed on (0 = 2K)", 0);
        public readonly Option<ulong> Seed = CliOptions.Value("--seed", "seed of the samples, the split, every initialisation and minibatch order", 1UL);
        public readonly Option<string> Posterior = Choice("--posterior", "posterior network: expfam (exponential-family head, METHOD §8), conv, dense or auto (conv for lattices, dense for chains)", posterior, "expfam", "conv", "dense", "auto");
        public readonly Option<int> Bundle = CliOptions.Value("--bundle", "K_bundle: samples per posterior input (METHOD §4a)", bundle);
        public readonly Option<int> Neighbours = CliOptions.Value("--neighbours", "K_neib: the parameter-space neighbours (itself included) a bundle is drawn from", neighbours);
        public readonly Option<int> Channels = CliOptions.Value("--channels", "channels of the posterior network's convolutions (the expfam head's per-site features)", new PosteriorGridOptions().Channels);
        public readonly Option<int> Epochs = CliOptions.Value("--epochs", "passes of the posterior network over its training rows", epochs);
        public readonly Option<double> LearningRate = CliOptions.Value("--learning-rate", "peak Adam step of the posterior network", learningRate ?? new PosteriorGridOptions().LearningRate);
        public readonly Option<string> Labels = Choice("--labels", "posterior training labels: hard (true cell) or smoothed (eq. 128)", labels, "hard", "smoothed");
        public readonly Option<string> Psi = Choice("--psi", "psi parametrisation: auto (= lse), lse (log-sum-exp, convex by construction; under --fit jsd through the JSD spline's grid values), spline (cubic B-spline), mlp (the paper's ReLU MLP) or smooth-mlp (softplus)", "auto", "auto", "lse", "spline", "mlp", "smooth-mlp");
        public readonly Option<string> Fit = Choice("--fit", "psi objective: jsd (METHOD §3) or lsq (log-posterior least squares, METHOD §8; lse or spline)", fit, "jsd", "lsq");
        public readonly Option<int> Splines = CliOptions.Value("--splines", "B-spline basis functions per axis of psi (and of the expfam head's phi)", splines);
        public readonly Option<string> PsiRows = Choice("--psi-rows", "rows whose posteriors psi is fitted to: training (the network's own), held-out or all", "training", "training", "held-out", "all");
        public readonly Option<int> Threads = CliOptions.Value("--threads", "simulation threads (0 = all cores)", 0);
        public readonly Option<ComputeDevice> Device = CliOptions.Device("where the posterior network and an MLP psi train: cpu (the CPU engine), cuda[:N] (a GPU, through ILGPU) or ilgpu-cpu (the GPU kernels on the CPU, for checking); the model is the same");

        public void AddTo(Command c)
        {
            foreach (var o in new Option[] { Samples, Grid, EvalGrid, Seed, Posterior, Bundle, Neighbours, Channels, Epochs, LearningRate, Labels, Psi, Fit, Splines, PsiRows, Threads, Device }) c.Add(o);
        }

        public EndToEndOptions Read(ParseResult parse, ulong seed)
        {
            int k = CliOptions.Within(parse.GetValue(Grid), "--grid", 4, 128);
            int evalK = CliOptions.Within(parse.GetValue(EvalGrid), "--eval-grid", 0, 1024);
            if (evalK is 1) throw new CliException("--eval-grid 1: the evaluation grid needs at least 2 cells per side");
            int splineCount = CliOptions.Within(parse.GetValue(Splines), "--splines", 4, 64);
            var psi = parse.GetValue(Psi) switch
            {
                "mlp" => PsiParametrisation.PaperMlp,
                "smooth-mlp" => PsiParametrisation.SmoothMlp,
                "lse" => PsiParametrisation.LogSumExp,
                "spline" => PsiParametrisation.BSpline,
                _ => PsiParametrisation.Auto,
            };
            var fit = parse.GetValue(Fit) == "lsq" ? PsiFit.LogPosteriorLeastSquares : PsiFit.Jsd;
            var device = parse.GetValue(Device);
            DeviceAccelerator.For(device); // a missing GPU is one line now, before anything is simulated or written
            if (fit == PsiFit.LogPosteriorLeastSquares && psi is not (PsiParametrisation.BSpline or PsiParametrisation.LogSumExp or PsiParametrisation.Auto))
                throw new CliException($"--fit lsq needs --psi lse, spline or auto (the least-squares fit solves for grid values, then puts a log-sum-exp or a spline through them), got --psi {parse.GetValue(Psi)}");
            return new EndToEndOptions
            {
                Posterior = new PosteriorGridOptions
                {
                    Grid = k,
                    Sigma = 0.5 / k,
                    NeighbourCount = CliOptions.Within(parse.GetValue(Neighbours), "--neighbours", 1, 1024),
                    BundleSize = parse.GetValue(Bundle) is var bundle && bundle > parse.GetValue(Neighbours)
                        ? throw new CliException($"--bundle {bundle} must be at most --neighbours {parse.GetValue(Neighbours)} (a bundle is drawn from the neighbours)")
                        : CliOptions.Within(bundle, "--bundle", 1, 1024),
                    Epochs = CliOptions.Within(parse.GetValue(Epochs), "--epochs", 0, 10000),
                    LearningRate = parse.GetValue(LearningRate) is var lr && lr > 0 && double.IsFinite(lr)
                        ? lr : throw new CliException($"--learning-rate {lr} must be a positive number"),
                    Labels = parse.GetValue(Labels) == "smoothed" ? PosteriorLabels.Smoothed : PosteriorLabels.Hard,
                    Architecture = parse.GetValue(Posterior) switch
                    {
                        "expfam" => PosteriorArchitecture.ExponentialFamily,
                        "conv" => PosteriorArchitecture.Convolutional,
                        "dense" => PosteriorArchitecture.Dense,
                        _ => PosteriorArchitecture.Auto,
                    },
                    HeadSplineCount = splineCount,
                    Channels = CliOptions.Within(parse.GetValue(Channels), "--channels", 1, 1024),
                    Seed = unchecked((int)seed),
                    Device = device,
                },
                LogPartition = new LogPartitionOptions
                {
                    Parametrisation = psi, Fit = fit, Seed = seed, SplineCount = splineCount, Device = device,
                    Rows = parse.GetValue(PsiRows) switch { "held-out" => Geometry.PsiRows.HeldOut, "all" => Geometry.PsiRows.All, _ => Geometry.PsiRows.Training },
                },
                Baseline = new MeanAsStatOptions { Seed = seed },
                PcaVae = new PcaVaeOptions { Seed = seed },
                EvaluationGrid = evalK == 0 ? null : evalK,
                Progress = line => Console.Error.WriteLine(line),
            };
        }

        /// <summary>The settings recorded in errors.json, flag name -> value as given (or defaulted).</summary>
        public Dictionary<string, object?> Settings(ParseResult parse) => new()
        {
            ["samples"] = parse.GetValue(Samples),
            ["grid"] = parse.GetValue(Grid),
            ["eval_grid"] = parse.GetValue(EvalGrid) == 0 ? 2 * parse.GetValue(Grid) : parse.GetValue(EvalGrid),
            ["seed"] = parse.GetValue(Seed),
            ["posterior"] = parse.GetValue(Posterior),
            ["bundle"] = parse.GetValue(Bundle),
            ["neighbours"] = parse.GetValue(Neighbours),
            ["channels"] = parse.GetValue(Channels),
            ["epochs"] = parse.GetValue(Epochs),
            ["learning_rate"] = parse.GetValue(LearningRate),
            ["labels"] = parse.GetValue(Labels),
            ["psi"] = parse.GetValue(Psi),
            ["fit"] = parse.GetValue(Fit),
            ["splines"] = parse.GetValue(Splines),
            ["psi_rows"] = parse.GetValue(PsiRows),
            ["device"] = parse.GetValue(Device).ToString(),
        };
    }

    private static Option<string> Choice(string name, string description, string defaultValue, params string[] values)
    {
        var o = new Option<string>(name)
        {
            Description = description,
            DefaultValueFactory = _ => defaultValue,
        };
        o.AcceptOnlyFromAmong(values);
        return o;
    }

    private static Option<string> OutOption(string system) => new("--out")
    {
        Description = "output folder; files in it are replaced only when the run succeeds",
        HelpName = "DIR",
        DefaultValueFactory = _ => Path.Combine("runs", system),
    };

    /// <summary>`hessian run ising --size L --beta LO:HI --field LO:HI --samples N --grid K --seed S --out DIR`.</summary>
    private static Command Ising()
    {
        var size = CliOptions.Value("--size", $"lattice side L (L x L torus; exact answer for L <= {IsingExact.MaxSize})", 8);
        var beta = CliOptions.Range("--beta", "inverse temperature beta, uniform over the range", "0.25:0.65");
        var field = CliOptions.Range("--field", "field h (natural parameter), uniform over the range", "-0.3:0.3");
        // Learning rate 0.004 (measured on the default run, interior NRMSE d/dbeta / metric / median per-cell): 0.112 /
        // 0.057 / 0.131 at 0.002, 0.089 / 0.053 / 0.119 at 0.004, 0.084 / 0.065 / 0.123 at 0.008; 120 epochs at 0.002
        // gave 0.084 / 0.045 / 0.094 in twice the time. The head was under-trained, not over-fitted.
        // Bundles of one sample (K_bundle = K_neib = 1): the head is the exact per-sample form, so a bundle buys it nothing,
        // while the neighbours' spread widens the labels beyond the likelihood and flattens phi unevenly (METHOD §8's
        // blur, now through the labels). Measured, default run, interior psi / d/dbeta / d/dh / metric / median: bundles
        // of 4 from 8 neighbours 0.023 / 0.089 / 0.015 / 0.053 / 0.119; bundles of 1 0.017 / 0.055 / 0.018 / 0.057 / 0.131
        // in 29 s of training instead of 58 s; on the untuned seed 2 box 0.021 / 0.104 / 0.015 / 0.090 / 0.204 against
        // 0.011 / 0.036 / 0.009 / 0.028 / 0.086. A bundle of one costs a quarter of a bundle of four per epoch, so the
        // default takes 90 epochs (the best held-out epoch was still the 51st of 60, the 87th of 90): 0.014 / 0.044 /
        // 0.012 / 0.060 / 0.105.
        var method = new MethodOptions(posterior: "expfam", fit: "lsq", labels: "hard", splines: 24, epochs: 90, learningRate: 0.004,
            bundle: 1, neighbours: 1);
        var output = OutOption("ising");
        var command = new Command("ising",
            "2D Ising on an L x L torus, t = (beta, h): the method against the exact transfer-matrix metric.") { size, beta, field, output };
        method.AddTo(command);
        command.SetAction(parse =>
        {
            int l = CliOptions.Within(parse.GetValue(size), "--size", 2, 1024);
            var b = parse.GetValue(beta);
            var h = parse.GetValue(field);
            if (b.Lo < 0) throw new CliException($"--beta {b}: beta must be >= 0");
            if (b.IsPoint || h.IsPoint) throw new CliException($"--beta {b} --field {h}: the parameter box needs a positive width on both axes");
            ulong seed = parse.GetValue(method.Seed);
            var settings = new IsingSimulationSettings
            {
                Size = l, BetaLo = b.Lo, BetaHi = b.Hi, FieldLo = h.Lo, FieldHi = h.Hi,
                Samples = CliOptions.Within(parse.GetValue(method.Samples), "--samples", 16, int.MaxValue),
                Seed = seed,
            };
            settings.Validate();
            var options = method.Read(parse, seed);
            string dir = CheckFolder(parse.GetValue(output)!);
            int threads = CliOptions.Within(parse.GetValue(method.Threads), "--threads", 0, 4096);

            var progress = new StderrProgress("simulate ising", settings.Samples, "samples");
            var samples = IsingSimulation.Generate(settings, progress, threads == 0 ? -1 : threads);
            progress.Finish();
            var box = new ParameterBox(b.Lo, b.Hi, h.Lo, h.Hi);
            Func<ParameterBox, int, MetricField>? exact = l <= IsingExact.MaxSize ? (bx, k) => IsingExact.Field(l, bx, k, k) : null;
            if (exact is null)
                Console.Error.WriteLine($"note: no exact answer for L = {l} > {IsingExact.MaxSize} (transfer matrix on 2^L row states): errors are skipped");
            var recorded = method.Settings(parse);
            recorded["size"] = l;
            recorded["beta"] = b.ToString();
            recorded["field"] = h.ToString();
            return Finish(samples, box, exact, options, dir, "ising", recorded, ("beta", "h"), CliOptions.Typed(parse));
        });
        return command;
    }

    /// <summary>`hessian run tasep --size L --alpha LO:HI --beta LO:HI --samples N --grid K --seed S --out DIR`.</summary>
    private static Command Tasep()
    {
        var size = CliOptions.Value("--size", "number of lattice sites L", 40);
        var alpha = CliOptions.Range("--alpha", "injection rate alpha, in (0, 1]", "0.05:0.95");
        var beta = CliOptions.Range("--beta", "extraction rate beta, in (0, 1]", "0.05:0.95");
        var fisherSamples = CliOptions.Value("--fisher-samples",
            "exact samples per cell for TASEP's Fisher information, the metric a posterior can see (0 = skip)", 1000);
        // The exponential-family head and least squares, both in -log coordinates (below), measured on the default run
        // (interior NRMSE psi / d/dalpha / d/dbeta / metric / median per-cell): 0.145 / 0.153 / 0.158 / 0.44 / 0.30 with no
        // indefinite cell, against 0.229 / 0.185 / 0.338 / 0.49 / 0.44 for the dense network + least squares and
        // 0.178 / 0.253 / 0.284 / 1.15 / 0.47 for the dense network + JSD (its spline projected onto a log-sum-exp).
        // Bundles of 8 from 16 neighbours: 0.089 / 0.119 / 0.141 / 0.41 / 0.27 (bundles of 4 from 8: the figures above;
        // of 1: 0.295 / 0.314 / 0.326 / 0.56 / 0.41), measured, in twice the time of 4. Unlike Ising, a TASEP sample's
        // log-likelihood is not linear in w, so the head is misspecified here (README, "Not met"); why larger bundles
        // help it is measured, not explained (16 from 32: psi and median per-cell better, metric and geodesics worse).
        // 90 epochs (the best held-out epoch was the 56th of 60, the 83rd of 90): 0.087 / 0.116 / 0.136 / 0.40 / 0.25;
        // peak rate 0.004 instead was unstable (metric 0.69). 24 splines per axis for the head's phi (16 before, as Ising
        // has 24): 0.087 / 0.109 / 0.131 / 0.34 / 0.24, and on both untuned boxes of the README better or equal on every
        // figure but one (d/dalpha 0.100 against 0.099); 32 splines: 0.085 / 0.117 / 0.133 / 0.39 / 0.25.
        var method = new MethodOptions(posterior: "expfam", fit: "lsq", labels: "hard", splines: 24, epochs: 90,
            bundle: 8, neighbours: 16);
        var output = OutOption("tasep");
        var command = new Command("tasep",
            "Open-boundary TASEP, t = (alpha, beta): the method against the exact (1/L) log Z_L (not an exponential family).") { size, alpha, beta, fisherSamples, output };
        method.AddTo(command);
        command.SetAction(parse =>
        {
            int l = CliOptions.Within(parse.GetValue(size), "--size", 2, TasepSimulationSettings.MaxSize);
            var a = parse.GetValue(alpha);
            var b = parse.GetValue(beta);
            foreach (var (name, r) in new[] { ("--alpha", a), ("--beta", b) })
            {
                if (!(r.Lo > 0 && r.Hi <= 1)) throw new CliException($"{name} {r} is outside the allowed range: both ends must be in (0, 1]");
                if (r.IsPoint) throw new CliException($"{name} {r}: the parameter box needs a positive width on both axes");
            }
            ulong seed = parse.GetValue(method.Seed);
            int n = CliOptions.Within(parse.GetValue(method.Samples), "--samples", 16, int.MaxValue / 2);
            var settings = new TasepSimulationSettings(l, a.Lo, a.Hi, b.Lo, b.Hi, n, seed);
            settings.Validate();
            var options = method.Read(parse, seed);
            // Z_L is a polynomial in 1/alpha and 1/beta with positive coefficients: a log-sum-exp in -log alpha, -log beta.
            options.LogPartition.Coordinate1 = options.LogPartition.Coordinate2 = ExponentialCoordinate.NegativeLog;
            options.Posterior.HeadCoordinate1 = options.Posterior.HeadCoordinate2 = ExponentialCoordinate.NegativeLog;
            int perCell = CliOptions.Within(parse.GetValue(fisherSamples), "--fisher-samples", 0, 1_000_000);
            if (perCell == 1) throw new CliException("--fisher-samples 1: a standard error needs at least 2 samples per cell (0 skips)");
            if (perCell > 0) options.FisherReference = (bx, k) => TasepFisherInformation.SampledOnGrid(l, bx, k, perCell, seed);
            string dir = CheckFolder(parse.GetValue(output)!);

            var progress = new StderrProgress("simulate tasep", n, "samples");
            var samples = TasepSimulation.Generate(settings, progress);
            progress.Finish();
            var box = new ParameterBox(a.Lo, a.Hi, b.Lo, b.Hi);
            var recorded = method.Settings(parse);
            recorded["size"] = l;
            recorded["alpha"] = a.ToString();
            recorded["beta"] = b.ToString();
            recorded["fisher_samples"] = perCell;
            return Finish(samples, box, (bx, k) => TasepExact.MetricFieldOnGrid(l, bx, k), options, dir, "tasep", recorded, ("alpha", "beta"), CliOptions.Typed(parse));
        });
        return command;
    }

    /// <summary>The output folder, created and proven writable before any long work (a typo costs nothing).</summary>
    private static string CheckFolder(string dir)
    {
        if (File.Exists(dir)) throw new CliException($"--out {dir} is a file; give a folder");
        OutputFiles.EnsureWritable(Path.Combine(dir, EndToEndReport.ErrorsFileName));
        return dir;
    }

    private static int Finish(ColumnTable samples, ParameterBox box, Func<ParameterBox, int, MetricField>? exact, EndToEndOptions options,
        string dir, string system, Dictionary<string, object?> settings, (string, string) axes, string commandLine)
    {
        var clock = Stopwatch.StartNew();
        var result = EndToEndRun.Run(new Microsoft.ML.MLContext(unchecked((int)(ulong)settings["seed"]!)), samples, box, exact, options);
        var written = EndToEndReport.Write(result, dir, system, settings, axes, commandLine);
        var post = result.Posterior;
        var o = Console.Out;
        o.WriteLine(string.Create(Inv,
            $"posterior grid {result.Grid}x{result.Grid}: held-out cross-entropy {post.HeldOutCrossEntropy:F4} (uniform {post.UniformCrossEntropy:F4}, train {post.TrainCrossEntropy:F4})"));
        o.WriteLine($"psi: {result.Psi.Parametrisation}, fit {options.LogPartition.Fit}");
        o.Write(EndToEndReport.Table(result, axes));
        if (result.Geodesics is { } geodesics) o.Write(geodesics.Table());
        o.WriteLine(string.Create(Inv, $"wrote {string.Join(", ", written.Select(Path.GetFileName))} to {dir} ({clock.Elapsed.TotalSeconds:F0} s after simulation)"));
        return 0;
    }
}
