using System.IO.Compression;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using HessianML.Data;

namespace HessianML.Pipeline;

/// <summary>
/// The model file: one zip holding <c>manifest.json</c> (format name and version, library version, input schema, the
/// chain of components with their kind and options, and every tensor's entry, dtype, shape and SHA-256) and one
/// binary entry per tensor, <c>tensors/&lt;component&gt;/&lt;name&gt;.bin</c> (raw little-endian items, stored
/// uncompressed: float weights barely compress, and raw bytes keep damage local and detectable by checksum).
/// Every way a file can be wrong is refused with a one-line <see cref="InvalidDataException"/> naming the file.
/// </summary>
public static class ModelFile
{
    public const string FormatName = "hessianml-model";
    public const int FormatVersion = 1;
    public const string ManifestEntry = "manifest.json";

    // A fixed entry time makes equal models give byte-identical files.
    private static readonly DateTimeOffset EntryTime = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static string LibraryVersion =>
        typeof(ModelFile).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(ModelFile).Assembly.GetName().Version?.ToString() ?? "unknown";

    /// <summary>The components of <paramref name="model"/> in order, nested chains flattened.</summary>
    internal static List<ITransformer> Flatten(ITransformer model)
    {
        var list = new List<ITransformer>();
        void Add(ITransformer t)
        {
            if (t is ITransformerChain chain) foreach (var c in chain.Transformers) Add(c);
            else list.Add(t);
        }
        Add(model);
        return list;
    }

    /// <summary>Saves atomically (temporary file + rename).</summary>
    public static void Save(ITransformer model, TableSchema inputSchema, string path) =>
        AtomicFile.Write(path, s => Save(model, inputSchema, s));

    public static void Save(ITransformer model, TableSchema inputSchema, Stream stream) => Save(model, inputSchema, stream, checkSchema: true);

    /// <summary>
    /// One component's state (options and tensors, checksummed) as bytes: what a component saved through ML.NET carries
    /// (see <c>HessianML.Pipeline.MlNet.SavedForm</c>). No input schema is recorded or checked.
    /// </summary>
    internal static byte[] SaveComponent(IComponentWithState component)
    {
        using var ms = new MemoryStream();
        Save(new TransformerChain<ITransformer>(component), new TableSchema([]), ms, checkSchema: false);
        return ms.ToArray();
    }

    /// <summary>The component <see cref="SaveComponent"/> wrote; damage throws an <see cref="InvalidDataException"/> naming <paramref name="source"/>.</summary>
    internal static ITransformer LoadComponent(byte[] bytes, string source)
    {
        using var ms = new MemoryStream(bytes, writable: false);
        var chain = (TransformerChain<ITransformer>)Load(ms, source, out _, checkSchema: false);
        return chain.Transformers.Count == 1 ? chain.Transformers[0]
            : throw new InvalidDataException($"{source}: holds {chain.Transformers.Count} components, expected 1");
    }

