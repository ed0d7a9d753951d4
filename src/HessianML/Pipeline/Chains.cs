using System.Collections;
using HessianML.Data;

namespace HessianML.Pipeline;

/// <summary>Implemented by <see cref="TransformerChain{TLast}"/> so model files can flatten nested chains.</summary>
internal interface ITransformerChain
{
    IReadOnlyList<ITransformer> Transformers { get; }
}

/// <summary>Shared step-by-step schema propagation with errors that say which step failed.</summary>
internal static class ChainSchema
{
    public static string Name(object component) => component.GetType().Name.Split('`')[0];

    public static TableSchema Propagate<T>(TableSchema schema, IReadOnlyList<T> steps, Func<T, TableSchema, TableSchema> next)
        where T : notnull
    {
        for (int i = 0; i < steps.Count; i++)
        {
            try
            {
                schema = next(steps[i], schema);
            }
            catch (SchemaException ex)
            {
                string name = ex.Component ?? Name(steps[i]);
                string msg = ex.Component is null ? $"{name}: {ex.Message}" : ex.Message;
                throw new SchemaException($"step {i + 1} of {steps.Count}: {msg}", ex.ColumnName, name);
            }
        }
        return schema;
    }
}

/// <summary>
/// A sequence of estimators (ML.NET's EstimatorChain). <see cref="Fit"/> first checks the whole chain's schemas, so a
/// missing or mistyped column anywhere fails before any step fits; then fits each estimator on the previous fitted
/// steps' output.
/// </summary>
public sealed class EstimatorChain<TLastTransformer> : IEstimator<TransformerChain<TLastTransformer>>
    where TLastTransformer : class, ITransformer
{
    private readonly IEstimator<ITransformer>[] _estimators;

    /// <summary>An empty chain (fits to an empty transformer chain).</summary>
    public EstimatorChain() => _estimators = [];

    internal EstimatorChain(IEstimator<ITransformer>[] estimators) => _estimators = estimators;

    public IReadOnlyList<IEstimator<ITransformer>> Estimators => _estimators;

    public IEstimator<TLastTransformer>? LastEstimator =>
        _estimators.Length == 0 ? null : (IEstimator<TLastTransformer>)_estimators[^1];

    public EstimatorChain<TNewTransformer> Append<TNewTransformer>(IEstimator<TNewTransformer> estimator)
        where TNewTransformer : class, ITransformer
    {
        ArgumentNullException.ThrowIfNull(estimator);
        return new EstimatorChain<TNewTransformer>([.. _estimators, estimator]);
    }

    public TableSchema GetOutputSchema(TableSchema inputSchema) =>
        ChainSchema.Propagate(inputSchema, _estimators, (e, s) => e.GetOutputSchema(s));

    public TransformerChain<TLastTransformer> Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        GetOutputSchema(input.Schema); // everything checked before anything is fitted
        var fitted = new ITransformer[_estimators.Length];
        var current = input;
        for (int i = 0; i < _estimators.Length; i++)
        {
            fitted[i] = _estimators[i].Fit(current);
            if (i < _estimators.Length - 1) current = fitted[i].Transform(current);
        }
        return new TransformerChain<TLastTransformer>(fitted);
    }
}

/// <summary>
/// A sequence of fitted transformers (ML.NET's TransformerChain): the result of fitting an
/// <see cref="EstimatorChain{TLast}"/>, and what model files hold. <see cref="Transform"/> validates all schemas first.
/// </summary>
public sealed class TransformerChain<TLastTransformer> : ITransformer, ITransformerChain, IEnumerable<ITransformer>
    where TLastTransformer : class, ITransformer
{
    private readonly ITransformer[] _transformers;

    public TransformerChain(params ITransformer[] transformers)
    {
        ArgumentNullException.ThrowIfNull(transformers);
        if (transformers.Length > 0 && transformers[^1] is not TLastTransformer)
            throw new ArgumentException($"the last transformer is a {transformers[^1].GetType().Name}, not a {typeof(TLastTransformer).Name}");
        _transformers = [.. transformers];
    }

    public IReadOnlyList<ITransformer> Transformers => _transformers;

    /// <summary>The last fitted step (e.g. the trained model), or null for an empty chain.</summary>
    public TLastTransformer? LastTransformer => _transformers.Length == 0 ? null : (TLastTransformer)_transformers[^1];

    public TransformerChain<TNewTransformer> Append<TNewTransformer>(TNewTransformer transformer)
        where TNewTransformer : class, ITransformer
    {
        ArgumentNullException.ThrowIfNull(transformer);
        return new TransformerChain<TNewTransformer>([.. _transformers, transformer]);
    }

    public TableSchema GetOutputSchema(TableSchema inputSchema) =>
        ChainSchema.Propagate(inputSchema, _transformers, (t, s) => t.GetOutputSchema(s));

    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        GetOutputSchema(input.Schema);
        foreach (var t in _transformers) input = t.Transform(input);
        return input;
    }

    public IEnumerator<ITransformer> GetEnumerator() => ((IEnumerable<ITransformer>)_transformers).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>
/// An estimator that needs no data: it wraps an already fitted (or data-independent) transformer, so such steps
/// can sit in an <see cref="EstimatorChain{TLast}"/> (ML.NET's TrivialEstimator).
/// </summary>
public sealed class TrivialEstimator<TTransformer>(TTransformer transformer) : IEstimator<TTransformer>
    where TTransformer : class, ITransformer
{
    public TTransformer Transformer { get; } = transformer ?? throw new ArgumentNullException(nameof(transformer));

    public TTransformer Fit(IDataView input)
    {
        Transformer.GetOutputSchema(input.Schema);
        return Transformer;
    }

    public TableSchema GetOutputSchema(TableSchema inputSchema) => Transformer.GetOutputSchema(inputSchema);
}

/// <summary>ML.NET's <c>Append</c> extensions: start a chain from any estimator or transformer.</summary>
public static class PipelineExtensions
{
    public static EstimatorChain<TTransformer> Append<TTransformer>(this IEstimator<ITransformer> start, IEstimator<TTransformer> estimator)
        where TTransformer : class, ITransformer =>
        new EstimatorChain<ITransformer>().Append(start).Append(estimator);

    /// <summary>Appends an already fitted transformer to an estimator (wrapped in a <see cref="TrivialEstimator{T}"/>).</summary>
    public static EstimatorChain<TTransformer> Append<TTransformer>(this IEstimator<ITransformer> start, TTransformer transformer)
        where TTransformer : class, ITransformer =>
        start.Append(new TrivialEstimator<TTransformer>(transformer));

    public static TransformerChain<TTransformer> Append<TTransformer>(this ITransformer start, TTransformer transformer)
        where TTransformer : class, ITransformer =>
        new TransformerChain<ITransformer>(start).Append(transformer);
}
