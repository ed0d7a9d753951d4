using System.Buffers.Binary;

namespace HessianML.Data;

/// <summary>
/// The record batches of an Arrow IPC file and their row counts, read from the file's footer and the small metadata
/// header of each batch message, never from batch bodies: opening a file of any size reads a few kilobytes.
/// (Apache.Arrow's reader offers no row count without reading a batch's body, so the two flatbuffer tables involved,
/// Footer and Message/RecordBatch of the Arrow format's File.fbs and Message.fbs, are parsed here with bounds checks.)
/// </summary>
internal sealed class ArrowFileIndex
{
    private static ReadOnlySpan<byte> Magic => "ARROW1"u8;

    private ArrowFileIndex(long[] batchRows)
    {
        BatchRows = batchRows;
        BatchStarts = new long[batchRows.Length];
        long total = 0;
        for (int i = 0; i < batchRows.Length; i++)
        {
            BatchStarts[i] = total;
            total += batchRows[i];
        }
        RowCount = total;
    }

    /// <summary>Rows in each record batch, in file order.</summary>
    public long[] BatchRows { get; }

    /// <summary>The row number of each batch's first row.</summary>
    public long[] BatchStarts { get; }

    public long RowCount { get; }

    /// <summary>Reads the index; a file that is not an Arrow IPC file, or is damaged, throws <see cref="InvalidDataException"/> naming <paramref name="path"/>.</summary>
    public static ArrowFileIndex Read(Stream stream, string path)
    {
        long length = stream.Length;
        var head = new byte[8];
        int got = ReadAt(stream, 0, head);
        if (got >= 4 && BinaryPrimitives.ReadUInt32LittleEndian(head) == 0xFFFFFFFF)
            throw Bad(path, "is an Arrow IPC stream, not an Arrow IPC file (write it with pyarrow.ipc.new_file or feather.write_feather)");
        if (got < Magic.Length || !head.AsSpan(0, Magic.Length).SequenceEqual(Magic))
            throw Bad(path, "is not an Arrow IPC file (it does not start with ARROW1)");
        var tail = new byte[10];
        if (length < 8 + tail.Length || ReadAt(stream, length - tail.Length, tail) != tail.Length || !tail.AsSpan(4).SequenceEqual(Magic))
            throw Bad(path, "is not a readable Arrow IPC file: it does not end with ARROW1 (truncated?)");
        int footerLength = BinaryPrimitives.ReadInt32LittleEndian(tail);
        long footerStart = length - tail.Length - footerLength;
        if (footerLength <= 0 || footerStart < 8)
            throw Bad(path, $"is not a readable Arrow IPC file: footer length {footerLength} does not fit a file of {length} bytes");
        var footer = new byte[footerLength];
        if (ReadAt(stream, footerStart, footer) != footerLength) throw Bad(path, "is not a readable Arrow IPC file: footer cut short");

        var fb = new FlatBuffer(footer, path, "footer");
        int root = fb.Root();
        int blocks = fb.Field(root, 3); // Footer.recordBatches: [Block]
        int count = blocks == 0 ? 0 : fb.VectorLength(blocks, 24);
        var rows = new long[count];
        for (int i = 0; i < count; i++)
        {
            // struct Block { offset: long; metaDataLength: int; (pad) bodyLength: long; }
            int at = fb.VectorStart(blocks) + 24 * i;
            long offset = fb.Int64(at);
            int metaLength = fb.Int32(at + 8);
            long bodyLength = fb.Int64(at + 16);
            if (offset < 8 || metaLength < 8 || bodyLength < 0 || offset + metaLength + bodyLength > footerStart)
                throw Bad(path, $"is not a readable Arrow IPC file: record batch {i} lies outside the data ({offset}+{metaLength}+{bodyLength})");
            rows[i] = ReadBatchLength(stream, offset, metaLength, i, path);
        }
        return new ArrowFileIndex(rows);
    }

