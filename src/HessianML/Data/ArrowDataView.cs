using Apache.Arrow;
using Apache.Arrow.Ipc;
using Microsoft.ML.Data;
using ML = Microsoft.ML;

namespace HessianML.Data;

/// <summary>
/// An ML.NET <see cref="ML.IDataView"/> over an Arrow IPC file (what <see cref="ArrowDataFile"/> and
/// <see cref="ArrowDataSaver"/> write, and pyarrow's <c>pa.ipc.new_file</c> / uncompressed feather v2), read record
/// batch by record batch.
/// <list type="bullet">
/// <item>Opening reads the schema, the footer and each batch's small message header (for <see cref="GetRowCount"/>),
/// never batch bodies. A cursor reads a batch when it reaches it and keeps one batch at a time; only the columns it
/// was asked for are decoded.</item>
/// <item>Types: float, double and the signed/unsigned integers map to <see cref="NumberDataViewType"/>, bool to
/// <see cref="BooleanDataViewType"/>, utf8 to <see cref="TextDataViewType"/> (a null string reads as empty),
/// <c>fixed_size_list&lt;T&gt;[n]</c> to <c>VectorDataViewType(T, n)</c> and <c>list&lt;T&gt;</c> to a
/// variable-length vector, both read as dense <see cref="VBuffer{T}"/>. Nulls elsewhere are refused when the batch
/// holding them is read.</item>
/// <item>The Arrow schema's key/value metadata becomes text annotations on every column (see <see cref="SchemaMetadata"/>).</item>
/// <item><see cref="GetRowCursorSet"/> deals whole record batches round-robin to up to n cursors, each with its own
/// file handle, so they can run on different threads; a cursor's <see cref="ML.DataViewRow.Batch"/> is the file's
/// batch number, so ML.NET can restore file order. Row ids are row numbers in the file.</item>
/// </list>
/// The file is assumed not to change while the view is in use; a cursor that finds a batch differing from what was
/// indexed at open throws.
/// </summary>
public sealed class ArrowDataView : ML.IDataView
{
    private readonly ArrowFileIndex _index;
    private readonly ArrowColumnReader[] _readers;
    private readonly ReadStats _stats;

    private ArrowDataView(string path, ML.DataViewSchema schema, ArrowColumnReader[] readers, ArrowFileIndex index, ReadStats stats)
    {
        FilePath = path;
        Schema = schema;
        _readers = readers;
        _index = index;
        _stats = stats;
    }

    /// <summary>The file, as given to <see cref="Open"/>.</summary>
    public string FilePath { get; }

    public ML.DataViewSchema Schema { get; }

    /// <summary>False: rows come in file order (a shuffling consumer such as ML.NET's ShuffleRows buffers them itself).</summary>
    public bool CanShuffle => false;

    /// <summary>The number of record batches in the file.</summary>
    public int BatchCount => _index.BatchRows.Length;

    /// <summary>The sum of the record batches' lengths, known from opening.</summary>
    public long? GetRowCount() => _index.RowCount;

    /// <summary>Record batches read so far by all cursors of this view (for tests of the streaming claim).</summary>
    internal long BatchesRead => Interlocked.Read(ref _stats.Batches);

    /// <summary>Bytes read from the file so far, opening included.</summary>
    internal long BytesRead => Interlocked.Read(ref _stats.Bytes);

    internal ArrowFileIndex Index => _index;

    internal ArrowColumnReader Reader(int column) => _readers[column];

