namespace HessianML.Data;

/// <summary>
/// Writes a set of files into a folder all or nothing: everything goes into a hidden staging folder beside them first
/// and is moved in only when every file was written, so a failure leaves the folder as it was (the `hessian run` report folders).
/// </summary>
public static class StagedFolder
{
    /// <summary>Runs <paramref name="write"/> on a staging folder, then moves its files into <paramref name="directory"/>; returns the paths written.</summary>
    public static IReadOnlyList<string> Write(string directory, Action<string> write)
    {
        Directory.CreateDirectory(directory);
        string staging = Path.Combine(directory, $".hessian-run-{Guid.NewGuid():N}.partial");
        Directory.CreateDirectory(staging);
        try
        {
            write(staging);
            var written = new List<string>();
            foreach (string file in Directory.GetFiles(staging).Order(StringComparer.Ordinal))
            {
                string target = Path.Combine(directory, Path.GetFileName(file));
                File.Move(file, target, overwrite: true);
                written.Add(target);
            }
            return written;
        }
        finally
        {
            try { Directory.Delete(staging, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}
