// The image path start to end, as one ML.NET chain: pictures rendered at known latent points t -> an image encoder in
// ONNX (CLIP's, or a stand-in built here) -> feature-distance posterior (eq. 16-19) -> psi -> Fisher metric; then
// geodesics, the chain saved with mlContext.Model.Save, and psi exported to ONNX for any other consumer.
//
//     dotnet run -c Release --project examples/ImageGeometry [-- --encoder clip-vit-b32-image.onnx] [OUTPUT_DIR]
//
// Without --encoder a tiny random convolutional encoder (conv -> ReLU -> global pool -> linear) is written here with
// OnnxModelBuilder, so the example runs anywhere; README "Images and ONNX" says how to export the real CLIP ViT-B/32
// image encoder, which this program then uses unchanged (224 x 224 inputs, 512-d embeddings).
using HessianML;
using HessianML.Data;
using HessianML.Features;
using HessianML.Geometry;
using HessianML.Geometry.Geodesics;
using HessianML.Figures;
using HessianML.Onnx;
using HessianML.Posterior;
using Microsoft.ML;

string? encoder = null;
string dir = Path.Combine(Path.GetTempPath(), "hessianml-image-geometry");
for (int i = 0; i < args.Length; i++)
    if (args[i] == "--encoder" && i + 1 < args.Length) encoder = args[++i];
    else dir = args[i];
Directory.CreateDirectory(dir);
var mlContext = new MLContext(seed: 1);
var hessian = mlContext.Hessian();

// 1. Pictures at known t: a 20 x 20 grid of t in [0, 1]^2, each a 48 x 48 picture whose hue follows t1 and whose
//    stripes' frequency follows t2, named as the paper's released code names its renders (..._a0.1234_b0.5678.png).
//    Stand-ins for a generator's outputs over a latent slice.
string images = Path.Combine(dir, "images");
Directory.CreateDirectory(images);
const int n = 20, side = 48;
var hues = new ScottPlot.Colormaps.Viridis();
for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++)
    {
        double a = (i + 0.5) / n, b = (j + 0.5) / n;
        var hue = hues.GetColor(a); // hue along t1
        var rgb = new byte[side * side * 3];
        for (int y = 0; y < side; y++)
            for (int x = 0; x < side; x++)
            {
                double stripe = 0.5 + 0.5 * Math.Sin(2 * Math.PI * (1 + 3 * b) * x / side);
                int k = 3 * (y * side + x);
                (rgb[k], rgb[k + 1], rgb[k + 2]) = ((byte)(hue.R * stripe), (byte)(hue.G * stripe), (byte)(hue.B * stripe));
            }
        Png.Write(Path.Combine(images, FormattableString.Invariant($"render_{i:D2}{j:D2}_a{a:F4}_b{b:F4}.png")), rgb, side, side);
    }
var pictures = ImageDataset.FromFolder(images); // an IDataView: columns image (path) and t, coordinates read from the names
Console.WriteLine($"rendered {pictures.RowCount} pictures to {images}");

// 2. The encoder. A real CLIP export is used as it is; otherwise a stand-in whose input is 32 x 32.
int size = 224;
if (encoder is null)
{
    encoder = Path.Combine(dir, "stand-in-encoder.onnx");
    size = 32;
    var rng = new Random(7);
    float[] R(int count, double scale) => Enumerable.Range(0, count).Select(_ => (float)((rng.NextDouble() * 2 - 1) * scale)).ToArray();
    var bld = new OnnxModelBuilder("stand_in_image_encoder");
    var x = bld.AddInput("pixel_values", "batch", 3, size, size);
    var conv = bld.Relu(bld.Conv(x, bld.AddInitializer("conv.weight", R(16 * 3 * 5 * 5, 0.3), 16, 3, 5, 5),
        bld.AddInitializer("conv.bias", R(16, 0.1), 16), kernelShape: [5, 5], strides: [2, 2], pads: [2, 2, 2, 2]));
    bld.Gemm(bld.Flatten(bld.GlobalAveragePool(conv)), bld.AddInitializer("proj.weight", R(32 * 16, 0.5), 32, 16),
        bld.AddInitializer("proj.bias", R(32, 0.1), 32), transB: true, output: "image_embeds");
    bld.AddOutput("image_embeds", "batch", 32);
    bld.Save(encoder);
    Console.WriteLine($"no --encoder given: wrote a stand-in encoder ({size} x {size} -> 32) to {encoder}");
}

// 3-4. One chain: images -> embeddings on ONNX Runtime (the Microsoft.ML.OnnxRuntime package) -> posterior on a
//      10 x 10 grid -> psi -> metric. lambda: the posterior's own rule, d / (2 m).
var box = new ParameterBox(0, 1, 0, 1);
using var model = hessian.ClipImageFeaturizer(new ClipImageFeaturizerOptions
        { ModelPath = encoder, ImageSize = size, Progress = Console.WriteLine })
    .Append(hessian.FeatureDistancePosterior(new FeatureDistancePosteriorOptions { Grid = 10, Box = box }))
    .Append(hessian.LogPartition(new LogPartitionOptions { SplineCount = 10, Epochs = 30 }))
    .Append(hessian.FisherMetric())
    .Fit(pictures);
var psi = LogPartitionTransformer.FindIn(model);
var field = psi.Psi.Field(box, 10);
int convex = Enumerable.Range(0, field.Count).Count(k => FisherMetricTransformer.Eigenvalues(field.G11[k], field.G12[k], field.G22[k]).Low > 0);
Console.WriteLine($"metric positive definite at {convex} of {field.Count} cells; mean g11 {field.G11.Average():G3}, g22 {field.G22.Average():G3}");
field.WriteCsv(Path.Combine(dir, "metric.csv"));

// 5. Geodesics between opposite corners, beside the straight line, both in the fitted metric.
var pairs = new ColumnTable.Builder()
    .AddVector("from", 2, new float[] { 0.05f, 0.05f, 0.05f, 0.95f })
    .AddVector("to", 2, new float[] { 0.95f, 0.95f, 0.95f, 0.05f })
    .Build();
var geodesic = hessian.Geodesic(new GeodesicOptions { Points = 30 }, psi).Fit(pairs);
var lengths = ColumnTable.From(geodesic.Transform(pairs)).GetColumn<double>("length").ToArray();
Console.WriteLine($"geodesic lengths {lengths[0]:F3} and {lengths[1]:F3}; straight lines " +
                  $"{geodesic.Solver.Metric.SegmentLength(0.05, 0.05, 0.95, 0.95):F3} and {geodesic.Solver.Metric.SegmentLength(0.05, 0.95, 0.95, 0.05):F3}");

// 6. Keep it: the chain as an ML.NET model zip (the encoder by path and SHA-256), and psi as ONNX for anyone else.
mlContext.Model.Save(model, pictures.MlSchema, Path.Combine(dir, "model.zip"));
using (var onnx = File.Create(Path.Combine(dir, "psi.onnx"))) mlContext.Model.ConvertToOnnx(model, onnx);
Console.WriteLine($"wrote metric.csv, model.zip and psi.onnx to {dir}");
