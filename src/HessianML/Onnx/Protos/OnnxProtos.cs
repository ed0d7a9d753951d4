using Google.Protobuf;

namespace HessianML.Onnx.Protos;

// A minimal ONNX schema of our own: the messages and fields of onnx.proto (proto2 syntax, so repeated scalars are
// written unpacked, except TensorProto's float_data/int64_data which onnx.proto declares packed) that HessianML
// writes, with onnx.proto's real field numbers. Written by hand on Google.Protobuf's CodedOutputStream /
// CodedInputStream because no protoc runs in this build. Unknown fields are skipped when reading.

/// <summary>A message that knows its encoded size and how to write and read itself.</summary>
public abstract class OnnxMessage
{
    public abstract int CalculateSize();

    public abstract void WriteTo(CodedOutputStream output);

    internal abstract void MergeField(CodedInputStream input, uint tag);

    public byte[] ToByteArray()
    {
        var bytes = new byte[CalculateSize()];
        var output = new CodedOutputStream(bytes);
        WriteTo(output);
        output.CheckNoSpaceLeft();
        return bytes;
    }

    public void WriteTo(Stream stream)
    {
        var output = new CodedOutputStream(stream, leaveOpen: true);
        WriteTo(output);
        output.Flush();
    }

    internal void MergeFrom(CodedInputStream input)
    {
        uint tag;
        while ((tag = input.ReadTag()) != 0) MergeField(input, tag);
    }

    internal static T ReadMessage<T>(CodedInputStream input) where T : OnnxMessage, new()
    {
        var message = new T();
        message.MergeFrom(input.ReadBytes().CreateCodedInput());
        return message;
    }

    // ---- size and write helpers ------------------------------------------------------------------------------------

    protected static int TagSize(int field) => CodedOutputStream.ComputeTagSize(field);

    protected static int StringSize(int field, string? value) =>
        value is null ? 0 : TagSize(field) + CodedOutputStream.ComputeStringSize(value);

    protected static int Int64Size(int field, long value) => TagSize(field) + CodedOutputStream.ComputeInt64Size(value);

    protected static int MessageSize(int field, OnnxMessage? message)
    {
        if (message is null) return 0;
        int n = message.CalculateSize();
        return TagSize(field) + CodedOutputStream.ComputeLengthSize(n) + n;
    }

    protected static int MessagesSize<T>(int field, List<T> messages) where T : OnnxMessage
    {
        int size = 0;
        foreach (var m in messages) size += MessageSize(field, m);
        return size;
    }

    protected static void WriteString(CodedOutputStream o, int field, string? value)
    {
        if (value is null) return;
        o.WriteTag(field, WireFormat.WireType.LengthDelimited);
        o.WriteString(value);
    }

    protected static void WriteInt64(CodedOutputStream o, int field, long value)
    {
        o.WriteTag(field, WireFormat.WireType.Varint);
        o.WriteInt64(value);
    }

    protected static void WriteMessage(CodedOutputStream o, int field, OnnxMessage? message)
    {
        if (message is null) return;
        o.WriteTag(field, WireFormat.WireType.LengthDelimited);
        o.WriteLength(message.CalculateSize());
        message.WriteTo(o);
    }

    protected static void WriteMessages<T>(CodedOutputStream o, int field, List<T> messages) where T : OnnxMessage
    {
        foreach (var m in messages) WriteMessage(o, field, m);
    }

    /// <summary>Reads a repeated int64 field, packed or not (readers must accept both).</summary>
    protected static void ReadInt64s(CodedInputStream input, uint tag, List<long> into)
    {
        if (WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited)
        {
            var packed = input.ReadBytes().CreateCodedInput();
            while (!packed.IsAtEnd) into.Add(packed.ReadInt64());
        }
        else into.Add(input.ReadInt64());
    }

    /// <summary>Reads a repeated float field, packed or not.</summary>
    protected static void ReadFloats(CodedInputStream input, uint tag, List<float> into)
    {
        if (WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited)
        {
            var packed = input.ReadBytes().CreateCodedInput();
            while (!packed.IsAtEnd) into.Add(packed.ReadFloat());
        }
        else into.Add(input.ReadFloat());
    }
}

