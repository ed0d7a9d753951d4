// The image path start to end, as one ML.NET chain, on pictures with a known phase change: a shape generator over a
// 2D latent t (a disc below the curve t2 = 0.3 + 0.4 t1^2, a square above it; size and colour follow t smoothly) ->
// ResNet18 embeddings (the pretrained network of Microsoft.ML.DnnImageFeaturizer.ResNet18, no download; or a CLIP
// encoder in ONNX) -> feature-distance posterior (eq. 16-19) -> psi -> Fisher metric; then the boundary the metric
// finds against the true curve, geodesics, the chain saved with mlContext.Model.Save, and psi exported to ONNX.
//
//     dotnet run -c Release --project examples/ImageGeometry [-- --encoder clip-vit-b32-image.onnx] [--device cuda] [OUTPUT_DIR]
//
// README "Images and ONNX" says how to export the CLIP ViT-B/32 image encoder, which this program then uses unchanged.
using System.Diagnostics;
using HessianML;
using HessianML.Compute;
using HessianML.Data;
using HessianML.Evaluation.Diffusion;
using HessianML.Features;
using HessianML.Geometry;
using HessianML.Geometry.Geodesics;
using HessianML.Onnx;
using HessianML.Posterior;
using HessianML.Systems;
using Microsoft.ML;

string encoder = ResNet18Encoder.Name;
var device = ComputeDevice.Cpu;
string dir = Path.Combine(Path.GetTempPath(), "hessianml-image-geometry");
for (int i = 0; i < args.Length; i++)
    if (args[i] == "--encoder" && i + 1 < args.Length) encoder = args[++i];
    else if (args[i] == "--device" && i + 1 < args.Length) device = ComputeDevice.Parse(args[++i]);
    else dir = args[i];
Directory.CreateDirectory(dir);
var mlContext = new MLContext(seed: 1);
var hessian = mlContext.Hessian();

// 1. Pictures at known t: a 24 x 24 grid of t in [0, 1]^2, 64 x 64 pixels each, named as the paper's released code
//    names its renders (..._a0.1234_b0.5678.png). Stand-ins for a generator's outputs over a latent slice.
const int n = 24, grid = 12, fine = 48;
string images = Path.Combine(dir, "images");
if (Directory.Exists(images)) Directory.Delete(images, recursive: true);
ShapePictures.WriteFolder(images, n);
var pictures = mlContext.Data.LoadImageDataset(images); // an IDataView: columns image (path) and t, read from the names
Console.WriteLine($"rendered {pictures.RowCount} pictures to {images}");

// 2. Images -> embeddings (batched ONNX Runtime). Fitted first on its own: the posterior's temperature is read from them.
var box = new ParameterBox(0, 1, 0, 1);
var clock = Stopwatch.StartNew();
using var featurizer = mlContext.Transforms.FeaturizeImages(new ImageFeaturizerOptions
    { Encoder = encoder, GpuDeviceId = device.IsCuda ? device.Ordinal : null, FallbackToCpu = true, Progress = Console.WriteLine })
    .Fit(pictures);
var features = ColumnTable.From(featurizer.Transform(pictures));
Console.WriteLine($"featurized {features.RowCount} pictures with {featurizer.Encoder} ({featurizer.EmbeddingDimension} features, " +
                  $"{featurizer.ExecutionProvider}) in {clock.Elapsed.TotalSeconds:F1} s");

// 3-4. -> posterior on a 12 x 12 grid -> psi -> metric, appended to the featuriser: one ML.NET chain. lambda: the
//      diffusion runs' rule for a deterministic generator (a posterior 3 cells wide inside a phase, cut off across a
//      jump); the posterior's own default d / (2 m) is the Gaussian-noise rule, too sharp here (see DiffusionRun).
double lambda = DiffusionRun.PosteriorLambda(features, box, grid, widthCells: 3);
var model = featurizer.Append(hessian.FeatureDistancePosterior(new FeatureDistancePosteriorOptions { Grid = grid, Box = box, Lambda = lambda })
    .Append(hessian.LogPartition(new LogPartitionOptions { SplineCount = grid, Fit = PsiFit.Jsd }))
    .Append(hessian.FisherMetric())
    .Fit(features));
