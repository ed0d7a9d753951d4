using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using HessianML.Cli.Infrastructure;
using HessianML.Data;
using HessianML.Features;
using HessianML.Geometry;
using HessianML.Geometry.Geodesics;
using HessianML.Figures;
using HessianML.Pipeline;
using HessianML.Posterior;
using HessianML.Systems;

using HessianML.Pipeline.MlNet;

namespace HessianML.Cli;

/// <summary>
/// The image path of the method: `hessian featurize` (images + t -> CLIP embeddings, an Arrow dataset) and
/// `hessian run images` (embeddings -> FeatureDistancePosterior -> LogPartition -> FisherMetric, with the metric field,
/// its heat maps and corner-to-corner geodesics).
/// </summary>
internal static class ImageCommands
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public const string SummaryFileName = "summary.json";

    /// <summary>`hessian featurize [--encoder resnet18|ENCODER.onnx] --images DIR_OR_CSV --out FEATURES.arrow [--batch N] [--size S] [--on-bad-image skip|fail] [--device cpu|cuda[:N]]`.</summary>
    internal static Command Featurize()
    {
        var encoder = new Option<string>("--encoder")
        {
            Description = "the image encoder: resnet18 (built in, 512 features) or an ONNX file, input [N, 3, S, S] float, output [N, D], e.g. CLIP (README, Images and ONNX)",
            HelpName = "resnet18|PATH.onnx",
            DefaultValueFactory = _ => ResNet18Encoder.Name,
        };
        var images = CliOptions.RequiredPath("--images", "a folder of images named ..._a<t1>_b<t2>..., or a CSV file,t1,t2 (paths relative to it)");
        var output = CliOptions.RequiredPath("--out", "the features dataset (.arrow): columns t, features, image");
        var defaults = new ImageFeaturizerOptions();
        var batch = CliOptions.Value("--batch", "images per encoder call", defaults.BatchSize);
        var size = CliOptions.Value("--size", "S: short side resized to S, centre S x S crop (224 for CLIP ViT-B/32)", defaults.ImageSize);
        var onBad = new Option<string>("--on-bad-image")
        {
            Description = "an unreadable image: fail (nothing written) or skip (left out, listed on stderr)",
            DefaultValueFactory = _ => "fail",
        };
        onBad.AcceptOnlyFromAmong("fail", "skip");
        var outputName = new Option<string>("--output") { Description = "the encoder output holding the embedding (default: image_embeds if present, else the first)", HelpName = "NAME" };
        var raw = new Option<bool>("--no-normalize") { Description = "keep the encoder's embeddings as they are instead of scaling them to unit length" };
        var device = CliOptions.Device("where the encoder runs (cuda needs the ONNX Runtime GPU build, README \"GPU\")");
        var fallback = new Option<bool>("--fallback-to-cpu") { Description = "with --device cuda: run on the CPU (and say why) when CUDA cannot" };
        var command = new Command("featurize",
            "Images with their latent coordinates -> image embeddings (Arrow: t, features, image) from ResNet18 or an ONNX encoder (CLIP).")
        {
            encoder, images, output, batch, size, onBad, outputName, raw, device, fallback,
        };
        command.SetAction(parse =>
        {
            string outPath = parse.GetValue(output)!;
            if (!string.Equals(Path.GetExtension(outPath), ".arrow", StringComparison.OrdinalIgnoreCase))
                throw new CliException($"--out {outPath}: the features dataset is Arrow IPC; use a .arrow name");
            string encoderName = parse.GetValue(encoder)!;
            bool resnet = string.Equals(encoderName, ResNet18Encoder.Name, StringComparison.OrdinalIgnoreCase);
            if (!resnet && !File.Exists(encoderName)) throw new CliException($"--encoder {encoderName}: no such file (give resnet18 or an ONNX file)");
            var on = parse.GetValue(device);
            // ILGPU's CPU accelerator runs our training engine's kernels; ONNX Runtime has no such provider.
            if (on.IsIlgpuCpu) throw new CliException("--device ilgpu-cpu is a device of the training engine; the ONNX encoder runs on cpu or cuda[:N]");
            int b = CliOptions.Within(parse.GetValue(batch), "--batch", 1, 65536);
            int s = CliOptions.Within(parse.GetValue(size), "--size", 1, 4096);
            bool skip = parse.GetValue(onBad) == "skip";
            var err = parse.InvocationConfiguration.Error; // stderr, or the writer a caller (a test) gave
            OutputFiles.EnsureWritable(outPath);
            var data = ImageDataset.Load(parse.GetValue(images)!);

            var clock = Stopwatch.StartNew();
            var options = new ImageFeaturizerOptions
            {
                Encoder = encoderName, BatchSize = b, ImageSize = s, OutputName = parse.GetValue(outputName),
                GpuDeviceId = on.IsCuda ? on.Ordinal : null, FallbackToCpu = parse.GetValue(fallback),
                Normalize = !parse.GetValue(raw), OnBadImage = skip ? BadImageHandling.Skip : BadImageHandling.Fail,
                Progress = Throttled(err.WriteLine),
            };
            using var featurizer = new ImageFeaturizerEstimator(options).Fit(data);
            err.WriteLine($"featurize: {data.RowCount} images, encoder {featurizer.EncoderInputName} -> {featurizer.EncoderOutputName} [{featurizer.EmbeddingDimension}], {featurizer.BatchSize} per batch on {featurizer.ExecutionProvider}");
            ColumnTable result;
            ImageFeaturizationReport report;
            try
            {
                result = featurizer.Featurize(data, out report);
            }
            catch (BadImageException ex)
            {
                throw new CliException($"{ex.Message}; nothing written (--on-bad-image skip leaves unreadable images out)");
            }
            foreach (var (sk, i) in report.Skipped.Select((x, i) => (x, i)))
            {
                if (i == 20)
                {
                    err.WriteLine($"  ... and {report.Skipped.Count - 20} more");
                    break;
                }
                if (i == 0) err.WriteLine($"skipped {report.Skipped.Count} unreadable image(s):");
                err.WriteLine($"  row {sk.Row}: {sk.Path} {sk.Reason}");
            }
            if (result.RowCount == 0) throw new CliException($"--images {parse.GetValue(images)}: no image could be read; nothing written");
            // t first, then what the posterior reads, then where each row came from.
            var view = new ColumnTable.Builder()
                .AddVector(ImageDataset.ParameterColumnName, 2, result.GetColumn<float>(ImageDataset.ParameterColumnName).ToArray())
                .AddVector(options.OutputColumnName, featurizer.EmbeddingDimension, result.GetColumn<float>(options.OutputColumnName).ToArray())
                .AddScalar(ImageDataset.ImageColumnName, result.GetColumn<string>(ImageDataset.ImageColumnName).ToArray());
            foreach (var kv in result.Schema.Metadata) view.AddMetadata(kv.Key, kv.Value);
            ArrowDataFile.Write(view.Build(), outPath);
            Console.Out.WriteLine(string.Create(Inv,
                $"wrote {result.RowCount} rows (t, features[{featurizer.EmbeddingDimension}], image) to {outPath}: encoder {featurizer.Encoder} (sha256 {featurizer.EncoderSha256[..12]}...), " +
                $"{(options.Normalize ? "unit-length" : "raw")} embeddings, {report.Skipped.Count} skipped, {clock.Elapsed.TotalSeconds:F1} s ({report.ImagesPerSecond:F1} images/s)"));
            return 0;
        });
        return command;
    }

    /// <summary>`hessian simulate shapes --grid N --size S --out DIR`: the shape pictures of <see cref="ShapePictures"/> (a known phase boundary).</summary>
    internal static Command SimulateShapes()
    {
        var grid = CliOptions.Value("--grid", "N: pictures at the N x N cell centres of [0, 1]^2", 24);
        var side = CliOptions.Value("--size", "picture side in pixels", 64);
        var output = CliOptions.RequiredPath("--out", "folder for the PNGs (named ..._a<t1>_b<t2>.png, what featurize reads); created, must be empty or absent");
        var command = new Command("shapes",
            "Pictures over t in [0, 1]^2 with a known phase change: a disc below t2 = 0.3 + 0.4 t1^2, a square above; size and colour follow t.")
        {
            grid, side, output,
        };
        command.SetAction(parse =>
        {
            int n = CliOptions.Within(parse.GetValue(grid), "--grid", 1, 1000);
            int s = CliOptions.Within(parse.GetValue(side), "--size", 8, 4096);
            string dir = parse.GetValue(output)!;
            if (File.Exists(dir)) throw new CliException($"--out {dir} is a file; give a folder");
            if (Directory.Exists(dir) && Directory.EnumerateFileSystemEntries(dir).Any())
                throw new CliException($"--out {dir} is not empty; give a new or empty folder");
            var paths = ShapePictures.WriteFolder(dir, n, s);
            Console.Out.WriteLine($"wrote {paths.Count} pictures ({s} x {s}) to {dir}: disc below t2 = 0.3 + 0.4 t1^2, square above");
            return 0;
        });
        return command;
    }

    /// <summary>Every line for the first 2 s, then at most one a second (and always the last batch's).</summary>
    private static Action<string> Throttled(Action<string> write)
    {
        var clock = Stopwatch.StartNew();
        long last = -1000;
        return line =>
        {
            long ms = clock.ElapsedMilliseconds;
            bool lastBatch = line.Contains("images (", StringComparison.Ordinal) && IsLast(line);
            if (ms < 2000 || ms - last >= 1000 || lastBatch)
            {
                last = ms;
                write(line);
            }
        };
        static bool IsLast(string line)
        {
            // "featurize: batch b/n, ..." : the last when b == n.
            int at = line.IndexOf("batch ", StringComparison.Ordinal), slash = line.IndexOf('/', at + 6), comma = line.IndexOf(',', slash + 1);
            return at >= 0 && slash > 0 && comma > 0 && line[(at + 6)..slash] == line[(slash + 1)..comma];
        }
    }

    /// <summary>`hessian run images --features FEATURES.arrow --grid K --out DIR`.</summary>
    internal static Command RunImages()
    {
        var features = CliOptions.RequiredPath("--features", "a features dataset (.arrow) with columns t (2 floats) and features, as `hessian featurize` writes");
        var grid = CliOptions.Value("--grid", "K: posterior grid and output tables are K x K cells of the data's t box", 24);
        var lambda = new Option<double?>("--lambda") { Description = "inverse temperature of eq. 16 (default: d / (2 m), see FeatureDistancePosteriorOptions.Lambda)" };
        var width = new Option<double?>("--posterior-width")
        {
            Description = "instead of --lambda: the posterior's width in cells inside a phase, lambda from the features' median speed " +
                          "(the rule for deterministic generators, as the diffusion runs; 3 there)",
            HelpName = "CELLS",
        };
        var splines = CliOptions.Value("--splines", "B-spline basis functions per axis of psi (0: min(16, K), no more than the grid resolves)", 0);
        var seed = CliOptions.Value("--seed", "seed of the split and of psi's fit", 1);
        var points = CliOptions.Value("--points", "points on each geodesic, ends included", 90);
        var output = new Option<string>("--out")
        {
            Description = "output folder; files in it are replaced only when the run succeeds", HelpName = "DIR",
            DefaultValueFactory = _ => Path.Combine("runs", "images"),
        };
        var command = new Command("images",
            "The method on image embeddings: features -> feature-distance posterior (eq. 16-19) -> psi -> Fisher metric, its heat maps and two geodesics.")
        {
            features, grid, lambda, width, splines, seed, points, output,
        };
        command.SetAction(parse =>
        {
            string path = parse.GetValue(features)!;
            if (!File.Exists(path)) throw new CliException($"--features {path}: no such file");
            int k = CliOptions.Within(parse.GetValue(grid), "--grid", 2, 128);
            int n = CliOptions.Within(parse.GetValue(points), "--points", 2, 100000);
            int s = parse.GetValue(splines) is 0 ? Math.Max(4, Math.Min(16, k)) : CliOptions.Within(parse.GetValue(splines), "--splines", 4, 64);
            double? lam = parse.GetValue(lambda);
            if (lam is { } l && !(l > 0 && double.IsFinite(l))) throw new CliException($"--lambda {l} must be a positive number");
            double? cells = parse.GetValue(width);
            if (cells is { } c && !(c > 0 && double.IsFinite(c))) throw new CliException($"--posterior-width {c} must be a positive number of cells");
            if (cells is not null && lam is not null) throw new CliException("give --lambda or --posterior-width, not both");
            string dir = parse.GetValue(output)!;
            if (File.Exists(dir)) throw new CliException($"--out {dir} is a file; give a folder");
            OutputFiles.EnsureWritable(Path.Combine(dir, SummaryFileName));

            var err = parse.InvocationConfiguration.Error;
            var data = ReadFeatures(path, k, err, out var pictures);
            var t = data.GetColumn<float>("t").Span;
            (float[], string[])? pictureRows = pictures is null ? null : (t.ToArray(), pictures);
            var box = BoxOf(t);
            if (!box.IsProper) throw new CliException($"--features {path}: every row has the same t1 or t2 ({box}); the box needs a positive width on both axes");
            if (cells is { } w) lam = HessianML.Evaluation.Diffusion.DiffusionRun.PosteriorLambda(data, box, k, w);
            int seedValue = parse.GetValue(seed);
            var hessian = new Microsoft.ML.MLContext(seedValue).Hessian();
            Action<string> say = err.WriteLine;
            var clock = Stopwatch.StartNew();
            var pipeline = Microsoft.ML.LearningPipelineExtensions.Append(
                hessian.FeatureDistancePosterior(new FeatureDistancePosteriorOptions { Grid = k, Box = box, Lambda = lam, Seed = seedValue }),
                hessian.LogPartition(new LogPartitionOptions
                {
                    // The paper's JSD fit: log-posterior least squares assumes an exponential family in t, which a
                    // feature-distance posterior is not (its log is linear in mu(t'), not in t'), and it measured ill-posed here.
                    SplineCount = s, Seed = (ulong)seedValue, Progress = say, Fit = PsiFit.Jsd,
                }))
                .Append(hessian.FisherMetric());
            say($"fit: {data.RowCount} rows, features[{data.Schema["features"].Type.VectorLength}], box {box}, {k}x{k} grid");
            var model = pipeline.Fit(data);
            var fitted = LogPartitionTransformer.FindIn(model);
            var posterior = model.OfType<FeatureDistancePosteriorTransformer>().Single();
            double fitSeconds = clock.Elapsed.TotalSeconds;
            var field = fitted.Psi.Field(box, k);

            // Geodesics between the corner cells' centres, both diagonals.
            var centres = box.CellCentres(k, k);
            var lo = (centres[0], centres[1]);
            var hi = (centres[^2], centres[^1]);
            var corners = new[] { (lo, hi), ((lo.Item1, hi.Item2), (hi.Item1, lo.Item2)) };
            var geodesic = new GeodesicTransformer(fitted, new GeodesicOptions { Points = n });
            var paths = corners.Select(c => geodesic.Solve(c.Item1.Item1, c.Item1.Item2, c.Item2.Item1, c.Item2.Item2)).ToArray();

            var written = StagedFolder.Write(dir, stage =>
            {
                ModelFiles.Save(model.LastTransformer, ModelFiles.ParameterSchema, Path.Combine(stage, "model.zip"));
                field.WriteCsv(Path.Combine(stage, "metric.csv"));
                for (int i = 0; i < paths.Length; i++)
                    GeodesicCommand.WriteCsv(paths[i], corners[i].Item1, corners[i].Item2, Path.Combine(stage, $"geodesic-{i + 1}.csv"));
                var summary = new System.Text.Json.Nodes.JsonObject
                {
                    ["features"] = Path.GetFullPath(path),
                    ["rows"] = data.RowCount,
                    ["embedding_dim"] = data.Schema["features"].Type.VectorLength,
                    ["encoder_sha256"] = data.Schema.Metadata.TryGetValue(ImageFeaturizerTransformer.EncoderSha256Key, out var sha) ? sha : null,
                    ["box"] = new System.Text.Json.Nodes.JsonArray(box.Lo1, box.Hi1, box.Lo2, box.Hi2),
                    ["grid"] = k,
                    ["lambda"] = posterior.Lambda,
                    ["fit"] = "jsd",
                    ["splines"] = s,
                    ["seed"] = seedValue,
                    ["geodesic_lengths"] = new System.Text.Json.Nodes.JsonArray([.. paths.Select(p => (System.Text.Json.Nodes.JsonNode?)p.Length)]),
                    ["fit_seconds"] = Math.Round(fitSeconds, 2),
                };
                File.WriteAllText(Path.Combine(stage, SummaryFileName), summary.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }) + "\n");
                ImageRunFigures.Write(fitted.Psi, k, n, stage, pictureRows,
                [
                    ("rows", data.RowCount.ToString(Inv)), ("box", box.ToString()), ("grid", $"{k}x{k}"),
                    ("lambda", posterior.Lambda.ToString("G4", Inv)), ("psi", $"{fitted.Psi.Parametrisation}, fit jsd, {s} splines per axis"),
                ], CliOptions.Typed(parse));
            });
            var o = Console.Out;
            o.WriteLine(string.Create(Inv, $"feature-distance posterior {k}x{k} on {box}: lambda {posterior.Lambda:G4}; psi {fitted.Psi.Parametrisation}, fit jsd ({fitSeconds:F1} s)"));
            for (int i = 0; i < paths.Length; i++)
                o.WriteLine(string.Create(Inv,
                    $"geodesic {i + 1}: ({corners[i].Item1.Item1:G4}, {corners[i].Item1.Item2:G4}) -> ({corners[i].Item2.Item1:G4}, {corners[i].Item2.Item2:G4}), length {paths[i].Length:G6}"));
            o.WriteLine($"wrote {string.Join(", ", written.Select(Path.GetFileName))} to {dir}");
            return 0;
        });
        return command;
    }

    /// <summary>The features file as t + features (other columns dropped: the model's input schema is what the posterior reads).</summary>
    /// <remarks><paramref name="pictures"/>: the image column (each row's picture file) when the file has one, for the figures.</remarks>
    private static ColumnTable ReadFeatures(string path, int k, TextWriter err, out string[]? pictures)
    {
        var all = ArrowDataFile.Read(path);
        try
        {
            new ComponentColumns("run images", [("t", ColumnType.Vector(ItemKind.Float32, 2)), ("features", ColumnType.VariableVector(ItemKind.Float32))], []).Check(all.MlSchema);
        }
        catch (SchemaException ex)
        {
            throw new CliException($"--features {path}: {ex.Message}");
        }
        if (all.RowCount < 2) throw new CliException($"--features {path}: {all.RowCount} row(s); the posterior needs at least 2");
        pictures = all.Schema.TryGetColumn(ImageDataset.ImageColumnName, out var image) && image.Type == ColumnType.Scalar(ItemKind.String)
            ? all.GetColumn<string>(ImageDataset.ImageColumnName).ToArray() : null;
        var view = new ColumnTable.Builder()
            .AddVector("t", 2, all.GetColumn<float>("t").ToArray())
            .AddVector("features", all.Schema["features"].Type.VectorLength, all.GetColumn<float>("features").ToArray());
        foreach (var kv in all.Schema.Metadata) view.AddMetadata(kv.Key, kv.Value);
        if (all.RowCount < k * k)
            err.WriteLine($"note: {all.RowCount} rows for {k * k} cells: cells without a training row have no centroid (see FeatureDistancePosterior)");
        return view.Build();
    }

    private static ParameterBox BoxOf(ReadOnlySpan<float> t)
    {
        double lo1 = double.PositiveInfinity, hi1 = double.NegativeInfinity, lo2 = double.PositiveInfinity, hi2 = double.NegativeInfinity;
        for (int i = 0; i < t.Length; i += 2)
        {
            if (!float.IsFinite(t[i]) || !float.IsFinite(t[i + 1])) throw new CliException($"row {i / 2} has t = ({t[i]}, {t[i + 1]}): not finite");
            (lo1, hi1) = (Math.Min(lo1, t[i]), Math.Max(hi1, t[i]));
            (lo2, hi2) = (Math.Min(lo2, t[i + 1]), Math.Max(hi2, t[i + 1]));
        }
        // t is stored as float: widen each bound by its shortest decimal form, so the box prints as the data reads (0.0017, not 0.0017000000225380063).
        static double D(double f) => double.Parse(((float)f).ToString("R", Inv), Inv);
        // ... but never inside the data: a bound that the short form moved inwards stays as it was.
        return new ParameterBox(Math.Min(D(lo1), lo1), Math.Max(D(hi1), hi1), Math.Min(D(lo2), lo2), Math.Max(D(hi2), hi2));
    }
}
