namespace HessianML.Cli.Infrastructure;

/// <summary>A problem with what the user asked for; its message is shown as it is, on one line.</summary>
public sealed class CliException(string message) : Exception(message);

/// <summary>Turns any failure into the one-line message and exit code the command line promises.</summary>
public static class CliErrors
{
    public static (int Code, string Message) Describe(Exception ex)
    {
        // Unwrap the wrappers that parallel loops and reflection put around the real cause.
        while (ex is AggregateException { InnerExceptions.Count: 1 } or System.Reflection.TargetInvocationException
               && ex.InnerException is not null)
            ex = ex.InnerException!;
        string message = OneLine(ex.Message);
        return ex switch
        {
            CliException or ArgumentException or FormatException or InvalidDataException or HessianML.Onnx.GpuUnavailableException
                or FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException
                => (HessianCli.UsageError, message),
            IOException => (HessianCli.UsageError, message),
            OperationCanceledException => (HessianCli.RuntimeError, "cancelled"),
            _ => (HessianCli.RuntimeError,
                $"{message} ({ex.GetType().Name}; set HESSIAN_DEBUG=1 for the stack trace)"),
        };
    }

    /// <summary>Joins a multi-line message (the parser lists choices one per line) into one line.</summary>
    internal static string OneLine(string s) =>
        string.Join(' ', s.Split(['\r', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
