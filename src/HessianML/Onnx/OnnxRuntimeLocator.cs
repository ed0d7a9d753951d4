using System.Diagnostics;
using System.Runtime.InteropServices;

namespace HessianML.Onnx;

/// <summary>Where the ONNX Runtime native library comes from, and whether it may be fetched.</summary>
public sealed class OnnxRuntimeOptions
{
    /// <summary>
    /// The native library (libonnxruntime.so.1, onnxruntime.dll, libonnxruntime.dylib) or the folder holding it. Wins
    /// over the <c>HESSIANML_ONNXRUNTIME</c> environment variable and over the cache. Null: not set.
    /// </summary>
    public string? LibraryPath { get; init; }

    /// <summary>
    /// Root of HessianML's download cache. Null: the <c>HESSIANML_CACHE</c> environment variable, else
    /// <c>$XDG_CACHE_HOME/hessianml</c>, else <c>~/.cache/hessianml</c> (on Windows %LOCALAPPDATA%\hessianml).
    /// </summary>
    public string? CacheDirectory { get; init; }

    /// <summary>Fetch ONNX Runtime from the npm registry when it is not in the cache. Default true.</summary>
    public bool AllowDownload { get; init; } = true;

    /// <summary>
    /// The npm registry to fetch from. Null: <c>npm_config_registry</c>, else what <c>npm config get registry</c> says
    /// (when npm is installed), else https://registry.npmjs.org/.
    /// </summary>
    public string? NpmRegistry { get; init; }

    /// <summary>Time allowed for the one-off download (113 MB). Default 10 minutes.</summary>
    public TimeSpan DownloadTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>ORT's log severity: 0 verbose, 1 info, 2 warning, 3 error (default), 4 fatal. Logs go to stderr.</summary>
    public int LogSeverity { get; init; } = 3;
}

/// <summary>How a library path was found.</summary>
public enum OnnxRuntimeLibrarySource
{
    /// <summary><see cref="OnnxRuntimeOptions.LibraryPath"/>.</summary>
    Option,

    /// <summary>The <c>HESSIANML_ONNXRUNTIME</c> environment variable.</summary>
    EnvironmentVariable,

    /// <summary>A copy fetched earlier into the cache.</summary>
    Cache,

    /// <summary>Fetched from the npm registry just now.</summary>
    Downloaded,
}

/// <summary>A located native library.</summary>
public sealed record OnnxRuntimeLibraryLocation(string Path, OnnxRuntimeLibrarySource Source);

/// <summary>
/// Finds the ONNX Runtime native library: (1) <see cref="OnnxRuntimeOptions.LibraryPath"/>, (2) the
/// <c>HESSIANML_ONNXRUNTIME</c> environment variable (the library or its folder), (3) the cache,
/// <c>{cache}/onnxruntime/1.30.0/{rid}/</c>, (4) on first use, the npm package <c>onnxruntime-node@1.30.0</c> fetched
/// from the npm registry, checked against its published SHA-512, and only the native library extracted into the
/// cache (atomically; several processes fetching at once is safe). An explicit path that does not exist is an error,
/// never silently passed over.
/// </summary>
public static class OnnxRuntimeLocator
{
    /// <summary>The ONNX Runtime version fetched into the cache.</summary>
    public const string Version = "1.30.0";

    /// <summary>Environment variable naming the library or its folder.</summary>
    public const string LibraryEnvironmentVariable = "HESSIANML_ONNXRUNTIME";

    /// <summary>Environment variable naming the cache root.</summary>
    public const string CacheEnvironmentVariable = "HESSIANML_CACHE";

    /// <summary>How to get the library by hand, for error messages.</summary>
    internal static string HowToGet =>
        $"set {LibraryEnvironmentVariable} to libonnxruntime.so.1 or its folder (get it with `npm pack onnxruntime-node@{Version}`: " +
        $"it is package/bin/napi-v6/{Platform()?.NpmFolder ?? "linux/x64"}/ in the tarball)";

    /// <summary>Finds (and if need be fetches) the native library.</summary>
    public static OnnxRuntimeLibraryLocation Locate(OnnxRuntimeOptions? options = null) =>
        Locate(options ?? new OnnxRuntimeOptions(), Environment.GetEnvironmentVariable);

    internal static OnnxRuntimeLibraryLocation Locate(OnnxRuntimeOptions options, Func<string, string?> env)
    {
        if (!string.IsNullOrWhiteSpace(options.LibraryPath))
            return new(Explicit(options.LibraryPath, "OnnxRuntimeOptions.LibraryPath"), OnnxRuntimeLibrarySource.Option);
        string? fromEnv = env(LibraryEnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(fromEnv))
            return new(Explicit(fromEnv, LibraryEnvironmentVariable), OnnxRuntimeLibrarySource.EnvironmentVariable);

        var platform = Platform() ?? throw new OnnxRuntimeNotFoundException(
            $"no ONNX Runtime build to fetch for {RuntimeInformation.RuntimeIdentifier}: {HowToGet}.");
        string folder = CacheFolder(options, env, platform);
        string cached = Path.Combine(folder, platform.FileName);
        if (File.Exists(cached)) return new(cached, OnnxRuntimeLibrarySource.Cache);
        if (!options.AllowDownload)
            throw new OnnxRuntimeNotFoundException(
                $"ONNX Runtime {Version} is not in the cache ({folder}) and downloading is off: {HowToGet}.");

        string registry = options.NpmRegistry ?? NpmRegistry(env);
        string url = $"{registry.TrimEnd('/')}/onnxruntime-node/-/onnxruntime-node-{Version}.tgz";
        try
        {
            bool downloaded = NpmOnnxRuntimeFetcher.Fetch(url, platform, folder, options.DownloadTimeout);
            return new(cached, downloaded ? OnnxRuntimeLibrarySource.Downloaded : OnnxRuntimeLibrarySource.Cache);
        }
        catch (Exception e) when (e is not OnnxRuntimeNotFoundException and not OutOfMemoryException)
        {
            throw new OnnxRuntimeNotFoundException(
                $"ONNX Runtime {Version} is not in the cache ({folder}) and fetching it from {url} failed " +
                $"({e.GetType().Name}: {Native.OrtApi.OneLine(e.Message)}): {HowToGet}.", e);
        }
    }

