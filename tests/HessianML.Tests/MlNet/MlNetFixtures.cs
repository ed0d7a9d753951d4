using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using HessianML.Data;
using HessianML.Geometry;
using HessianML.Posterior;
using HessianML.Systems.Ising;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace HessianML.Tests.MlNet;

/// <summary>
/// Small, seeded inputs for the ML.NET tests of every component, and the tools to compare what a fitted model, a model
/// loaded in this process, a prediction engine and a model loaded in a child process (<see cref="RunProbe"/>) give.
/// </summary>
internal static class MlNetFixtures
{
    /// <summary>A fresh folder under the temp folder (the caller deletes it).</summary>
    public static string TempFolder(string name)
    {
        string dir = Path.Combine(Path.GetTempPath(), $"hml-{name}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>
    /// A smooth spline psi on [0, 1] x [-0.5, 0.5] (least squares through a convex function at 24 x 24 cell centres):
    /// no data, no training, so every psi-consuming test starts from the same exact object.
    /// </summary>
    public static LogPartitionTransformer SplinePsi()
    {
        var box = new ParameterBox(0, 1, -0.5, 0.5);
        const int k = 24;
        var centres = box.CellCentres(k, k);
        var values = new double[k * k];
        for (int i = 0; i < k * k; i++)
        {
            double x = centres[2 * i], y = centres[2 * i + 1];
            values[i] = Math.Log(1 + Math.Exp(4 * x)) + 2 * y * y + 0.5 * x * y + Math.Exp(2 * y) * 0.3;
        }
        var spline = LogPartitionTrainer.SplineLeastSquares(box, 8, centres, values, 1e-6);
        return new LogPartitionTransformer(new SplinePsi(spline), k);
    }

    /// <summary>Posteriors of the quadratic psi = t1^2 + t2^2 / 2 on a 10 x 10 grid of [-1, 1]^2 (t, posterior and the grid metadata).</summary>
    public static ColumnTable QuadraticPosteriors(int rows, ulong seed)
    {
        var box = new ParameterBox(-1, 1, -1, 1);
        const int k = 10;
        var c = box.CellCentres(k, k);
        var psiGrid = Enumerable.Range(0, k * k).Select(i => 0.5 * (2 * c[2 * i] * c[2 * i] + c[2 * i + 1] * c[2 * i + 1])).ToArray();
        var (t, p) = SyntheticPosteriors.Generate(box, k, psiGrid, (a, b) => (2 * a, b), 12, rows, seed);
        return SyntheticPosteriors.ToDataView(box, k, t, p);
    }

    /// <summary>Ising samples on a 4 x 4 torus, short chains: enough structure for a network to train on, generated in milliseconds.</summary>
    public static ColumnTable IsingSamples(int rows, ulong seed) =>
        IsingSimulation.Generate(new IsingSimulationSettings { Size = 4, Samples = rows, Seed = seed, Sweeps = 10, ClusterEvery = 5 });

    /// <summary>A PosteriorGrid small enough to fit in well under a second on 2 cores.</summary>
    public static PosteriorGridOptions TinyGrid(int bundle) => new()
    {
        Grid = 4, BundleSize = bundle, NeighbourCount = Math.Max(4, bundle), Epochs = 2, Channels = 4, Hidden = 16, BatchSize = 64,
        Seed = 11, TestFraction = 0.25,
    };

    /// <summary>Features f = (t1, t2, t1 t2) + seeded Gaussian noise (sd 0.05) at uniform t in [0, 1] x [-0.5, 0.5].</summary>
    public static (float[] T, float[] Features) NoisyFeatures(int rows, int seed)
    {
        var rng = new Random(seed);
        var t = new float[2 * rows];
        var f = new float[3 * rows];
        double Gauss() => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        for (int r = 0; r < rows; r++)
        {
            double a = rng.NextDouble(), b = rng.NextDouble() - 0.5;
            (t[2 * r], t[2 * r + 1]) = ((float)a, (float)b);
            (f[3 * r], f[3 * r + 1], f[3 * r + 2]) = ((float)(a + 0.05 * Gauss()), (float)(b + 0.05 * Gauss()), (float)(a * b + 0.05 * Gauss()));
        }
        return (t, f);
    }

    /// <summary>Points inside the spline psi's box, n x 2.</summary>
    public static float[] PointsInBox(int n, int seed)
    {
        var rng = new Random(seed);
        var t = new float[2 * n];
        for (int i = 0; i < n; i++) (t[2 * i], t[2 * i + 1]) = ((float)(0.05 + 0.9 * rng.NextDouble()), (float)(-0.45 + 0.9 * rng.NextDouble()));
        return t;
    }

    // ---- reading and comparing outputs ----

    /// <summary>Every row's value of a numeric (Boolean: 1/0; key: its index, 0 = missing) scalar or vector column, as doubles (exact for Float32 too).</summary>
    public static double[][] Read(IDataView view, string column) => ReadAll(view, column)[column];

    /// <summary>
    /// <see cref="Read"/> for several columns through one cursor (a loaded model computes its rows once per cursor:
    /// one pass for all the columns).
    /// </summary>
    public static Dictionary<string, double[][]> ReadAll(IDataView view, params string[] columns)
    {
        var cols = columns.Select(c => view.Schema.GetColumnOrNull(c) ?? throw new AssertFailedException(
            $"column '{c}' not in the output ({ColumnTable.Describe(view.Schema)})")).ToArray();
        using var cursor = view.GetRowCursor(cols);
        var readers = cols.Select(c => Reader(cursor, c)).ToArray();
        var rows = cols.Select(_ => new List<double[]>()).ToArray();
        while (cursor.MoveNext())
            for (int i = 0; i < cols.Length; i++) rows[i].Add(readers[i]());
        return columns.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => rows[x.i].ToArray());
    }

    private static Func<double[]> Reader(DataViewRowCursor cursor, DataViewSchema.Column col)
    {
        var item = col.Type is VectorDataViewType v ? v.ItemType : col.Type;
        return item.RawType switch
        {
            var t when t == typeof(float) => Reader<float>(cursor, col, x => x),
            var t when t == typeof(double) => Reader<double>(cursor, col, x => x),
            var t when t == typeof(sbyte) => Reader<sbyte>(cursor, col, x => x),
            var t when t == typeof(int) => Reader<int>(cursor, col, x => x),
            var t when t == typeof(long) => Reader<long>(cursor, col, x => x),
            var t when t == typeof(uint) => Reader<uint>(cursor, col, x => x),
            var t when t == typeof(bool) => Reader<bool>(cursor, col, x => x ? 1 : 0),
            _ => throw new AssertFailedException($"column '{col.Name}' has type {col.Type}, not numeric"),
        };
    }

    private static Func<double[]> Reader<T>(DataViewRowCursor cursor, DataViewSchema.Column col, Func<T, double> convert)
    {
        if (col.Type is VectorDataViewType)
        {
            var getVector = cursor.GetGetter<VBuffer<T>>(col);
            var buffer = default(VBuffer<T>);
            return () =>
            {
                getVector(ref buffer);
                return [.. buffer.DenseValues().Select(convert)];
            };
        }
        var get = cursor.GetGetter<T>(col);
        T value = default!;
        return () =>
        {
            get(ref value);
            return [convert(value)];
        };
    }

    /// <summary>Bit-for-bit equality of two columns' rows (the same computation on both sides).</summary>
    /// <summary>
    /// The columns of the fitted model's batch Transform, of the loaded model here and of the loaded model in a child
    /// process (<see cref="RunProbe"/>), identical: the tests of components whose batch and row forms share one code path.
    /// </summary>
    public static void AssertSameFittedLoadedAndChild(IDataView fitted, IDataView loadedHere, string zip, IDataView input, string dir, params string[] columns)
    {
        var batch = ReadAll(fitted, columns);
        var here = ReadAll(loadedHere, columns);
        var child = RunProbe(zip, input, dir, columns);
        foreach (var c in columns)
        {
            AssertIdentical(batch[c], here[c], $"{c}: fitted vs loaded");
            AssertIdentical(here[c], child[c], $"{c}: loaded here vs in a child process");
        }
    }

    public static void AssertIdentical(double[][] expected, double[][] actual, string what)
    {
        Assert.HasCount(expected.Length, actual, $"{what}: row count");
        for (int r = 0; r < expected.Length; r++)
        {
            Assert.HasCount(expected[r].Length, actual[r], $"{what}: row {r} length");
            for (int j = 0; j < expected[r].Length; j++)
                if (BitConverter.DoubleToInt64Bits(expected[r][j]) != BitConverter.DoubleToInt64Bits(actual[r][j]))
                    Assert.Fail($"{what}: row {r} item {j}: {expected[r][j]:R} vs {actual[r][j]:R}");
        }
    }

    /// <summary>|a - e| &lt;= tolerance * max(1, |e|) item by item (a different code path for the same numbers).</summary>
    public static void AssertClose(double[][] expected, double[][] actual, double tolerance, string what)
    {
        Assert.HasCount(expected.Length, actual, $"{what}: row count");
        for (int r = 0; r < expected.Length; r++)
        {
            Assert.HasCount(expected[r].Length, actual[r], $"{what}: row {r} length");
            for (int j = 0; j < expected[r].Length; j++)
                Assert.AreEqual(expected[r][j], actual[r][j], tolerance * Math.Max(1, Math.Abs(expected[r][j])), $"{what}: row {r} item {j}");
        }
    }

    /// <summary>Saves <paramref name="model"/>, loads it in a fresh context and returns the loaded model and its input schema.</summary>
    public static (ITransformer Model, DataViewSchema Schema) SaveAndLoad(MLContext ml, ITransformer model, DataViewSchema inputSchema, string path)
    {
        ml.Model.Save(model, inputSchema, path);
        var loaded = new MLContext().Model.Load(path, out var schema);
        return (loaded, schema);
    }

    // ---- the child process ----

    /// <summary>
    /// Writes <paramref name="input"/> as an ML.NET binary data file, runs the probe (a plain ML.NET console app, see
    /// tests/HessianML.LoadProbe) on <paramref name="zip"/> and it, and returns the columns it printed, parsed.
    /// </summary>
    public static Dictionary<string, double[][]> RunProbe(string zip, IDataView input, string dir, params string[] columns)
    {
        string data = Path.Combine(dir, $"probe-input-{Guid.NewGuid():N}.idv");
        using (var stream = File.Create(data)) new MLContext().Data.SaveAsBinary(input, stream);
        var start = new ProcessStartInfo(DotnetHost(), [ProbePath(), zip, data, .. columns])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(start) ?? throw new AssertFailedException("could not start the load probe");
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(60_000))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail("the load probe did not finish in 60 s");
        }
        Assert.AreEqual(0, process.ExitCode, $"load probe failed: {stderr.Result}");
        return ParseProbe(stdout, columns);
    }

    // One line per row: the columns separated by tabs, a vector's items by spaces, invariant culture, round-trip digits.
    private static Dictionary<string, double[][]> ParseProbe(string stdout, string[] columns)
    {
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToList();
        Assert.IsNotEmpty(lines, "the probe printed nothing");
        Assert.AreEqual(string.Join('\t', columns), lines[0], "the probe's header");
        var result = columns.ToDictionary(c => c, _ => new double[lines.Count - 1][]);
        for (int r = 1; r < lines.Count; r++)
        {
            var cells = lines[r].Split('\t');
            Assert.HasCount(columns.Length, cells, $"probe line {r}: '{lines[r]}'");
            for (int c = 0; c < columns.Length; c++)
                result[columns[c]][r - 1] = cells[c].Length == 0 ? []
                    : [.. cells[c].Split(' ').Select(s => double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture))];
        }
        return result;
    }

    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";

    /// <summary>
    /// The probe's dll: where the build put it (recorded in this assembly by the test project), else beside this test
    /// assembly's folder with the project name swapped (tests/HessianML.Tests/bin/C/TF -> tests/HessianML.LoadProbe/bin/C/TF).
    /// </summary>
    private static string ProbePath()
    {
        var recorded = typeof(MlNetFixtures).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "LoadProbePath")?.Value;
        if (recorded is not null && File.Exists(recorded)) return recorded;
        string here = AppContext.BaseDirectory;
        string swapped = Path.Combine(here.Replace(
            $"{Path.DirectorySeparatorChar}HessianML.Tests{Path.DirectorySeparatorChar}",
            $"{Path.DirectorySeparatorChar}HessianML.LoadProbe{Path.DirectorySeparatorChar}", StringComparison.Ordinal), "HessianML.LoadProbe.dll");
        if (File.Exists(swapped)) return swapped;
        throw new AssertFailedException($"the load probe was not built: looked for '{recorded}' and '{swapped}' (build the solution, or tests/HessianML.LoadProbe)");
    }
}
