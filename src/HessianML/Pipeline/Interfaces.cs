using HessianML.Data;

namespace HessianML.Pipeline;

/// <summary>
/// A fitted component (ML.NET's ITransformer): maps a data view to a new one, typically adding columns.
/// <see cref="GetOutputSchema"/> must throw a <see cref="SchemaException"/> naming the column and this component
/// when the input lacks a needed column or has it with the wrong type; <see cref="Transform"/> checks the schema
/// first, so a bad input fails before any work.
/// </summary>
public interface ITransformer
{
    /// <summary>The schema <see cref="Transform"/> would produce from <paramref name="inputSchema"/>, or a <see cref="SchemaException"/>.</summary>
    TableSchema GetOutputSchema(TableSchema inputSchema);

    IDataView Transform(IDataView input);
}

/// <summary>
/// An unfitted component (ML.NET's IEstimator): learns from data and returns a fitted <typeparamref name="TTransformer"/>.
/// Covariant, so any estimator is an <c>IEstimator&lt;ITransformer&gt;</c>. <see cref="GetOutputSchema"/> predicts the
/// fitted transformer's output schema without touching data (a vector whose length is only known after fitting may
/// be reported as <see cref="ColumnType.VariableVector"/>), which lets a chain validate every step before fitting any.
/// </summary>
public interface IEstimator<out TTransformer>
    where TTransformer : ITransformer
{
    TTransformer Fit(IDataView input);

    TableSchema GetOutputSchema(TableSchema inputSchema);
}
