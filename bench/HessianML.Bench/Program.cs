using System.Diagnostics;
using BenchmarkDotNet.Running;
using HessianML.Bench;
using HessianML.Tensors;

// `dotnet run -c Release -- quick [seconds]` prints GFLOP/s from a plain Stopwatch loop (fast sanity check);
// anything else goes to BenchmarkDotNet, e.g. `dotnet run -c Release -- --filter *Gemm*`.
if (args.Length > 0 && args[0] == "quick")
{
    double seconds = args.Length > 1 ? double.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 1.0;
    var rng = new Random(1);
    (string Name, int M, int N, int K, bool TA, bool TB, bool Acc)[] shapes =
    [
        ("NT 4096x512x512 (forward)", 4096, 512, 512, false, true, false),
        ("NN 4096x512x512 (dX)", 4096, 512, 512, false, false, false),
        ("TN 512x512x4096 (dW, acc)", 512, 512, 4096, true, false, true),
        ("NT 128x512x512 (batch fwd)", 128, 512, 512, false, true, false),
        ("NN 128x512x512 (batch dX)", 128, 512, 512, false, false, false),
        ("TN 512x512x128 (batch dW)", 512, 512, 128, true, false, true),
        ("NT 4096x512x2 (input layer)", 4096, 512, 2, false, true, false),
        ("NT 4096x1x512 (output layer)", 4096, 1, 512, false, true, false),
        ("NN 4096x512x1 (output dX)", 4096, 512, 1, false, false, false),
        ("TN 1x512x4096 (output dW)", 1, 512, 4096, true, false, true),
    ];
    foreach (var (name, m, n, k, ta, tb, acc) in shapes)
    {
        float[] a = GemmBenchmarks.Fill(rng, m * k), b = GemmBenchmarks.Fill(rng, k * n), c = new float[m * n];
        for (int i = 0; i < 3; i++) Gemm.Multiply(a, b, c, m, n, k, ta, tb, acc); // JIT tiers + pool warm-up
        var sw = Stopwatch.StartNew();
        int reps = 0;
        double best = double.MaxValue;
        while (sw.Elapsed.TotalSeconds < seconds)
        {
            long t0 = Stopwatch.GetTimestamp();
            Gemm.Multiply(a, b, c, m, n, k, ta, tb, acc);
            best = Math.Min(best, Stopwatch.GetElapsedTime(t0).TotalSeconds);
            reps++;
        }
        double mean = sw.Elapsed.TotalSeconds / reps, flop = 2.0 * m * n * k;
        Console.WriteLine($"{name,-28} mean {mean * 1e3,8:F3} ms  {flop / mean / 1e9,7:F1} GFLOP/s   " +
            $"best {best * 1e3,8:F3} ms  {flop / best / 1e9,7:F1} GFLOP/s  ({reps} reps)");
    }
    // Double precision, forward shape: half the SIMD lanes, so about half the float rate is the expectation.
    {
        const int m = 4096, n = 512, k = 512;
        var a = new double[m * k];
        var b = new double[k * n];
        var c = new double[m * n];
        for (int i = 0; i < a.Length; i++) a[i] = rng.NextDouble();
        for (int i = 0; i < b.Length; i++) b[i] = rng.NextDouble();
        for (int i = 0; i < 3; i++) Gemm.Multiply(a, b, c, m, n, k, transB: true);
        var sw = Stopwatch.StartNew();
        int reps = 0;
        while (sw.Elapsed.TotalSeconds < seconds) { Gemm.Multiply(a, b, c, m, n, k, transB: true); reps++; }
        double mean = sw.Elapsed.TotalSeconds / reps;
        Console.WriteLine($"{"double NT 4096x512x512",-28} mean {mean * 1e3,8:F3} ms  {2.0 * m * n * k / mean / 1e9,7:F1} GFLOP/s  ({reps} reps)");
    }
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(GemmBenchmarks).Assembly).Run(args);
