using System.CommandLine;

namespace HessianML.Cli;

/// <summary>The command groups, in the order the story is told: simulate -> exact -> run -> metric -> bench.</summary>
internal static class Commands
{
    public static IEnumerable<Command> All()
    {
        yield break;
    }
}
