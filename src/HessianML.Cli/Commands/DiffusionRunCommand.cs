using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using HessianML.Cli.Infrastructure;
using HessianML.Evaluation.Diffusion;
using HessianML.Geometry;
using HessianML.Systems.Diffusion;

namespace HessianML.Cli;

/// <summary>
/// `hessian run diffusion`: the known-score diffusion end to end (<see cref="DiffusionRun"/>, <see cref="DiffusionReport"/>):
/// slice dataset -> feature-distance posterior -> psi -> metric, phase boundaries from the metric scored against the true
/// phase map, the Lipschitz table, and the interpolation comparison with the two pull-back baselines.
/// </summary>
internal static class DiffusionRunCommand
{
    internal static Command Create()
    {
        var defaults = new DiffusionRunOptions();
        var components = CliOptions.Value("--components", "mixture components (phases)", defaults.Slice.Components);
        var dim = CliOptions.Value("--dim", "dimension d = 3 x H x W of the colour-pattern samples", defaults.Slice.Dimension);
        var std = CliOptions.Value("--std", "standard deviation s of every component", defaults.Slice.Std);
        var steps = CliOptions.Value("--steps", "DDIM sampling steps", defaults.Slice.DdimSteps);
        var eta = CliOptions.Value("--eta", "DDIM eta in [0, 1] (0 = deterministic; > 0: training rows draw their own noise, everything else one fixed noise stream)", defaults.Slice.Eta);
        var grid = CliOptions.Value("--grid", "K: posterior grid, metric.csv and the boundary maps are K x K cells", defaults.Grid);
        var sliceGrid = CliOptions.Value("--slice-grid", "training points: a G x G grid of the slice (0 = 4K, 16 per cell)", 0);
        var lambda = CliOptions.Value("--lambda", "posterior inverse temperature (0 = set by --posterior-width)", 0.0);
        var width = CliOptions.Value("--posterior-width", "standard deviation in cells of a sample's posterior inside a phase (sets lambda; see DiffusionRunOptions.PosteriorWidth)", defaults.PosteriorWidth);
        var epochs = CliOptions.Value("--epochs", "passes of the JSD psi fit over its rows", defaults.LogPartition.Epochs ?? 40);
        var splines = CliOptions.Value("--splines", "B-spline basis functions per axis of psi", defaults.LogPartition.SplineCount);
        var pairs = CliOptions.Value("--pairs", "endpoint pairs of the interpolation comparison", defaults.Pairs);
        var pullback = CliOptions.Value("--pullback-resolution", "nodes per side of the pull-back metric tables (4 R^2 generations each)", defaults.PullbackResolution);
        var seed = CliOptions.Value("--seed", "seed of the slice, the points, the noise, the feature map, the pairs and the fit", 1UL);
        var output = new Option<string>("--out")
        {
            Description = "output folder; files in it are replaced only when the run succeeds",
            HelpName = "DIR",
            DefaultValueFactory = _ => Path.Combine("runs", "diffusion"),
        };
        var command = new Command("diffusion",
            "DDIM with the exact score of a Gaussian mixture over a 2D latent slice: the metric's phase boundaries against the " +
            "true phase map, Lipschitz ratios, and geodesics against the pull-back baselines and the straight line.")
        {
            components, dim, std, steps, eta, grid, sliceGrid, lambda, width, epochs, splines, pairs, pullback, seed, output,
        };
        command.SetAction(parse =>
        {
            int k = CliOptions.Within(parse.GetValue(grid), "--grid", 4, 128);
            int g = CliOptions.Within(parse.GetValue(sliceGrid), "--slice-grid", 0, DiffusionSliceSettings.MaxGrid);
            if (g == 0) g = 4 * k;
            double lam = parse.GetValue(lambda);
            if (!(lam >= 0) || !double.IsFinite(lam)) throw new CliException(string.Create(CultureInfo.InvariantCulture, $"--lambda {lam} must be a positive number (or 0 for the default rule)"));
            var options = new DiffusionRunOptions
            {
                Slice = new DiffusionSliceSettings
                {
                    Components = parse.GetValue(components), Dimension = parse.GetValue(dim), Std = parse.GetValue(std),
                    DdimSteps = parse.GetValue(steps), Eta = parse.GetValue(eta), Grid = g, Seed = parse.GetValue(seed),
                },
                Grid = k,
                Lambda = lam == 0 ? null : lam,
                PosteriorWidth = parse.GetValue(width),
                LogPartition = new LogPartitionOptions
                {
                    Epochs = CliOptions.Within(parse.GetValue(epochs), "--epochs", 1, 10000),
                    SplineCount = CliOptions.Within(parse.GetValue(splines), "--splines", 4, 64),
                    Seed = parse.GetValue(seed),
                    Fit = defaults.LogPartition.Fit,
                },
                Pairs = CliOptions.Within(parse.GetValue(pairs), "--pairs", 0, 64),
                PullbackResolution = CliOptions.Within(parse.GetValue(pullback), "--pullback-resolution", 9, 257),
                Progress = line => Console.Error.WriteLine(line),
            };
            try { options.Validate(); }
            catch (ArgumentException ex) { throw new CliException(FirstLine(ex.Message)); }
            string dir = parse.GetValue(output)!;
            if (File.Exists(dir)) throw new CliException($"--out {dir} is a file; give a folder");
            OutputFiles.EnsureWritable(Path.Combine(dir, DiffusionReport.ErrorsFileName));

            var clock = Stopwatch.StartNew();
            var result = DiffusionRun.Run(options);
            var settings = new Dictionary<string, object?>
            {
                ["components"] = options.Slice.Components, ["dim"] = options.Slice.Dimension, ["std"] = options.Slice.Std,
                ["steps"] = options.Slice.DdimSteps, ["eta"] = options.Slice.Eta, ["grid"] = k, ["slice_grid"] = g,
                ["lambda"] = options.Lambda, ["posterior_width"] = options.PosteriorWidth, ["epochs"] = options.LogPartition.Epochs, ["splines"] = options.LogPartition.SplineCount,
                ["pairs"] = options.Pairs, ["pullback_resolution"] = options.PullbackResolution, ["seed"] = options.Slice.Seed,
            };
            var written = DiffusionReport.Write(result, dir, settings, CliOptions.Typed(parse));
            Console.Out.Write(DiffusionReport.Table(result));
            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"wrote {string.Join(", ", written.Select(Path.GetFileName))} to {dir} ({clock.Elapsed.TotalSeconds:F0} s)"));
            return 0;
        });
        return command;
    }

    /// <summary>ArgumentOutOfRangeException appends " (Parameter 'x')": keep the message a user reads to its own words.</summary>
    private static string FirstLine(string message)
    {
        int i = message.IndexOf(" (Parameter", StringComparison.Ordinal);
        return i > 0 ? message[..i] : message;
    }
}
