using System.CommandLine;
using System.Globalization;
using HessianML.Cli.Infrastructure;
using HessianML.Data;
using HessianML.Geometry;
using HessianML.Geometry.Geodesics;
using HessianML.Pipeline;

namespace HessianML.Cli;

/// <summary>
/// `hessian geodesic --model DIR/model.zip --from A,B --to C,D [--points N] --out FILE.csv`: the shortest path
/// between two parameter points under the fitted Fisher metric, as `index,t1,t2,cumulative_length` (N rows; the first
/// and last rows are the given endpoints exactly).
/// </summary>
internal static class GeodesicCommand
{
    internal static Command Create()
    {
        var model = CliOptions.RequiredPath("--model", "a model file written by `hessian run` (or any saved pipeline with a LogPartition, FisherMetric or Geodesic component)");
        var from = new Option<string>("--from") { Description = "start point T1,T2 (inside the box psi was fitted on)", HelpName = "T1,T2" };
        var to = new Option<string>("--to") { Description = "end point T1,T2 (inside the box psi was fitted on)", HelpName = "T1,T2" };
        var pairs = new Option<string>("--pairs")
        {
            Description = "instead of --from/--to: a CSV of endpoint pairs, columns from_t1,from_t2,to_t1,to_t2; all pairs share the " +
                          "per-model precomputation and the output gains a first column `pair`",
            HelpName = "PAIRS.csv",
        };
        var points = CliOptions.Value("--points", "points on the path, ends included (90: the released code's n)", 90);
        var resolution = CliOptions.Value("--resolution", "nodes per side of the grid the metric is tabulated on", 129);
        var method = CliOptions.Value("--method", "global (Dijkstra + energy refinement) or adam (the released optimiser)", GeodesicMethod.Global);
        var output = CliOptions.RequiredPath("--out", "path CSV: index,t1,t2,cumulative_length");
        var command = new Command("geodesic",
            "The globally shortest path between two points under a fitted model's Fisher metric g = Hessian psi, as a CSV.")
        {
            model, from, to, pairs, points, resolution, method, output,
        };
        command.SetAction(parse =>
        {
            string path = parse.GetValue(output)!;
            OutputFiles.FormatOf(path, allowArrow: false);
            int n = CliOptions.Within(parse.GetValue(points), "--points", 2, 100000);
            int r = CliOptions.Within(parse.GetValue(resolution), "--resolution", 3, 4097);
            string modelPath = parse.GetValue(model)!;
            string? pairsPath = parse.GetValue(pairs);
            bool onePath = parse.GetValue(from) is not null && parse.GetValue(to) is not null;
            bool any = parse.GetValue(from) is not null || parse.GetValue(to) is not null;
            if (pairsPath is null ? !onePath : any)
                throw new CliException("give either --from and --to (one path) or --pairs (a CSV of pairs)");
            var options = new GeodesicOptions { Points = n, Resolution = r, Method = parse.GetValue(method) };
            if (pairsPath is not null)
            {
                WritePairs(modelPath, pairsPath, options, path);
                return 0;
            }
            var (a1, a2) = ParsePoint(parse.GetValue(from)!, "--from");
            var (b1, b2) = ParsePoint(parse.GetValue(to)!, "--to");
            var psi = ModelInput.LoadPsi(modelPath);
            var box = psi.Box;
            if (!box.Contains(a1, a2)) throw new CliException(Invariant($"--from {a1},{a2}: outside the box psi was fitted on, {box}"));
            if (!box.Contains(b1, b2)) throw new CliException(Invariant($"--to {b1},{b2}: outside the box psi was fitted on, {box}"));
            OutputFiles.EnsureWritable(path);
            var geodesic = new GeodesicTransformer(psi, options);
            var p = geodesic.Solve(a1, a2, b1, b2);
            WriteCsv(p, (a1, a2), (b1, b2), path);
            NoteFloor(geodesic);
            Console.Out.WriteLine(Invariant(
                $"wrote a {n}-point geodesic of {modelPath} from ({a1}, {a2}) to ({b1}, {b2}) to {path}: length {p.Length:G6}, energy {p.Energy:G6}, curvature {p.Curvature:G6}"));
            return 0;
        });
        return command;
    }

