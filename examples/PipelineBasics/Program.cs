// The pipeline machinery in one page, as an ML.NET user would write it: build a columnar dataset, write it to an
// Arrow file (readable from pyarrow/pandas), compose estimators, fit, transform, save the fitted model to one zip,
// load it back and check it reproduces its output. The later examples use the same shapes with the real components
// (PosteriorGrid -> LogPartition -> FisherMetric).
//
//     dotnet run --project examples/PipelineBasics [-- OUTPUT_DIR]
using HessianML;
using HessianML.Pipeline;

string dir = args.Length > 0 ? args[0] : Path.Combine(Path.GetTempPath(), "hessianml-pipeline-basics");
Directory.CreateDirectory(dir);
var ctx = new HessianContext(seed: 1);

// 1. A dataset: a latent point t (2 floats) and a feature vector per row.
var rng = ctx.CreateRandom();
const int rows = 1000, width = 8;
var t = new float[rows * 2];
var features = new float[rows * width];
for (int i = 0; i < rows; i++)
{
    (t[2 * i], t[2 * i + 1]) = ((float)rng.NextDouble(), (float)rng.NextDouble());
    for (int j = 0; j < width; j++)
        features[i * width + j] = (float)(3 + 2 * t[2 * i] * j + rng.NextDouble());
}
var data = ctx.Data.CreateBuilder()
    .AddVector("t", 2, t)
    .AddVector("features", width, features)
    .AddMetadata("system", "toy")
    .Build();
string arrow = Path.Combine(dir, "toy.arrow");
ctx.Data.SaveAsArrow(data, arrow);
var loaded = ctx.Data.LoadFromArrow(arrow);
Console.WriteLine($"wrote and read {arrow}: {loaded.RowCount} rows, schema {loaded.Schema.Describe()}");

// 2. A pipeline: join t and the features, then standardise every element. Schemas are checked before any fitting.
var pipeline = ctx.Transforms.Concatenate("all", "t", "features")
    .Append(ctx.Transforms.NormalizeMeanVariance("normalized", "all"));
var model = pipeline.Fit(loaded);
var output = model.Transform(loaded);
var normalized = output.GetColumn<float>("normalized").Span;
Console.WriteLine($"fitted: first row normalised = [{string.Join(", ", normalized[..4].ToArray().Select(v => v.ToString("F3")))} ...]");

// 3. Save, load, reproduce.
string zip = Path.Combine(dir, "model.zip");
ctx.Model.Save(model, loaded.Schema, zip);
var reloaded = ctx.Model.Load(zip, out var inputSchema);
var again = reloaded.Transform(loaded).GetColumn<float>("normalized").Span;
bool same = normalized.SequenceEqual(again);
Console.WriteLine($"saved {zip}; reloaded model expects {inputSchema.Count} input columns; identical output: {same}");
return same ? 0 : 1;
