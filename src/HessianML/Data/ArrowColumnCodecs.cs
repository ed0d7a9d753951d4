using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;
using Apache.Arrow;
using Apache.Arrow.Types;
using Microsoft.ML.Data;
using ML = Microsoft.ML;

namespace HessianML.Data;

// The column-type mapping between Arrow and ML.NET, shared by ArrowDataView (reading) and ArrowDataSaver (writing).
//
//   Arrow                                   ML.NET
//   float / double                          NumberDataViewType.Single / Double
//   int8 uint8 int16 uint16 int32 ...       NumberDataViewType.SByte / Byte / Int16 / UInt16 / Int32 / UInt32 / Int64 / UInt64
//   bool                                    BooleanDataViewType
//   utf8                                    TextDataViewType (ReadOnlyMemory<char>; a null string reads as empty)
//   fixed_size_list<item: T>[n]             VectorDataViewType(T, n), dense VBuffer<T>
//   list<item: T>                           VectorDataViewType(T) (variable length), dense VBuffer<T>
//
// Nulls are refused everywhere except in utf8 (ML.NET has no null number, bool or vector).

/// <summary>One item type (a scalar column's type, or a vector column's item type) in both type systems.</summary>
internal abstract class ArrowItemType
{
    public abstract PrimitiveDataViewType DataViewType { get; }

    public abstract IArrowType ArrowType { get; }

    /// <summary>Whether a scalar column of this type is written as a nullable field (text, as ArrowDataFile does).</summary>
    public virtual bool NullableField => false;

    /// <summary>A reader for a column of this item type: <paramref name="size"/> -1 scalar, 0 variable-length list, n fixed-size list.</summary>
    public abstract ArrowColumnReader CreateReader(int size);

    /// <summary>A writer for a column of this item type (same <paramref name="size"/> convention as <see cref="CreateReader"/>).</summary>
    public abstract ArrowColumnWriter CreateWriter(string name, int size);

    private static readonly ArrowItemType[] All =
    [
        new NumericItem<float>(NumberDataViewType.Single, FloatType.Default),
        new NumericItem<double>(NumberDataViewType.Double, DoubleType.Default),
        new NumericItem<sbyte>(NumberDataViewType.SByte, Int8Type.Default),
        new NumericItem<byte>(NumberDataViewType.Byte, UInt8Type.Default),
        new NumericItem<short>(NumberDataViewType.Int16, Int16Type.Default),
        new NumericItem<ushort>(NumberDataViewType.UInt16, UInt16Type.Default),
        new NumericItem<int>(NumberDataViewType.Int32, Int32Type.Default),
        new NumericItem<uint>(NumberDataViewType.UInt32, UInt32Type.Default),
        new NumericItem<long>(NumberDataViewType.Int64, Int64Type.Default),
        new NumericItem<ulong>(NumberDataViewType.UInt64, UInt64Type.Default),
        new BooleanItem(),
        new TextItem(),
    ];

    public const string Supported =
        "float, double, int8, uint8, int16, uint16, int32, uint32, int64, uint64, bool, utf8, and fixed_size_list or list of these";

    public static ArrowItemType? FromArrow(IArrowType type) => All.FirstOrDefault(i => i.ArrowType.TypeId == type.TypeId);

    /// <summary>The item type whose ML.NET type is exactly <paramref name="type"/> (so key types, which share raw types with numbers, do not match).</summary>
    public static ArrowItemType? FromDataView(DataViewType type) => All.FirstOrDefault(i => i.DataViewType.Equals(type));

    /// <summary>The reader for an Arrow field type, or null when it is not supported.</summary>
    public static ArrowColumnReader? ReaderFor(IArrowType type) => type switch
    {
        FixedSizeListType fl when fl.ListSize > 0 && FromArrow(fl.ValueDataType) is { } item => item.CreateReader(fl.ListSize),
        ListType l when type.TypeId == ArrowTypeId.List && FromArrow(l.ValueDataType) is { } item => item.CreateReader(0),
        _ when type is not NestedType && FromArrow(type) is { } item => item.CreateReader(-1),
        _ => null,
    };

    /// <summary>The writer for an ML.NET column type, or null when it is not supported.</summary>
    public static ArrowColumnWriter? WriterFor(string name, DataViewType type) => type switch
    {
        VectorDataViewType v when FromDataView(v.ItemType) is { } item => item.CreateWriter(name, v.Size),
        _ when FromDataView(type) is { } item => item.CreateWriter(name, -1),
        _ => null,
    };

