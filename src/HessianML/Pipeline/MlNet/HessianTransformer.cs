using HessianML.Data;
using Ml = Microsoft.ML;

namespace HessianML.Pipeline.MlNet;

/// <summary>
/// What every fitted HessianML component is on ML.NET's side, in one place: <c>Transform</c> runs the component in one
/// batch on the columns it declares and appends its outputs; row-by-row use (<c>PredictionEngine</c>) and saving go
/// through its saved form (<see cref="SavedForm"/>), built once from its state, so that a fitted model, a prediction
/// engine on it and the same model loaded from a zip compute the same way.
/// </summary>
public abstract class HessianTransformer : IComponentWithState
{
    private Ml.ITransformer? _savedForm;

    private protected HessianTransformer() { }

    /// <inheritdoc/>
    public abstract string Kind { get; }

    /// <inheritdoc/>
    public abstract void SaveState(ComponentStateWriter context);

    /// <summary>The input columns Transform reads and the columns it adds.</summary>
    private protected abstract ComponentColumns Columns { get; }

    /// <summary>The input the row form reads (a prediction engine, a loaded model); by default Transform's.</summary>
    private protected virtual ComponentColumns RowColumns => Columns;

    /// <summary>Whether a row's outputs depend on that row alone (ML.NET's <c>IsRowToRowMapper</c>).</summary>
    private protected virtual bool IsRowToRow => true;

    /// <summary>The fitted chain of ML.NET built-ins that saves and serves this component (<see cref="SavedForm.Build"/>).</summary>
    private protected abstract Ml.ITransformer BuildSavedForm();

    /// <summary>The batch computation: the input table with the component's output columns (and metadata) added.</summary>
    internal abstract ColumnTable TransformTable(ColumnTable input);

    private Ml.ITransformer Saved => _savedForm ??= BuildSavedForm();

    /// <summary>The input schema plus the component's output columns; a missing or mistyped input column throws, naming it.</summary>
    public Ml.DataViewSchema GetOutputSchema(Ml.DataViewSchema inputSchema) => Columns.OutputSchema(inputSchema);

    /// <summary>The input with the component's outputs appended, computed in one batch (a table in gives a table out).</summary>
    public virtual Ml.IDataView Transform(Ml.IDataView input) => MlNetSide.Transform(this, Columns, input);

    bool Ml.ITransformer.IsRowToRowMapper => IsRowToRow;

    Ml.Data.IRowToRowMapper Ml.ITransformer.GetRowToRowMapper(Ml.DataViewSchema inputSchema)
    {
        RowColumns.Check(inputSchema);
        return Saved.GetRowToRowMapper(inputSchema);
    }

    void Ml.ICanSaveModel.Save(Ml.ModelSaveContext ctx) => Saved.Save(ctx);
}
