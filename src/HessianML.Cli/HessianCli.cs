using System.CommandLine;
using HessianML.Cli.Infrastructure;

namespace HessianML.Cli;

/// <summary>
/// The `hessian` command line. Every command is built here from its own file under Commands/; this class owns
/// the one place where failures become a single line on stderr and a non-zero exit code.
/// </summary>
public static class HessianCli
{
    /// <summary>Exit code for bad input (arguments, files, ranges): the user can fix it.</summary>
    public const int UsageError = 2;

    /// <summary>Exit code for a failure inside the work itself.</summary>
    public const int RuntimeError = 1;

    public static RootCommand BuildRoot()
    {
        var root = new RootCommand(
            "HessianML: map the geometry of a generative model's latent space — samples -> posterior grid -> " +
            "log-partition psi -> Fisher metric -> geodesics and phase maps.");
        foreach (var command in Commands.All())
            root.Add(command);
        return root;
    }

    /// <summary>Runs the command line; writes to the given writers (tests pass their own) or the console.</summary>
    public static int Run(string[] args, TextWriter? output = null, TextWriter? error = null)
    {
        output ??= Console.Out;
        error ??= Console.Error;
        var parse = BuildRoot().Parse(args);
        if (parse.Errors.Count > 0)
        {
            // One line naming the problem, not the parser's full help page; `--help` shows that.
            // An unknown word explains the others ("Required command was not provided" follows from it): name it first.
            var first = parse.Errors.FirstOrDefault(e => e.Message.StartsWith("Unrecognized", StringComparison.Ordinal))
                        ?? parse.Errors[0];
            error.WriteLine($"hessian: error: {CliErrors.OneLine(first.Message)} (see --help)");
            return UsageError;
        }
        var config = new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false };
        var previousOut = Console.Out;
        OutputFiles.BeginCommand();
        try
        {
            if (!ReferenceEquals(output, previousOut)) Console.SetOut(output);
            return parse.Invoke(config);
        }
        catch (Exception ex)
        {
            OutputFiles.RemoveEmptyCreatedFolders();
            var (code, message) = CliErrors.Describe(ex);
            error.WriteLine($"hessian: error: {message}");
            if (Environment.GetEnvironmentVariable("HESSIAN_DEBUG") == "1")
                error.WriteLine(ex);
            return code;
        }
        finally
        {
            if (!ReferenceEquals(output, previousOut)) Console.SetOut(previousOut);
        }
    }
}
