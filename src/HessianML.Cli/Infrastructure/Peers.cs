using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace HessianML.Cli.Infrastructure;

/// <summary>
/// Runs the paper's own reference implementations (shared/peers/*.py, PyTorch / numpy on this CPU) beside ours,
/// so a benchmark can print a ratio measured in one run rather than a lone timing against a number from elsewhere.
/// </summary>
public static class Peers
{
    /// <summary>Python used for peers: Debian's, which carries python3-torch (see shared/peers/README.md).</summary>
    public static string Python => Environment.GetEnvironmentVariable("HESSIAN_PEER_PYTHON") ?? "/usr/bin/python3";

    /// <summary>Finds shared/peers: $HESSIAN_PEERS, else a `shared/peers` or `../shared/peers` above the working directory.</summary>
    public static string? FindDirectory()
    {
        var fromEnv = Environment.GetEnvironmentVariable("HESSIAN_PEERS");
        if (!string.IsNullOrEmpty(fromEnv))
            return Directory.Exists(fromEnv) ? fromEnv : null;
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                foreach (var candidate in new[] { Path.Combine(dir.FullName, "shared", "peers"),
                                                  Path.Combine(dir.FullName, "..", "shared", "peers") })
                    if (Directory.Exists(candidate))
                        return Path.GetFullPath(candidate);
            }
        }
        return null;
    }

    /// <summary>
    /// Runs a peer script and extracts the first number before <paramref name="unitPattern"/> in its output.
    /// Returns null with a reason when the peer cannot run here (no script, no python, no torch).
    /// </summary>
    public static (double? Value, string Detail) Measure(string script, string arguments, string unitPattern, TimeSpan timeout)
    {
        var dir = FindDirectory();
        if (dir is null)
            return (null, "peer scripts not found (set HESSIAN_PEERS to the shared/peers folder)");
        var path = Path.Combine(dir, script);
        if (!File.Exists(path))
            return (null, $"peer script {path} not found");
        var info = new ProcessStartInfo(Python, $"\"{path}\" {arguments}")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        Process? process;
        try { process = Process.Start(info); }
        catch (Exception ex) { return (null, $"cannot start {Python}: {ex.Message}"); }
        if (process is null)
            return (null, $"cannot start {Python}");
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(timeout))
            {
                process.Kill(entireProcessTree: true);
                return (null, $"peer {script} did not finish within {timeout.TotalSeconds:F0} s");
            }
            var text = stdout.Result;
            var match = Regex.Match(text, @"([0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)\s*" + unitPattern);
            if (process.ExitCode != 0 || !match.Success)
            {
                var why = stderr.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? "no output";
                return (null, $"peer {script} failed: {why.Trim()} (set-up: see shared/peers/README.md)");
            }
            return (double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture), text.Trim());
        }
    }
}
