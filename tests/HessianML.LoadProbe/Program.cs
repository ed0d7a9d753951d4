using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;

// Usage: HessianML.LoadProbe MODEL.zip INPUT.idv COLUMN...
// Loads an ML.NET model zip with Microsoft.ML alone (no call into HessianML), transforms an ML.NET binary data file
// with it and prints the named output columns: a header line (the names, tab-separated), then one line per row with
// the columns separated by tabs and a vector's items by spaces, in invariant culture with round-trip digits (of the
// value as a double: a float is widened first).
if (args.Length < 3)
{
    Console.Error.WriteLine("usage: HessianML.LoadProbe MODEL.zip INPUT.idv COLUMN...");
    return 2;
}
var ml = new MLContext(seed: 0);
var model = ml.Model.Load(args[0], out _);
var output = model.Transform(ml.Data.LoadFromBinary(args[1]));
var columns = args[2..].Select(name => output.Schema[name]).ToArray();
var stdout = Console.Out;
stdout.WriteLine(string.Join('\t', columns.Select(c => c.Name)));
using (var cursor = output.GetRowCursor(columns))
{
    var readers = columns.Select(c => Printer.For(cursor, c)).ToArray();
    var cells = new string[readers.Length];
    while (cursor.MoveNext())
    {
        for (int i = 0; i < readers.Length; i++) cells[i] = readers[i]();
        stdout.WriteLine(string.Join('\t', cells));
    }
}
(model as IDisposable)?.Dispose();
return 0;

internal static class Printer
{
    public static Func<string> For(DataViewRowCursor cursor, DataViewSchema.Column column)
    {
        var item = column.Type is VectorDataViewType v ? v.ItemType : column.Type;
        var type = item.RawType;
        // A float is printed as the double it widens to, so that reading it back as a double gives exactly that double.
        if (type == typeof(float)) return Make<float>(cursor, column, x => ((double)x).ToString("R", CultureInfo.InvariantCulture));
        if (type == typeof(double)) return Make<double>(cursor, column, x => x.ToString("R", CultureInfo.InvariantCulture));
        if (type == typeof(sbyte)) return Make<sbyte>(cursor, column, x => x.ToString(CultureInfo.InvariantCulture));
        if (type == typeof(int)) return Make<int>(cursor, column, x => x.ToString(CultureInfo.InvariantCulture));
        if (type == typeof(long)) return Make<long>(cursor, column, x => x.ToString(CultureInfo.InvariantCulture));
        if (type == typeof(bool)) return Make<bool>(cursor, column, x => x ? "1" : "0");
        throw new NotSupportedException($"column '{column.Name}' has type {column.Type}, which the probe does not print");
    }

    private static Func<string> Make<T>(DataViewRowCursor cursor, DataViewSchema.Column column, Func<T, string> format)
    {
        if (column.Type is VectorDataViewType)
        {
            var getVector = cursor.GetGetter<VBuffer<T>>(column);
            var buffer = default(VBuffer<T>);
            return () =>
            {
                getVector(ref buffer);
                return string.Join(' ', buffer.DenseValues().Select(format));
            };
        }
        var get = cursor.GetGetter<T>(column);
        T value = default!;
        return () =>
        {
            get(ref value);
            return format(value);
        };
    }
}
