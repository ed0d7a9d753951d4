using System.Numerics;
using System.Text;
using HessianML.Tensors.Devices;

namespace HessianML.Tensors;

/// <summary>
/// A dense, contiguous, row-major n-dimensional array over float or double. The storage array is exposed
/// (<see cref="Data"/>) because every kernel works on spans of it through TensorPrimitives (SIMD) and
/// <see cref="Gemm"/> takes whole arrays. A reshape is a view: it shares the storage.
/// A rank-0 tensor (empty shape) is a scalar of length 1.
/// A float tensor can live on a device instead (<see cref="ToDevice"/>, <see cref="ToHost"/>, <see cref="MoveTo"/>):
/// then its storage is device memory, <see cref="Data"/> refuses (no silent copies) and the ops that the tape uses
/// run as device kernels (<see cref="Devices.DeviceOps"/>).
/// </summary>
public sealed class Tensor<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly int[] _shape;

    private T[]? _data;
    private DeviceStorage? _storage;

    /// <summary>Row-major storage; its length is exactly <see cref="Length"/>. Host tensors only.</summary>
    public T[] Data => _data ?? throw new InvalidOperationException(
        $"tensor {ShapeString(_shape)} is on {_storage!.Accelerator.Device}: copy it to the host first (ToHost)");

    public int Length { get; }

    /// <summary>The accelerator holding the storage; null for a host tensor.</summary>
    public DeviceAccelerator? Device => _storage?.Accelerator;

    public bool IsOnDevice => _storage is not null;

    internal DeviceStorage Storage => _storage ?? throw new InvalidOperationException($"tensor {ShapeString(_shape)} is on the host");
    public int Rank => _shape.Length;

    /// <summary>The shape (read-only view; copy with ToArray()).</summary>
    public ReadOnlySpan<int> Shape => _shape;

    internal int[] ShapeArray => _shape;

    public Tensor(T[] data, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(data);
        _shape = (int[])shape.Clone();
        long n = ShapeLength(_shape);
        if (n != data.Length)
            throw new ArgumentException($"Data of length {data.Length} does not fit shape {ShapeString(_shape)} (length {n}).");
        _data = data;
        Length = data.Length;
    }

    internal Tensor(DeviceStorage storage, int[] shape)
    {
        _shape = shape;
        if (ShapeLength(shape) != storage.Length)
            throw new ArgumentException($"Device storage of length {storage.Length} does not fit shape {ShapeString(shape)}.");
        _storage = storage;
        Length = storage.Length;
    }

    // ---------------------------------------------------------------- device

    /// <summary>A copy on <paramref name="device"/> (a host copy when null; the tensor itself when already there).</summary>
    public Tensor<T> To(DeviceAccelerator? device)
    {
        if (Device == device) return this;
        if (device is null) return new Tensor<T>(DeviceOps.Download<T>(Storage), _shape);
        return new Tensor<T>(DeviceOps.Upload(device, IsOnDevice ? DeviceOps.Download<T>(Storage) : Data), _shape);
    }

    /// <summary>A copy in device memory (float only).</summary>
    public Tensor<T> ToDevice(DeviceAccelerator device) => To(device ?? throw new ArgumentNullException(nameof(device)));

    /// <summary>A host copy (the tensor itself when it is on the host).</summary>
    public Tensor<T> ToHost() => To(null);

    /// <summary>
    /// Moves the storage itself (host to device, device to host, or between devices): every holder of this tensor sees
    /// it move. For parameters and optimiser state, which move once per fit; spans taken from <see cref="Data"/>
    /// before the move no longer alias it.
    /// </summary>
    public void MoveTo(DeviceAccelerator? device)
    {
        if (Device == device) return;
        var moved = To(device);
        (_data, _storage) = (moved._data, moved._storage);
    }

    /// <summary>Zeros of <paramref name="shape"/> where this tensor lives (host or the same device).</summary>
    public Tensor<T> ZerosHere(params int[] shape) =>
        _storage is null ? Zeros(shape) : new Tensor<T>(DeviceOps.Zeros(_storage.Accelerator, (int)ShapeLength(shape)), (int[])shape.Clone());

    /// <summary>value everywhere in <paramref name="shape"/>, where this tensor lives.</summary>
    public Tensor<T> FullHere(T value, params int[] shape) =>
        _storage is null ? Full(value, shape) : DeviceOps.Full(_storage.Accelerator, value, (int[])shape.Clone());

    /// <summary>Size of an axis; negative axes count from the end.</summary>
    public int Dim(int axis) => _shape[NormaliseAxis(axis, Rank)];

    public Span<T> AsSpan() => Data;

    public T this[int flat]
    {
        get => Data[flat];
        set => Data[flat] = value;
    }

    public T this[int i, int j]
    {
        get => Data[Offset2(i, j)];
        set => Data[Offset2(i, j)] = value;
    }

    public T this[int i, int j, int k]
    {
        get => Data[Offset3(i, j, k)];
        set => Data[Offset3(i, j, k)] = value;
    }

    /// <summary>Element at a full multi-index (any rank).</summary>
    public T At(params int[] index)
    {
        if (index.Length != Rank) throw new ArgumentException($"Index of rank {index.Length} for tensor of shape {ShapeString(_shape)}.");
        int off = 0;
        for (int d = 0; d < Rank; d++)
        {
            if ((uint)index[d] >= (uint)_shape[d]) throw new IndexOutOfRangeException($"Index {index[d]} on axis {d} of shape {ShapeString(_shape)}.");
            off = off * _shape[d] + index[d];
        }
        return Data[off];
    }

    /// <summary>Row i of a matrix-like tensor (first axis), as a span over the storage.</summary>
    public Span<T> Row(int i)
    {
        int inner = Length / _shape[0];
        return Data.AsSpan(i * inner, inner);
    }

    private int Offset2(int i, int j)
    {
        if (Rank != 2) throw new InvalidOperationException($"2-index access on tensor of shape {ShapeString(_shape)}.");
        return i * _shape[1] + j;
    }

    private int Offset3(int i, int j, int k)
    {
        if (Rank != 3) throw new InvalidOperationException($"3-index access on tensor of shape {ShapeString(_shape)}.");
        return (i * _shape[1] + j) * _shape[2] + k;
    }

    // ---------------------------------------------------------------- factories

    public static Tensor<T> Zeros(params int[] shape) => new(new T[CheckedLength(shape)], shape);

    public static Tensor<T> Full(T value, params int[] shape)
    {
        var t = Zeros(shape);
        Array.Fill(t.Data, value);
        return t;
    }

    public static Tensor<T> Ones(params int[] shape) => Full(T.One, shape);

    public static Tensor<T> Scalar(T value) => new([value]);

    /// <summary>Wraps (does not copy) an array with a shape.</summary>
    public static Tensor<T> FromArray(T[] data, params int[] shape) => new(data, shape);

    /// <summary>Converts doubles (e.g. test data) to T with a copy.</summary>
    public static Tensor<T> FromDoubles(double[] data, params int[] shape)
    {
        var t = new T[data.Length];
        for (int i = 0; i < t.Length; i++) t[i] = T.CreateChecked(data[i]);
        return new Tensor<T>(t, shape);
    }

    /// <summary>Normal(mean, std) entries drawn in double from the seeded generator, then rounded to T.</summary>
    public static Tensor<T> RandomNormal(SplitMix64 rng, double mean, double std, params int[] shape)
    {
        var t = Zeros(shape);
        for (int i = 0; i < t.Length; i++) t.Data[i] = T.CreateChecked(mean + std * rng.NextNormal());
        return t;
    }

    /// <summary>Uniform [lo, hi) entries drawn in double from the seeded generator, then rounded to T.</summary>
    public static Tensor<T> RandomUniform(SplitMix64 rng, double lo, double hi, params int[] shape)
    {
        var t = Zeros(shape);
        for (int i = 0; i < t.Length; i++) t.Data[i] = T.CreateChecked(rng.NextUniform(lo, hi));
        return t;
    }

    // ---------------------------------------------------------------- shape

    /// <summary>A view with another shape sharing the storage; one axis may be -1 (inferred).</summary>
    public Tensor<T> Reshape(params int[] shape) => _storage is null
        ? new(Data, ResolveShape(shape, Length, _shape))
        : new(_storage, ResolveShape(shape, Length, _shape));

    /// <summary>A copy with another shape (fresh storage).</summary>
    public Tensor<T> ReshapeCopy(params int[] shape) => Clone().Reshape(shape);

    public Tensor<T> Clone() => _storage is null ? new((T[])Data.Clone(), _shape) : new(DeviceOps.Copy(_storage), _shape);

    public Tensor<TOut> Cast<TOut>() where TOut : unmanaged, IFloatingPointIeee754<TOut>
    {
        var d = new TOut[Length];
        for (int i = 0; i < d.Length; i++) d[i] = TOut.CreateChecked(Data[i]);
        return new Tensor<TOut>(d, _shape);
    }

    public double[] ToDoubles()
    {
        var d = new double[Length];
        for (int i = 0; i < d.Length; i++) d[i] = double.CreateChecked(Data[i]);
        return d;
    }

    public bool SameShape(Tensor<T> other) => _shape.AsSpan().SequenceEqual(other._shape);

    /// <summary>Throws a message naming both shapes unless they are equal.</summary>
    public void RequireShape(ReadOnlySpan<int> expected, string what)
    {
        if (!Shape.SequenceEqual(expected))
            throw new ArgumentException($"{what}: shape {ShapeString(_shape)} does not match expected {ShapeString(expected)}.");
    }

    public override string ToString()
    {
        if (_storage is not null) return $"Tensor<{typeof(T).Name}>{ShapeString(_shape)} on {_storage.Accelerator.Device}";
        var sb = new StringBuilder($"Tensor<{typeof(T).Name}>{ShapeString(_shape)} [");
        for (int i = 0; i < Math.Min(Length, 8); i++) sb.Append(i == 0 ? "" : ", ").Append(Data[i]);
        if (Length > 8) sb.Append(", …");
        return sb.Append(']').ToString();
    }

    public static string ShapeString(ReadOnlySpan<int> shape)
    {
        var sb = new StringBuilder("[");
        for (int i = 0; i < shape.Length; i++) sb.Append(i == 0 ? "" : ",").Append(shape[i]);
        return sb.Append(']').ToString();
    }

    internal static long ShapeLength(ReadOnlySpan<int> shape)
    {
        long n = 1;
        foreach (int s in shape)
        {
            if (s < 0) throw new ArgumentException($"Negative dimension in shape {ShapeString(shape)}.");
            n *= s;
        }
        return n;
    }

    private static int CheckedLength(int[] shape)
    {
        long n = ShapeLength(shape);
        if (n > Array.MaxLength) throw new ArgumentException($"Shape {ShapeString(shape)} is too large.");
        return (int)n;
    }

    internal static int[] ResolveShape(int[] shape, int length, int[] from)
    {
        var r = (int[])shape.Clone();
        int infer = -1;
        long known = 1;
        for (int i = 0; i < r.Length; i++)
        {
            if (r[i] == -1)
            {
                if (infer >= 0) throw new ArgumentException($"Only one -1 allowed in reshape target {ShapeString(shape)}.");
                infer = i;
            }
            else known *= r[i];
        }
        if (infer >= 0)
        {
            if (known == 0 || length % known != 0)
                throw new ArgumentException($"Cannot reshape {ShapeString(from)} to {ShapeString(shape)}.");
            r[infer] = (int)(length / known);
        }
        else if (known != length)
            throw new ArgumentException($"Cannot reshape {ShapeString(from)} (length {length}) to {ShapeString(shape)}.");
        return r;
    }

    internal static int NormaliseAxis(int axis, int rank)
    {
        int a = axis < 0 ? axis + rank : axis;
        if ((uint)a >= (uint)rank) throw new ArgumentOutOfRangeException(nameof(axis), $"Axis {axis} out of range for rank {rank}.");
        return a;
    }
}