    /// <summary>
    /// Opens <paramref name="path"/>. A missing file throws <see cref="FileNotFoundException"/>; a file that is not an
    /// Arrow IPC file, is damaged or compressed, or has a column of an unsupported type throws
    /// <see cref="InvalidDataException"/> with a one-line message naming the file (and the column).
    /// </summary>
    public static ArrowDataView Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"Arrow file '{path}' not found", path);
        var stats = new ReadStats();
        try
        {
            using var stream = OpenStream(path, stats);
            var index = ArrowFileIndex.Read(stream, path);
            stream.Position = 0;
            using var reader = new ArrowFileReader(stream, leaveOpen: true);
            var arrowSchema = reader.Schema;
            int batches = ArrowReadStream.Wait(reader.RecordBatchCountAsync());
            if (batches != index.BatchRows.Length)
                throw new InvalidDataException($"file '{path}' is not a readable Arrow IPC file: its footer lists {batches} record batches, {index.BatchRows.Length} were indexed");
            var readers = new ArrowColumnReader[arrowSchema.FieldsList.Count];
            var builder = new ML.DataViewSchema.Builder();
            var annotations = SchemaMetadata.ToAnnotations(arrowSchema.HasMetadata ? arrowSchema.Metadata : []);
            for (int i = 0; i < readers.Length; i++)
            {
                var field = arrowSchema.FieldsList[i];
                readers[i] = ArrowItemType.ReaderFor(field.DataType) ?? throw new InvalidDataException(
                    $"file '{path}': column '{field.Name}' has Arrow type {ArrowItemType.Describe(field.DataType)}; supported: {ArrowItemType.Supported}");
                builder.AddColumn(field.Name, readers[i].Type, annotations);
            }
            return new ArrowDataView(path, builder.ToSchema(), readers, index, stats);
        }
        catch (InvalidDataException ex) when (ex.Message.Contains(path, StringComparison.Ordinal))
        {
            throw;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException and not FileNotFoundException and not UnauthorizedAccessException)
        {
            throw new InvalidDataException($"file '{path}' is not a readable Arrow IPC file: {OneLine(ex.Message)}", ex);
        }
    }

    public ML.DataViewRowCursor GetRowCursor(IEnumerable<ML.DataViewSchema.Column> columnsNeeded, Random? rand = null) =>
        new ArrowRowCursor(this, Active(columnsNeeded), Enumerable.Range(0, BatchCount).ToArray());

    /// <summary>
    /// Up to <paramref name="n"/> cursors (the processor count when n &lt;= 0, never more than there are batches, at
    /// least one) over disjoint sets of record batches: cursor j reads batches j, j + k, j + 2k, ...
    /// </summary>
    public ML.DataViewRowCursor[] GetRowCursorSet(IEnumerable<ML.DataViewSchema.Column> columnsNeeded, int n, Random? rand = null)
    {
        var active = Active(columnsNeeded);
        int k = Math.Clamp(n > 0 ? n : Environment.ProcessorCount, 1, Math.Max(1, BatchCount));
        var cursors = new ML.DataViewRowCursor[k];
        for (int j = 0; j < k; j++)
        {
            var mine = new List<int>();
            for (int b = j; b < BatchCount; b += k) mine.Add(b);
            cursors[j] = new ArrowRowCursor(this, active, [.. mine]);
        }
        return cursors;
    }

    private bool[] Active(IEnumerable<ML.DataViewSchema.Column> columnsNeeded)
    {
        ArgumentNullException.ThrowIfNull(columnsNeeded);
        var active = new bool[Schema.Count];
        foreach (var c in columnsNeeded)
        {
            if (c.Index < 0 || c.Index >= active.Length || Schema[c.Index].Name != c.Name)
                throw new ArgumentOutOfRangeException(nameof(columnsNeeded), $"column '{c.Name}' (index {c.Index}) is not a column of '{FilePath}'");
            active[c.Index] = true;
        }
        return active;
    }

    internal Stream OpenStream() => OpenStream(FilePath, _stats);

    internal void CountBatch() => Interlocked.Increment(ref _stats.Batches);

    private static ArrowReadStream OpenStream(string path, ReadStats stats) =>
        new(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read), n => Interlocked.Add(ref stats.Bytes, n));

    internal static string OneLine(string message) => message.ReplaceLineEndings(" ").Trim();

    private sealed class ReadStats
    {
        public long Batches;
        public long Bytes;
    }
}

/// <summary>A cursor over some record batches of an <see cref="ArrowDataView"/>, with its own file handle.</summary>
internal sealed class ArrowRowCursor : ML.DataViewRowCursor
{
    private readonly ArrowDataView _view;
    private readonly bool[] _active;
    private readonly int[] _batches;
    private readonly object?[] _chunks;
    private ArrowFileReader? _reader;
    private RecordBatch? _batch;
    private int _next;
    private int _batchIndex = -1;
    private int _rowsInBatch;
    private int _row = -1;
    private long _position = -1;
    private long _delivered;
    private bool _done;

    public ArrowRowCursor(ArrowDataView view, bool[] active, int[] batches)
    {
        _view = view;
        _active = active;
        _batches = batches;
        _chunks = new object?[active.Length];
    }

    public override ML.DataViewSchema Schema => _view.Schema;

    public override long Position => _position;

    /// <summary>The file's number of the current record batch (non-decreasing; each belongs to one cursor of a set).</summary>
    public override long Batch => Math.Max(_batchIndex, 0);

    /// <summary>The current row within its record batch.</summary>
    internal int RowInBatch => _row;

    public override bool IsColumnActive(ML.DataViewSchema.Column column) =>
        column.Index >= 0 && column.Index < _active.Length && _active[column.Index];

    public override bool MoveNext()
    {
        if (_done) return false;
        _row++;
        if (_row >= _rowsInBatch)
        {
            // Off any row while loading: if reading the next batch throws, getters refuse rather than read stale data.
            _position = -1;
            while (_row >= _rowsInBatch)
            {
                if (_next == _batches.Length)
                {
                    Finish();
                    return false;
                }
                Load(_batches[_next++]);
                _row = 0;
            }
        }
        _position = _delivered++;
        return true;
    }

