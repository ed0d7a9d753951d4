using HessianML.Data;
using HessianML.Pipeline.MlNet;
using Microsoft.ML;

namespace HessianML.Tests.MlNet;

/// <summary>
/// The schema contract every component keeps on ML.NET's two schema paths: a missing and a mistyped input column each
/// throw a <see cref="SchemaException"/> whose one-line message names the column (and the component), both from
/// <c>GetOutputSchema(SchemaShape)</c> (what <c>EstimatorChain.Fit</c> runs before fitting anything) and from
/// <c>Fit</c> on an ML.NET view (not our own table: the input goes through a stock transform first).
/// </summary>
internal static class SchemaErrors
{
    /// <param name="estimator">The component under test.</param>
    /// <param name="required">Every input column it needs, with a type it accepts.</param>
    /// <param name="column">The column to take away, then to give the wrong type.</param>
    /// <param name="wrong">A type <paramref name="column"/> must not have.</param>
    /// <param name="component">The component's name, expected in the messages.</param>
    public static void AssertRefused<T>(IEstimator<T> estimator, IReadOnlyList<(string Name, ColumnType Type)> required, string column,
        ColumnType wrong, string component) where T : class, ITransformer
    {
        var without = required.Where(c => c.Name != column).ToList();
        var mistyped = required.Select(c => c.Name == column ? (c.Name, wrong) : c).ToList();

        // Sanity: the full input passes both paths' schema checks, so what fails below is the one column.
        estimator.GetOutputSchema(Shape(required));

        foreach (var (what, columns) in new[] { ("missing", without), ("mistyped", mistyped) })
        {
            var shape = Assert.ThrowsExactly<SchemaException>(() => estimator.GetOutputSchema(Shape(columns)), $"{what}: GetOutputSchema");
            AssertNames(shape, column, component, $"{what} column, GetOutputSchema(SchemaShape)");
            var fit = Assert.ThrowsExactly<SchemaException>(() => estimator.Fit(View(columns)), $"{what}: Fit");
            AssertNames(fit, column, component, $"{what} column, Fit");
        }
    }

    public static void AssertNames(SchemaException ex, string column, string component, string what)
    {
        StringAssert.Contains(ex.Message, $"'{column}'", $"{what}: the message names the column");
        StringAssert.Contains(ex.Message, component, $"{what}: the message names the component");
        Assert.IsFalse(ex.Message.Contains('\n') || ex.Message.Contains('\r'), $"{what}: one line: {ex.Message}");
        Assert.AreEqual(column, ex.ColumnName, what);
    }

    /// <summary>A shape with these columns (and an unrelated one), as an upstream estimator would hand it on.</summary>
    public static SchemaShape Shape(IEnumerable<(string Name, ColumnType Type)> columns) =>
        SchemaShapes.With(new SchemaShape([]), [("other", ColumnTable.ToMlType(ColumnType.Scalar(ItemKind.Float32))),
            .. columns.Select(c => (c.Name, ColumnTable.ToMlType(c.Type)))]);

    /// <summary>Three rows of zeros in these columns, seen through a stock ML.NET transform (so not our own table).</summary>
    public static IDataView View(IEnumerable<(string Name, ColumnType Type)> columns)
    {
        var builder = new ColumnTable.Builder().AddScalar("other", new float[3]);
        foreach (var (name, type) in columns)
        {
            var data = Array.CreateInstance(type.ItemClrType, 3 * type.ItemsPerRow);
            if (data is string[] s) Array.Fill(s, "");
            builder.AddColumn(name, type, data);
        }
        var table = builder.Build();
        var ml = new MLContext(seed: 0);
        return ml.Transforms.CopyColumns("other_copy", "other").Fit(table).Transform(table);
    }
}
