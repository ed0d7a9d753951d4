using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace HessianML.Tensors.Devices;

/// <summary>Element-wise functions of one tensor (one kernel, the function chosen by this code).</summary>
internal enum UnaryKind
{
    Scale, AddScalar, Exp, Log, Square, Sqrt, Relu, Step, Sigmoid, Tanh, Softplus, Silu,
    /// <summary>x log x, with 0 log 0 = 0 (entropies).</summary>
    XLogX,
    /// <summary>Every element set to the constant.</summary>
    Fill,
}

/// <summary>Row-wise functions along the last axis.</summary>
internal enum RowKind { Softmax, LogSoftmax, LogSumExp }

/// <summary>
/// Up to six axes of a broadcast binary op: the output's sizes and each input's element strides along them (0 where
/// the input is broadcast). Passed by value to the kernel (ILGPU kernels take unmanaged structs, not arrays).
/// </summary>
internal struct Broadcast6
{
    public int D0, D1, D2, D3, D4, D5;
    public int A0, A1, A2, A3, A4, A5;
    public int B0, B1, B2, B3, B4, B5;

    public readonly void Offsets(int i, out int a, out int b)
    {
        int r;
        r = i % D5; i /= D5; a = r * A5; b = r * B5;
        r = i % D4; i /= D4; a += r * A4; b += r * B4;
        r = i % D3; i /= D3; a += r * A3; b += r * B3;
        r = i % D2; i /= D2; a += r * A2; b += r * B2;
        r = i % D1; i /= D1; a += r * A1; b += r * B1;
        a += i * A0; b += i * B0;
    }
}

/// <summary>The sizes of one convolution (NCHW input, OCKK weight), as the CPU engine's ConvGeometry.</summary>
internal struct ConvDims
{
    public int N, C, H, W, O, KH, KW, Stride, Padding, Circular, OH, OW;

    /// <summary>Input index of kernel tap k at output position o along an axis of size n; -1 in zero padding.</summary>
    public readonly int Source(int o, int k, int n)
    {
        int i = o * Stride - Padding + k;
        if (Circular != 0)
        {
            int r = i % n;
            return r < 0 ? r + n : r;
        }
        return i >= 0 && i < n ? i : -1;
    }
}

/// <summary>One Adam step's constants (PyTorch's rule; see <see cref="Autodiff.Adam{T}"/>).</summary>
internal struct AdamConstants
{
    public float Beta1, Beta2, StepSize, SqrtBias2, Eps, WeightDecay;
}

/// <summary>
/// The engine's kernels, compiled for one accelerator. One thread per output element everywhere (rows for row-wise
/// ops): simple and correct first; each is checked against the CPU engine on ILGPU's CPU accelerator. The two gradients
/// of a convolution add into their outputs with atomics, so on a GPU their sums are not in a fixed order (float
/// rounding differs from run to run by a few ulps; the CPU engine is bit-reproducible).
/// </summary>
internal sealed class DeviceKernels
{
    public readonly Action<Index1D, ArrayView<float>, ArrayView<float>, int, float> Map;
    public readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, Broadcast6, int> Binary;
    public readonly Action<Index1D, ArrayView<float>, ArrayView<float>, int, int> SumAxis;
    public readonly Action<Index1D, ArrayView<float>, ArrayView<float>, int, int> PartialSums;
    public readonly Action<Index1D, ArrayView<float>, ArrayView<float>, int, int> Rows;
    public readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float, int> LayerNorm;
    public readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int> MatMul;

    /// <summary>Side of the square thread groups of <see cref="MatMul"/>: 16 on a GPU, less where groups are smaller.</summary>
    public readonly int Tile;
    public readonly Action<Index1D, ArrayView<float>, ArrayView<float>, int, int, int, int, int> CopyBlocks;
    public readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ConvDims, int> ConvForward;
    public readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ConvDims> ConvInputGrad;
    public readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ConvDims> ConvWeightGrad;
    public readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AdamConstants> Adam;

    public DeviceKernels(Accelerator a)
    {
        Map = a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, float>(MapKernel);
        Binary = a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, Broadcast6, int>(BinaryKernel);
        SumAxis = a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int>(SumAxisKernel);
        PartialSums = a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int>(PartialSumsKernel);
        Rows = a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int>(RowsKernel);
        LayerNorm = a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float, int>(LayerNormKernel);
        MatMul = a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int>(MatMulKernel);
        Tile = 1;
        while (Tile < 16 && 4 * Tile * Tile <= a.MaxNumThreadsPerGroup) Tile *= 2;
        CopyBlocks = a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int, int, int, int>(CopyBlocksKernel);
        ConvForward = a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ConvDims, int>(ConvForwardKernel);
        ConvInputGrad = a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ConvDims>(ConvInputGradKernel);
        ConvWeightGrad = a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ConvDims>(ConvWeightGradKernel);
        Adam = a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AdamConstants>(AdamKernel);
    }

    private static float Sigmoid(float x) => 1f / (1f + XMath.Exp(-x));