    /// <summary>How a type reads in messages, e.g. <c>fixed_size_list&lt;float&gt;[2]</c>.</summary>
    public static string Describe(IArrowType t) => t switch
    {
        FixedSizeListType fl => $"fixed_size_list<{Describe(fl.ValueDataType)}>[{fl.ListSize}]",
        ListType l when t.TypeId == ArrowTypeId.List => $"list<{Describe(l.ValueDataType)}>",
        _ => t.Name,
    };

    /// <summary>The Arrow field type for a column of this item type.</summary>
    public IArrowType FieldType(int size) => size switch
    {
        < 0 => ArrowType,
        0 => new ListType(new Field("item", ArrowType, nullable: false)),
        _ => new FixedSizeListType(new Field("item", ArrowType, nullable: false), size),
    };
}

/// <summary>An item type with its CLR representation <typeparamref name="T"/>.</summary>
internal abstract class ArrowItemType<T> : ArrowItemType
{
    /// <summary>
    /// Decodes an Arrow array of items (a scalar column, or a list column's child) into a form getters can index.
    /// <paramref name="onNull"/> makes the exception for a null where none may be.
    /// </summary>
    public abstract ItemChunk<T> Decode(IArrowArray array, Func<Exception> onNull);

    public abstract ItemBuilder<T> CreateBuilder();

    public override ArrowColumnReader CreateReader(int size) =>
        size < 0 ? new ScalarColumnReader<T>(this) : new VectorColumnReader<T>(this, size);

    public override ArrowColumnWriter CreateWriter(string name, int size) =>
        size < 0 ? new ScalarColumnWriter<T>(this, name) : new VectorColumnWriter<T>(this, name, size);
}

/// <summary>The decoded items of one Arrow array in one record batch.</summary>
internal abstract class ItemChunk<T>
{
    public abstract ReadOnlySpan<T> Items { get; }
}

/// <summary>Items kept in Arrow's own buffer (no copy); valid while the record batch is alive.</summary>
internal sealed class PrimitiveChunk<T>(PrimitiveArray<T> array) : ItemChunk<T> where T : struct, IEquatable<T>
{
    public override ReadOnlySpan<T> Items => array.Values;
}

internal sealed class ArrayChunk<T>(T[] items) : ItemChunk<T>
{
    public override ReadOnlySpan<T> Items => items;
}

/// <summary>Accumulates items for one column of one record batch being written.</summary>
internal abstract class ItemBuilder<T>
{
    public abstract int Count { get; }

    public abstract void Add(T item);

    public virtual void AddRange(ReadOnlySpan<T> items)
    {
        foreach (var x in items) Add(x);
    }

    /// <summary>The items added since the last <see cref="Clear"/> as Arrow array data.</summary>
    public abstract ArrayData Build();

    public abstract void Clear();
}

internal sealed class NumericItem<T>(NumberDataViewType dataViewType, IArrowType arrowType) : ArrowItemType<T>
    where T : struct, IEquatable<T>
{
    public override PrimitiveDataViewType DataViewType => dataViewType;

    public override IArrowType ArrowType => arrowType;

    public override ItemChunk<T> Decode(IArrowArray array, Func<Exception> onNull)
    {
        if (array.NullCount > 0) throw onNull();
        return new PrimitiveChunk<T>((PrimitiveArray<T>)array);
    }

    public override ItemBuilder<T> CreateBuilder() => new Builder(arrowType);

    private sealed class Builder(IArrowType type) : ItemBuilder<T>
    {
        private T[] _items = new T[16];
        private int _count;

        public override int Count => _count;

        public override void Add(T item)
        {
            if (_count == _items.Length) System.Array.Resize(ref _items, _items.Length * 2);
            _items[_count++] = item;
        }

        public override void AddRange(ReadOnlySpan<T> items)
        {
            if (_count + items.Length > _items.Length)
                System.Array.Resize(ref _items, Math.Max(_items.Length * 2, _count + items.Length));
            items.CopyTo(_items.AsSpan(_count));
            _count += items.Length;
        }

        public override ArrayData Build()
        {
            var bytes = new ArrowBuffer(MemoryMarshal.AsBytes(_items.AsSpan(0, _count)).ToArray());
            return new ArrayData(type, _count, 0, 0, [ArrowBuffer.Empty, bytes]);
        }

        public override void Clear() => _count = 0;
    }
}

internal sealed class BooleanItem : ArrowItemType<bool>
{
    public override PrimitiveDataViewType DataViewType => BooleanDataViewType.Instance;

    public override IArrowType ArrowType => BooleanType.Default;

    public override ItemChunk<bool> Decode(IArrowArray array, Func<Exception> onNull)
    {
        if (array.NullCount > 0) throw onNull();
        var a = (BooleanArray)array;
        var items = new bool[a.Length];
        for (int i = 0; i < items.Length; i++) items[i] = a.GetValue(i) == true;
        return new ArrayChunk<bool>(items);
    }

