using System.IO.Compression;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace HessianML.Pipeline;

/// <summary>
/// One fitted component's state as bytes: a zip holding <c>manifest.json</c> (format name and version, library version,
/// the component's kind and options, and every tensor's entry, dtype, shape and SHA-256) and one binary entry per tensor,
/// <c>tensors/&lt;name&gt;.bin</c> (raw little-endian items, stored uncompressed: float weights barely compress, and raw
/// bytes keep damage local and detectable by checksum). What a component saved through ML.NET carries inside the
/// ML.NET model zip (see <c>HessianML.Pipeline.MlNet.SavedForm</c>). Every way the bytes can be wrong is refused with
/// a one-line <see cref="InvalidDataException"/>.
/// </summary>
internal static class ComponentStateFile
{
    public const string FormatName = "hessianml-component";
    public const int FormatVersion = 1;
    public const string ManifestEntry = "manifest.json";

    /// <summary>The format name of the model zips written before HessianML moved onto ML.NET's (refused by name).</summary>
    public const string LegacyFormatName = "hessianml-model";

    // A fixed entry time makes equal components give byte-identical state.
    private static readonly DateTimeOffset EntryTime = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static string LibraryVersion =>
        typeof(ComponentStateFile).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(ComponentStateFile).Assembly.GetName().Version?.ToString() ?? "unknown";

    /// <summary>The component's options and tensors as bytes.</summary>
    public static byte[] Save(IComponentWithState component)
    {
        ArgumentNullException.ThrowIfNull(component);
        var ctx = new ComponentStateWriter(0, component.Kind);
        component.SaveState(ctx);
        var tensors = new JsonArray();
        var entries = new List<(string Entry, byte[] Bytes)>();
        foreach (var t in ctx.Tensors)
        {
            string entry = $"tensors/{t.Name}.bin";
            tensors.Add(new JsonObject
            {
                ["name"] = t.Name,
                ["entry"] = entry,
                ["dtype"] = t.DType,
                ["shape"] = new JsonArray([.. t.Shape.Select(d => (JsonNode)d)]),
                ["sha256"] = Convert.ToHexStringLower(SHA256.HashData(t.Bytes)),
            });
            entries.Add((entry, t.Bytes));
        }
        var manifest = new JsonObject
        {
            ["format"] = FormatName,
            ["formatVersion"] = FormatVersion,
            ["libraryVersion"] = LibraryVersion,
            ["kind"] = component.Kind,
            ["options"] = ctx.Options,
            ["tensors"] = tensors,
        };
        using var ms = new MemoryStream();
        using (var zip = new ZipArchive(ms, ZipArchiveMode.Create, leaveOpen: true))
        {
            var m = zip.CreateEntry(ManifestEntry, CompressionLevel.Optimal);
            m.LastWriteTime = EntryTime;
            using (var es = m.Open())
                es.Write(Encoding.UTF8.GetBytes(manifest.ToJsonString(new JsonSerializerOptions { WriteIndented = true })));
            foreach (var (name, bytes) in entries)
            {
                var e = zip.CreateEntry(name, CompressionLevel.NoCompression);
                e.LastWriteTime = EntryTime;
                using var es = e.Open();
                es.Write(bytes);
            }
        }
        return ms.ToArray();
    }

    /// <summary>The component <see cref="Save"/> wrote; <paramref name="source"/> names the bytes in error messages.</summary>
    public static IComponentWithState Load(byte[] bytes, string source)
    {
        ZipArchive zip;
        try
        {
            zip = new ZipArchive(new MemoryStream(bytes, writable: false), ZipArchiveMode.Read);
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException or ArgumentException or NotSupportedException)
        {
            throw new InvalidDataException($"{source} is damaged (not a zip archive)", ex);
        }
        using (zip)
        {
            var manifestEntry = zip.GetEntry(ManifestEntry) ?? throw new InvalidDataException($"{source} is damaged (no {ManifestEntry})");
            JsonNode root;
            try
            {
                using var ms = manifestEntry.Open();
                root = JsonNode.Parse(ms) ?? throw new JsonException("empty document");
            }
            catch (Exception ex) when (ex is JsonException or InvalidDataException or IOException)
            {
                throw new InvalidDataException($"{source}: {ManifestEntry} is damaged ({OneLine(ex.Message)})", ex);
            }
            try
            {
                return LoadManifest(zip, root, source);
            }
            catch (Exception ex) when (ex is InvalidOperationException or FormatException or ArgumentException or KeyNotFoundException
                                           or NullReferenceException or JsonException)
            {
                throw new InvalidDataException($"{source}: {ManifestEntry} is malformed ({OneLine(ex.Message)})", ex);
            }
        }
    }

