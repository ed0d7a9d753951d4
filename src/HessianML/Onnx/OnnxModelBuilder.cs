using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using Google.Protobuf;
using HessianML.Data;
using HessianML.Onnx.Protos;
using static HessianML.Onnx.Protos.AttributeProto.Types;

namespace HessianML.Onnx;

/// <summary>One dimension of a declared shape: a fixed size, or a named (symbolic) one such as "batch".</summary>
public readonly record struct OnnxDim
{
    private OnnxDim(long? size, string? name) { Size = size; Name = name; }

    /// <summary>The fixed size; null for a symbolic dimension.</summary>
    public long? Size { get; }

    /// <summary>The symbolic name; null for a fixed dimension.</summary>
    public string? Name { get; }

    public static OnnxDim Fixed(long size) =>
        size >= 0 ? new(size, null) : throw new ArgumentOutOfRangeException(nameof(size), "a fixed dimension is >= 0");

    public static OnnxDim Symbolic(string name) =>
        string.IsNullOrWhiteSpace(name) ? throw new ArgumentException("a symbolic dimension needs a name", nameof(name)) : new(null, name);

    public static implicit operator OnnxDim(long size) => Fixed(size);

    public static implicit operator OnnxDim(int size) => Fixed(size);

    public static implicit operator OnnxDim(string name) => Symbolic(name);

    public override string ToString() => Name ?? Size!.Value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>A node attribute: int, float, string, ints, floats or a float tensor.</summary>
public sealed class OnnxAttribute
{
    private OnnxAttribute(AttributeProto proto) => Proto = proto;

    internal AttributeProto Proto { get; }

    public string Name => Proto.Name;

    public static OnnxAttribute Int(string name, long value) => new(new() { Name = name, Type = AttributeType.Int, I = value });

    public static OnnxAttribute Float(string name, float value) => new(new() { Name = name, Type = AttributeType.Float, F = value });

    public static OnnxAttribute String(string name, string value) =>
        new(new() { Name = name, Type = AttributeType.String, S = ByteString.CopyFromUtf8(value) });

    public static OnnxAttribute Ints(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeType.Ints };
        a.Ints.AddRange(values);
        return new(a);
    }

    public static OnnxAttribute Floats(string name, params float[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeType.Floats };
        a.Floats.AddRange(values);
        return new(a);
    }

    /// <summary>A float tensor attribute (the <c>value</c> of a Constant node).</summary>
    public static OnnxAttribute Tensor(string name, float[] data, params long[] dims) =>
        new(new() { Name = name, Type = AttributeType.Tensor, T = OnnxModelBuilder.FloatTensor("", data, dims) });
}

/// <summary>
/// Writes ONNX models: a graph of nodes over float or int64 initializers, with declared inputs and outputs (fixed or
/// symbolic dimensions), serialised by protobuf messages generated from Onnx/Protos/onnx.proto (<see cref="Protos.ModelProto"/>). Nodes must be
/// added in execution order: every input of a node is a graph input, an initializer or an earlier node's output,
/// so a model that builds is topologically sorted. The op helpers (<see cref="Gemm"/>, <see cref="MatMul"/>, ...) name
/// their output after the op unless given a name, so a network reads as its forward pass:
/// <code>
/// var b = new OnnxModelBuilder("mlp");
/// var x = b.AddInput("x", "batch", 2);
/// var h = b.Tanh(b.Gemm(x, b.AddInitializer("W1", w1, 16, 2), b.AddInitializer("b1", b1, 16), transB: true));
/// b.Gemm(h, b.AddInitializer("W2", w2, 1, 16), b.AddInitializer("b2", b2, 1), transB: true, output: "psi");
/// b.AddOutput("psi", "batch", 1);
/// b.Save("psi.onnx");
/// </code>
/// A gradient is more nodes of the same kinds (MatMul with the transposed weights, Mul by the activation's
/// derivative) written to a second output.
/// </summary>
public sealed class OnnxModelBuilder
{
    /// <summary>Default opset of the ai.onnx domain: 17, well inside what ONNX Runtime 1.32 implements.</summary>
    public const int DefaultOpset = 17;