    public override ItemBuilder<bool> CreateBuilder() => new Builder();

    private sealed class Builder : ItemBuilder<bool>
    {
        private byte[] _bits = new byte[16];
        private int _count;

        public override int Count => _count;

        public override void Add(bool item)
        {
            if (_count == _bits.Length * 8) System.Array.Resize(ref _bits, _bits.Length * 2);
            if (item) _bits[_count >> 3] |= (byte)(1 << (_count & 7));
            _count++;
        }

        public override ArrayData Build() =>
            new(BooleanType.Default, _count, 0, 0, [ArrowBuffer.Empty, new ArrowBuffer(_bits.AsSpan(0, (_count + 7) / 8).ToArray())]);

        public override void Clear()
        {
            System.Array.Clear(_bits);
            _count = 0;
        }
    }
}

internal sealed class TextItem : ArrowItemType<ReadOnlyMemory<char>>
{
    public override PrimitiveDataViewType DataViewType => TextDataViewType.Instance;

    public override IArrowType ArrowType => StringType.Default;

    public override bool NullableField => true;

    /// <summary>Decodes every string of the array once into one char buffer (UTF-8 never needs more chars than bytes).</summary>
    public override ItemChunk<ReadOnlyMemory<char>> Decode(IArrowArray array, Func<Exception> onNull)
    {
        var a = (StringArray)array;
        var offsets = a.ValueOffsets;
        var bytes = a.Values;
        var chars = new char[offsets[a.Length] - offsets[0]];
        var items = new ReadOnlyMemory<char>[a.Length];
        int at = 0;
        for (int i = 0; i < items.Length; i++)
        {
            if (a.IsNull(i)) continue; // null reads as empty text
            int n = Encoding.UTF8.GetChars(bytes[offsets[i]..offsets[i + 1]], chars.AsSpan(at));
            items[i] = chars.AsMemory(at, n);
            at += n;
        }
        return new ArrayChunk<ReadOnlyMemory<char>>(items);
    }

    public override ItemBuilder<ReadOnlyMemory<char>> CreateBuilder() => new Builder();

    private sealed class Builder : ItemBuilder<ReadOnlyMemory<char>>
    {
        private readonly ArrayBufferWriter<byte> _bytes = new();
        private int[] _offsets = new int[17];
        private int _count;

        public override int Count => _count;

        public override void Add(ReadOnlyMemory<char> item)
        {
            int n = Encoding.UTF8.GetBytes(item.Span, _bytes.GetSpan(Encoding.UTF8.GetMaxByteCount(item.Length)));
            _bytes.Advance(n);
            if (_count + 1 == _offsets.Length) System.Array.Resize(ref _offsets, _offsets.Length * 2);
            _offsets[++_count] = _bytes.WrittenCount;
        }

        public override ArrayData Build()
        {
            var offsets = new ArrowBuffer(MemoryMarshal.AsBytes(_offsets.AsSpan(0, _count + 1)).ToArray());
            return new ArrayData(StringType.Default, _count, 0, 0, [ArrowBuffer.Empty, offsets, new ArrowBuffer(_bytes.WrittenSpan.ToArray())]);
        }

        public override void Clear()
        {
            _bytes.Clear();
            _count = 0;
        }
    }
}

/// <summary>Reads one column of an Arrow file: decodes a record batch's array, and makes getters over a cursor.</summary>
internal abstract class ArrowColumnReader
{
    public abstract DataViewType Type { get; }

    /// <summary>The decoded column of one record batch (what the cursor keeps and getters index).</summary>
    public abstract object Decode(IArrowArray array, Func<Exception> onNull);

    /// <summary>A <see cref="ML.ValueGetter{TValue}"/> of the column's raw type over <paramref name="cursor"/>'s current row.</summary>
    public abstract Delegate CreateGetter(ArrowRowCursor cursor, int column);
}

internal sealed class ScalarColumnReader<T>(ArrowItemType<T> item) : ArrowColumnReader
{
    public override DataViewType Type => item.DataViewType;

    public override object Decode(IArrowArray array, Func<Exception> onNull) => item.Decode(array, onNull);

    public override Delegate CreateGetter(ArrowRowCursor cursor, int column) =>
        (ML.ValueGetter<T>)((ref T value) => value = ((ItemChunk<T>)cursor.Chunk(column)).Items[cursor.RowInBatch]);
}

internal sealed class VectorColumnReader<T>(ArrowItemType<T> item, int size) : ArrowColumnReader
{
    public override DataViewType Type { get; } = new VectorDataViewType(item.DataViewType, size);

