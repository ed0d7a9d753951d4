// HessianML inside a plain ML.NET app. Two modes:
//
//   train (default)  writes ising.csv on first run (a small 2D Ising simulation), loads it with ML.NET's text loader,
//                    fits ONE chain of stock ML.NET transforms and HessianML components, and saves model.zip:
//       dotnet run -c Release --project examples/MlNetApp [-- train [DATA_DIR]]
//
//   serve            only loads model.zip with new MLContext().Model.Load and answers PredictionEngine requests,
//                    one (beta, h) point per argument or per line of stdin:
//       dotnet run -c Release --project examples/MlNetApp -- serve DATA_DIR/model.zip 0.3,0 0.44,0 0.6,0
//       echo "0.44 0.1" | dotnet run -c Release --project examples/MlNetApp -- serve DATA_DIR/model.zip
//
// DATA_DIR defaults to hessianml-mlnetapp in the temp folder (/tmp on Linux). See README.md beside this file.
using System.Diagnostics;
using System.Globalization;
using HessianML;
using HessianML.Evaluation;
using HessianML.Geometry;
using HessianML.Posterior;
using HessianML.Systems.Ising;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
string mode = args.Length > 0 ? args[0] : "train";
return mode switch
{
    "train" => IsingApp.Train(args.Length > 1 ? args[1] : Path.Combine(Path.GetTempPath(), "hessianml-mlnetapp")),
    "serve" when args.Length > 1 => IsingApp.Serve(args[1], args[2..]),
    _ => IsingApp.Usage(),
};

/// <summary>One row of ising.csv: the parameters the sample was drawn at and its 6 x 6 spins (-1 / +1, row-major).</summary>
public sealed class IsingRow
{
    [LoadColumn(0), ColumnName("beta")] public float Beta;
    [LoadColumn(1), ColumnName("h")] public float H;
    [LoadColumn(2, 2 + IsingApp.Spins - 1), VectorType(IsingApp.Spins), ColumnName("spins")] public int[] Spins = [];
}

/// <summary>What the served model takes: a point t = (beta, h).</summary>
public sealed class ParameterPoint
{
    [ColumnName("beta")] public float Beta;
    [ColumnName("h")] public float H;
}

/// <summary>What the served model answers: psi, its gradient, the Fisher metric g = Hessian psi, and the feature vector.</summary>
public sealed class Geometry
{
    [ColumnName("psi")] public double Psi;
    [ColumnName("dpsi"), VectorType(2)] public double[] Dpsi = [];
    [ColumnName("g"), VectorType(3)] public double[] G = [];          // g11, g12, g22
    [ColumnName("g_eigen"), VectorType(2)] public double[] GEigen = [];
    [ColumnName("features"), VectorType(5)] public double[] Features = []; // (dpsi, g) standardised
}

public static class IsingApp
{
    public const int Size = 6, Spins = Size * Size;
    // The box of (beta, h) the samples are drawn from (plain numbers: serve must not need HessianML's types).
    private const double BetaLo = 0.25, BetaHi = 0.65, HLo = -0.3, HHi = 0.3;
    private static ParameterBox Box => new(BetaLo, BetaHi, HLo, HHi);

