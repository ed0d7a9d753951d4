using System.CommandLine;
using System.Globalization;
using HessianML.Cli.Infrastructure;
using HessianML.Figures;
using HessianML.Geometry;
using HessianML.Pipeline;
using HessianML.Posterior;

namespace HessianML.Cli;

/// <summary>`hessian metric --model DIR/model.zip --grid K [--t1 LO:HI --t2 LO:HI] --out FILE.csv`: a fitted psi's metric field.</summary>
internal static class MetricCommand
{
    internal static Command Create()
    {
        var model = CliOptions.RequiredPath("--model", "a model file written by `hessian run` (or any saved pipeline ending in LogPartition or FisherMetric)");
        var grid = CliOptions.Value("--grid", "K: the field is written at the K x K cell centres", 48);
        var t1 = new Option<string>("--t1") { Description = "t1 range LO:HI (default: the box psi was fitted on; must lie inside it)", HelpName = "LO:HI" };
        var t2 = new Option<string>("--t2") { Description = "t2 range LO:HI (default: the box psi was fitted on; must lie inside it)", HelpName = "LO:HI" };
        var output = CliOptions.RequiredPath("--out", "metric-field CSV: t1,t2,psi,dpsi_dt1,dpsi_dt2,g11,g12,g22");
        var figure = new Option<string>("--figure")
        {
            Description = "also draw the field as heat maps (psi, its gradient, log10 g11, log10 g22, log10 det g) into this PNG",
            HelpName = "FILE.png",
        };
        var command = new Command("metric",
            "psi, its gradient and the Fisher metric g = Hessian psi of a fitted model on a K x K grid, as a metric-field CSV.")
        {
            model, grid, t1, t2, output, figure,
        };
        command.SetAction(parse =>
        {
            string path = parse.GetValue(output)!;
            OutputFiles.FormatOf(path, allowArrow: false);
            int k = CliOptions.Within(parse.GetValue(grid), "--grid", 1, 4096);
            string modelPath = parse.GetValue(model)!;
            var psi = ModelInput.LoadPsi(modelPath).Psi;
            var fitted = psi.Box;
            var r1 = parse.GetValue(t1) is { } s1 ? ParamRange.Parse(s1, "--t1") : new ParamRange(fitted.Lo1, fitted.Hi1);
            var r2 = parse.GetValue(t2) is { } s2 ? ParamRange.Parse(s2, "--t2") : new ParamRange(fitted.Lo2, fitted.Hi2);
            const double slack = 1e-9; // ranges typed from a printed box may differ in the last digit
            if (r1.Lo < fitted.Lo1 - slack || r1.Hi > fitted.Hi1 + slack || r2.Lo < fitted.Lo2 - slack || r2.Hi > fitted.Hi2 + slack)
                throw new CliException($"--t1 {r1} --t2 {r2}: outside the box psi was fitted on, {fitted} (psi is not defined beyond it)");
            string? figurePath = parse.GetValue(figure);
            if (figurePath is not null) OutputFiles.EnsureFigure(figurePath, "--figure");
            OutputFiles.EnsureWritable(path);
            var box = new ParameterBox(r1.Lo, r1.Hi, r2.Lo, r2.Hi);
            var field = psi.Field(box, k);
            field.WriteCsv(path);
            if (figurePath is not null)
            {
                ImageRunFigures.Fields($"{Path.GetFileName(modelPath)}: psi, its gradient and the Fisher metric on {k}x{k} cells", field, k, box).Save(figurePath);
                Console.Out.WriteLine($"drew {figurePath}");
            }
            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"wrote the metric field of {modelPath} ({psi.Parametrisation} psi, {k}x{k} cells of [{r1.Lo}, {r1.Hi}] x [{r2.Lo}, {r2.Hi}]) to {path}"));
            return 0;
        });
        return command;
    }
}
