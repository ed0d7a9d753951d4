// The data and model plumbing in one page, on ML.NET itself: build a columnar dataset, write it to an Arrow file
// (readable from pyarrow/pandas), read it back with mlContext.Data.LoadFromArrow, chain ML.NET's own transforms
// (Concatenate, NormalizeMeanVariance), fit, transform, save the fitted model with mlContext.Model.Save, load it in a
// fresh context and check it reproduces its output. The later examples put HessianML's components
// (mlContext.Hessian().PosteriorGrid -> LogPartition -> FisherMetric) into chains of the same shape.
//
//     dotnet run -c Release --project examples/PipelineBasics [-- OUTPUT_DIR]
using HessianML;
using HessianML.Data;
using Microsoft.ML;
using Microsoft.ML.Data;

string dir = args.Length > 0 ? args[0] : Path.Combine(Path.GetTempPath(), "hessianml-pipeline-basics");
Directory.CreateDirectory(dir);
var mlContext = new MLContext(seed: 1);

// 1. A dataset: a latent point t (2 floats) and a feature vector per row, as HessianML's in-memory table (an IDataView).
var rng = new Random(1);
const int rows = 1000, width = 8;
var t = new float[rows * 2];
var features = new float[rows * width];
for (int i = 0; i < rows; i++)
{
    (t[2 * i], t[2 * i + 1]) = ((float)rng.NextDouble(), (float)rng.NextDouble());
    for (int j = 0; j < width; j++)
        features[i * width + j] = (float)(3 + 2 * t[2 * i] * j + rng.NextDouble());
}
var data = new ColumnTable.Builder()
    .AddVector("t", 2, t)
    .AddVector("features", width, features)
    .AddMetadata("system", "toy")
    .Build();
string arrow = Path.Combine(dir, "toy.arrow");
mlContext.Data.SaveAsArrow(data, arrow);
IDataView loaded = mlContext.Data.LoadFromArrow(arrow);   // streamed by record batch
Console.WriteLine($"wrote and read {arrow}: {loaded.GetRowCount()} rows, schema {ColumnTable.Describe(loaded.Schema)}");

// 2. A chain of ML.NET's own transforms: join t and the features, then standardise every element. ML.NET checks every
//    step's input columns against the schema before fitting.
var pipeline = mlContext.Transforms.Concatenate("all", "t", "features")
    .Append(mlContext.Transforms.NormalizeMeanVariance("normalized", "all"));
var model = pipeline.Fit(loaded);
var normalized = model.Transform(loaded).GetColumn<float[]>("normalized").ToList();
Console.WriteLine($"fitted: first row normalised = [{string.Join(", ", normalized[0][..4].Select(v => v.ToString("F3")))} ...]");

// 3. Save with ML.NET, load in a fresh context, reproduce.
string zip = Path.Combine(dir, "model.zip");
mlContext.Model.Save(model, loaded.Schema, zip);
var fresh = new MLContext();
var reloaded = fresh.Model.Load(zip, out var inputSchema);
var again = reloaded.Transform(fresh.Data.LoadFromArrow(arrow)).GetColumn<float[]>("normalized").ToList();
bool same = normalized.Count == again.Count && normalized.Zip(again).All(p => p.First.AsSpan().SequenceEqual(p.Second));
Console.WriteLine($"saved {zip}; reloaded model expects {inputSchema.Count} input columns; identical output: {same}");
return same ? 0 : 1;