    private static IComponentWithState LoadManifest(ZipArchive zip, JsonNode root, string source)
    {
        string? format = root["format"]?.GetValue<string>();
        if (format != FormatName)
            throw new InvalidDataException($"{source} is not a HessianML component state (format '{format}', expected '{FormatName}')");
        int version = root["formatVersion"]?.GetValue<int>() ?? throw new InvalidDataException($"{source}: manifest has no formatVersion");
        if (version != FormatVersion)
            throw new InvalidDataException($"{source} was written by format version {version}; this build reads {FormatVersion}");
        string kind = root["kind"]!.GetValue<string>();
        if (!ComponentStateRegistry.TryGet(kind, out var loader))
            throw new InvalidDataException($"{source} has unknown kind '{kind}' (known: {string.Join(", ", ComponentStateRegistry.Kinds)})");
        var tensors = new List<SavedTensor>();
        foreach (var t in root["tensors"]?.AsArray() ?? [])
            tensors.Add(ReadTensor(zip, t!, source, 0, kind));
        var ctx = new ComponentStateReader(source, 0, kind, root["options"]?.DeepClone(), tensors);
        try
        {
            return loader(ctx);
        }
        catch (TargetInvocationException ex) when (ex.InnerException is InvalidDataException inner)
        {
            throw inner;
        }
        catch (Exception ex) when (ex is not InvalidDataException and not OutOfMemoryException)
        {
            var inner = ex is TargetInvocationException { InnerException: { } ie } ? ie : ex;
            throw ctx.Fail($"could not be loaded: {OneLine(inner.Message)}");
        }
    }

    /// <summary>
    /// Throws a one-line <see cref="InvalidDataException"/> when <paramref name="path"/> is a model zip of the format
    /// HessianML wrote before its models became ML.NET model files; silent for anything else.
    /// </summary>
    public static void RefuseLegacyModel(string path)
    {
        try
        {
            using var zip = ZipFile.OpenRead(path);
            var entry = zip.GetEntry(ManifestEntry);
            if (entry is null) return;
            using var s = entry.Open();
            if (JsonNode.Parse(s)?["format"]?.GetValue<string>() != LegacyFormatName) return;
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException or JsonException or InvalidOperationException or UnauthorizedAccessException)
        {
            return;
        }
        throw new InvalidDataException(
            $"model file '{path}' is in HessianML's old format ({LegacyFormatName}), which this version no longer reads: fit it again (e.g. `hessian run ising --out DIR`) to get an ML.NET model zip");
    }

    private static SavedTensor ReadTensor(ZipArchive zip, JsonNode t, string source, int index, string kind)
    {
        string name = t["name"]!.GetValue<string>();
        string entryName = t["entry"]!.GetValue<string>();
        string dtype = t["dtype"]!.GetValue<string>();
        int[] shape = [.. t["shape"]!.AsArray().Select(d => d!.GetValue<int>())];
        string sha = t["sha256"]!.GetValue<string>();
        string where = $"{source}: {kind} tensor '{name}'";
        int size = TensorDType.Size(dtype);
        if (size == 0) throw new InvalidDataException($"{where} has unknown dtype '{dtype}'");
        long count = 1;
        foreach (int d in shape)
        {
            if (d < 0) throw new InvalidDataException($"{where} has a negative dimension");
            count *= d;
        }
        var entry = zip.GetEntry(entryName) ?? throw new InvalidDataException($"{where} is missing (no entry {entryName})");
        if (entry.Length != count * size)
            throw new InvalidDataException(
                $"{where} has {entry.Length} bytes but shape [{string.Join(",", shape)}] of {dtype} needs {count * size} (shape mismatch)");
        byte[] bytes = new byte[entry.Length];
        try
        {
            using var s = entry.Open();
            s.ReadExactly(bytes);
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException)
        {
            throw new InvalidDataException($"{where} is corrupted ({OneLine(ex.Message)})", ex);
        }
        if (!string.Equals(Convert.ToHexStringLower(SHA256.HashData(bytes)), sha, StringComparison.OrdinalIgnoreCase))
            throw new InvalidDataException($"{where} is corrupted (SHA-256 checksum mismatch)");
        return new SavedTensor(name, dtype, shape, bytes);
    }

    private static string OneLine(string s) => s.ReplaceLineEndings(" ");

}