    public static int Train(string dir)
    {
        var clock = Stopwatch.StartNew();
        Directory.CreateDirectory(dir);
        string csv = Path.Combine(dir, "ising.csv"), zip = Path.Combine(dir, "model.zip");
        var mlContext = new MLContext(seed: 1);

        // 1. Data: simulate once, then reuse the CSV.
        if (File.Exists(csv)) Console.WriteLine($"[1/5] using {csv} (delete it to simulate again)");
        else WriteCsv(csv, samples: 6000);

        // 2. ML.NET's own text loader.
        IDataView data = mlContext.Data.LoadFromTextFile<IsingRow>(csv, separatorChar: ',', hasHeader: true);
        Console.WriteLine($"[2/5] mlContext.Data.LoadFromTextFile<IsingRow>: {data.Preview(maxRows: 10_000).RowView.Length} rows; " +
                          $"columns {string.Join(", ", data.Schema.Select(c => $"{c.Name} ({c.Type})"))}");

        // 3. One chain: stock transforms build t and state, HessianML's components fit the posterior, psi and the
        //    metric, stock transforms turn (dpsi, g) into a standardised feature vector for any downstream trainer.
        //    The Ising model is an exponential family, so the posterior network is the exponential-family head and psi is
        //    read off it by log-posterior least squares (as examples/IsingGeometry does, smaller).
        var hessian = mlContext.Hessian();
        var pipeline = mlContext.Transforms.Concatenate("t", "beta", "h")
            .Append(mlContext.Transforms.Conversion.ConvertType("state", "spins", DataKind.SByte))
            .Append(hessian.PosteriorGrid(new PosteriorGridOptions
            {
                Grid = 16, Box = Box, Epochs = 12, Architecture = PosteriorArchitecture.ExponentialFamily, HeadSplineCount = 16,
                Progress = m => Console.WriteLine($"      {m}"),
            }))
            .Append(hessian.LogPartition(new LogPartitionOptions { Fit = PsiFit.LogPosteriorLeastSquares, SplineCount = 16 }))
            .Append(hessian.FisherMetric())
            .Append(mlContext.Transforms.Concatenate("geometry", "dpsi", "g"))
            .Append(mlContext.Transforms.NormalizeMeanVariance("features", "geometry"));
        Console.WriteLine("[3/5] fitting Concatenate(t) -> ConvertType(state) -> PosteriorGrid -> LogPartition -> FisherMetric " +
                          "-> Concatenate(geometry) -> NormalizeMeanVariance(features)");
        var model = pipeline.Fit(data);

        // 4. How good is it? psi is learned up to a positive scale and an affine part; those are fitted away first
        //    (METHOD §7), then the metric is compared with the exact transfer-matrix answer.
        var errors = EndToEndRun.Compare(IsingExact.Field(Size, Box, 24, 24), LogPartitionTransformer.FindIn(model).Psi, Box);
        Console.WriteLine($"[4/5] against the exact transfer matrix (interior 80%): metric error {errors.Interior.MetricError:F3}, " +
                          $"NRMSE psi {errors.Interior.NrmsePsi:F3}; exact g = {errors.Interior.Scale:G3} x the model's g");

        // 5. Save what a t needs. The spins' steps (ConvertType, PosteriorGrid, LogPartition's fit) only trained psi;
        //    the served model is the fitted chain without them: beta, h -> t -> psi, dpsi, g, g_eigen -> features.
        var serving = new TransformerChain<ITransformer>(
            [.. model.Where(step => step is not (TypeConvertingTransformer or PosteriorGridTransformer or LogPartitionTransformer))]);
        var servingInput = mlContext.Data.LoadFromEnumerable(Array.Empty<ParameterPoint>()).Schema;
        mlContext.Model.Save(serving, servingInput, zip);
        Console.WriteLine($"[5/5] mlContext.Model.Save: {zip} ({new FileInfo(zip).Length / 1024} KiB; input beta, h) in {clock.Elapsed.TotalSeconds:F0} s");
        Console.WriteLine($"serve it: dotnet run -c Release --project examples/MlNetApp -- serve {zip} 0.3,0 0.44,0 0.6,0");
        return 0;
    }

