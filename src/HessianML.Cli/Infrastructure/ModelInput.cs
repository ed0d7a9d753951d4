using HessianML.Geometry;
using HessianML.Pipeline.MlNet;

namespace HessianML.Cli.Infrastructure;

/// <summary>
/// `--model FILE` for commands that need a fitted psi (`metric`, `geodesic`, `export`): one place that loads the ML.NET
/// model zip and finds its psi, so a missing, damaged, foreign or old-format file gives the same one-line error naming it.
/// </summary>
public static class ModelInput
{
    public static LogPartitionTransformer LoadPsi(string modelPath)
    {
        if (!File.Exists(modelPath)) throw new CliException($"--model {modelPath}: no such file");
        try
        {
            return LogPartitionTransformer.FindIn(ModelFiles.Load(modelPath, out _));
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidDataException or IOException)
        {
            throw new CliException($"--model {modelPath}: {CliErrors.OneLine(ex.Message)}");
        }
    }
}