    /// <summary>The row count of the record batch whose message starts at <paramref name="offset"/>.</summary>
    private static long ReadBatchLength(Stream stream, long offset, int metaLength, int index, string path)
    {
        var meta = new byte[metaLength];
        if (ReadAt(stream, offset, meta) != metaLength) throw Bad(path, $"is not a readable Arrow IPC file: record batch {index} cut short");
        // Encapsulated message: [0xFFFFFFFF] int32 size, then the flatbuffer (the continuation marker is absent in pre-1.0 files).
        int prefix = BinaryPrimitives.ReadUInt32LittleEndian(meta) == 0xFFFFFFFF ? 8 : 4;
        int size = BinaryPrimitives.ReadInt32LittleEndian(meta.AsSpan(prefix - 4));
        if (size <= 0 || size > metaLength - prefix)
            throw Bad(path, $"is not a readable Arrow IPC file: record batch {index} has a bad message size {size}");
        var fb = new FlatBuffer(meta.AsSpan(prefix, size).ToArray(), path, $"record batch {index} header");
        int message = fb.Root();
        int typeField = fb.Field(message, 1); // Message.header_type (union tag)
        int headerType = typeField == 0 ? 0 : fb.Byte(typeField);
        if (headerType != 3) // MessageHeader.RecordBatch
            throw Bad(path, $"is not a readable Arrow IPC file: block {index} holds message type {headerType}, not a record batch");
        int header = fb.Field(message, 2);
        if (header == 0) throw Bad(path, $"is not a readable Arrow IPC file: record batch {index} has no header");
        int batch = fb.Deref(header);
        if (fb.Field(batch, 3) != 0) // RecordBatch.compression
            throw Bad(path, $"has compressed record batches (LZ4/ZSTD), which this reader does not support; write it uncompressed (pyarrow: compression=None / \"uncompressed\")");
        int lengthField = fb.Field(batch, 0); // RecordBatch.length: long
        long rows = lengthField == 0 ? 0 : fb.Int64(lengthField);
        if (rows < 0 || rows > int.MaxValue)
            throw Bad(path, $"is not a readable Arrow IPC file: record batch {index} claims {rows} rows");
        return rows;
    }

    private static int ReadAt(Stream stream, long offset, byte[] buffer)
    {
        stream.Position = offset;
        int total = 0;
        while (total < buffer.Length)
        {
            int n = stream.Read(buffer, total, buffer.Length - total);
            if (n == 0) break;
            total += n;
        }
        return total;
    }

    private static InvalidDataException Bad(string path, string what) => new($"file '{path}' {what}");

    /// <summary>Bounds-checked reads of flatbuffer tables (little-endian; offsets relative as the format defines).</summary>
    private readonly struct FlatBuffer(byte[] bytes, string path, string what)
    {
        private void Need(int at, int size)
        {
            if (at < 0 || size < 0 || at > bytes.Length - size)
                throw Bad(path, $"is not a readable Arrow IPC file: malformed {what}");
        }

        public byte Byte(int at)
        {
            Need(at, 1);
            return bytes[at];
        }

        public int Int32(int at)
        {
            Need(at, 4);
            return BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(at));
        }

        public long Int64(int at)
        {
            Need(at, 8);
            return BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(at));
        }

        private int UInt16(int at)
        {
            Need(at, 2);
            return BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(at));
        }

        /// <summary>The position an offset field at <paramref name="at"/> points to.</summary>
        public int Deref(int at)
        {
            long target = at + (long)(uint)Int32(at);
            Need(target > int.MaxValue ? -1 : (int)target, 0);
            return (int)target;
        }

        public int Root() => Deref(0);

        /// <summary>Position of field <paramref name="id"/> of the table at <paramref name="table"/>; 0 when absent (default value).</summary>
        public int Field(int table, int id)
        {
            long vtable = table - (long)Int32(table);
            Need(vtable is < 0 or > int.MaxValue ? -1 : (int)vtable, 4);
            int vtableSize = UInt16((int)vtable);
            int slot = 4 + 2 * id;
            if (slot + 2 > vtableSize) return 0;
            int offset = UInt16((int)vtable + slot);
            return offset == 0 ? 0 : table + offset;
        }

        /// <summary>Element count of the vector an offset field at <paramref name="field"/> points to, checking <paramref name="elementSize"/>-byte elements fit.</summary>
        public int VectorLength(int field, int elementSize)
        {
            int v = Deref(field);
            int n = Int32(v);
            Need(v + 4, n < 0 || n > (bytes.Length / elementSize) ? -1 : n * elementSize);
            return n;
        }

        public int VectorStart(int field) => Deref(field) + 4;
    }

    public override string ToString() => $"{BatchRows.Length} batches, {RowCount} rows";
}
