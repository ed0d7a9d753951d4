using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace HessianML.Pipeline;

/// <summary>
/// A fitted HessianML component: an ML.NET transformer whose state (options and tensors) it writes into a
/// <see cref="ComponentStateWriter"/>, named by its <see cref="Kind"/> (the registry key its loader is found by). The
/// state is what travels inside ML.NET model zips (<see cref="ComponentStateFile"/>). Pair it with a loader, registered
/// by <see cref="ComponentStateRegistry.Register"/> or marked with <see cref="ComponentStateLoaderAttribute"/>.
/// </summary>
public interface IComponentWithState : Microsoft.ML.ITransformer
{
    /// <summary>Stable identifier written into the saved state, e.g. "FisherMetric": its loader is found by it. Never rename once shipped.</summary>
    string Kind { get; }

    void SaveState(ComponentStateWriter context);
}


/// <summary>Element types a model tensor may have, with their manifest names.</summary>
internal static class TensorDType
{
    public static string Of<T>() =>
        typeof(T) == typeof(float) ? "float32"
        : typeof(T) == typeof(double) ? "float64"
        : typeof(T) == typeof(sbyte) ? "int8"
        : typeof(T) == typeof(int) ? "int32"
        : typeof(T) == typeof(long) ? "int64"
        : throw new ArgumentException($"{typeof(T).Name} is not a tensor element type (float, double, sbyte, int, long)");

    public static int Size(string dtype) => dtype switch
    {
        "float32" or "int32" => 4,
        "float64" or "int64" => 8,
        "int8" => 1,
        _ => 0,
    };
}

/// <summary>One tensor being saved: name, dtype, shape and its little-endian bytes.</summary>
internal sealed record SavedTensor(string Name, string DType, int[] Shape, byte[] Bytes);

/// <summary>
/// What a transformer writes when saved: its options (any JSON-serialisable object, kept readable in manifest.json)
/// and named tensors (flat arrays with a shape, stored as binary zip entries with a SHA-256 each).
/// </summary>
public sealed class ComponentStateWriter
{
    internal static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    internal ComponentStateWriter(int index, string kind) => (Index, Kind) = (index, kind);

    /// <summary>Position of the component in the saved chain.</summary>
    public int Index { get; }

    public string Kind { get; }

    internal JsonNode? Options { get; private set; }

    internal List<SavedTensor> Tensors { get; } = [];

    /// <summary>Stores the component's options (serialised with System.Text.Json; enums as names).</summary>
    public void SetOptions<T>(T options) => Options = JsonSerializer.SerializeToNode(options, Json);

    public void AddTensor(string name, ReadOnlySpan<float> data, params int[] shape) => Add(name, data, shape);

    public void AddTensor(string name, ReadOnlySpan<double> data, params int[] shape) => Add(name, data, shape);

    public void AddTensor(string name, ReadOnlySpan<int> data, params int[] shape) => Add(name, data, shape);

    public void AddTensor(string name, ReadOnlySpan<long> data, params int[] shape) => Add(name, data, shape);

    public void AddTensor(string name, ReadOnlySpan<sbyte> data, params int[] shape) => Add(name, data, shape);

    private void Add<T>(string name, ReadOnlySpan<T> data, int[] shape) where T : unmanaged
    {
        if (string.IsNullOrEmpty(name) || name.IndexOfAny(['/', '\\', ':']) >= 0 || name.StartsWith('.'))
            throw new ArgumentException($"tensor name '{name}' must be non-empty, without path separators");
        if (Tensors.Any(t => t.Name == name))
            throw new ArgumentException($"component {Index} ({Kind}) saves tensor '{name}' twice");
        if (shape.Length == 0) shape = [data.Length];
        long count = 1;
        foreach (int d in shape)
        {
            if (d < 0) throw new ArgumentException($"tensor '{name}': negative dimension in shape [{string.Join(",", shape)}]");
            count *= d;
        }
        if (count != data.Length)
            throw new ArgumentException($"tensor '{name}': shape [{string.Join(",", shape)}] holds {count} items but {data.Length} were given");
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("model files are little-endian");
        Tensors.Add(new SavedTensor(name, TensorDType.Of<T>(), [.. shape], MemoryMarshal.AsBytes(data).ToArray()));
    }
}

/// <summary>
/// What a loader reads back: the component's options and its tensors, already checked against their SHA-256 and
/// their recorded shape. Asking for a tensor that is absent, of another dtype, or of a shape other than expected
/// throws an <see cref="InvalidDataException"/> naming the file, component and tensor.
/// </summary>
public sealed class ComponentStateReader
{
    private readonly Dictionary<string, SavedTensor> _tensors;
    private readonly string _source;

