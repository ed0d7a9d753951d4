using HessianML.Data;
using Microsoft.ML;

namespace HessianML.Pipeline.MlNet;

/// <summary>
/// The model zips the runs and the command line write and read: ML.NET model files (<c>mlContext.Model.Save/Load</c>),
/// written atomically, read with one-line errors (a missing, damaged, foreign or old-format file names itself).
/// </summary>
internal static class ModelFiles
{
    /// <summary>The input every saved run model takes: <c>t</c>, Float32[2].</summary>
    public static DataViewSchema ParameterSchema { get; } =
        new ColumnTable.Builder().AddVector("t", 2, Array.Empty<float>()).Build().MlSchema;

    /// <summary>Saves <paramref name="model"/> with <paramref name="inputSchema"/> (temporary file, then rename).</summary>
    public static void Save(ITransformer model, DataViewSchema inputSchema, string path) =>
        AtomicFile.Write(path, s => new MLContext().Model.Save(model, inputSchema, s));

    /// <summary>Loads a model zip; every way it can fail is one <see cref="InvalidDataException"/> line naming the file.</summary>
    public static ITransformer Load(string path, out DataViewSchema inputSchema)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"model file '{path}' not found", path);
        ComponentStateFile.RefuseLegacyModel(path);
        try
        {
            return new MLContext().Model.Load(path, out inputSchema);
        }
        catch (Exception ex) when (ex is InvalidOperationException or InvalidDataException or FormatException or IOException
                                       or ArgumentException or NotSupportedException or System.Reflection.TargetInvocationException)
        {
            var inner = ex is System.Reflection.TargetInvocationException { InnerException: { } ie } ? ie : ex;
            throw new InvalidDataException($"model file '{path}' could not be loaded as an ML.NET model ({inner.Message.ReplaceLineEndings(" ")})", ex);
        }
    }
}
