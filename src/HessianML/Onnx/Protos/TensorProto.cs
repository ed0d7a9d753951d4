using System.Buffers.Binary;

namespace HessianML.Onnx.Protos;

/// <summary>onnx.proto's TensorProto (generated from onnx.proto), with a reader for its float elements.</summary>
public sealed partial class TensorProto
{
    /// <summary>The elements as floats, from raw_data (little-endian) or float_data.</summary>
    public float[] ToFloats()
    {
        if (DataType != (int)OnnxElementType.Float)
            throw new InvalidOperationException($"tensor '{Name}' is {(OnnxElementType)DataType}, not Float");
        if (RawData.IsEmpty) return [.. FloatData];
        var raw = RawData.Span;
        var result = new float[raw.Length / sizeof(float)];
        for (int i = 0; i < result.Length; i++) result[i] = BinaryPrimitives.ReadSingleLittleEndian(raw[(sizeof(float) * i)..]);
        return result;
    }
}