/// <summary>onnx.proto ModelProto.</summary>
public sealed class ModelProto : OnnxMessage
{
    public long IrVersion { get; set; }                                    // 1
    public string? ProducerName { get; set; }                              // 2
    public string? ProducerVersion { get; set; }                           // 3
    public string? Domain { get; set; }                                    // 4
    public long ModelVersion { get; set; }                                 // 5
    public string? DocString { get; set; }                                 // 6
    public GraphProto? Graph { get; set; }                                 // 7
    public List<OperatorSetIdProto> OpsetImport { get; } = [];             // 8
    public List<StringStringEntryProto> MetadataProps { get; } = [];       // 14

    public static ModelProto Parse(ReadOnlySpan<byte> bytes)
    {
        var model = new ModelProto();
        model.MergeFrom(new CodedInputStream(bytes.ToArray()));
        return model;
    }

    public override int CalculateSize() =>
        Int64Size(1, IrVersion) + StringSize(2, ProducerName) + StringSize(3, ProducerVersion) + StringSize(4, Domain)
        + (ModelVersion != 0 ? Int64Size(5, ModelVersion) : 0) + StringSize(6, DocString) + MessageSize(7, Graph)
        + MessagesSize(8, OpsetImport) + MessagesSize(14, MetadataProps);

    public override void WriteTo(CodedOutputStream output)
    {
        WriteInt64(output, 1, IrVersion);
        WriteString(output, 2, ProducerName);
        WriteString(output, 3, ProducerVersion);
        WriteString(output, 4, Domain);
        if (ModelVersion != 0) WriteInt64(output, 5, ModelVersion);
        WriteString(output, 6, DocString);
        WriteMessage(output, 7, Graph);
        WriteMessages(output, 8, OpsetImport);
        WriteMessages(output, 14, MetadataProps);
    }

    internal override void MergeField(CodedInputStream input, uint tag)
    {
        switch (WireFormat.GetTagFieldNumber(tag))
        {
            case 1: IrVersion = input.ReadInt64(); break;
            case 2: ProducerName = input.ReadString(); break;
            case 3: ProducerVersion = input.ReadString(); break;
            case 4: Domain = input.ReadString(); break;
            case 5: ModelVersion = input.ReadInt64(); break;
            case 6: DocString = input.ReadString(); break;
            case 7: Graph = ReadMessage<GraphProto>(input); break;
            case 8: OpsetImport.Add(ReadMessage<OperatorSetIdProto>(input)); break;
            case 14: MetadataProps.Add(ReadMessage<StringStringEntryProto>(input)); break;
            default: input.SkipLastField(); break;
        }
    }
}

/// <summary>onnx.proto OperatorSetIdProto.</summary>
public sealed class OperatorSetIdProto : OnnxMessage
{
    public string Domain { get; set; } = "";                               // 1 ("" = ai.onnx)
    public long Version { get; set; }                                      // 2

    public override int CalculateSize() => StringSize(1, Domain) + Int64Size(2, Version);

    public override void WriteTo(CodedOutputStream output)
    {
        WriteString(output, 1, Domain);
        WriteInt64(output, 2, Version);
    }

    internal override void MergeField(CodedInputStream input, uint tag)
    {
        switch (WireFormat.GetTagFieldNumber(tag))
        {
            case 1: Domain = input.ReadString(); break;
            case 2: Version = input.ReadInt64(); break;
            default: input.SkipLastField(); break;
        }
    }
}

/// <summary>onnx.proto StringStringEntryProto.</summary>
public sealed class StringStringEntryProto : OnnxMessage
{
    public string Key { get; set; } = "";                                  // 1
    public string Value { get; set; } = "";                                // 2

    public override int CalculateSize() => StringSize(1, Key) + StringSize(2, Value);

    public override void WriteTo(CodedOutputStream output)
    {
        WriteString(output, 1, Key);
        WriteString(output, 2, Value);
    }

    internal override void MergeField(CodedInputStream input, uint tag)
    {
        switch (WireFormat.GetTagFieldNumber(tag))
        {
            case 1: Key = input.ReadString(); break;
            case 2: Value = input.ReadString(); break;
            default: input.SkipLastField(); break;
        }
    }
}

/// <summary>onnx.proto GraphProto.</summary>
public sealed class GraphProto : OnnxMessage
{
    public List<NodeProto> Node { get; } = [];                             // 1
    public string? Name { get; set; }                                      // 2
    public List<TensorProto> Initializer { get; } = [];                    // 5
    public string? DocString { get; set; }                                 // 10
    public List<ValueInfoProto> Input { get; } = [];                       // 11
    public List<ValueInfoProto> Output { get; } = [];                      // 12
    public List<ValueInfoProto> ValueInfo { get; } = [];                   // 13