Console.WriteLine($"fitted in {clock.Elapsed.TotalSeconds:F1} s (lambda {lambda:G3})");
var psi = LogPartitionTransformer.FindIn(model);
var field = psi.Psi.Field(box, grid);
field.WriteCsv(Path.Combine(dir, "metric.csv"));

// 5. The boundary the metric finds against the true one. Cells: where the metric's largest eigenvalue stands out
//    (PhaseBoundary.FromMetric, the rule of the diffusion runs), scored within one cell; and per column of t1 the t2
//    of the metric's ridge against the curve, in cell widths.
var truth = PhaseBoundary.TrueCells(ShapePictures.PhaseMap(fine), fine, grid);
var (found, size, threshold) = PhaseBoundary.FromMetric(field);
var score = PhaseBoundary.Score(found, truth, grid);
double offset = 0;
for (int i = 0; i < grid; i++)
{
    int ridge = Enumerable.Range(0, grid).MaxBy(j => size[i * grid + j]);
    offset += Math.Abs((ridge + 0.5) / grid - ShapePictures.Boundary((i + 0.5) / grid)) * grid;
}
offset /= grid;
Console.WriteLine($"boundary: {score.Predicted} cells found (metric above {threshold:G3} x its median), {score.True} true; " +
                  $"precision {score.Precision:F3}, recall {score.Recall:F3} (within one cell)");
Console.WriteLine($"boundary score: the metric's ridge lies {offset:F2} cells from the true curve t2 = 0.3 + 0.4 t1^2 on average " +
                  $"({grid} columns; 0 is exact, {MeanOffsetOfChance(grid):F2} for a ridge at random)");

// 6. Geodesics between opposite corners, beside the straight line, both in the fitted metric.
var pairs = new ColumnTable.Builder()
    .AddVector("from", 2, new float[] { 0.05f, 0.05f, 0.05f, 0.95f })
    .AddVector("to", 2, new float[] { 0.95f, 0.95f, 0.95f, 0.05f })
    .Build();
var geodesic = hessian.Geodesic(new GeodesicOptions { Points = 30 }, psi).Fit(pairs);
var lengths = ColumnTable.From(geodesic.Transform(pairs)).GetColumn<double>("length").ToArray();
Console.WriteLine($"geodesic lengths {lengths[0]:F3} and {lengths[1]:F3}; straight lines " +
                  $"{geodesic.Solver.Metric.SegmentLength(0.05, 0.05, 0.95, 0.95):F3} and {geodesic.Solver.Metric.SegmentLength(0.05, 0.95, 0.95, 0.05):F3}");

// 7. Keep it: the chain as an ML.NET model zip (the encoder's ONNX bytes inside), and psi as ONNX for anyone else.
clock.Restart();
string zip = Path.Combine(dir, "model.zip");
mlContext.Model.Save(model, pictures.MlSchema, zip);
Console.WriteLine($"saved model.zip ({new FileInfo(zip).Length / 1e6:F1} MB, the encoder inside) in {clock.Elapsed.TotalSeconds:F1} s");
clock.Restart();
var reloaded = new MLContext().Model.Load(zip, out _);
var firstPicture = new ColumnTable.Builder().AddScalar("image", new[] { pictures.GetColumn<string>("image").Span[0] })
    .AddVector("t", 2, pictures.GetColumn<float>("t").Span[..2].ToArray()).Build();
var again = ColumnTable.From(reloaded.Transform(firstPicture), "features").GetColumn<float>("features").ToArray();
double drift = again.Zip(features.GetColumn<float>("features").Span[..again.Length].ToArray(), (x, y) => Math.Abs(x - y)).Max();
Console.WriteLine($"reloaded it and featurized the first picture again in {clock.Elapsed.TotalSeconds:F1} s (max difference {drift:G3})");
using (var onnx = File.Create(Path.Combine(dir, "psi.onnx"))) mlContext.Model.ConvertToOnnx(model, onnx);
Console.WriteLine($"wrote metric.csv, model.zip and psi.onnx to {dir}");

// The mean distance, in cells, from the curve to a uniformly random cell of each column.
static double MeanOffsetOfChance(int k) =>
    Enumerable.Range(0, k).Average(i => Enumerable.Range(0, k).Average(j => Math.Abs((j + 0.5) / k - ShapePictures.Boundary((i + 0.5) / k)) * k));