    public static int Serve(string path, string[] points)
    {
        // Nothing from HessianML is called here: ML.NET finds the components' mappings by the contract names in the zip.
        var mlContext = new MLContext();
        var model = mlContext.Model.Load(path, out var inputSchema);
        var engine = mlContext.Model.CreatePredictionEngine<ParameterPoint, Geometry>(model, inputSchema);
        Console.Error.WriteLine($"loaded {path}; input {string.Join(", ", inputSchema.Select(c => c.Name))}; " +
                                (points.Length > 0 ? "points from the command line" : "reading 'beta h' or 'beta,h' lines from stdin"));
        Console.WriteLine($"{"beta",6} {"h",6} {"psi",10} {"g11",9} {"g12",9} {"g22",9} {"eig low",9} {"eig high",9}");
        IEnumerable<string> lines = points.Length > 0 ? points : ReadLines(Console.In);
        int bad = 0;
        foreach (string line in lines)
        {
            var parts = line.Split([',', ' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 0) continue;
            if (parts.Length != 2 || !float.TryParse(parts[0], CultureInfo.InvariantCulture, out float beta)
                                  || !float.TryParse(parts[1], CultureInfo.InvariantCulture, out float h))
            {
                Console.Error.WriteLine($"skipped '{line}': want two numbers, beta and h");
                bad++;
                continue;
            }
            try
            {
                var r = engine.Predict(new ParameterPoint { Beta = beta, H = h });
                // psi is fitted on the training box; outside it the numbers are an extrapolation (a convex one: g stays positive).
                string note = beta is >= (float)BetaLo and <= (float)BetaHi && h is >= (float)HLo and <= (float)HHi ? "" : "  (outside the training box: extrapolated)";
                Console.WriteLine($"{beta,6:F3} {h,6:F3} {r.Psi,10:F4} {r.G[0],9:F4} {r.G[1],9:F4} {r.G[2],9:F4} {r.GEigen[0],9:F4} {r.GEigen[1],9:F4}{note}");
            }
            catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
            {
                Console.Error.WriteLine($"({beta}, {h}): {ex.Message}");
                bad++;
            }
        }
        return bad == 0 ? 0 : 1;
    }

    public static int Usage()
    {
        Console.Error.WriteLine("usage: MlNetApp [train [DATA_DIR]] | serve MODEL.zip [beta,h ...]   (no points: read them from stdin)");
        return 2;
    }

    private static IEnumerable<string> ReadLines(TextReader reader)
    {
        while (reader.ReadLine() is { } line) yield return line;
    }

    // A small simulation (HessianML's Ising sampler: independent Metropolis + Swendsen-Wang chains, one per sample at its
    // own t drawn uniformly from the box), written as a plain CSV: beta,h,s0..s35.
    private static void WriteCsv(string csv, int samples)
    {
        var clock = Stopwatch.StartNew();
        Console.WriteLine($"[1/5] simulating {samples} {Size}x{Size} Ising samples, beta in [{Box.Lo1}, {Box.Hi1}], h in [{Box.Lo2}, {Box.Hi2}]");
        var table = IsingSimulation.Generate(new IsingSimulationSettings
        {
            Size = Size, Samples = samples, Seed = 1, BetaLo = Box.Lo1, BetaHi = Box.Hi1, FieldLo = Box.Lo2, FieldHi = Box.Hi2,
        });
        var t = table.GetColumn<float>("t").Span;
        var state = table.GetColumn<sbyte>("state").Span;
        string tmp = csv + ".tmp";
        using (var w = new StreamWriter(tmp))
        {
            w.WriteLine("beta,h," + string.Join(",", Enumerable.Range(0, Spins).Select(i => $"s{i}")));
            var line = new System.Text.StringBuilder();
            for (int i = 0; i < table.RowCount; i++)
            {
                line.Clear().Append(t[2 * i].ToString("R", CultureInfo.InvariantCulture)).Append(',')
                    .Append(t[2 * i + 1].ToString("R", CultureInfo.InvariantCulture));
                foreach (sbyte s in state.Slice(i * Spins, Spins)) line.Append(',').Append(s);
                w.WriteLine(line);
            }
        }
        File.Move(tmp, csv, overwrite: true);
        Console.WriteLine($"      wrote {csv} in {clock.Elapsed.TotalSeconds:F1} s");
    }
}