    public override ML.ValueGetter<DataViewRowId> GetIdGetter() => (ref DataViewRowId value) =>
    {
        CheckOnRow();
        value = new DataViewRowId((ulong)(_view.Index.BatchStarts[_batchIndex] + _row), 0);
    };

    public override ML.ValueGetter<TValue> GetGetter<TValue>(ML.DataViewSchema.Column column)
    {
        if (column.Index < 0 || column.Index >= _active.Length)
            throw new ArgumentOutOfRangeException(nameof(column), $"column '{column.Name}' (index {column.Index}) is not a column of '{_view.FilePath}'");
        if (!_active[column.Index])
            throw new InvalidOperationException($"column '{column.Name}' of '{_view.FilePath}' was not requested when the cursor was made");
        var type = _view.Schema[column.Index].Type;
        if (typeof(TValue) != type.RawType)
            throw new InvalidOperationException($"Invalid TValue in GetGetter: '{typeof(TValue)}', expected type: '{type.RawType}' (column '{column.Name}', {type})");
        return (ML.ValueGetter<TValue>)_view.Reader(column.Index).CreateGetter(this, column.Index);
    }

    /// <summary>The decoded current batch of <paramref name="column"/>, for getters.</summary>
    internal object Chunk(int column)
    {
        CheckOnRow();
        return _chunks[column]!;
    }

    private void CheckOnRow()
    {
        if (_position < 0) throw new InvalidOperationException("the cursor is not on a row: call MoveNext first (and only while it returns true)");
    }

    private void Load(int b)
    {
        Release();
        _batchIndex = b;
        _rowsInBatch = (int)_view.Index.BatchRows[b];
        if (_rowsInBatch == 0) return; // nothing to read
        string path = _view.FilePath;
        try
        {
            _reader ??= new ArrowFileReader(_view.OpenStream(), leaveOpen: false);
            _batch = ArrowReadStream.Wait(_reader.ReadRecordBatchAsync(b));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException and not InvalidDataException)
        {
            throw new InvalidDataException($"file '{path}': record batch {b} is unreadable: {ArrowDataView.OneLine(ex.Message)}", ex);
        }
        _view.CountBatch();
        if (_batch is null || _batch.Length != _rowsInBatch || _batch.ColumnCount != _active.Length)
            throw new InvalidDataException($"file '{path}': record batch {b} differs from when the file was opened (changed on disk?)");
        for (int c = 0; c < _active.Length; c++)
        {
            if (!_active[c]) continue;
            var column = _view.Schema[c];
            try
            {
                _chunks[c] = _view.Reader(c).Decode(_batch.Column(c), () => new InvalidDataException(
                    $"file '{path}': column '{column.Name}' ({column.Type}) holds nulls in record batch {b}; only text (utf8) columns may"));
            }
            catch (InvalidCastException ex)
            {
                throw new InvalidDataException($"file '{path}': column '{column.Name}' in record batch {b} is not {column.Type}: {ArrowDataView.OneLine(ex.Message)}", ex);
            }
        }
    }

    private void Release()
    {
        System.Array.Clear(_chunks);
        _batch?.Dispose();
        _batch = null;
    }

    private void Finish()
    {
        _done = true;
        _position = -1;
        Release();
        _reader?.Dispose();
        _reader = null;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) Finish();
        base.Dispose(disposing);
    }
}

/// <summary>
/// A read-only file stream that counts the bytes it reads and completes async reads synchronously, so Apache.Arrow's
/// random-access reads (async-only in its API) run on the calling thread without blocking on the thread pool.
/// </summary>
internal sealed class ArrowReadStream(FileStream inner, Action<int> onRead) : Stream
{
    public override bool CanRead => true;

    public override bool CanSeek => true;

    public override bool CanWrite => false;

    public override long Length => inner.Length;

    public override long Position
    {
        get => inner.Position;
        set => inner.Position = value;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int n = inner.Read(buffer);
        onRead(n);
        return n;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return new ValueTask<int>(Read(buffer.Span));
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override long Seek(long offset, SeekOrigin origin) => inner.Seek(offset, origin);

    public override void Flush() { }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) inner.Dispose();
        base.Dispose(disposing);
    }

    /// <summary>The result of an Apache.Arrow async call over this stream (already complete, as its reads are synchronous).</summary>
    public static T Wait<T>(ValueTask<T> task) => task.IsCompletedSuccessfully ? task.Result : task.AsTask().GetAwaiter().GetResult();
}
