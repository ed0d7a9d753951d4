using HessianML.Geometry;
using HessianML.Pipeline;

namespace HessianML.Cli.Infrastructure;

/// <summary>
/// `--model FILE` for commands that need a fitted psi (`metric`, `geodesic`): one place that loads the file and finds
/// its psi, so a missing, damaged or foreign file gives the same one-line error naming it everywhere.
/// </summary>
public static class ModelInput
{
    public static LogPartitionTransformer LoadPsi(string modelPath)
    {
        if (!File.Exists(modelPath)) throw new CliException($"--model {modelPath}: no such file");
        try
        {
            return LogPartitionTransformer.FindIn(ModelFile.Load(modelPath, out _));
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidDataException or IOException)
        {
            throw new CliException($"--model {modelPath}: {CliErrors.OneLine(ex.Message)}");
        }
    }
}