    private static void Save(ITransformer model, TableSchema inputSchema, Stream stream, bool checkSchema)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(inputSchema);
        // The model must accept its own input schema; saving one that cannot run is a bug better caught now.
        if (checkSchema) model.GetOutputSchema(inputSchema);
        var parts = Flatten(model);
        var components = new JsonArray();
        var entries = new List<(string Entry, byte[] Bytes)>();
        for (int i = 0; i < parts.Count; i++)
        {
            if (parts[i] is not IComponentWithState savable)
                throw new InvalidOperationException(
                    $"component {i} ({ChainSchema.Name(parts[i])}) cannot be saved: it does not implement IComponentWithState");
            var ctx = new ComponentStateWriter(i, savable.Kind);
            savable.SaveState(ctx);
            var tensors = new JsonArray();
            foreach (var t in ctx.Tensors)
            {
                string entry = $"tensors/{i}/{t.Name}.bin";
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
            components.Add(new JsonObject
            {
                ["index"] = i,
                ["kind"] = savable.Kind,
                ["options"] = ctx.Options,
                ["tensors"] = tensors,
            });
        }
        var manifest = new JsonObject
        {
            ["format"] = FormatName,
            ["formatVersion"] = FormatVersion,
            ["libraryVersion"] = LibraryVersion,
            ["inputSchema"] = SchemaToJson(inputSchema),
            ["components"] = components,
        };
        using var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true);
        var m = zip.CreateEntry(ManifestEntry, CompressionLevel.Optimal);
        m.LastWriteTime = EntryTime;
        using (var ms = m.Open())
            ms.Write(Encoding.UTF8.GetBytes(manifest.ToJsonString(new JsonSerializerOptions { WriteIndented = true })));
        foreach (var (name, bytes) in entries)
        {
            var e = zip.CreateEntry(name, CompressionLevel.NoCompression);
            e.LastWriteTime = EntryTime;
            using var es = e.Open();
            es.Write(bytes);
        }
    }

    public static ITransformer Load(string path, out TableSchema inputSchema)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"model file '{path}' not found", path);
        using var fs = File.OpenRead(path);
        return Load(fs, path, out inputSchema);
    }

    /// <summary>Loads from a stream; <paramref name="source"/> names it in error messages.</summary>
    public static ITransformer Load(Stream stream, string source, out TableSchema inputSchema) =>
        Load(stream, source, out inputSchema, checkSchema: true);

    private static ITransformer Load(Stream stream, string source, out TableSchema inputSchema, bool checkSchema)
    {
        ZipArchive zip;
        try
        {
            zip = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException or ArgumentException or NotSupportedException)
        {
            throw new InvalidDataException($"file '{source}' is not a HessianML model (not a zip archive)", ex);
        }
        using (zip)
        {
            var manifestEntry = zip.GetEntry(ManifestEntry)
                ?? throw new InvalidDataException($"file '{source}' is not a HessianML model (a zip archive without {ManifestEntry})");
            JsonNode root;
            try
            {
                using var ms = manifestEntry.Open();
                root = JsonNode.Parse(ms) ?? throw new JsonException("empty document");
            }
            catch (Exception ex) when (ex is JsonException or InvalidDataException or IOException)
            {
                throw new InvalidDataException($"file '{source}': {ManifestEntry} is damaged ({OneLine(ex.Message)})", ex);
            }
            try
            {
                return LoadManifest(zip, root, source, out inputSchema, checkSchema);
            }
            catch (Exception ex) when (ex is InvalidOperationException or FormatException or ArgumentException or KeyNotFoundException
                                           or NullReferenceException or JsonException)
            {
                throw new InvalidDataException($"file '{source}': {ManifestEntry} is malformed ({OneLine(ex.Message)})", ex);
            }
        }
    }

    private static ITransformer LoadManifest(ZipArchive zip, JsonNode root, string source, out TableSchema inputSchema, bool checkSchema)
    {
        string? format = root["format"]?.GetValue<string>();
        if (format != FormatName)
            throw new InvalidDataException($"file '{source}' is not a HessianML model (manifest format is '{format}', expected '{FormatName}')");
        int version = root["formatVersion"]?.GetValue<int>() ?? throw new InvalidDataException($"file '{source}': manifest has no formatVersion");
        if (version != FormatVersion)
            throw new InvalidDataException($"file '{source}' was written by format version {version}; this build reads {FormatVersion}");
        inputSchema = SchemaFromJson(root["inputSchema"] ?? throw new InvalidDataException($"file '{source}': manifest has no inputSchema"));
        var components = root["components"]?.AsArray() ?? throw new InvalidDataException($"file '{source}': manifest has no components");

        // Check everything (kinds, entries, sizes, checksums) before constructing any component.
        var contexts = new List<(ComponentStateReader Ctx, Func<ComponentStateReader, ITransformer> Loader)>();
        for (int i = 0; i < components.Count; i++)
        {
            var c = components[i] ?? throw new InvalidDataException($"file '{source}': component {i} is null");
            string kind = c["kind"]!.GetValue<string>();
            if (!ComponentStateRegistry.TryGet(kind, out var loader))
                throw new InvalidDataException(
                    $"file '{source}': component {i} has unknown kind '{kind}' (known: {string.Join(", ", ComponentStateRegistry.Kinds)})");
            var tensors = new List<SavedTensor>();
            foreach (var t in c["tensors"]?.AsArray() ?? [])
                tensors.Add(ReadTensor(zip, t!, source, i, kind));
            contexts.Add((new ComponentStateReader(source, i, kind, c["options"]?.DeepClone(), tensors), loader));
        }

        var parts = new ITransformer[contexts.Count];
        for (int i = 0; i < parts.Length; i++)
        {
            var (ctx, loader) = contexts[i];
            try
            {
                parts[i] = loader(ctx);
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
        var chain = new TransformerChain<ITransformer>(parts);
        if (!checkSchema) return chain;
        try
        {
            chain.GetOutputSchema(inputSchema);
        }
        catch (SchemaException ex)
        {
            throw new InvalidDataException($"file '{source}': the saved input schema does not fit the saved chain ({OneLine(ex.Message)})");
        }
        return chain;
    }

    private static SavedTensor ReadTensor(ZipArchive zip, JsonNode t, string source, int index, string kind)
    {
        string name = t["name"]!.GetValue<string>();
        string entryName = t["entry"]!.GetValue<string>();
        string dtype = t["dtype"]!.GetValue<string>();
        int[] shape = [.. t["shape"]!.AsArray().Select(d => d!.GetValue<int>())];
        string sha = t["sha256"]!.GetValue<string>();
        string where = $"file '{source}': component {index} ({kind}) tensor '{name}'";
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

    internal static JsonObject SchemaToJson(TableSchema schema)
    {
        var cols = new JsonArray();
        foreach (var c in schema)
            cols.Add(new JsonObject { ["name"] = c.Name, ["kind"] = c.Type.Kind.ToString(), ["vectorLength"] = c.Type.VectorLength });
        var meta = new JsonObject();
        foreach (var kv in schema.Metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal)) meta[kv.Key] = kv.Value;
        return new JsonObject { ["columns"] = cols, ["metadata"] = meta };
    }

    internal static TableSchema SchemaFromJson(JsonNode node)
    {
        var cols = new List<(string, ColumnType)>();
        foreach (var c in node["columns"]!.AsArray())
        {
            var kind = Enum.Parse<ItemKind>(c!["kind"]!.GetValue<string>());
            int len = c["vectorLength"]!.GetValue<int>();
            cols.Add((c["name"]!.GetValue<string>(), len == 0 ? ColumnType.Scalar(kind) : len < 0 ? ColumnType.VariableVector(kind) : ColumnType.Vector(kind, len)));
        }
        var meta = new Dictionary<string, string>(StringComparer.Ordinal);
        if (node["metadata"] is JsonObject m)
            foreach (var kv in m) meta[kv.Key] = kv.Value!.GetValue<string>();
        return new TableSchema(cols, meta);
    }
}
