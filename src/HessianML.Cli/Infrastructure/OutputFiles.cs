using System.Diagnostics;
using System.Globalization;
using HessianML.Data;

namespace HessianML.Cli.Infrastructure;

/// <summary>The two file formats a `--out` may name: Arrow IPC for datasets, CSV for small tables.</summary>
public enum OutputFormat { Arrow, Csv }

/// <summary>
/// Everything commands do with `--out`, in one place: the format from the extension, a writability check made
/// BEFORE any long work (so a typo costs nothing), and the dataset writers with the CSV contract `t1,t2,x0,...`.
/// </summary>
public static class OutputFiles
{
    /// <summary>The format named by the extension; <paramref name="allowArrow"/> false means only CSV is meaningful.</summary>
    public static OutputFormat FormatOf(string path, bool allowArrow)
    {
        string ext = Path.GetExtension(path).ToLowerInvariant();
        if (ext == ".csv") return OutputFormat.Csv;
        if (allowArrow && ext == ".arrow") return OutputFormat.Arrow;
        throw new CliException(allowArrow
            ? $"--out {path}: unknown extension '{ext}' (use .arrow for Arrow IPC or .csv)"
            : $"--out {path}: unknown extension '{ext}' (this output is a CSV table: use .csv)");
    }

    /// <summary>The folders <see cref="EnsureWritable"/> created for the command running in this flow (deepest first).</summary>
    private static readonly AsyncLocal<List<string>?> CreatedFolders = new();

    /// <summary>Starts recording the folders <see cref="EnsureWritable"/> creates, for <see cref="RemoveEmptyCreatedFolders"/>.</summary>
    internal static void BeginCommand() => CreatedFolders.Value = [];

    /// <summary>
    /// After a command failed: removes the folders <see cref="EnsureWritable"/> created for it that are still empty,
    /// deepest first. WHY: the writability check runs before the long work and creates the output's folder to probe it,
    /// so input refused after it (a bad features file) would otherwise leave an empty folder behind.
    /// </summary>
    internal static void RemoveEmptyCreatedFolders()
    {
        var created = CreatedFolders.Value;
        if (created is null) return;
        foreach (string d in created)
        {
            try
            {
                if (Directory.Exists(d) && !Directory.EnumerateFileSystemEntries(d).Any()) Directory.Delete(d);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { }
        }
        created.Clear();
    }

    /// <summary>Fails now, with the reason, if <paramref name="path"/> (given as <paramref name="option"/>) cannot be created (creating its folder if needed).</summary>
    public static void EnsureWritable(string path, string option = "--out")
    {
        string full = Path.GetFullPath(path);
        if (Directory.Exists(full))
            throw new CliException($"{option} {path} is a directory");
        string dir = Path.GetDirectoryName(full) ?? ".";
        try
        {
            var missing = new List<string>();
            for (string? d = dir; !string.IsNullOrEmpty(d) && !Directory.Exists(d); d = Path.GetDirectoryName(d)) missing.Add(d);
            Directory.CreateDirectory(dir);
            CreatedFolders.Value?.AddRange(missing);
            string probe = Path.Combine(dir, $".hessian-probe-{Guid.NewGuid():N}");
            using (File.Create(probe, 1, FileOptions.DeleteOnClose)) { }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"{option} {path}: cannot write there ({ex.Message})");
        }
    }

    /// <summary>A figure file named by <paramref name="option"/>: a .png name that can be written (checked before any work).</summary>
    public static void EnsureFigure(string path, string option)
    {
        if (!string.Equals(Path.GetExtension(path), ".png", StringComparison.OrdinalIgnoreCase))
            throw new CliException($"{option} {path}: figures are PNG images; use a .png name");
        EnsureWritable(path, option);
    }

    /// <summary>Writes a samples view (`t`, `state`) as Arrow, or as CSV with header `t1,t2,x0,...,x(n-1)`; atomically.</summary>
    public static void WriteSamples(ColumnTable view, string path, OutputFormat format)
    {
        if (format == OutputFormat.Arrow)
        {
            ArrowDataFile.Write(view, path);
            return;
        }
        int n = view.Schema["state"].Type.VectorLength;
        var options = new CsvWriteOptions { Columns = ["t", "state"] };
        options.ExpandedNames["t"] = ["t1", "t2"];
        options.ExpandedNames["state"] = Enumerable.Range(0, n).Select(i => "x" + i.ToString(CultureInfo.InvariantCulture)).ToArray();
        CsvDataFile.Write(view, path, options);
    }
}

/// <summary>
/// A `\r` counter on stderr for long work: silent for the first second (short runs print nothing), then at most
/// four updates a second. Thread-safe, since samplers report from Parallel.For.
/// </summary>
public sealed class StderrProgress(string what, int total, string unit) : IProgress<int>
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly object _gate = new();
    private long _lastMs = -1;
    private bool _shown;

    public void Report(int value)
    {
        long ms = _clock.ElapsedMilliseconds;
        if (ms < 1000 || (ms - Interlocked.Read(ref _lastMs) < 250 && value < total)) return;
        lock (_gate)
        {
            if (ms - _lastMs < 250 && value < total) return;
            _lastMs = ms;
            _shown = true;
            Console.Error.Write(string.Create(CultureInfo.InvariantCulture,
                $"\r{what}: {value}/{total} {unit} ({100.0 * value / total:F0}%, {ms / 1000.0:F1} s)"));
        }
    }

    /// <summary>Ends the counter line, if one was shown.</summary>
    public void Finish()
    {
        lock (_gate)
            if (_shown) Console.Error.WriteLine();
    }
}
