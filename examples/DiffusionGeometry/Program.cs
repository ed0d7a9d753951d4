// Issue 6's story from C#: a diffusion model whose score is known exactly (DDIM on a Gaussian mixture of 8 x 8 colour
// patterns, METHOD.md §6), a 2D slice z(a, b) of its latent space, and what the Hessian geometry says about it:
//   samples x(a, b) -> feature-distance posterior (eq. 16-19) -> LogPartition psi -> Fisher metric g = Hessian psi
//   -> phase boundaries where g is large (scored against the true phase map) -> geodesics, against the pull-back
//      baselines g = J^T J (pixels, Shao et al.; fixed features, Wang et al.) and the straight line.
//
//     dotnet run -c Release --project examples/DiffusionGeometry [-- OUTPUT_DIR]
//
// `hessian run diffusion` does the same at a larger size (DiffusionRun + DiffusionReport); here every step is spelled out.
using HessianML;
using HessianML.Evaluation.Diffusion;
using HessianML.Geometry;
using HessianML.Geometry.Geodesics;
using HessianML.Posterior;
using HessianML.Systems.Diffusion;
using Microsoft.ML;

string dir = args.Length > 0 ? args[0] : Path.Combine(Path.GetTempPath(), "hessianml-diffusion-geometry");
Directory.CreateDirectory(dir);
const int k = 16;                                          // posterior grid / metric table: k x k cells of [0, 1]^2
var box = new ParameterBox(0, 1, 0, 1);

// 1. The generator and the slice. eta = 0: the sample is a function of the latent, so the slice is a map (a, b) -> x,
//    constant-ish inside a phase (which mixture component x lands in) and jumping across phase boundaries.
var settings = new DiffusionSliceSettings { Components = 4, Dimension = 192, Std = 0.1, DdimSteps = 50, Grid = 4 * k, Seed = 1 };
var (mixture, generator, slice) = DiffusionSliceDataset.CreateSystem(settings);
var samples = DiffusionSliceDataset.Generate(settings);   // columns t = (a, b), features = x (192 floats), phase
Console.WriteLine($"generated {samples.RowCount} samples on a {settings.Grid}x{settings.Grid} grid of the slice");

// 2. The pipeline. The feature-distance posterior needs an inverse temperature; the run's rule makes a sample's
//    posterior 3 cells wide inside a phase (it knows where in the phase it is) and cuts it off across a boundary (where
//    the sample jumps), so the metric has both the geometry within phases and the ridges between them.
double lambda = DiffusionRun.PosteriorLambda(samples, box, k, new DiffusionRunOptions().PosteriorWidth);
var mlContext = new MLContext(seed: 1);
var hessian = mlContext.Hessian();
var pipeline = hessian.FeatureDistancePosterior(new FeatureDistancePosteriorOptions { Grid = k, Box = box, Lambda = lambda })
    .Append(hessian.LogPartition(new LogPartitionOptions { SplineCount = 16, Epochs = 20 }))   // JSD, the paper's loss
    .Append(hessian.FisherMetric());
var model = pipeline.Fit(samples);
mlContext.Model.Save(model, samples.MlSchema, Path.Combine(dir, "model.zip"));
var psi = LogPartitionTransformer.FindIn(model).Psi;
var field = psi.Field(box, k);
field.WriteCsv(Path.Combine(dir, "metric.csv"));
Console.WriteLine($"lambda {lambda:G4}; psi fitted, metric field written");

// 3. Phase boundaries from the metric against the truth: the true phase map on a 4k x 4k grid marks the k x k cells a
//    boundary crosses; the metric marks the cells where its largest eigenvalue stands out (PhaseBoundary.FromMetric).
var phases = DiffusionSliceDataset.PhaseMap(generator, slice, mixture.Phase, 4 * k);
var truth = PhaseBoundary.TrueCells(phases, 4 * k, k);
var (predicted, _, threshold) = PhaseBoundary.FromMetric(field);
var score = PhaseBoundary.Score(predicted, truth, k);
Console.WriteLine($"{phases.Distinct().Count()} phases; boundary from the metric (threshold {threshold:G3} x median): " +
                  $"precision {score.Precision:F3}, recall {score.Recall:F3} within one cell");

