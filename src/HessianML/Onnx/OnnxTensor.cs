namespace HessianML.Onnx;

/// <summary>
/// A dense float tensor in row-major order (like Microsoft.ML.OnnxRuntime's <c>DenseTensor&lt;float&gt;</c>): the
/// input and output type of <see cref="IOnnxSession.Run"/>. Wraps the array it is given without copying.
/// </summary>
public sealed class OnnxTensor
{
    private readonly long[] _shape;

    public OnnxTensor(float[] data, params long[] shape)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(shape);
        long n = 1;
        foreach (long d in shape)
        {
            if (d < 0) throw new ArgumentException($"tensor dimensions must be >= 0, got [{string.Join(", ", shape)}]", nameof(shape));
            n = checked(n * d);
        }
        if (n != data.Length)
            throw new ArgumentException($"shape [{string.Join(", ", shape)}] holds {n} elements but the data has {data.Length}", nameof(data));
        Data = data;
        _shape = (long[])shape.Clone();
    }

    /// <summary>A tensor of zeros.</summary>
    public static OnnxTensor Zeros(params long[] shape) =>
        new(new float[checked((int)shape.Aggregate(1L, (a, b) => a * b))], shape);

    /// <summary>The elements, row-major.</summary>
    public float[] Data { get; }

    public IReadOnlyList<long> Shape => _shape;

    public int Rank => _shape.Length;

    public OnnxElementType ElementType => OnnxElementType.Float;

    internal ReadOnlySpan<long> ShapeSpan => _shape;

    /// <summary>The element at a multi-index.</summary>
    public float this[params int[] index]
    {
        get => Data[Offset(index)];
        set => Data[Offset(index)] = value;
    }

    private int Offset(int[] index)
    {
        if (index.Length != _shape.Length)
            throw new ArgumentException($"a rank-{_shape.Length} tensor needs {_shape.Length} indices, got {index.Length}");
        long offset = 0;
        for (int i = 0; i < index.Length; i++)
        {
            if ((uint)index[i] >= (ulong)_shape[i]) throw new IndexOutOfRangeException($"index {index[i]} out of range for dimension {i} of size {_shape[i]}");
            offset = offset * _shape[i] + index[i];
        }
        return (int)offset;
    }

    public override string ToString() => $"float[{string.Join(", ", _shape)}]";
}