    /// <summary>Writes a path in the geodesic contract `index,t1,t2,cumulative_length`, its ends exactly the given points.</summary>
    internal static void WriteCsv(GeodesicPath p, (double T1, double T2) from, (double T1, double T2) to, string path)
    {
        var t1 = (double[])p.T1.Clone();
        var t2 = (double[])p.T2.Clone();
        (t1[0], t2[0], t1[^1], t2[^1]) = (from.T1, from.T2, to.T1, to.T2); // the inputs themselves, not computed values
        var view = new ColumnTable.Builder()
            .AddScalar("index", Enumerable.Range(0, p.Count).ToArray())
            .AddScalar("t1", t1)
            .AddScalar("t2", t2)
            .AddScalar("cumulative_length", p.CumulativeLength)
            .Build();
        CsvDataFile.Write(view, path);
    }

    /// <summary>Every pair of <paramref name="pairsPath"/> through one <see cref="GeodesicTransformer"/> (one tabulation).</summary>
    private static void WritePairs(string modelPath, string pairsPath, GeodesicOptions options, string path)
    {
        if (!File.Exists(pairsPath)) throw new CliException($"--pairs {pairsPath}: no such file");
        ColumnTable input;
        try
        {
            input = CsvDataFile.Read(pairsPath, new CsvReadOptions()
                .Vector("from", ItemKind.Float32, "from_t1", "from_t2")
                .Vector("to", ItemKind.Float32, "to_t1", "to_t2"));
        }
        catch (Exception ex) when (ex is InvalidDataException or SchemaException or FormatException or ArgumentException)
        {
            throw new CliException($"--pairs {pairsPath}: {CliErrors.OneLine(ex.Message)}");
        }
        if (input.RowCount == 0) throw new CliException($"--pairs {pairsPath}: no pairs");
        var geodesic = new GeodesicTransformer(ModelInput.LoadPsi(modelPath), options);
        OutputFiles.EnsureWritable(path);
        ColumnTable result;
        try
        {
            result = ColumnTable.From(geodesic.Transform(input));
        }
        catch (ArgumentException ex)
        {
            throw new CliException($"--pairs {pairsPath}: {CliErrors.OneLine(ex.Message)}");
        }
        int rows = input.RowCount, n = options.Points;
        var pathColumn = result.GetColumn<float>("path").Span;
        var cumulative = result.GetColumn<double>("cumulative_length").Span;
        var from = input.GetColumn<float>("from").Span;
        var to = input.GetColumn<float>("to").Span;
        var (pair, index, t1, t2, length) = (new int[rows * n], new int[rows * n], new double[rows * n], new double[rows * n], new double[rows * n]);
        for (int q = 0; q < rows; q++)
            for (int i = 0; i < n; i++)
            {
                int k = q * n + i;
                (pair[k], index[k], length[k]) = (q, i, cumulative[k]);
                (t1[k], t2[k]) = (pathColumn[2 * k], pathColumn[2 * k + 1]);
            }
        for (int q = 0; q < rows; q++) // the ends are the CSV's numbers themselves
        {
            (t1[q * n], t2[q * n]) = (from[2 * q], from[2 * q + 1]);
            (t1[q * n + n - 1], t2[q * n + n - 1]) = (to[2 * q], to[2 * q + 1]);
        }
        CsvDataFile.Write(new ColumnTable.Builder().AddScalar("pair", pair).AddScalar("index", index).AddScalar("t1", t1)
            .AddScalar("t2", t2).AddScalar("cumulative_length", length).Build(), path);
        NoteFloor(geodesic);
        var lengths = result.GetColumn<double>("length").ToArray();
        Console.Out.WriteLine(Invariant(
            $"wrote {rows} geodesics of {n} points of {modelPath} to {path}: lengths {lengths.Min():G6} to {lengths.Max():G6} (mean {lengths.Average():G6})"));
    }

    private static void NoteFloor(GeodesicTransformer geodesic)
    {
        var table = geodesic.Solver.Metric;
        // Not an error: the floor is a guard. A convex psi (log-sum-exp) is never indefinite, but its metric can be nearly
        // degenerate where the true one is (TASEP's maximal-current phase is flat).
        if (table.ClampedCount > 0)
            Console.Out.WriteLine(Invariant(
                $"note: the eigenvalue floor ({table.Floor:G3}, 1e-6 x the largest eigenvalue) fired at {table.ClampedCount} of {table.Resolution * table.Resolution} grid nodes, {table.IndefiniteCount} of them indefinite (see README, Geodesics)"));
    }

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    /// <summary>`A,B` -> (A, B): two finite numbers.</summary>
    internal static (double, double) ParsePoint(string text, string option)
    {
        var parts = text.Split(',');
        if (parts.Length == 2
            && double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out double x) && double.IsFinite(x)
            && double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double y) && double.IsFinite(y))
            return (x, y);
        throw new CliException($"{option} '{text}' is not a point T1,T2 of two numbers");
    }
}
