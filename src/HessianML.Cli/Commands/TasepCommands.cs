using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using HessianML.Cli.Infrastructure;
using HessianML.Data;
using HessianML.Posterior;
using HessianML.Systems.Tasep;

namespace HessianML.Cli;

/// <summary>
/// `hessian simulate tasep` (exact i.i.d. stationary samples, Arrow or CSV) and `hessian exact tasep` (the metric
/// field of psi = (1/L) log Z_L on a K x K grid).
/// </summary>
internal static class TasepCommands
{
    private static Option<int> SizeOption() => CliOptions.Value("--size", "number of lattice sites L", 40);
    private static Option<ParamRange> AlphaOption() => CliOptions.Range("--alpha", "injection rate alpha, in (0, 1]", "0.05:0.95");
    private static Option<ParamRange> BetaOption() => CliOptions.Range("--beta", "extraction rate beta, in (0, 1]", "0.05:0.95");

    /// <summary>`simulate tasep`.</summary>
    internal static Command Simulate()
    {
        var size = SizeOption();
        var alpha = AlphaOption();
        var beta = BetaOption();
        var samples = CliOptions.Value("--samples", "number of samples, each at its own uniform (alpha, beta)", 24000);
        var seed = CliOptions.Value("--seed", "random seed (the data set is the same for any thread count)", 1L);
        var output = CliOptions.RequiredPath("--out", "output file: .arrow (Arrow IPC) or .csv (t1,t2,x0,...,x(L-1))");
        var command = new Command("tasep",
            "Exact stationary samples of the open-boundary TASEP (particles 0/1), sequentially drawn from the " +
            "matrix-product measure; t = (alpha, beta).")
        {
            size, alpha, beta, samples, seed, output,
        };
        command.SetAction(parse =>
        {
            int l = CliOptions.Within(parse.GetValue(size), "--size", 1, TasepSimulationSettings.MaxSize);
            var a = CheckRate(parse.GetValue(alpha), "--alpha");
            var b = CheckRate(parse.GetValue(beta), "--beta");
            int n = CliOptions.Within(parse.GetValue(samples), "--samples", 1, int.MaxValue / 2);
            long s = parse.GetValue(seed);
            string path = parse.GetValue(output)!;
            var format = OutputFiles.FormatOf(path, allowArrow: true);
            if ((long)n * l > int.MaxValue)
                throw new CliException($"--samples {n} x --size {l} is more than one column can hold (2^31 values)");
            OutputFiles.EnsureWritable(path);
            var settings = new TasepSimulationSettings(l, a.Lo, a.Hi, b.Lo, b.Hi, n, unchecked((ulong)s));
            var clock = Stopwatch.StartNew();
            var progress = new StderrProgress("simulate tasep", n, "samples");
            var view = TasepSimulation.Generate(settings, progress);
            progress.Finish();
            OutputFiles.WriteSamples(view, path, format);
            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"wrote {n} TASEP samples (L = {l}, alpha {a}, beta {b}, seed {s}) to {path} in {clock.Elapsed.TotalSeconds:F2} s"));
            return 0;
        });
        return command;
    }

    /// <summary>`exact tasep`.</summary>
    internal static Command Exact()
    {
        var size = SizeOption();
        var alpha = AlphaOption();
        var beta = BetaOption();
        var grid = CliOptions.Value("--grid", "cells per side K of the K x K grid of cell centres", 32);
        var output = CliOptions.RequiredPath("--out", "metric-field CSV: t1,t2,psi,dpsi_dt1,dpsi_dt2,g11,g12,g22");
        var command = new Command("tasep",
            "Exact psi = (1/L) log Z_L of the open-boundary TASEP (DEHP closed form), with its exact gradient and " +
            "Hessian in (alpha, beta), at the K x K cell centres.")
        {
            size, alpha, beta, grid, output,
        };
        command.SetAction(parse =>
        {
            int l = CliOptions.Within(parse.GetValue(size), "--size", 1, TasepExact.MaxSize);
            var a = CheckRate(parse.GetValue(alpha), "--alpha");
            var b = CheckRate(parse.GetValue(beta), "--beta");
            int k = CliOptions.Within(parse.GetValue(grid), "--grid", 1, 4096);
            string path = parse.GetValue(output)!;
            OutputFiles.FormatOf(path, allowArrow: false);
            OutputFiles.EnsureWritable(path);
            var clock = Stopwatch.StartNew();
            var field = TasepExact.MetricFieldOnGrid(l, new ParameterBox(a.Lo, a.Hi, b.Lo, b.Hi), k);
            field.WriteCsv(path);
            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"wrote the exact TASEP metric field (L = {l}, {k} x {k} cells, alpha {a}, beta {b}) to {path} in {clock.Elapsed.TotalSeconds:F2} s"));
            return 0;
        });
        return command;
    }

    private static ParamRange CheckRate(ParamRange range, string name) =>
        range.Lo > 0 && range.Hi <= 1
            ? range
            : throw new CliException($"{name} {range} is outside the allowed range: both ends must be in (0, 1]");
}
