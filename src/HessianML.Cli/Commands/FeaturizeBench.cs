using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using HessianML.Cli.Infrastructure;
using HessianML.Data;
using HessianML.Features;
using HessianML.Imaging;
using HessianML.Systems;
using Microsoft.ML;
using Microsoft.ML.OnnxRuntime;

namespace HessianML.Cli;

/// <summary>
/// `hessian bench featurize`: N pictures through the ResNet18 featuriser (paths in, features out: decoding, preprocessing
/// and the batched encoder), beside (a) the same network on the same images' preprocessed pixels, prepared before the
/// clock, through a bare loop of batched <see cref="InferenceSession.Run(IReadOnlyCollection{NamedOnnxValue})"/> calls
/// (the floor: ONNX Runtime alone), and (b) ML.NET's own chain on the same encoder, LoadImages -> ResizeImages ->
/// ExtractPixels -> DnnFeaturizeImage(ResNet18), which runs ONNX Runtime once per row. Passes alternate between the
/// three, after one warm-up pass each; the median of the timed passes is reported, with both ratios.
/// </summary>
internal static class FeaturizeBench
{
    internal static Command Create()
    {
        var images = CliOptions.Value("--images", "pictures (224 x 224 PNGs of the shape generator)", 256);
        var batch = CliOptions.Value("--batch", "images per encoder call, ours and the bare loop's", new ImageFeaturizerOptions().BatchSize);
        var repeats = CliOptions.Value("--repeats", "timed passes of each (after one warm-up pass); the median is reported", 3);
        var device = CliOptions.Device("where ours and the bare loop run ML.NET's chain stays on the CPU");
        var command = new Command("featurize",
            "Seconds to featurise N images with ResNet18: ours (batched) against a bare batched InferenceSession.Run loop and ML.NET's per-row DnnFeaturizeImage.")
        {
            images, batch, repeats, device,
        };
        command.SetAction(parse =>
        {
            int n = CliOptions.Within(parse.GetValue(images), "--images", 1, 100000);
            int b = CliOptions.Within(parse.GetValue(batch), "--batch", 1, 4096);
            int reps = CliOptions.Within(parse.GetValue(repeats), "--repeats", 1, 100);
            var on = parse.GetValue(device);
            var output = Console.Out;
            string dir = Path.Combine(Path.GetTempPath(), $"hessianml-bench-featurize-{Environment.ProcessId}");
            try
            {
                Run(n, b, reps, on.IsCuda ? on.Ordinal : null, dir, output);
            }
            finally
            {
                try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
            }
            return 0;
        });
        return command;
    }

    private static void Run(int n, int batch, int repeats, int? gpu, string dir, TextWriter output)
    {
        const int side = ResNet18Encoder.ImageSize, plane = 3 * side * side, d = ResNet18Encoder.Dimension;
        Directory.CreateDirectory(dir);
        var paths = new string[n];
        int perAxis = (int)Math.Ceiling(Math.Sqrt(n));
        for (int i = 0; i < n; i++)
        {
            double t1 = (i / perAxis + 0.5) / perAxis, t2 = (i % perAxis + 0.5) / perAxis;
            paths[i] = Path.Combine(dir, string.Create(CultureInfo.InvariantCulture, $"p{i:D5}.png"));
            PngWriter.Write(paths[i], ShapePictures.Render(t1, t2, side).Pixels, side, side);
        }
        var data = new ColumnTable.Builder().AddScalar("image", paths).Build();
        var ml = new MLContext(seed: 1);

        // Ours: paths -> features, everything included.
        using var ours = ml.Transforms.FeaturizeImages(new ImageFeaturizerOptions { BatchSize = batch, Normalize = false, GpuDeviceId = gpu }).Fit(data);
        float[] Ours() => ColumnTable.From(ours.Transform(data)).GetColumn<float>("features").ToArray();

        // The floor: the same fused model on a bare InferenceSession, pixels made before the clock.
        var pixels = new float[(long)n * plane];
        void Prepare() => Parallel.For(0, n, i => ClipPreprocessing.PreprocessBytes(ImageDecoder.Decode(paths[i]), side, pixels.AsSpan(i * plane, plane)));
        Prepare();
        var prepareClock = Stopwatch.StartNew();
        Prepare();
        double prepareSeconds = prepareClock.Elapsed.TotalSeconds;
        using var sessionOptions = new SessionOptions();
        if (gpu is { } g) sessionOptions.AppendExecutionProvider_CUDA(g);
        using var session = new InferenceSession(ResNet18Encoder.ModelBytes(), sessionOptions);
        float[] Bare()
        {
            var result = new float[(long)n * d];
            using var runOptions = new RunOptions();
            for (int start = 0; start < n; start += batch)
            {
                int count = Math.Min(batch, n - start);
                using var input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, pixels.AsMemory(start * plane, count * plane),
                    [count, 3, side, side]);
                using var outputs = session.Run(runOptions, [ResNet18Encoder.InputName], [input], [ResNet18Encoder.OutputName]);
                outputs[0].GetTensorDataAsSpan<float>().CopyTo(result.AsSpan(start * d, count * d));
            }
            return result;
        }

