using HessianML.Data;
using HessianML.Pipeline;

namespace HessianML;

/// <summary>Base of the catalogs: a back-reference to the owning context (for its seed) that extension methods use.</summary>
public abstract class CatalogBase
{
    private protected CatalogBase(HessianContext context) => Context = context ?? throw new ArgumentNullException(nameof(context));

    public HessianContext Context { get; }
}

/// <summary>Data loading and saving (Arrow IPC, CSV), building views from arrays, and train/test splits.</summary>
public sealed class DataOperationsCatalog : CatalogBase
{
    internal DataOperationsCatalog(HessianContext context) : base(context) { }

    /// <summary>The two halves of a split.</summary>
    public sealed record TrainTestData(ColumnTable TrainSet, ColumnTable TestSet);

    public ColumnTable LoadFromArrow(string path) => ArrowDataFile.Read(path);

    public void SaveAsArrow(IDataView data, string path, int batchRows = ArrowDataFile.DefaultBatchRows) =>
        ArrowDataFile.Write(data, path, batchRows);

    public ColumnTable LoadFromCsv(string path, CsvReadOptions? options = null) => CsvDataFile.Read(path, options);

    public void SaveAsCsv(IDataView data, string path, CsvWriteOptions? options = null) => CsvDataFile.Write(data, path, options);

    /// <summary>A builder for a view from arrays (taken over, not copied).</summary>
    public ColumnTable.Builder CreateBuilder() => new();

    /// <summary>
    /// Randomly splits rows into train and test sets (test gets round(testFraction * rows) rows); the permutation comes
    /// from <paramref name="seed"/> or else the context's next seed, so a seeded context splits reproducibly.
    /// Rows keep their original order within each set.
    /// </summary>
    public TrainTestData TrainTestSplit(IDataView data, double testFraction = 0.1, int? seed = null)
    {
        if (!(testFraction >= 0 && testFraction <= 1))
            throw new ArgumentOutOfRangeException(nameof(testFraction), $"test fraction must be in [0, 1], got {testFraction}");
        var view = data.ToDataView();
        int n = view.RowCount;
        var order = Enumerable.Range(0, n).ToArray();
        new Random(seed ?? Context.NextSeed()).Shuffle(order);
        int nTest = (int)Math.Round(testFraction * n);
        var test = order[..nTest];
        var train = order[nTest..];
        Array.Sort(test);
        Array.Sort(train);
        return new TrainTestData(view.SelectRows(train), view.SelectRows(test));
    }
}

/// <summary>Transform estimators: extended by components, e.g. <c>ctx.Transforms.NormalizeMeanVariance(...)</c>.</summary>
public sealed class TransformsCatalog : CatalogBase
{
    internal TransformsCatalog(HessianContext context) : base(context) { }
}

/// <summary>Trainers: extended by components (log-partition models and the like).</summary>
public sealed class TrainersCatalog : CatalogBase
{
    internal TrainersCatalog(HessianContext context) : base(context) { }
}

/// <summary>Model files (see <see cref="ModelFile"/> for the format).</summary>
public sealed class ModelOperationsCatalog : CatalogBase
{
    internal ModelOperationsCatalog(HessianContext context) : base(context) { }

    /// <summary>Saves <paramref name="model"/> (a transformer or chain; every component must be savable) with the schema it expects.</summary>
    public void Save(ITransformer model, TableSchema inputSchema, string filePath) => ModelFile.Save(model, inputSchema, filePath);

    public void Save(ITransformer model, TableSchema inputSchema, Stream stream) => ModelFile.Save(model, inputSchema, stream);

    /// <summary>Loads a model file as a <see cref="TransformerChain{TLast}"/>; damaged or foreign files throw <see cref="InvalidDataException"/>.</summary>
    public ITransformer Load(string filePath, out TableSchema inputSchema) => ModelFile.Load(filePath, out inputSchema);

    public ITransformer Load(Stream stream, out TableSchema inputSchema) => ModelFile.Load(stream, "stream", out inputSchema);
}