    public override int CalculateSize() =>
        MessagesSize(1, Node) + StringSize(2, Name) + MessagesSize(5, Initializer) + StringSize(10, DocString)
        + MessagesSize(11, Input) + MessagesSize(12, Output) + MessagesSize(13, ValueInfo);

    public override void WriteTo(CodedOutputStream output)
    {
        WriteMessages(output, 1, Node);
        WriteString(output, 2, Name);
        WriteMessages(output, 5, Initializer);
        WriteString(output, 10, DocString);
        WriteMessages(output, 11, Input);
        WriteMessages(output, 12, Output);
        WriteMessages(output, 13, ValueInfo);
    }

    internal override void MergeField(CodedInputStream input, uint tag)
    {
        switch (WireFormat.GetTagFieldNumber(tag))
        {
            case 1: Node.Add(ReadMessage<NodeProto>(input)); break;
            case 2: Name = input.ReadString(); break;
            case 5: Initializer.Add(ReadMessage<TensorProto>(input)); break;
            case 10: DocString = input.ReadString(); break;
            case 11: Input.Add(ReadMessage<ValueInfoProto>(input)); break;
            case 12: Output.Add(ReadMessage<ValueInfoProto>(input)); break;
            case 13: ValueInfo.Add(ReadMessage<ValueInfoProto>(input)); break;
            default: input.SkipLastField(); break;
        }
    }
}

/// <summary>onnx.proto NodeProto.</summary>
public sealed class NodeProto : OnnxMessage
{
    public List<string> Input { get; } = [];                               // 1
    public List<string> Output { get; } = [];                              // 2
    public string? Name { get; set; }                                      // 3
    public string OpType { get; set; } = "";                               // 4
    public List<AttributeProto> Attribute { get; } = [];                   // 5
    public string? DocString { get; set; }                                 // 6
    public string? Domain { get; set; }                                    // 7

    public override int CalculateSize()
    {
        int size = 0;
        foreach (var s in Input) size += StringSize(1, s);
        foreach (var s in Output) size += StringSize(2, s);
        return size + StringSize(3, Name) + StringSize(4, OpType) + MessagesSize(5, Attribute) + StringSize(6, DocString)
            + StringSize(7, Domain);
    }

    public override void WriteTo(CodedOutputStream output)
    {
        foreach (var s in Input) WriteString(output, 1, s);
        foreach (var s in Output) WriteString(output, 2, s);
        WriteString(output, 3, Name);
        WriteString(output, 4, OpType);
        WriteMessages(output, 5, Attribute);
        WriteString(output, 6, DocString);
        WriteString(output, 7, Domain);
    }

    internal override void MergeField(CodedInputStream input, uint tag)
    {
        switch (WireFormat.GetTagFieldNumber(tag))
        {
            case 1: Input.Add(input.ReadString()); break;
            case 2: Output.Add(input.ReadString()); break;
            case 3: Name = input.ReadString(); break;
            case 4: OpType = input.ReadString(); break;
            case 5: Attribute.Add(ReadMessage<AttributeProto>(input)); break;
            case 6: DocString = input.ReadString(); break;
            case 7: Domain = input.ReadString(); break;
            default: input.SkipLastField(); break;
        }
    }
}

/// <summary>onnx.proto AttributeProto.AttributeType.</summary>
public enum AttributeType
{
    Undefined = 0,
    Float = 1,
    Int = 2,
    String = 3,
    Tensor = 4,
    Graph = 5,
    Floats = 6,
    Ints = 7,
    Strings = 8,
    Tensors = 9,
    Graphs = 10,
}

/// <summary>onnx.proto AttributeProto (the scalar, list, string and tensor kinds).</summary>
public sealed class AttributeProto : OnnxMessage
{
    public string Name { get; set; } = "";                                 // 1
    public float F { get; set; }                                           // 2
    public long I { get; set; }                                            // 3
    public ByteString? S { get; set; }                                     // 4
    public TensorProto? T { get; set; }                                    // 5
    public List<float> Floats { get; } = [];                               // 7
    public List<long> Ints { get; } = [];                                  // 8
    public List<ByteString> Strings { get; } = [];                         // 9
    public AttributeType Type { get; set; }                                // 20

