using System.CommandLine;
using HessianML.Cli.Infrastructure;
using HessianML.Data;
using HessianML.Onnx;

namespace HessianML.Cli;

/// <summary>
/// `hessian export --model DIR/model.zip --out PSI.onnx`: the model's psi as an ONNX model (input t [batch, 2]; outputs
/// psi, grad_psi, and metric for a spline psi), for any ONNX consumer. Written atomically: a failure leaves no file.
/// </summary>
internal static class ExportCommand
{
    internal static Command Create()
    {
        var model = CliOptions.RequiredPath("--model", "a model file with a fitted psi (written by `hessian run`, or any saved pipeline with a LogPartition, FisherMetric or Geodesic component)");
        var output = CliOptions.RequiredPath("--out", "the ONNX file to write (.onnx)");
        var command = new Command("export", "Write a fitted model's psi (and its gradient, and for a spline psi the metric) as an ONNX model.")
        {
            model, output,
        };
        command.SetAction(parse =>
        {
            string path = parse.GetValue(output)!;
            if (!string.Equals(Path.GetExtension(path), ".onnx", StringComparison.OrdinalIgnoreCase))
                throw new CliException($"--out {path}: the file name must end in .onnx");
            var psi = ModelInput.LoadPsi(parse.GetValue(model)!).Psi;
            OutputFiles.EnsureWritable(path);
            var onnx = PsiOnnxExporter.Build(psi);
            AtomicFile.Write(path, stream => stream.Write(onnx.ToBytes()));
            var outputs = psi is Geometry.SplinePsi or Geometry.LogSumExpPsi ? "psi [batch], grad_psi [batch, 2], metric [batch, 3] (g11, g12, g22)" : "psi [batch], grad_psi [batch, 2]";
            Console.Out.WriteLine($"wrote {path}: the {psi.Parametrisation} psi on {psi.Box}; input t [batch, 2] float; outputs {outputs}");
            return 0;
        });
        return command;
    }
}