    /// <summary>The cache folder for this version and platform.</summary>
    public static string CacheFolder(OnnxRuntimeOptions? options = null)
    {
        var platform = Platform() ?? throw new PlatformNotSupportedException($"no ONNX Runtime build to fetch for {RuntimeInformation.RuntimeIdentifier}");
        return CacheFolder(options ?? new OnnxRuntimeOptions(), Environment.GetEnvironmentVariable, platform);
    }

    private static string CacheFolder(OnnxRuntimeOptions options, Func<string, string?> env, NativePlatform platform)
    {
        string? root = options.CacheDirectory;
        if (string.IsNullOrWhiteSpace(root)) root = env(CacheEnvironmentVariable);
        if (string.IsNullOrWhiteSpace(root))
        {
            if (OperatingSystem.IsWindows())
                root = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "hessianml");
            else
            {
                string? xdg = env("XDG_CACHE_HOME");
                string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
                root = !string.IsNullOrWhiteSpace(xdg) ? Path.Combine(xdg, "hessianml")
                    : !string.IsNullOrWhiteSpace(home) ? Path.Combine(home, ".cache", "hessianml")
                    : Path.Combine(Path.GetTempPath(), "hessianml-cache"); // no home directory (some CI users)
            }
        }
        return Path.GetFullPath(Path.Combine(root, "onnxruntime", Version, platform.Rid));
    }

    private static string Explicit(string path, string origin)
    {
        string full = Path.GetFullPath(path.Trim());
        if (File.Exists(full)) return full;
        if (Directory.Exists(full))
        {
            foreach (string name in LibraryFileNames())
            {
                string candidate = Path.Combine(full, name);
                if (File.Exists(candidate)) return candidate;
            }
            throw new OnnxRuntimeNotFoundException(
                $"no ONNX Runtime library ({string.Join(", ", LibraryFileNames())}) in '{full}' (from {origin}): {HowToGet}.");
        }
        throw new OnnxRuntimeNotFoundException($"ONNX Runtime library not found at '{full}' (from {origin}): {HowToGet}.");
    }

    private static string[] LibraryFileNames() =>
        OperatingSystem.IsWindows() ? ["onnxruntime.dll"]
        : OperatingSystem.IsMacOS() ? ["libonnxruntime.dylib", "libonnxruntime.1.dylib", $"libonnxruntime.{Version}.dylib"]
        : ["libonnxruntime.so.1", "libonnxruntime.so", $"libonnxruntime.so.{Version}"];

    /// <summary>Where the native library for this machine sits in the onnxruntime-node tarball; null if absent.</summary>
    internal static NativePlatform? Platform()
    {
        var arch = RuntimeInformation.ProcessArchitecture;
        string? a = arch switch { Architecture.X64 => "x64", Architecture.Arm64 => "arm64", _ => null };
        if (a is null) return null;
        if (OperatingSystem.IsLinux()) return new($"linux-{a}", $"linux/{a}", "libonnxruntime.so.1");
        if (OperatingSystem.IsWindows()) return new($"win-{a}", $"win32/{a}", "onnxruntime.dll");
        if (OperatingSystem.IsMacOS() && a == "arm64") return new("osx-arm64", "darwin/arm64", $"libonnxruntime.{Version}.dylib");
        return null;
    }

    private static string NpmRegistry(Func<string, string?> env)
    {
        string? r = env("npm_config_registry") ?? env("NPM_CONFIG_REGISTRY");
        if (!string.IsNullOrWhiteSpace(r)) return r.Trim();
        try
        {
            var psi = new ProcessStartInfo(OperatingSystem.IsWindows() ? "npm.cmd" : "npm", "config get registry")
            {
                RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            };
            using var p = Process.Start(psi);
            if (p is not null)
            {
                var stdout = p.StandardOutput.ReadToEndAsync();
                _ = p.StandardError.ReadToEndAsync();
                if (p.WaitForExit(30_000) && p.ExitCode == 0)
                {
                    string value = stdout.Result.Trim();
                    if (Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https") return value;
                }
                else if (!p.HasExited) p.Kill();
            }
        }
        catch (System.ComponentModel.Win32Exception) { } // npm not installed
        return "https://registry.npmjs.org/";
    }
}

/// <summary>One platform's native library in the onnxruntime-node package.</summary>
internal sealed record NativePlatform(string Rid, string NpmFolder, string FileName)
{
    public string TarEntry => $"package/bin/napi-v6/{NpmFolder}/{FileName}";
}