    public override int CalculateSize()
    {
        int size = StringSize(1, Name);
        switch (Type)
        {
            case AttributeType.Float: size += TagSize(2) + 4; break;
            case AttributeType.Int: size += Int64Size(3, I); break;
            case AttributeType.String: size += TagSize(4) + CodedOutputStream.ComputeBytesSize(S ?? ByteString.Empty); break;
            case AttributeType.Tensor: size += MessageSize(5, T); break;
        }
        size += Floats.Count * (TagSize(7) + 4);
        foreach (long v in Ints) size += Int64Size(8, v);
        foreach (var s in Strings) size += TagSize(9) + CodedOutputStream.ComputeBytesSize(s);
        return size + TagSize(20) + CodedOutputStream.ComputeEnumSize((int)Type);
    }

    public override void WriteTo(CodedOutputStream output)
    {
        WriteString(output, 1, Name);
        switch (Type)
        {
            case AttributeType.Float: output.WriteTag(2, WireFormat.WireType.Fixed32); output.WriteFloat(F); break;
            case AttributeType.Int: WriteInt64(output, 3, I); break;
            case AttributeType.String: output.WriteTag(4, WireFormat.WireType.LengthDelimited); output.WriteBytes(S ?? ByteString.Empty); break;
            case AttributeType.Tensor: WriteMessage(output, 5, T); break;
        }
        foreach (float v in Floats) { output.WriteTag(7, WireFormat.WireType.Fixed32); output.WriteFloat(v); }
        foreach (long v in Ints) WriteInt64(output, 8, v);
        foreach (var s in Strings) { output.WriteTag(9, WireFormat.WireType.LengthDelimited); output.WriteBytes(s); }
        output.WriteTag(20, WireFormat.WireType.Varint);
        output.WriteEnum((int)Type);
    }

    internal override void MergeField(CodedInputStream input, uint tag)
    {
        switch (WireFormat.GetTagFieldNumber(tag))
        {
            case 1: Name = input.ReadString(); break;
            case 2: F = input.ReadFloat(); break;
            case 3: I = input.ReadInt64(); break;
            case 4: S = input.ReadBytes(); break;
            case 5: T = ReadMessage<TensorProto>(input); break;
            case 7: ReadFloats(input, tag, Floats); break;
            case 8: ReadInt64s(input, tag, Ints); break;
            case 9: Strings.Add(input.ReadBytes()); break;
            case 20: Type = (AttributeType)input.ReadEnum(); break;
            default: input.SkipLastField(); break;
        }
    }
}

/// <summary>onnx.proto TensorProto: dims, data type, name and the data as little-endian raw_data.</summary>
public sealed class TensorProto : OnnxMessage
{
    public List<long> Dims { get; } = [];                                  // 1
    public OnnxElementType DataType { get; set; }                          // 2
    public List<float> FloatData { get; } = [];                            // 4 (packed), read only
    public List<long> Int64Data { get; } = [];                             // 7 (packed), read only
    public string? Name { get; set; }                                      // 8
    public ByteString? RawData { get; set; }                               // 9
    public string? DocString { get; set; }                                 // 12

    public override int CalculateSize()
    {
        int size = 0;
        foreach (long d in Dims) size += Int64Size(1, d);
        size += TagSize(2) + CodedOutputStream.ComputeInt32Size((int)DataType) + StringSize(8, Name);
        if (RawData is not null) size += TagSize(9) + CodedOutputStream.ComputeBytesSize(RawData);
        return size + StringSize(12, DocString);
    }

    public override void WriteTo(CodedOutputStream output)
    {
        foreach (long d in Dims) WriteInt64(output, 1, d);
        output.WriteTag(2, WireFormat.WireType.Varint);
        output.WriteInt32((int)DataType);
        WriteString(output, 8, Name);
        if (RawData is not null) { output.WriteTag(9, WireFormat.WireType.LengthDelimited); output.WriteBytes(RawData); }
        WriteString(output, 12, DocString);
    }

    internal override void MergeField(CodedInputStream input, uint tag)
    {
        switch (WireFormat.GetTagFieldNumber(tag))
        {
            case 1: ReadInt64s(input, tag, Dims); break;
            case 2: DataType = (OnnxElementType)input.ReadInt32(); break;
            case 4: ReadFloats(input, tag, FloatData); break;
            case 7: ReadInt64s(input, tag, Int64Data); break;
            case 8: Name = input.ReadString(); break;
            case 9: RawData = input.ReadBytes(); break;
            case 12: DocString = input.ReadString(); break;
            default: input.SkipLastField(); break;
        }
    }

