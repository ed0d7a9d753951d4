using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using HessianML.Cli.Infrastructure;
using HessianML.Data;
using HessianML.Systems.Diffusion;

namespace HessianML.Cli;

/// <summary>`hessian simulate diffusion`: a latent-slice dataset of the known-score diffusion (METHOD §6).</summary>
internal static class DiffusionCommands
{
    /// <summary>`simulate diffusion --components K --dim D --std S --steps 50 --eta E (--grid G | --samples N) --seed S --out FILE.arrow`.</summary>
    internal static Command Simulate()
    {
        var components = CliOptions.Value("--components", "mixture components K (phases)", 4);
        var dim = CliOptions.Value("--dim", "dimension d = 3 x H x W of the colour-pattern samples", 192);
        var std = CliOptions.Value("--std", "standard deviation s of every component", 0.1);
        var steps = CliOptions.Value("--steps", "DDIM sampling steps", 50);
        var eta = CliOptions.Value("--eta", "DDIM eta in [0, 1] (0 = deterministic); METHOD section 6's convention", 0.0);
        var grid = CliOptions.Value("--grid", "G x G cell centres of the slice [0,1]^2 (0 when --samples is given)", 0);
        var samples = CliOptions.Value("--samples", "uniform random slice points instead of a grid", 0);
        var seed = CliOptions.Value("--seed", "random seed: slice latents, points, noise (same bytes for any thread count)", 1UL);
        var output = CliOptions.RequiredPath("--out", "output file: .arrow (columns t, features, phase)");
        var command = new Command("diffusion",
            "Samples of DDIM with the exact score of a Gaussian mixture over a 2D latent slice z(a, b); t = (a, b), " +
            "features = the sample, phase = its mixture component.")
        {
            components, dim, std, steps, eta, grid, samples, seed, output,
        };
        command.SetAction(parse =>
        {
            string path = parse.GetValue(output)!;
            if (OutputFiles.FormatOf(path, allowArrow: true) != OutputFormat.Arrow)
                throw new CliException($"--out {path}: a diffusion dataset is written as Arrow (.arrow)");
            int g = parse.GetValue(grid), n = parse.GetValue(samples);
            if (g == 0 && n == 0) g = 32;
            if (g > 0 && n > 0)
                throw new CliException($"give --grid ({g}) or --samples ({n}), not both");
            var settings = new DiffusionSliceSettings
            {
                Components = parse.GetValue(components), Dimension = parse.GetValue(dim), Std = parse.GetValue(std),
                DdimSteps = parse.GetValue(steps), Eta = parse.GetValue(eta), Grid = g, Samples = n, Seed = parse.GetValue(seed),
            };
            try { settings.Validate(); }
            catch (ArgumentException ex) { throw new CliException(FirstLine(ex.Message)); }
            OutputFiles.EnsureWritable(path);
            var clock = Stopwatch.StartNew();
            int rows = g > 0 ? g * g : n;
            var progress = new StderrProgress("simulate diffusion", rows, "samples");
            var view = DiffusionSliceDataset.Generate(settings, progress);
            progress.Finish();
            ArrowDataFile.Write(view, path);
            var phases = view.GetColumn<int>("phase").ToArray().Distinct().Count();
            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"wrote {rows} diffusion samples (K = {settings.Components}, d = {settings.Dimension}, s = {settings.Std}, {settings.DdimSteps} steps, eta {settings.Eta}, {phases} phases seen, seed {settings.Seed}) to {path} in {clock.Elapsed.TotalSeconds:F2} s"));
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