    /// <summary>Default IR version: 8, the IR of opset 17 (ONNX 1.12).</summary>
    public const long DefaultIrVersion = 8;

    private readonly List<ValueInfoProto> _inputs = [];
    private readonly List<ValueInfoProto> _outputs = [];
    private readonly List<TensorProto> _initializers = [];
    private readonly List<NodeProto> _nodes = [];
    private readonly HashSet<string> _defined = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _autoNames = new(StringComparer.Ordinal);

    public OnnxModelBuilder(string graphName = "main", int opset = DefaultOpset)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(graphName);
        ArgumentOutOfRangeException.ThrowIfLessThan(opset, 1);
        GraphName = graphName;
        Opset = opset;
    }

    public string GraphName { get; }

    public int Opset { get; }

    public long IrVersion { get; init; } = DefaultIrVersion;

    public string ProducerName { get; init; } = "HessianML";

    public string? ProducerVersion { get; init; } = typeof(OnnxModelBuilder).Assembly.GetName().Version?.ToString();

    public string? DocString { get; set; }

    /// <summary>Free-form key/value metadata stored in the model (ModelProto.metadata_props).</summary>
    public IDictionary<string, string> Metadata { get; } = new SortedDictionary<string, string>(StringComparer.Ordinal);

    // ---- graph inputs, outputs, initializers -----------------------------------------------------------------------

    /// <summary>Declares a float input; returns its name.</summary>
    public string AddInput(string name, params OnnxDim[] shape) => AddInput(name, OnnxElementType.Float, shape);

    /// <summary>Declares an input of the given element type; returns its name.</summary>
    public string AddInput(string name, OnnxElementType type, params OnnxDim[] shape)
    {
        Define(name);
        _inputs.Add(ValueInfo(name, type, shape));
        return name;
    }

    /// <summary>Declares a float output: a value some node (or an input or initializer) produces.</summary>
    public void AddOutput(string name, params OnnxDim[] shape) => AddOutput(name, OnnxElementType.Float, shape);

    /// <summary>Declares an output of the given element type.</summary>
    public void AddOutput(string name, OnnxElementType type, params OnnxDim[] shape)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (_outputs.Any(o => o.Name == name)) throw new ArgumentException($"output '{name}' is declared twice", nameof(name));
        _outputs.Add(ValueInfo(name, type, shape));
    }

    /// <summary>A float constant of the graph (weights); returns its name.</summary>
    public string AddInitializer(string name, float[] data, params long[] dims)
    {
        Define(name);
        _initializers.Add(FloatTensor(name, data, dims));
        return name;
    }

    /// <summary>A double constant of the graph (e.g. spline coefficients computed in double); returns its name.</summary>
    public string AddInitializer(string name, double[] data, params long[] dims)
    {
        var bytes = new byte[data.Length * sizeof(double)];
        for (int i = 0; i < data.Length; i++) BinaryPrimitives.WriteDoubleLittleEndian(bytes.AsSpan(8 * i), data[i]);
        return AddRawInitializer(name, OnnxElementType.Double, data.Length, bytes, dims);
    }

    /// <summary>An int64 constant of the graph (shapes, axes); returns its name.</summary>
    public string AddInitializer(string name, long[] data, params long[] dims)
    {
        var bytes = new byte[data.Length * sizeof(long)];
        for (int i = 0; i < data.Length; i++) BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(8 * i), data[i]);
        return AddRawInitializer(name, OnnxElementType.Int64, data.Length, bytes, dims);
    }

    /// <summary>An initializer given as little-endian bytes (<paramref name="count"/> elements of <paramref name="type"/>).</summary>
    private string AddRawInitializer(string name, OnnxElementType type, int count, byte[] bytes, long[] dims)
    {
        Define(name);
        CheckCount(name, count, dims);
        var t = new TensorProto { Name = name, DataType = (int)type, RawData = ByteString.CopyFrom(bytes) };
        t.Dims.AddRange(dims);
        _initializers.Add(t);
        return name;
    }

    // ---- nodes -----------------------------------------------------------------------------------------------------

    /// <summary>
    /// Adds a node with explicitly named outputs (an empty string skips an optional input). Returns the outputs.
    /// </summary>
    public IReadOnlyList<string> AddNode(string opType, IReadOnlyList<string> inputs, IReadOnlyList<string> outputs,
        params OnnxAttribute[] attributes)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(opType);
        if (outputs.Count == 0) throw new ArgumentException($"a {opType} node needs at least one output", nameof(outputs));
        foreach (string input in inputs)
            if (input.Length > 0 && !_defined.Contains(input))
                throw new ArgumentException(
                    $"{opType} input '{input}' is not a graph input, an initializer or an earlier node's output", nameof(inputs));
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var a in attributes)
            if (!seen.Add(a.Name)) throw new ArgumentException($"attribute '{a.Name}' given twice to {opType}", nameof(attributes));
        foreach (string output in outputs) Define(output);
        var node = new NodeProto { OpType = opType, Name = $"{opType}_{_nodes.Count}" };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        node.Attribute.AddRange(attributes.Select(a => a.Proto));
        _nodes.Add(node);
        return outputs;
    }

    /// <summary>Adds a one-output node; the output is named <paramref name="output"/> or after the op. Returns it.</summary>
    public string AddNode(string opType, IReadOnlyList<string> inputs, string? output = null, params OnnxAttribute[] attributes) =>
        AddNode(opType, inputs, [output ?? FreshName(opType)], attributes)[0];

    public string MatMul(string a, string b, string? output = null) => AddNode("MatMul", [a, b], output);

    public string Add(string a, string b, string? output = null) => AddNode("Add", [a, b], output);

    public string Sub(string a, string b, string? output = null) => AddNode("Sub", [a, b], output);

    public string Mul(string a, string b, string? output = null) => AddNode("Mul", [a, b], output);

    public string Div(string a, string b, string? output = null) => AddNode("Div", [a, b], output);

    public string Relu(string x, string? output = null) => AddNode("Relu", [x], output);

    public string Tanh(string x, string? output = null) => AddNode("Tanh", [x], output);

    public string Sigmoid(string x, string? output = null) => AddNode("Sigmoid", [x], output);

    public string Softplus(string x, string? output = null) => AddNode("Softplus", [x], output);

    public string Neg(string x, string? output = null) => AddNode("Neg", [x], output);

    public string Exp(string x, string? output = null) => AddNode("Exp", [x], output);

    public string Identity(string x, string? output = null) => AddNode("Identity", [x], output);

    /// <summary>Y = alpha * op(A) * op(B) + beta * C, op = transpose when asked; C optional and broadcast.</summary>
    public string Gemm(string a, string b, string? c = null, bool transA = false, bool transB = false, float alpha = 1f,
        float beta = 1f, string? output = null)
    {
        var attributes = new List<OnnxAttribute>();
        if (alpha != 1f) attributes.Add(OnnxAttribute.Float("alpha", alpha));
        if (beta != 1f) attributes.Add(OnnxAttribute.Float("beta", beta));
        if (transA) attributes.Add(OnnxAttribute.Int("transA", 1));
        if (transB) attributes.Add(OnnxAttribute.Int("transB", 1));
        return AddNode("Gemm", c is null ? [a, b] : [a, b, c], output, [.. attributes]);
    }

    /// <summary>2D (or nD) convolution over NCHW input, weights [M, C/group, kH, kW], optional bias [M].</summary>
    public string Conv(string x, string w, string? bias = null, long[]? kernelShape = null, long[]? strides = null,
        long[]? pads = null, long[]? dilations = null, long group = 1, string? output = null)
    {
        var attributes = new List<OnnxAttribute>();
        if (kernelShape is not null) attributes.Add(OnnxAttribute.Ints("kernel_shape", kernelShape));
        if (strides is not null) attributes.Add(OnnxAttribute.Ints("strides", strides));
        if (pads is not null) attributes.Add(OnnxAttribute.Ints("pads", pads));
        if (dilations is not null) attributes.Add(OnnxAttribute.Ints("dilations", dilations));
        if (group != 1) attributes.Add(OnnxAttribute.Int("group", group));
        return AddNode("Conv", bias is null ? [x, w] : [x, w, bias], output, [.. attributes]);
    }

    public string GlobalAveragePool(string x, string? output = null) => AddNode("GlobalAveragePool", [x], output);

    /// <summary>Flattens to 2D: dimensions before <paramref name="axis"/> become rows.</summary>
    public string Flatten(string x, long axis = 1, string? output = null) =>
        AddNode("Flatten", [x], output, OnnxAttribute.Int("axis", axis));

    public string Transpose(string x, long[] perm, string? output = null) =>
        AddNode("Transpose", [x], output, OnnxAttribute.Ints("perm", perm));

    /// <summary>A float constant produced by a Constant node (for values computed inside the graph's order).</summary>
    public string Constant(float[] data, long[] dims, string? output = null) =>
        AddNode("Constant", [], output, OnnxAttribute.Tensor("value", data, dims));

    // ---- output ----------------------------------------------------------------------------------------------------

    /// <summary>The model as protobuf messages, after checking that every declared output is produced.</summary>
    public ModelProto Build()
    {
        if (_outputs.Count == 0) throw new InvalidOperationException($"graph '{GraphName}' declares no output");
        foreach (var o in _outputs)
            if (!_defined.Contains(o.Name))
                throw new InvalidOperationException($"output '{o.Name}' is produced by no node, input or initializer");
        var graph = new GraphProto { Name = GraphName, DocString = DocString ?? "" };
        graph.Node.AddRange(_nodes);
        graph.Initializer.AddRange(_initializers);
        graph.Input.AddRange(_inputs);
        graph.Output.AddRange(_outputs);
        var model = new ModelProto
        {
            IrVersion = IrVersion, ProducerName = ProducerName, ProducerVersion = ProducerVersion ?? "", Graph = graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        foreach (var (k, v) in Metadata) model.MetadataProps.Add(new StringStringEntryProto { Key = k, Value = v });
        return model;
    }

    /// <summary>The serialised model.</summary>
    public byte[] ToBytes() => Build().ToByteArray();

    /// <summary>Writes the model to a file (atomically: a failed write leaves no partial file).</summary>
    public void Save(string path)
    {
        var model = Build();
        AtomicFile.Write(path, model.WriteTo);
    }

    // ---- helpers ---------------------------------------------------------------------------------------------------

    internal static TensorProto FloatTensor(string name, float[] data, long[] dims)
    {
        ArgumentNullException.ThrowIfNull(data);
        CheckCount(name.Length > 0 ? name : "tensor", data.Length, dims);
        var t = new TensorProto { Name = name, DataType = (int)OnnxElementType.Float };
        t.Dims.AddRange(dims);
        t.RawData = BitConverter.IsLittleEndian
            ? ByteString.CopyFrom(MemoryMarshal.AsBytes(data.AsSpan()))
            : ByteString.CopyFrom(data.SelectMany(f => { var b = new byte[4]; BinaryPrimitives.WriteSingleLittleEndian(b, f); return b; }).ToArray());
        return t;
    }

    private static void CheckCount(string name, int count, long[] dims)
    {
        long n = 1;
        foreach (long d in dims)
        {
            if (d < 0) throw new ArgumentException($"initializer '{name}' has a negative dimension");
            n *= d;
        }
        if (n != count) throw new ArgumentException($"initializer '{name}': dims [{string.Join(", ", dims)}] hold {n} values, got {count}");
    }

    private void Define(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (!_defined.Add(name)) throw new ArgumentException($"the name '{name}' is already used in graph '{GraphName}'", nameof(name));
    }

    private string FreshName(string opType)
    {
        string stem = opType.ToLowerInvariant();
        _autoNames.TryGetValue(stem, out int n);
        string name;
        do name = $"{stem}_{n++}"; while (_defined.Contains(name));
        _autoNames[stem] = n;
        return name;
    }

    private static ValueInfoProto ValueInfo(string name, OnnxElementType type, OnnxDim[] shape)
    {
        var tensorShape = new TensorShapeProto();
        foreach (var d in shape)
            tensorShape.Dim.Add(d.Name is null
                ? new TensorShapeProto.Types.Dimension { DimValue = d.Size ?? 0 }
                : new TensorShapeProto.Types.Dimension { DimParam = d.Name });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = tensorShape } },
        };
    }
}