    private static void MapKernel(Index1D i, ArrayView<float> x, ArrayView<float> y, int op, float c)
    {
        float v = x[i];
        y[i] = (UnaryKind)op switch
        {
            UnaryKind.Scale => v * c,
            UnaryKind.AddScalar => v + c,
            UnaryKind.Exp => XMath.Exp(v),
            UnaryKind.Log => XMath.Log(v),
            UnaryKind.Square => v * v,
            UnaryKind.Sqrt => XMath.Sqrt(v),
            UnaryKind.Relu => v > 0f ? v : 0f,
            UnaryKind.Step => v > 0f ? 1f : 0f,
            UnaryKind.Sigmoid => Sigmoid(v),
            UnaryKind.Tanh => XMath.Tanh(v),
            UnaryKind.Softplus => XMath.Max(v, 0f) + XMath.Log(1f + XMath.Exp(-XMath.Abs(v))),
            UnaryKind.Silu => v * Sigmoid(v),
            UnaryKind.XLogX => v > 0f ? v * XMath.Log(v) : 0f,
            _ => c,
        };
    }

    /// <summary>op: 0 a + b, 1 a - b, 2 a * b, 3 a / b, 4 a (a broadcast copy).</summary>
    private static void BinaryKernel(Index1D i, ArrayView<float> a, ArrayView<float> b, ArrayView<float> y, Broadcast6 s, int op)
    {
        s.Offsets(i, out int ia, out int ib);
        float u = a[ia];
        y[i] = op switch
        {
            0 => u + b[ib],
            1 => u - b[ib],
            2 => u * b[ib],
            3 => u / b[ib],
            _ => u,
        };
    }

    /// <summary>y[o, j] = sum over m of a[o, m, j], for a viewed as [outer, n, inner].</summary>
    private static void SumAxisKernel(Index1D i, ArrayView<float> a, ArrayView<float> y, int n, int inner)
    {
        int o = i / inner, j = i - o * inner;
        float s = 0f;
        for (int m = 0; m < n; m++) s += a[(o * n + m) * inner + j];
        y[i] = s;
    }

    /// <summary>partial[i] = sum of a[i], a[i + parts], ... (the first stage of a whole-tensor sum).</summary>
    private static void PartialSumsKernel(Index1D i, ArrayView<float> a, ArrayView<float> partial, int length, int parts)
    {
        float s = 0f;
        for (int j = i; j < length; j += parts) s += a[j];
        partial[i] = s;
    }

    /// <summary>Row r of length d of x, max-shifted: softmax or log-softmax into y's row, or log-sum-exp into y[r].</summary>
    private static void RowsKernel(Index1D r, ArrayView<float> x, ArrayView<float> y, int d, int mode)
    {
        int o = r * d;
        float m = float.NegativeInfinity;
        for (int j = 0; j < d; j++) m = XMath.Max(m, x[o + j]);
        float s = 0f;
        for (int j = 0; j < d; j++) s += XMath.Exp(x[o + j] - m);
        float lse = m + XMath.Log(s);
        if (mode == (int)RowKind.LogSumExp) { y[r] = lse; return; }
        for (int j = 0; j < d; j++)
            y[o + j] = mode == (int)RowKind.Softmax ? XMath.Exp(x[o + j] - lse) : x[o + j] - lse;
    }

    /// <summary>LayerNorm of row r (biased variance); affine bit 1: times gamma, bit 2: plus beta.</summary>
    private static void LayerNormKernel(Index1D r, ArrayView<float> x, ArrayView<float> gamma, ArrayView<float> beta,
        ArrayView<float> y, int d, float eps, int affine)
    {
        int o = r * d;
        float mean = 0f;
        for (int j = 0; j < d; j++) mean += x[o + j];
        mean /= d;
        float var = 0f;
        for (int j = 0; j < d; j++)
        {
            float c = x[o + j] - mean;
            var += c * c;
        }
        float rs = 1f / XMath.Sqrt(var / d + eps);
        for (int j = 0; j < d; j++)
        {
            float v = (x[o + j] - mean) * rs;
            if ((affine & 1) != 0) v *= gamma[j];
            if ((affine & 2) != 0) v += beta[j];
            y[o + j] = v;
        }
    }

    /// <summary>
    /// c[i, j] = sum over p of A[i, p] B[p, j]; flags bit 1: a is stored transposed ([k, m]), bit 2: b is ([n, k]).
    /// Shared-memory tiling: a group of T x T threads computes a T x T block of c, loading T x T blocks of A and B into
    /// shared memory in turn (dynamic, 2 T^2 floats), so each element of A and B is read from memory k / T times fewer.
    /// Thread (x, y) of group (gx, gy) owns c[gy T + y, gx T + x]; each sums its products in increasing p, as the naive
    /// product does.
    /// </summary>
    private static void MatMulKernel(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, int m, int k, int n, int flags)
    {
        int tile = Group.DimX;
        var shared = SharedMemory.GetDynamic<float>();
        int tx = Group.IdxX, ty = Group.IdxY;
        int i = Grid.IdxY * tile + ty, j = Grid.IdxX * tile + tx;
        bool ta = (flags & 1) != 0, tb = (flags & 2) != 0;
        int bOffset = tile * tile;
        float s = 0f;
        for (int p0 = 0; p0 < k; p0 += tile)
        {
            int pa = p0 + tx, pb = p0 + ty;
            shared[ty * tile + tx] = i < m && pa < k ? (ta ? a[pa * m + i] : a[i * k + pa]) : 0f;
            shared[bOffset + ty * tile + tx] = pb < k && j < n ? (tb ? b[j * k + pb] : b[pb * n + j]) : 0f;
            Group.Barrier();
            for (int q = 0; q < tile; q++) s += shared[ty * tile + q] * shared[bOffset + q * tile + tx];
            Group.Barrier();
        }
        if (i < m && j < n) c[i * n + j] = s;
    }

