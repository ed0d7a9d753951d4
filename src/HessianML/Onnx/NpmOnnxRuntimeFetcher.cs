using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;

namespace HessianML.Onnx;

/// <summary>
/// Fetches the ONNX Runtime native library out of the npm package onnxruntime-node: streams the tarball once, checks
/// it against the SHA-512 the registry publishes for that version (<c>npm view onnxruntime-node@1.30.0 dist.integrity</c>),
/// keeps only this platform's library, and moves it into the cache folder in one rename. A lock file next to the
/// folder makes concurrent fetchers (two test processes) wait for one download instead of racing.
/// </summary>
internal static class NpmOnnxRuntimeFetcher
{
    /// <summary>dist.integrity of onnxruntime-node@1.30.0 (sha512, base64).</summary>
    internal const string TarballSha512 = "twhs1C2C/BFkz1yc5OY0KIU2GUq6DURO7hD4bx5Q2Qy3nAMJwRXW8xU3NVczE29VA9lolLOYepoD8fjTGOfIqw==";

    private static readonly SemaphoreSlim InProcess = new(1, 1);

    /// <summary>Ensures <paramref name="folder"/> holds the library; true when this call downloaded it.</summary>
    public static bool Fetch(string url, NativePlatform platform, string folder, TimeSpan timeout)
    {
        string target = Path.Combine(folder, platform.FileName);
        string parent = Path.GetDirectoryName(folder)!;
        Directory.CreateDirectory(parent);
        var deadline = DateTime.UtcNow + timeout;
        if (!InProcess.Wait(timeout)) throw new TimeoutException("timed out waiting for another thread's download");
        try
        {
            using var fileLock = AcquireLock(Path.Combine(parent, $".{platform.Rid}.lock"), deadline);
            if (File.Exists(target)) return false; // another process fetched it while we waited

            string temp = Path.Combine(parent, $".{platform.Rid}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
            Directory.CreateDirectory(temp);
            try
            {
                Download(url, platform, Path.Combine(temp, platform.FileName), deadline - DateTime.UtcNow);
                if (Directory.Exists(folder) && !File.Exists(target)) Directory.Delete(folder, recursive: true); // a damaged leftover
                try { Directory.Move(temp, folder); }
                catch (IOException) when (File.Exists(target)) { } // someone without the lock won the race: theirs is as good
                return true;
            }
            finally
            {
                if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
            }
        }
        finally { InProcess.Release(); }
    }

    private static FileStream AcquireLock(string path, DateTime deadline)
    {
        while (true)
        {
            try
            {
                // FileShare.None is an exclusive advisory lock (flock) on Unix, a sharing lock on Windows.
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(250);
            }
        }
    }

    private static void Download(string url, NativePlatform platform, string destination, TimeSpan timeout)
    {
        if (timeout <= TimeSpan.Zero) throw new TimeoutException("no time left for the download");
        using var http = new HttpClient { Timeout = timeout };
        http.DefaultRequestHeaders.UserAgent.ParseAdd("HessianML");
        using var response = http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead).GetAwaiter().GetResult();
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException($"HTTP {(int)response.StatusCode} {response.ReasonPhrase}");
        using var body = response.Content.ReadAsStream();
        using var hashing = new HashingStream(body, IncrementalHash.CreateHash(HashAlgorithmName.SHA512));
        using var gzip = new GZipStream(hashing, CompressionMode.Decompress, leaveOpen: true);
        bool found = false;
        using (var tar = new TarReader(gzip, leaveOpen: true))
        {
            while (tar.GetNextEntry(copyData: false) is { } entry)
            {
                if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile) || entry.Name != platform.TarEntry
                    || entry.DataStream is null)
                    continue;
                using (var file = new FileStream(destination, FileMode.CreateNew, FileAccess.Write))
                    entry.DataStream.CopyTo(file);
                found = true;
            }
        }
        gzip.CopyTo(Stream.Null);    // the rest of the archive, so the whole download is hashed
        hashing.CopyTo(Stream.Null);
        string sha512 = Convert.ToBase64String(hashing.Hash.GetHashAndReset());
        if (sha512 != TarballSha512)
            throw new InvalidDataException($"the tarball's SHA-512 is {sha512}, not the published {TarballSha512}");
        if (!found) throw new InvalidDataException($"the tarball has no {platform.TarEntry}");
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(destination, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
                UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
    }

    /// <summary>A read-only pass-through stream that hashes what is read.</summary>
    private sealed class HashingStream(Stream inner, IncrementalHash hash) : Stream
    {
        public IncrementalHash Hash { get; } = hash;

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            int n = inner.Read(buffer);
            Hash.AppendData(buffer[..n]);
            return n;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) Hash.Dispose();
            base.Dispose(disposing);
        }
    }
}
