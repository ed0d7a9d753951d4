using BenchmarkDotNet.Attributes;
using HessianML.Tensors;

namespace HessianML.Bench;

/// <summary>
/// The three hot GEMM shapes of one log-partition MLP training step (4096-row grid, 512-wide layers):
/// forward Y = X W^T (NT), backward dX = dY W (NN) and dW = dY^T X (TN, accumulating).
/// </summary>
[MemoryDiagnoser]
public class GemmBenchmarks
{
    public const int Rows = 4096, Width = 512;

    private float[] _x = [], _w = [], _y = [], _dw = [];

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(42);
        _x = Fill(rng, Rows * Width);
        _w = Fill(rng, Width * Width);
        _y = new float[Rows * Width];
        _dw = new float[Width * Width];
    }

    internal static float[] Fill(Random rng, int length)
    {
        var v = new float[length];
        for (int i = 0; i < length; i++) v[i] = (float)(2 * rng.NextDouble() - 1);
        return v;
    }

    /// <summary>Forward: Y[4096x512] = X[4096x512] * W^T, W stored out x in.</summary>
    [Benchmark(Baseline = true)]
    public void ForwardNT() => Gemm.Multiply(_x, _w, _y, Rows, Width, Width, transB: true);

    /// <summary>Backward data: dX[4096x512] = dY[4096x512] * W.</summary>
    [Benchmark]
    public void BackwardNN() => Gemm.Multiply(_x, _w, _y, Rows, Width, Width);

    /// <summary>Backward weights: dW[512x512] += dY^T * X over the 4096 rows.</summary>
    [Benchmark]
    public void WeightGradTN() => Gemm.Multiply(_x, _x, _dw, Width, Width, Rows, transA: true, accumulate: true);
}