    /// <summary>Block o of dst at o * dstRow + dstOffset gets block o of src at o * srcRow + srcOffset (block elements each).</summary>
    private static void CopyBlocksKernel(Index1D i, ArrayView<float> src, ArrayView<float> dst, int block, int srcRow, int srcOffset,
        int dstRow, int dstOffset)
    {
        int o = i / block, r = i - o * block;
        dst[o * dstRow + dstOffset + r] = src[o * srcRow + srcOffset + r];
    }

    private static void ConvForwardKernel(Index1D i, ArrayView<float> x, ArrayView<float> w, ArrayView<float> bias, ArrayView<float> y,
        ConvDims g, int hasBias)
    {
        int ox = i % g.OW, t = i / g.OW, oy = t % g.OH;
        t /= g.OH;
        int o = t % g.O, n = t / g.O;
        float s = hasBias != 0 ? bias[o] : 0f;
        for (int c = 0; c < g.C; c++)
            for (int ki = 0; ki < g.KH; ki++)
            {
                int iy = g.Source(oy, ki, g.H);
                if (iy < 0) continue;
                for (int kj = 0; kj < g.KW; kj++)
                {
                    int ix = g.Source(ox, kj, g.W);
                    if (ix >= 0) s += w[((o * g.C + c) * g.KH + ki) * g.KW + kj] * x[((n * g.C + c) * g.H + iy) * g.W + ix];
                }
            }
        y[i] = s;
    }

    /// <summary>One thread per (n, c, ki, kj, oy, ox): adds sum over o of grad * weight into the input site it read.</summary>
    private static void ConvInputGradKernel(Index1D i, ArrayView<float> grad, ArrayView<float> w, ArrayView<float> gx, ConvDims g)
    {
        int ox = i % g.OW, t = i / g.OW, oy = t % g.OH;
        t /= g.OH;
        int kj = t % g.KW;
        t /= g.KW;
        int ki = t % g.KH;
        t /= g.KH;
        int c = t % g.C, n = t / g.C;
        int iy = g.Source(oy, ki, g.H), ix = g.Source(ox, kj, g.W);
        if (iy < 0 || ix < 0) return;
        float s = 0f;
        for (int o = 0; o < g.O; o++)
            s += grad[((n * g.O + o) * g.OH + oy) * g.OW + ox] * w[((o * g.C + c) * g.KH + ki) * g.KW + kj];
        Atomic.Add(ref gx[((n * g.C + c) * g.H + iy) * g.W + ix], s);
    }

    /// <summary>One thread per (o, c, ki, kj, n): adds that batch entry's sum over positions into the weight's gradient.</summary>
    private static void ConvWeightGradKernel(Index1D i, ArrayView<float> grad, ArrayView<float> x, ArrayView<float> gw, ConvDims g)
    {
        int n = i % g.N, widx = i / g.N;
        int kj = widx % g.KW, t = widx / g.KW;
        int ki = t % g.KH;
        t /= g.KH;
        int c = t % g.C, o = t / g.C;
        float s = 0f;
        for (int oy = 0; oy < g.OH; oy++)
        {
            int iy = g.Source(oy, ki, g.H);
            if (iy < 0) continue;
            for (int ox = 0; ox < g.OW; ox++)
            {
                int ix = g.Source(ox, kj, g.W);
                if (ix >= 0) s += grad[((n * g.O + o) * g.OH + oy) * g.OW + ox] * x[((n * g.C + c) * g.H + iy) * g.W + ix];
            }
        }
        Atomic.Add(ref gw[widx], s);
    }

    private static void AdamKernel(Index1D j, ArrayView<float> w, ArrayView<float> g, ArrayView<float> m, ArrayView<float> v, AdamConstants k)
    {
        float gj = k.WeightDecay != 0f ? g[j] + k.WeightDecay * w[j] : g[j];
        float mj = k.Beta1 * m[j] + (1f - k.Beta1) * gj;
        float vj = k.Beta2 * v[j] + (1f - k.Beta2) * gj * gj;
        m[j] = mj;
        v[j] = vj;
        w[j] -= k.StepSize * mj / (XMath.Sqrt(vj) / k.SqrtBias2 + k.Eps);
    }
}