    internal ComponentStateReader(string source, int index, string kind, JsonNode? options, IEnumerable<SavedTensor> tensors)
    {
        (_source, Index, Kind, Options) = (source, index, kind, options);
        _tensors = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    public int Index { get; }

    public string Kind { get; }

    /// <summary>The raw options JSON (null if the component saved none).</summary>
    public JsonNode? Options { get; }

    public IReadOnlyCollection<string> TensorNames => _tensors.Keys;

    /// <summary>The options deserialised as <typeparamref name="T"/>.</summary>
    public T GetOptions<T>()
    {
        if (Options is null) throw Fail("has no options");
        try
        {
            return Options.Deserialize<T>(ComponentStateWriter.Json) ?? throw Fail("has null options");
        }
        catch (JsonException ex)
        {
            throw Fail($"has unreadable options ({ex.Message})");
        }
    }

    public int[] GetShape(string name) => [.. Get(name).Shape];

    /// <summary>Tensor <paramref name="name"/>; <paramref name="expectedShape"/> (if given; -1 = any size) must match.</summary>
    public float[] GetFloatTensor(string name, params int[] expectedShape) => Read<float>(name, expectedShape);

    public double[] GetDoubleTensor(string name, params int[] expectedShape) => Read<double>(name, expectedShape);

    public int[] GetInt32Tensor(string name, params int[] expectedShape) => Read<int>(name, expectedShape);

    public long[] GetInt64Tensor(string name, params int[] expectedShape) => Read<long>(name, expectedShape);

    public sbyte[] GetInt8Tensor(string name, params int[] expectedShape) => Read<sbyte>(name, expectedShape);

    private SavedTensor Get(string name) =>
        _tensors.TryGetValue(name, out var t) ? t : throw Fail($"has no tensor '{name}' (present: {string.Join(", ", _tensors.Keys)})");

    private T[] Read<T>(string name, int[] expectedShape) where T : unmanaged
    {
        var t = Get(name);
        string dtype = TensorDType.Of<T>();
        if (t.DType != dtype) throw Fail($"tensor '{name}' is {t.DType}, expected {dtype}");
        if (expectedShape.Length > 0
            && (expectedShape.Length != t.Shape.Length || expectedShape.Where((d, i) => d >= 0 && d != t.Shape[i]).Any()))
            throw Fail($"tensor '{name}' has shape [{string.Join(",", t.Shape)}], expected [{string.Join(",", expectedShape.Select(d => d < 0 ? "?" : d.ToString(System.Globalization.CultureInfo.InvariantCulture)))}]");
        return MemoryMarshal.Cast<byte, T>(t.Bytes).ToArray();
    }

    /// <summary>An <see cref="InvalidDataException"/> naming the source and this component: use it for loader-side checks.</summary>
    public InvalidDataException Fail(string what) => new($"{_source}: {Kind} {what}");
}

/// <summary>
/// Marks <c>public static IComponentWithState Load(ComponentStateReader)</c>-shaped methods as the loader for a kind (ML.NET's
/// LoadableClass, simplified). The registry scans loaded assemblies that reference HessianML when it meets a kind not
/// registered explicitly.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class ComponentStateLoaderAttribute(string kind) : Attribute
{
    public string Kind { get; } = kind;
}

/// <summary>Kind -> loader map used by model files. Thread-safe; later components add theirs.</summary>
public static class ComponentStateRegistry
{
    private static readonly Dictionary<string, Func<ComponentStateReader, IComponentWithState>> Loaders = new(StringComparer.Ordinal);
    private static readonly HashSet<Assembly> Scanned = [];
    private static readonly object Gate = new();

    /// <summary>Registers (or replaces) the loader for <paramref name="kind"/>.</summary>
    public static void Register(string kind, Func<ComponentStateReader, IComponentWithState> loader)
    {
        ArgumentException.ThrowIfNullOrEmpty(kind);
        ArgumentNullException.ThrowIfNull(loader);
        lock (Gate) Loaders[kind] = loader;
    }

    public static bool IsRegistered(string kind) => TryGet(kind, out _);

    /// <summary>Every kind known now (after scanning loaded assemblies).</summary>
    public static IReadOnlyList<string> Kinds
    {
        get
        {
            lock (Gate)
            {
                ScanLoadedAssemblies();
                return [.. Loaders.Keys.Order(StringComparer.Ordinal)];
            }
        }
    }

    internal static bool TryGet(string kind, out Func<ComponentStateReader, IComponentWithState> loader)
    {
        lock (Gate)
        {
            if (Loaders.TryGetValue(kind, out loader!)) return true;
            ScanLoadedAssemblies();
            return Loaders.TryGetValue(kind, out loader!);
        }
    }

    private static void ScanLoadedAssemblies()
    {
        var self = typeof(ComponentStateRegistry).Assembly;
        string selfName = self.GetName().Name!;
        foreach (var asm in AppDomain.CurrentDomain.GetAssemblies())
        {
            if (asm.IsDynamic || !Scanned.Add(asm)) continue;
            if (asm != self && !asm.GetReferencedAssemblies().Any(r => r.Name == selfName)) continue;
            Type[] types;
            try { types = asm.GetTypes(); }
            catch (ReflectionTypeLoadException ex) { types = [.. ex.Types.Where(t => t is not null).Cast<Type>()]; }
            foreach (var type in types)
                foreach (var m in type.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static))
                {
                    var attr = m.GetCustomAttribute<ComponentStateLoaderAttribute>();
                    if (attr is null) continue;
                    var p = m.GetParameters();
                    if (p.Length != 1 || p[0].ParameterType != typeof(ComponentStateReader) || !typeof(IComponentWithState).IsAssignableFrom(m.ReturnType))
                        throw new InvalidOperationException($"[ComponentStateLoader(\"{attr.Kind}\")] {type.Name}.{m.Name} must be static, take a ComponentStateReader and return an IComponentWithState");
                    Loaders.TryAdd(attr.Kind, ctx => (IComponentWithState)m.Invoke(null, [ctx])!);
                }
        }
    }
}