// 4. Why boundaries are where the geometry is: the generator's Lipschitz ratio diverges there (Prop. 4.1) and stays
//    bounded inside a phase.
var far = LipschitzProbe.FarFromBoundary(generator, slice, mixture.Phase);
var pts = DiffusionSliceDataset.GridPoints(4 * k);
int other = Enumerable.Range(0, phases.Length).Where(i => phases[i] != far.Phase)
    .MinBy(i => Math.Pow(pts[i].A - far.A, 2) + Math.Pow(pts[i].B - far.B, 2));
var edge = LipschitzProbe.BisectBoundary(generator, slice, mixture.Phase, (far.A, far.B), pts[other]);
var eps = LipschitzProbe.Decades();
var across = (edge.OtherA - edge.A, edge.OtherB - edge.B);
var atEdge = LipschitzProbe.Sensitivity(generator, slice, (edge.A, edge.B), across, eps);
var inside = LipschitzProbe.Sensitivity(generator, slice, (far.A, far.B), across, eps);
for (int i = 0; i < eps.Length; i++) Console.WriteLine($"eps {eps[i]:0E0}: boundary {atEdge[i],10:G3}   far {inside[i],7:G3}");

// 5. Interpolation between two points in different phases: the straight line, our geodesic, and the pull-back baselines.
//    PullbackMetric.ForTable takes the finite-difference step from the table it will be sampled on (half its spacing).
var features = new RandomFeatureMap(settings.Dimension, 64, settings.Seed);
void Pixels(double a, double b, double[] x) => generator.Generate(slice.Latent(a, b), x, 0);
void Features(double a, double b, double[] f) { var x = new double[settings.Dimension]; Pixels(a, b, x); features.Apply(x, f); }
var solvers = new (string Name, GeodesicSolver? Solver)[]
{
    ("ours", new GeodesicSolver(new PsiMetricSource(psi))),
    ("pullback-output", new GeodesicSolver(PullbackMetric.ForTable(box, settings.Dimension, Pixels, 33), new GeodesicOptions { Resolution = 33 })),
    ("pullback-feature", new GeodesicSolver(PullbackMetric.ForTable(box, 64, Features, 33), new GeodesicOptions { Resolution = 33 })),
    ("linear", null),
};
var pair = DiffusionRun.Endpoints(generator, slice, mixture, 1, settings.Seed)[0];
Console.WriteLine($"from ({pair.From.A:F3}, {pair.From.B:F3}) phase {pair.FromPhase} to ({pair.To.A:F3}, {pair.To.B:F3}) phase {pair.ToPhase}");
double[] lineT1 = [.. Enumerable.Range(0, 90).Select(i => pair.From.A + (pair.To.A - pair.From.A) * i / 89.0)];
double[] lineT2 = [.. Enumerable.Range(0, 90).Select(i => pair.From.B + (pair.To.B - pair.From.B) * i / 89.0)];
foreach (var (name, solver) in solvers)
{
    var (t1, t2) = (lineT1, lineT2);
    if (solver is not null)
    {
        var path = solver.Solve(pair.From.A, pair.From.B, pair.To.A, pair.To.B);
        (t1, t2) = (path.T1, path.T2);
        // A pull-back baseline is then solved to its own minimum: the image path's energy, from its table's geodesic
        // and from the straight line (the table's interpolated g can misjudge a path).
        if (solver.Source is PullbackMetric pullback) (t1, t2) = DiffusionRun.SolveToMinimum(pullback, (t1, t2), (lineT1, lineT2), 200);
    }
    var s = DiffusionRun.Score(name, t1, t2, generator, slice, features);   // METHOD §7 path scores
    Console.WriteLine($"{name,-17} length in pixels {s.LengthOutput,7:F3}  in features {s.LengthFeature,6:F3}  curvature {s.Curvature,7:F3}");
}
Console.WriteLine($"wrote model.zip and metric.csv to {dir}");