        // ML.NET's chain on the same encoder, one row per ONNX Runtime call.
        var chain = ml.Transforms.LoadImages("img", imageFolder: null, inputColumnName: "image")
            .Append(ml.Transforms.ResizeImages("img", side, side))
            .Append(ml.Transforms.ExtractPixels("px", "img"))
            .Append(ml.Transforms.DnnFeaturizeImage("dnn", m => m.ModelSelector.ResNet18(ml, m.OutputColumn, m.InputColumn), "px"))
            .Fit(data);
        float[] MlNet() => ColumnTable.From(chain.Transform(data), "dnn").GetColumn<float>("dnn").ToArray();

        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"featurize: {n} images {side} x {side}, ResNet18 (512 features), batch {batch}, {Environment.ProcessorCount} cores, ours on {ours.ExecutionProvider}; {repeats} timed passes each after a warm-up"));
        var runs = new (string Name, Func<float[]> Pass, List<double> Seconds)[]
        {
            ("ours (FeaturizeImages: decode + preprocess + batched encoder)", Ours, []),
            ("bare InferenceSession.Run loop (preprocessed pixels, batched)", Bare, []),
            ("ML.NET LoadImages -> ResizeImages -> ExtractPixels -> DnnFeaturizeImage (per row)", MlNet, []),
        };
        var first = new float[runs.Length][];
        for (int r = 0; r <= repeats; r++)
            for (int m = 0; m < runs.Length; m++)
            {
                var clock = Stopwatch.StartNew();
                var features = runs[m].Pass();
                double s = clock.Elapsed.TotalSeconds;
                if (r == 0) first[m] = features;
                else runs[m].Seconds.Add(s);
            }
        double Median(List<double> xs)
        {
            var o = xs.Order().ToArray();
            return o.Length % 2 == 1 ? o[o.Length / 2] : (o[o.Length / 2 - 1] + o[o.Length / 2]) / 2;
        }
        var med = runs.Select(x => Median(x.Seconds)).ToArray();
        for (int m = 0; m < runs.Length; m++)
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {runs[m].Name}: {med[m]:F2} s median ({n / med[m]:F1} images/s; passes {string.Join(", ", runs[m].Seconds.Select(v => v.ToString("F2", CultureInfo.InvariantCulture)))})"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  (decoding + preprocessing the {n} images alone, both cores: {prepareSeconds:F2} s, measured once before the passes)"));
        double Diff(float[] a, float[] b) => a.Zip(b, (x, y) => Math.Abs(x - y)).Max() / a.Max(v => Math.Abs(v));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  same features: ours vs bare {Diff(first[0], first[1]):E1}, ours vs ML.NET {Diff(first[0], first[2]):E1} (max |difference| / max |feature|)"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"ratios: ours / bare batched Run = {med[0] / med[1]:F3} (goal <= 1.2); ours / ML.NET per-row DnnFeaturizeImage = {med[0] / med[2]:F3} (ML.NET / ours = {med[2] / med[0]:F2}x)"));
    }
}
