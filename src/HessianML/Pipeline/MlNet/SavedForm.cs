using HessianML.Data;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;
using Ml = Microsoft.ML;

namespace HessianML.Pipeline.MlNet;

// Explicit aliases: these names must mean ML.NET's types in this file, whatever HessianML.Pipeline holds.
using IEstimator = Microsoft.ML.IEstimator<Microsoft.ML.ITransformer>;
using ITransformer = Microsoft.ML.ITransformer;
using TransformsCatalog = Microsoft.ML.TransformsCatalog;

/// <summary>
/// How a fitted HessianML component lives inside an ML.NET model zip, through public APIs only (ML.NET's own save API
/// is internal: dotnet/machinelearning#4911, #6839). A component is saved as this chain of ML.NET built-ins:
/// <code>
///   CustomMapping  "HessianML.StateKey.v1"       -> __hessianml_key   = "state"
///   ValueMapping   "state" -> the state (text)    -> __hessianml_state  (ML.NET stores the text in the zip)
///   CopyColumns    the user's input columns      -> __hessianml_in_*   (the mapping's columns are fixed at load)
///   CustomMapping  "HessianML.&lt;Kind&gt;.v1"   -> the outputs        (factory in this assembly, state decoded once)
///   DropColumns    __hessianml_*
/// </code>
/// The state is the component's options and tensors (<see cref="ComponentStateFile.Save"/>) as base64 text.
/// <c>mlContext.Model.Load</c> finds the factories by their contract names in this assembly (ML.NET records it), so a
/// plain ML.NET app that references HessianML loads the zip with no call into HessianML first. Contract names are
/// permanent: a new state layout gets a new ".vN" name and the old factory stays.
/// </summary>
internal static class SavedForm
{
    public const string KeyContract = "HessianML.StateKey.v1";
    public const string KeyColumn = "__hessianml_key";
    public const string StateColumn = "__hessianml_state";
    public const string InputPrefix = "__hessianml_in_";
    public const string KeyValue = "state";

    private static readonly MLContext Env = new(seed: 0);

    /// <summary>The component's state as the text the saved chain carries.</summary>
    public static string Encode(IComponentWithState component) => Convert.ToBase64String(ComponentStateFile.Save(component));

    /// <summary>The component a state text holds; damage throws a one-line <see cref="InvalidDataException"/>.</summary>
    public static IComponentWithState Decode(ReadOnlySpan<char> text, string source)
    {
        var bytes = new byte[text.Length * 3 / 4 + 3];
        if (!Convert.TryFromBase64Chars(text, bytes, out int n))
            throw new InvalidDataException($"{source} is damaged (not base64)");
        return ComponentStateFile.Load(bytes[..n], source);
    }

    /// <summary>
    /// The steps of a model, nested chains flattened, with each saved HessianML component (as <c>mlContext.Model.Load</c>
    /// returns it: the chain of built-ins above) turned back into the component itself, read from its state. Lets the
    /// tools that need the fitted objects (<c>hessian metric</c>, <c>geodesic</c>, <c>export</c>) work on any model zip.
    /// </summary>
    /// <param name="model">A fitted or loaded model.</param>
    /// <param name="decode">
    /// Which saved components to read back, by the output row type of their compute mapping (e.g.
    /// <see cref="FisherMetricOutputRow"/>); the others stay as their chain of built-ins. Null reads them all. WHY: reading a
    /// state can need outside files (an image encoder), which a caller after psi alone should not depend on.
    /// </param>
    public static IReadOnlyList<ITransformer> Components(ITransformer model, Func<Type, bool>? decode = null)
    {
        var list = new List<ITransformer>();
        void Add(ITransformer t)
        {
            if (t is IEnumerable<ITransformer> chain)
            {
                var parts = chain.ToList();
                if (parts.Count >= 2 && parts[0] is CustomMappingTransformer<NoColumns, StateKeyRow>)
                    list.Add(decode is null || decode(OutputRowType(parts)) ? Recover(parts[0], parts[1]) : t);
                else foreach (var p in parts) Add(p);
            }
            else list.Add(t);
        }
        Add(model);
        return list;
    }

    // The TDst of the saved form's compute step: the CustomMapping whose input rows carry the state.
    private static Type OutputRowType(List<ITransformer> parts) =>
        parts.Select(p => p.GetType())
            .Where(type => type.IsGenericType && type.GetGenericTypeDefinition() == typeof(CustomMappingTransformer<,>)
                && typeof(SavedComponentRow).IsAssignableFrom(type.GetGenericArguments()[0]))
            .Select(type => type.GetGenericArguments()[1])
            .FirstOrDefault() ?? typeof(void);

    // Runs the key and state steps on one row with no columns and decodes the state they produce.
    private static IComponentWithState Recover(ITransformer key, ITransformer state)
    {
        var one = new ColumnTable.Builder().AddScalar("__hessianml_row", new bool[1]).Build();
        var view = state.Transform(key.Transform(one));
        var column = view.Schema.GetColumnOrNull(StateColumn) ?? throw new InvalidDataException("a saved HessianML component has no state column");
        using var cursor = view.GetRowCursor([column]);
        var get = cursor.GetGetter<ReadOnlyMemory<char>>(column);
        ReadOnlyMemory<char> text = default;
        if (!cursor.MoveNext()) throw new InvalidDataException("a saved HessianML component gave no state");
        get(ref text);
        return Decode(text.Span, "saved HessianML state");
    }

