// The method end to end from C#, as an ML.NET user would compose it (METHOD.md §2-4, §7):
//   samples (t, state) -> PosteriorGrid -> LogPartition psi -> FisherMetric g = Hessian psi
// on a 2D Ising model small enough for a laptop, as one ML.NET chain (mlContext.Hessian() components joined with
// .Append), then the fitted chain is saved with mlContext.Model.Save, loaded back in a fresh MLContext, asked for the
// metric at a few points, and scored against the exact transfer-matrix answer.
//
//     dotnet run -c Release --project examples/IsingGeometry [-- OUTPUT_DIR]
using HessianML;
using HessianML.Data;
using HessianML.Evaluation;
using HessianML.Geometry;
using HessianML.Geometry.Geodesics;
using HessianML.Posterior;
using HessianML.Systems.Ising;
using Microsoft.ML;

string dir = args.Length > 0 ? args[0] : Path.Combine(Path.GetTempPath(), "hessianml-ising-geometry");
Directory.CreateDirectory(dir);
var mlContext = new MLContext(seed: 1);

// 1. Samples: 6 x 6 Ising tori, each an independent chain at its own t = (beta, h) drawn uniformly from the box.
var box = new ParameterBox(0.25, 0.65, -0.3, 0.3);
var samples = IsingSimulation.Generate(new IsingSimulationSettings
{
    Size = 6, Samples = 8000, Seed = 1, BetaLo = box.Lo1, BetaHi = box.Hi1, FieldLo = box.Lo2, FieldHi = box.Hi2,
});
mlContext.Data.SaveAsArrow(samples, Path.Combine(dir, "ising.arrow")); // readable from pyarrow / pandas
Console.WriteLine($"simulated {samples.RowCount} Ising samples, schema {samples.Schema.Describe()}");

// 2. The pipeline. The Ising model is an exponential family, so the posterior network is the exponential-family head
//    (its posterior has the Bayes form exactly) and psi is read off it by log-posterior least squares, as a log-sum-exp
//    (convex by construction, so the metric is positive everywhere; README, "What runs by default, and why"). The head
//    is the exact per-sample form, so it takes one sample per bundle (BundleSize = NeighbourCount = 1: a bundle of
//    neighbours would blur its labels), and a pass over single samples is cheap, so 60 of them (6 s here; measured
//    interior NRMSE psi / d/dbeta / metric 0.030 / 0.095 / 0.101, against 0.061 / 0.260 / 0.173 with bundles of 4 from 8
//    neighbours and 20 epochs). Every other option keeps its documented default; the sizes set here only shrink the run.
var hessian = mlContext.Hessian();
var pipeline = hessian.PosteriorGrid(new PosteriorGridOptions
    {
        Grid = 16, Box = box, Epochs = 60, Architecture = PosteriorArchitecture.ExponentialFamily, HeadSplineCount = 16,
        BundleSize = 1, NeighbourCount = 1,
        Progress = Console.WriteLine,
    })
    .Append(hessian.LogPartition(new LogPartitionOptions { Fit = PsiFit.LogPosteriorLeastSquares, SplineCount = 16 }))
    .Append(hessian.FisherMetric());
var model = pipeline.Fit(samples);   // every step's schema is checked before the first one trains
string zip = Path.Combine(dir, "model.zip");
mlContext.Model.Save(model, samples.MlSchema, zip);

// 3. How good is it? METHOD §7 errors against the exact transfer matrix. psi is learned only up to a positive scale
//    (a bundle of N samples learns N psi) and an affine part, so those are fitted away first.
var exact = IsingExact.Field(6, box, 32, 32);
var model0 = LogPartitionTransformer.FindIn(model);
var errors = EndToEndRun.Compare(exact, model0.Psi, box);
Console.WriteLine($"interior 80%: NRMSE psi {errors.Interior.NrmsePsi:F3}, d/dbeta {errors.Interior.NrmseD1:F3}, " +
                  $"d/dh {errors.Interior.NrmseD2:F3}, metric error {errors.Interior.MetricError:F3}");

// 4. A user of the saved model: load it, and ask for the metric wherever they like (here: three points on h = 0,
//    through the critical region, beside the exact answer).
var loaded = new MLContext().Model.Load(zip, out _);
var psi = LogPartitionTransformer.FindIn(loaded);
var at = psi.Evaluate([0.3, 0.44, 0.6], [0.0, 0.0, 0.0]);
double a = errors.Interior.Scale;
for (int i = 0; i < at.Count; i++)
{
    var e = IsingExact.Evaluate(6, at.T1[i], 0);
    Console.WriteLine($"beta {at.T1[i]:F2}, h 0: g11 {a * at.G11[i],7:F3} (exact {e.G11,7:F3})   g22 {a * at.G22[i],7:F3} (exact {e.G22,7:F3})");
}
psi.Psi.Field(box, 32).WriteCsv(Path.Combine(dir, "metric.csv"));

// 5. Geodesics: the shortest paths under the fitted metric between pairs of points, many pairs in one call (they share
//    the per-model tabulation of g). Here from the disordered side (small beta) across h = 0 to the ordered side, beside
//    the straight line's metric length (both in the fitted psi's own scale: psi is learned up to a positive factor,
//    errors.Interior.Scale above). The end of the story: the smoothest interpolation in this latent space.
var pairs = new ColumnTable.Builder()
    .AddVector("from", 2, new float[] { 0.3f, -0.2f, 0.3f, 0.2f })
    .AddVector("to", 2, new float[] { 0.6f, 0.2f, 0.6f, -0.2f })
    .Build();
var geodesics = hessian.Geodesic(new GeodesicOptions { Points = 30 }, psi).Fit(pairs);
var paths = ColumnTable.From(geodesics.Transform(pairs));
var lengths = paths.GetColumn<double>("length").ToArray();
for (int r = 0; r < lengths.Length; r++)
{
    var p = paths.GetColumn<float>("from").Span.Slice(2 * r, 2).ToArray();
    var q = paths.GetColumn<float>("to").Span.Slice(2 * r, 2).ToArray();
    double straight = geodesics.Solver.Metric.SegmentLength(p[0], p[1], q[0], q[1]);
    Console.WriteLine($"geodesic ({p[0]}, {p[1]}) -> ({q[0]}, {q[1]}): metric length {lengths[r]:F4} (straight line {straight:F4}), " +
                      $"curvature {paths.GetColumn<double>("curvature").Span[r]:F2}");
}
mlContext.Model.Save(geodesics, pairs.MlSchema, Path.Combine(dir, "geodesics.zip")); // carries its metric table: reloads ready
Console.WriteLine($"wrote ising.arrow, model.zip, metric.csv and geodesics.zip to {dir}");
