using HessianML.Data;
using Ml = Microsoft.ML;

namespace HessianML.Pipeline.MlNet;

/// <summary>
/// An ML.NET view of the input with the columns of the added table appended (one row of
/// the added table per input row, in cursor order; a same-named input column is hidden, as ML.NET's own
/// transforms do). What a HessianML transformer returns from <c>Transform</c>: the outputs are computed in one batch
/// (networks and Hessians are far faster batched), every input column passes through untouched, whatever its type.
/// With <c>keptRows</c> the added table holds rows for those input rows only (ascending), and the other input rows
/// are left out (a featuriser that skips unreadable images).
/// </summary>
internal sealed class AppendedColumnsView : Ml.IDataView
{
    private readonly Ml.IDataView _input;
    private readonly Ml.IDataView _added;
    private readonly int _inputCount;
    private readonly int[]? _kept;

    public AppendedColumnsView(Ml.IDataView input, ColumnTable added, IReadOnlyList<int>? keptRows = null)
    {
        _input = input;
        _added = added;
        _kept = keptRows?.ToArray();
        if (_kept is not null)
        {
            if (_kept.Length != added.RowCount)
                throw new ArgumentException($"{_kept.Length} input rows are kept but {added.RowCount} were computed");
        }
        else if (input.GetRowCount() is { } rows && rows != added.RowCount)
            throw new ArgumentException($"the input has {rows} rows but {added.RowCount} were computed");
        _inputCount = input.Schema.Count;
        var builder = new Ml.DataViewSchema.Builder();
        builder.AddColumns(input.Schema);
        builder.AddColumns(((Ml.IDataView)added).Schema);
        Schema = builder.ToSchema();
    }

    public Ml.DataViewSchema Schema { get; }

    public bool CanShuffle => false;

    public long? GetRowCount() => _added.GetRowCount();

    public Ml.DataViewRowCursor GetRowCursor(IEnumerable<Ml.DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        var needed = columnsNeeded.ToList();
        var inputCols = needed.Where(c => c.Index < _inputCount).Select(c => _input.Schema[c.Index]);
        return new Cursor(this, _input.GetRowCursor(inputCols), _added.GetRowCursor(_added.Schema));
    }

    // One cursor: the added columns are indexed by the input cursor's position, which only a single ordered cursor
    // over the input guarantees.
    public Ml.DataViewRowCursor[] GetRowCursorSet(IEnumerable<Ml.DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        [GetRowCursor(columnsNeeded, rand)];

    private sealed class Cursor(AppendedColumnsView view, Ml.DataViewRowCursor input, Ml.DataViewRowCursor added) : Ml.DataViewRowCursor
    {
        private long _position = -1;
        private long _inputRow = -1;

        public override Ml.DataViewSchema Schema => view.Schema;

        public override long Position => _position;

        public override long Batch => 0;

        public override bool MoveNext()
        {
            bool b = added.MoveNext();
            if (view._kept is null)
            {
                bool a = input.MoveNext();
                if (a != b) throw new InvalidOperationException("the input view changed its row count between cursors");
                if (a) _position++;
                return a;
            }
            if (!b) return false;
            // Skip the input rows that have no computed row.
            long target = view._kept[++_position];
            while (_inputRow < target)
            {
                if (!input.MoveNext()) throw new InvalidOperationException("the input view changed its row count between cursors");
                _inputRow++;
            }
            return true;
        }

        public override bool IsColumnActive(Ml.DataViewSchema.Column column) =>
            column.Index >= view._inputCount || input.IsColumnActive(view._input.Schema[column.Index]);

        public override Ml.ValueGetter<Ml.Data.DataViewRowId> GetIdGetter() => input.GetIdGetter();

        public override Ml.ValueGetter<TValue> GetGetter<TValue>(Ml.DataViewSchema.Column column) =>
            column.Index < view._inputCount
                ? input.GetGetter<TValue>(view._input.Schema[column.Index])
                : added.GetGetter<TValue>(view._added.Schema[column.Index - view._inputCount]);

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                input.Dispose();
                added.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