    /// <summary>The elements as floats, from raw_data or float_data.</summary>
    public float[] ToFloats()
    {
        if (DataType != OnnxElementType.Float) throw new InvalidOperationException($"tensor '{Name}' is {DataType}, not Float");
        if (RawData is null) return FloatData.ToArray();
        var result = new float[RawData.Length / 4];
        for (int i = 0; i < result.Length; i++)
            result[i] = System.Buffers.Binary.BinaryPrimitives.ReadSingleLittleEndian(RawData.Span[(4 * i)..]);
        return result;
    }
}

/// <summary>onnx.proto ValueInfoProto.</summary>
public sealed class ValueInfoProto : OnnxMessage
{
    public string Name { get; set; } = "";                                 // 1
    public TypeProto? Type { get; set; }                                   // 2
    public string? DocString { get; set; }                                 // 3

    public override int CalculateSize() => StringSize(1, Name) + MessageSize(2, Type) + StringSize(3, DocString);

    public override void WriteTo(CodedOutputStream output)
    {
        WriteString(output, 1, Name);
        WriteMessage(output, 2, Type);
        WriteString(output, 3, DocString);
    }

    internal override void MergeField(CodedInputStream input, uint tag)
    {
        switch (WireFormat.GetTagFieldNumber(tag))
        {
            case 1: Name = input.ReadString(); break;
            case 2: Type = ReadMessage<TypeProto>(input); break;
            case 3: DocString = input.ReadString(); break;
            default: input.SkipLastField(); break;
        }
    }
}

/// <summary>onnx.proto TypeProto, tensor case only (tensor_type = 1).</summary>
public sealed class TypeProto : OnnxMessage
{
    public TensorTypeProto? TensorType { get; set; }                       // 1

    public override int CalculateSize() => MessageSize(1, TensorType);

    public override void WriteTo(CodedOutputStream output) => WriteMessage(output, 1, TensorType);

    internal override void MergeField(CodedInputStream input, uint tag)
    {
        if (WireFormat.GetTagFieldNumber(tag) == 1) TensorType = ReadMessage<TensorTypeProto>(input);
        else input.SkipLastField();
    }
}

/// <summary>onnx.proto TypeProto.Tensor.</summary>
public sealed class TensorTypeProto : OnnxMessage
{
    public OnnxElementType ElemType { get; set; }                          // 1
    public TensorShapeProto? Shape { get; set; }                           // 2 (absent: rank unknown)

    public override int CalculateSize() =>
        TagSize(1) + CodedOutputStream.ComputeInt32Size((int)ElemType) + MessageSize(2, Shape);

    public override void WriteTo(CodedOutputStream output)
    {
        output.WriteTag(1, WireFormat.WireType.Varint);
        output.WriteInt32((int)ElemType);
        WriteMessage(output, 2, Shape);
    }

    internal override void MergeField(CodedInputStream input, uint tag)
    {
        switch (WireFormat.GetTagFieldNumber(tag))
        {
            case 1: ElemType = (OnnxElementType)input.ReadInt32(); break;
            case 2: Shape = ReadMessage<TensorShapeProto>(input); break;
            default: input.SkipLastField(); break;
        }
    }
}

/// <summary>onnx.proto TensorShapeProto.</summary>
public sealed class TensorShapeProto : OnnxMessage
{
    public List<DimensionProto> Dim { get; } = [];                         // 1

    public override int CalculateSize() => MessagesSize(1, Dim);

    public override void WriteTo(CodedOutputStream output) => WriteMessages(output, 1, Dim);

    internal override void MergeField(CodedInputStream input, uint tag)
    {
        if (WireFormat.GetTagFieldNumber(tag) == 1) Dim.Add(ReadMessage<DimensionProto>(input));
        else input.SkipLastField();
    }
}

/// <summary>onnx.proto TensorShapeProto.Dimension: a fixed size (dim_value = 1) or a name (dim_param = 2).</summary>
public sealed class DimensionProto : OnnxMessage
{
    public long? DimValue { get; set; }                                    // 1
    public string? DimParam { get; set; }                                  // 2

    public override int CalculateSize() => (DimValue is { } v ? Int64Size(1, v) : 0) + StringSize(2, DimParam);

    public override void WriteTo(CodedOutputStream output)
    {
        if (DimValue is { } v) WriteInt64(output, 1, v);
        WriteString(output, 2, DimParam);
    }

    internal override void MergeField(CodedInputStream input, uint tag)
    {
        switch (WireFormat.GetTagFieldNumber(tag))
        {
            case 1: DimValue = input.ReadInt64(); break;
            case 2: DimParam = input.ReadString(); break;
            default: input.SkipLastField(); break;
        }
    }
}
