using HessianML.Cli;

namespace HessianML.Tests;

/// <summary>Runs the real `hessian` command line in-process, as a user would, capturing both streams.</summary>
internal static class CliRunner
{
    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = HessianCli.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }
}