    /// <summary>Builds the fitted saved chain of <paramref name="component"/> (see the class remarks).</summary>
    /// <param name="component">The fitted component.</param>
    /// <param name="inputs">Its input columns (user names and types) in the order of the compute mapping's copies.</param>
    /// <param name="compute">The compute mapping's estimator; its input columns are <see cref="InputPrefix"/> + the copy names.</param>
    /// <param name="copies">(user column, internal suffix) pairs.</param>
    /// <param name="outputNames">(the mapping's output column, the name the component was configured with) pairs.</param>
    /// <param name="emptyInput">A view with no rows and the input columns, for inputs a table cannot hold (ML.NET images); default: one built from <paramref name="inputs"/>.</param>
    public static ITransformer Build(IComponentWithState component, IReadOnlyList<(string Name, ColumnType Type)> inputs,
        IReadOnlyList<(string From, string Suffix)> copies, Func<TransformsCatalog, IEstimator> compute,
        IReadOnlyList<(string Fixed, string Wanted)>? outputNames = null, Ml.IDataView? emptyInput = null)
    {
        var lookup = new[] { new KeyValuePair<string, string>(KeyValue, Encode(component)) };
        var t = Env.Transforms;
        var steps = new List<IEstimator>
        {
            t.CustomMapping(new StateKeyFactory().GetMapping(), KeyContract),
            t.Conversion.MapValue(StateColumn, lookup, KeyColumn),
        };
        foreach (var (from, suffix) in copies) steps.Add(t.CopyColumns(InputPrefix + suffix, from));
        steps.Add(compute(t));
        // The mapping's output names are fixed at load; a component configured with other names gets a copy.
        var renamed = (outputNames ?? []).Where(o => o.Fixed != o.Wanted).ToList();
        foreach (var (fixedName, wanted) in renamed) steps.Add(t.CopyColumns(wanted, fixedName));
        steps.Add(t.DropColumns([KeyColumn, StateColumn, .. copies.Select(c => InputPrefix + c.Suffix), .. renamed.Select(r => r.Fixed)]));
        // Fitting a mapping needs only the schema: an empty table with the input columns.
        var view = emptyInput;
        if (view is null)
        {
            var empty = new ColumnTable.Builder();
            foreach (var (name, type) in inputs) empty.AddColumn(name, type, Array.CreateInstance(type.ItemClrType, 0));
            view = empty.Build();
        }
        // Fitted step by step, not as an EstimatorChain: the chain's schema-shape check compares a CustomMapping's column
        // types by reference, which refuses every Image column (each LoadImages has its own type object); the fitted
        // transformers compare by value. One flat TransformerChain whose first step is the key mapping is what a loaded
        // model shows and how Components() recognises it.
        var fitted = new List<ITransformer>(steps.Count);
        foreach (var step in steps)
        {
            var transformer = step.Fit(view);
            view = transformer.Transform(view);
            fitted.Add(transformer);
        }
        return new TransformerChain<ITransformer>([.. fitted]);
    }
}

/// <summary>Rows of a saved component's compute mapping carry the state text; ML.NET fills it from the ValueMapping.</summary>
public abstract class SavedComponentRow
{
    /// <summary>The component's state (base64), the same memory on every row of one loaded model.</summary>
    [ColumnName(SavedForm.StateColumn)]
    public ReadOnlyMemory<char> State;
}

/// <summary>A mapping with no inputs (ML.NET needs a class).</summary>
public sealed class NoColumns { }

/// <summary>The saved chain's first step: the constant key the state is looked up by.</summary>
public sealed class StateKeyRow
{
    [ColumnName(SavedForm.KeyColumn)]
    public string Key = SavedForm.KeyValue;
}

/// <summary>Loaded by ML.NET by its contract name: writes the constant key.</summary>
[CustomMappingFactoryAttribute(SavedForm.KeyContract)]
public sealed class StateKeyFactory : CustomMappingFactory<NoColumns, StateKeyRow>
{
    /// <inheritdoc/>
    public override Action<NoColumns, StateKeyRow> GetMapping() => static (_, d) => d.Key = SavedForm.KeyValue;
}

/// <summary>
/// Base of the compute factories: decodes the state once per loaded model (thread-safe: ML.NET runs mappings on several
/// threads) and hands the component to <see cref="Map"/> for each row.
/// </summary>
public abstract class SavedComponentFactory<TSrc, TDst, TComponent> : CustomMappingFactory<TSrc, TDst>
    where TSrc : SavedComponentRow, new()
    where TDst : class, new()
    where TComponent : class
{
    /// <summary>The compute step of the saved chain: this factory's mapping under its contract name.</summary>
    internal IEstimator Estimator(TransformsCatalog catalog, string contract) => catalog.CustomMapping(GetMapping(), contract);

    /// <summary>Computes one row's outputs.</summary>
    protected abstract void Map(TComponent component, TSrc src, TDst dst);

    /// <inheritdoc/>
    public override Action<TSrc, TDst> GetMapping()
    {
        Decoded? cache = null;
        var gate = new object();
        return (src, dst) =>
        {
            var c = Volatile.Read(ref cache);
            if (c is null || !c.Key.Equals(src.State))
                lock (gate)
                {
                    c = cache;
                    if (c is null || !c.Key.Equals(src.State))
                    {
                        c = new Decoded(src.State, Decode(src.State));
                        Volatile.Write(ref cache, c);
                    }
                }
            Map(c.Component, src, dst);
        };
    }

    private static TComponent Decode(ReadOnlyMemory<char> text)
    {
        var component = SavedForm.Decode(text.Span, "saved HessianML state");
        return component as TComponent ?? throw new InvalidDataException(
            $"a saved {typeof(TComponent).Name} holds a {component.GetType().Name} instead");
    }

    private sealed record Decoded(ReadOnlyMemory<char> Key, TComponent Component);
}