    /// <summary>A list column's items and where each row's items start (<see cref="Offsets"/> null: fixed size).</summary>
    private sealed record Chunk(ItemChunk<T> Items, int First, int[]? Offsets);

    public override object Decode(IArrowArray array, Func<Exception> onNull)
    {
        if (array.NullCount > 0) throw onNull();
        if (size > 0)
        {
            var list = (FixedSizeListArray)array;
            // The list's own offset counts lists; the child's offset is already applied by Values.
            return new Chunk(item.Decode(list.Values, onNull), list.Offset * size, null);
        }
        var l = (ListArray)array;
        return new Chunk(item.Decode(l.Values, onNull), 0, l.ValueOffsets.ToArray());
    }

    public override Delegate CreateGetter(ArrowRowCursor cursor, int column) =>
        (ML.ValueGetter<VBuffer<T>>)((ref VBuffer<T> value) =>
        {
            var c = (Chunk)cursor.Chunk(column);
            int r = cursor.RowInBatch;
            var items = c.Offsets is null
                ? c.Items.Items.Slice(c.First + r * size, size)
                : c.Items.Items[c.Offsets[r]..c.Offsets[r + 1]];
            var editor = VBufferEditor.Create(ref value, items.Length);
            items.CopyTo(editor.Values);
            value = editor.Commit();
        });
}

/// <summary>Writes one ML.NET column: reads the cursor's current row and builds the Arrow array of each record batch.</summary>
internal abstract class ArrowColumnWriter(string name)
{
    public string Name => name;

    public abstract IArrowType ArrowType { get; }

    public abstract bool Nullable { get; }

    public abstract void Bind(ML.DataViewRow row, ML.DataViewSchema.Column column);

    /// <summary>Appends the bound row's current value; <paramref name="row"/> is its number, for messages.</summary>
    public abstract void Append(long row);

    /// <summary>The array of the <paramref name="rows"/> rows appended since the last call.</summary>
    public abstract IArrowArray Flush(int rows);
}

internal sealed class ScalarColumnWriter<T>(ArrowItemType<T> item, string name) : ArrowColumnWriter(name)
{
    private readonly ItemBuilder<T> _items = item.CreateBuilder();
    private ML.ValueGetter<T>? _getter;
    private T _value = default!;

    public override IArrowType ArrowType => item.ArrowType;

    public override bool Nullable => item.NullableField;

    public override void Bind(ML.DataViewRow row, ML.DataViewSchema.Column column) => _getter = row.GetGetter<T>(column);

    public override void Append(long row)
    {
        _getter!(ref _value);
        _items.Add(_value);
    }

    public override IArrowArray Flush(int rows)
    {
        var data = _items.Build();
        _items.Clear();
        return ArrowArrayFactory.BuildArray(data);
    }
}

internal sealed class VectorColumnWriter<T>(ArrowItemType<T> item, string name, int size) : ArrowColumnWriter(name)
{
    private readonly ItemBuilder<T> _items = item.CreateBuilder();
    private readonly List<int> _offsets = [0];
    private ML.ValueGetter<VBuffer<T>>? _getter;
    private VBuffer<T> _value;
    private T[] _dense = [];

    public override IArrowType ArrowType { get; } = item.FieldType(size);

    public override bool Nullable => false;

    public override void Bind(ML.DataViewRow row, ML.DataViewSchema.Column column) => _getter = row.GetGetter<VBuffer<T>>(column);

    public override void Append(long row)
    {
        _getter!(ref _value);
        if (size > 0 && _value.Length != size)
            throw new SchemaException($"column '{Name}' row {row} holds a vector of length {_value.Length}; its type says {size}", Name);
        if (_value.IsDense)
        {
            _items.AddRange(_value.GetValues());
        }
        else
        {
            if (_dense.Length < _value.Length) _dense = new T[_value.Length];
            var dense = _dense.AsSpan(0, _value.Length);
            _value.CopyTo(dense);
            _items.AddRange(dense);
        }
        if (size == 0) _offsets.Add(_items.Count);
    }

    public override IArrowArray Flush(int rows)
    {
        var child = _items.Build();
        _items.Clear();
        ArrayData data;
        if (size > 0)
        {
            data = new ArrayData(ArrowType, rows, 0, 0, [ArrowBuffer.Empty], [child]);
        }
        else
        {
            var offsets = new ArrowBuffer(MemoryMarshal.AsBytes(CollectionsMarshal.AsSpan(_offsets)).ToArray());
            _offsets.Clear();
            _offsets.Add(0);
            data = new ArrayData(ArrowType, rows, 0, 0, [ArrowBuffer.Empty, offsets], [child]);
        }
        return ArrowArrayFactory.BuildArray(data);
    }
}
