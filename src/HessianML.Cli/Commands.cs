using System.CommandLine;

namespace HessianML.Cli;

/// <summary>The command groups, in the order the story is told: simulate -> exact -> run -> metric -> geodesic -> bench.</summary>
internal static class Commands
{
    public static IEnumerable<Command> All()
    {
        yield return new Command("simulate", "Draw samples of a system with known answers at random points of a parameter box.")
        {
            IsingCommands.Simulate(),
            TasepCommands.Simulate(),
            DiffusionCommands.Simulate(),
            ImageCommands.SimulateShapes(),
        };
        yield return new Command("exact", "Write the exact metric field (psi, its gradient, the Fisher metric) of a system on a grid.")
        {
            IsingCommands.Exact(),
            TasepCommands.Exact(),
        };
        yield return ImageCommands.Featurize();
        yield return RunCommands.Create();
        yield return MetricCommand.Create();
        yield return GeodesicCommand.Create();
        yield return ExportCommand.Create();
        yield return BenchCommand.Create();
    }
}
