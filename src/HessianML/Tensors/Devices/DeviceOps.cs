using System.Numerics;
using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;

namespace HessianML.Tensors.Devices;

/// <summary>
/// The tensor-level face of <see cref="DeviceKernels"/>: each method allocates its result on the operands' device and
/// queues one or two kernels (no host round trip). The CPU engine's kernels (<see cref="TensorKernels"/>) and the ops
/// (<see cref="Autodiff.Ops"/>) call these when their operands are on a device. Float only: the device engine computes
/// in float, as the paper's PyTorch code does on a GPU.
/// </summary>
internal static class DeviceOps
{
    private static void RequireFloat<T>()
    {
        if (typeof(T) != typeof(float))
            throw new NotSupportedException($"the device engine computes in float; a Tensor<{typeof(T).Name}> stays on the host");
    }

    public static DeviceStorage Upload<T>(DeviceAccelerator device, T[] data)
    {
        RequireFloat<T>();
        var s = new DeviceStorage(device, data.Length);
        if (data.Length > 0) s.CopyFrom(Unsafe.As<float[]>(data));
        return s;
    }

    public static T[] Download<T>(DeviceStorage storage)
    {
        RequireFloat<T>();
        return Unsafe.As<T[]>(storage.ToArray());
    }

    public static DeviceStorage Zeros(DeviceAccelerator device, int length)
    {
        var s = new DeviceStorage(device, length);
        if (length > 0) s.View.MemSetToZero();
        return s;
    }

    public static DeviceStorage Copy(DeviceStorage from)
    {
        var s = new DeviceStorage(from.Accelerator, from.Length);
        if (from.Length > 0) s.View.CopyFrom(from.View);
        return s;
    }

    private static Tensor<T> New<T>(DeviceAccelerator device, int[] shape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        RequireFloat<T>();
        return new Tensor<T>(new DeviceStorage(device, (int)Tensor<T>.ShapeLength(shape)), shape);
    }

    public static Tensor<T> Full<T>(DeviceAccelerator device, T value, int[] shape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var r = New<T>(device, shape);
        if (r.Length > 0) device.Kernels.Map(r.Length, r.Storage.View, r.Storage.View, (int)UnaryKind.Fill, float.CreateChecked(value));
        return r;
    }

    /// <summary>The device both operands share; a host operand of one element (a scalar constant) goes along.</summary>
    private static DeviceAccelerator Common<T>(Tensor<T> a, Tensor<T> b, string op) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var d = a.Device ?? b.Device!;
        if ((a.Device is not null && a.Device != d) || (b.Device is not null && b.Device != d))
            throw new InvalidOperationException($"{op}: operands are on different devices ({a.Device?.Device}, {b.Device?.Device})");
        return d;
    }

    /// <summary>The operand on <paramref name="device"/>: a host scalar is uploaded, any other host tensor is an error.</summary>
    private static Tensor<T> On<T>(Tensor<T> t, DeviceAccelerator device, string op) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (t.Device == device) return t;
        if (t.Length == 1) return t.To(device);
        throw new InvalidOperationException(
            $"{op}: a host tensor {Tensor<T>.ShapeString(t.Shape)} meets a tensor on {device.Device}; move it with ToDevice first");
    }

    public static Tensor<T> Unary<T>(Tensor<T> a, UnaryKind kind, T c = default) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var r = New<T>(a.Device!, a.ShapeArray);
        if (r.Length > 0) a.Device!.Kernels.Map(r.Length, a.Storage.View, r.Storage.View, (int)kind, float.CreateChecked(c));
        return r;
    }

    /// <summary>numpy-broadcast a op b; op 4 copies a broadcast to <paramref name="shape"/> (b unused).</summary>
    public static Tensor<T> Binary<T>(int op, Tensor<T> a, Tensor<T> b, int[] shape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var device = Common(a, b, "broadcast op");
        a = On(a, device, "broadcast op");
        b = On(b, device, "broadcast op");
        if (shape.Length > 6) throw new NotSupportedException($"device broadcasting handles up to 6 axes, got {Tensor<T>.ShapeString(shape)}");
        var r = New<T>(device, shape);
        if (r.Length == 0) return r;
        Span<int> d = stackalloc int[6], sa = stackalloc int[6], sb = stackalloc int[6];
        Strides(shape, a.Shape, d, sa);
        Strides(shape, b.Shape, d, sb);
        var s = new Broadcast6
        {
            D0 = d[0], D1 = d[1], D2 = d[2], D3 = d[3], D4 = d[4], D5 = d[5],
            A0 = sa[0], A1 = sa[1], A2 = sa[2], A3 = sa[3], A4 = sa[4], A5 = sa[5],
            B0 = sb[0], B1 = sb[1], B2 = sb[2], B3 = sb[3], B4 = sb[4], B5 = sb[5],
        };
        device.Kernels.Binary(r.Length, a.Storage.View, b.Storage.View, r.Storage.View, s, op);
        return r;
    }

    /// <summary>Output sizes right-aligned into 6 axes, and the input's element strides along them (0 where broadcast).</summary>
    private static void Strides(ReadOnlySpan<int> outShape, ReadOnlySpan<int> inShape, Span<int> dims, Span<int> strides)
    {
        int stride = 1;
        for (int k = 5, o = outShape.Length - 1, i = inShape.Length - 1; k >= 0; k--, o--, i--)
        {
            dims[k] = o >= 0 ? outShape[o] : 1;
            int size = i >= 0 ? inShape[i] : 1;
            strides[k] = size == 1 ? 0 : stride;
            stride *= size;
        }
    }

    /// <summary>Sum over the middle axis of a viewed as [outer, n, inner].</summary>
    public static Tensor<T> SumAxis<T>(Tensor<T> a, int outer, int n, int inner, int[] shape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var r = New<T>(a.Device!, shape);
        if (r.Length > 0) a.Device!.Kernels.SumAxis(outer * inner, a.Storage.View, r.Storage.View, n, inner);
        return r;
    }

    /// <summary>Sum of every element as a rank-0 tensor: partial sums in parallel, then one thread adds them.</summary>
    public static Tensor<T> SumAll<T>(Tensor<T> a) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int parts = Math.Clamp(a.Length / 64, 1, 4096);
        var partial = New<T>(a.Device!, [parts]);
        if (a.Length == 0) return Full(a.Device!, T.Zero, []);
        a.Device!.Kernels.PartialSums(parts, a.Storage.View, partial.Storage.View, a.Length, parts);
        return SumAxis(partial, 1, parts, 1, []);
    }

    public static Tensor<T> Rows<T>(Tensor<T> a, RowKind kind) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int d = a.Shape[^1], rows = d == 0 ? 0 : a.Length / d;
        var r = New<T>(a.Device!, kind == RowKind.LogSumExp ? a.Shape[..^1].ToArray() : a.ShapeArray);
        if (rows > 0) a.Device!.Kernels.Rows(rows, a.Storage.View, r.Storage.View, d, (int)kind);
        return r;
    }

    public static Tensor<T> LayerNorm<T>(Tensor<T> x, Tensor<T>? gamma, Tensor<T>? beta, double eps) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int d = x.Shape[^1], rows = x.Length / d;
        var r = New<T>(x.Device!, x.ShapeArray);
        if (rows == 0) return r;
        gamma = gamma is null ? null : On(gamma, x.Device!, "LayerNorm");
        beta = beta is null ? null : On(beta, x.Device!, "LayerNorm");
        var none = r.Storage.View; // unused when the flag is off
        x.Device!.Kernels.LayerNorm(rows, x.Storage.View, gamma?.Storage.View ?? none, beta?.Storage.View ?? none, r.Storage.View, d,
            (float)eps, (gamma is null ? 0 : 1) | (beta is null ? 0 : 2));
        return r;
    }

    public static Tensor<T> MatMul<T>(Tensor<T> a, Tensor<T> b, int m, int n, int k, bool transA, bool transB)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var device = Common(a, b, "MatMul");
        a = On(a, device, "MatMul");
        b = On(b, device, "MatMul");
        var r = New<T>(device, [m, n]);
        if (r.Length == 0) return r;
        if (k == 0) return Full(device, T.Zero, [m, n]);
        int t = device.Kernels.Tile;
        var config = new KernelConfig(new Index2D((n + t - 1) / t, (m + t - 1) / t), new Index2D(t, t),
            SharedMemoryConfig.RequestDynamic<float>(2 * t * t));
        device.Kernels.MatMul(config, a.Storage.View, b.Storage.View, r.Storage.View, m, k, n, (transA ? 1 : 0) | (transB ? 2 : 0));
        return r;
    }

    /// <summary>For o in [0, outer): dst's elements [o * dstRow + dstOffset, + block) = src's [o * srcRow + srcOffset, + block).</summary>
    public static void CopyBlocks<T>(Tensor<T> src, Tensor<T> dst, int outer, int block, int srcRow, int srcOffset, int dstRow, int dstOffset)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (outer * block == 0) return;
        var device = Common(src, dst, "copy");
        device.Kernels.CopyBlocks(outer * block, src.Storage.View, dst.Storage.View, block, srcRow, srcOffset, dstRow, dstOffset);
    }

    public static Tensor<T> Conv2d<T>(Tensor<T> x, Tensor<T> weight, Tensor<T>? bias, ConvDims g) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var device = Common(x, weight, "Conv2d");
        var r = New<T>(device, [g.N, g.O, g.OH, g.OW]);
        if (r.Length > 0)
            device.Kernels.ConvForward(r.Length, x.Storage.View, weight.Storage.View, (bias ?? weight).Storage.View, r.Storage.View, g,
                bias is null ? 0 : 1);
        return r;
    }

    public static Tensor<T> Conv2dInputGrad<T>(Tensor<T> grad, Tensor<T> weight, ConvDims g) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var gx = new Tensor<T>(Zeros(grad.Device!, g.N * g.C * g.H * g.W), [g.N, g.C, g.H, g.W]);
        int threads = g.N * g.C * g.KH * g.KW * g.OH * g.OW;
        if (threads > 0) grad.Device!.Kernels.ConvInputGrad(threads, grad.Storage.View, weight.Storage.View, gx.Storage.View, g);
        return gx;
    }

    public static Tensor<T> Conv2dWeightGrad<T>(Tensor<T> grad, Tensor<T> x, ConvDims g) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var gw = new Tensor<T>(Zeros(grad.Device!, g.O * g.C * g.KH * g.KW), [g.O, g.C, g.KH, g.KW]);
        int threads = g.O * g.C * g.KH * g.KW * g.N;
        if (threads > 0) grad.Device!.Kernels.ConvWeightGrad(threads, grad.Storage.View, x.Storage.View, gw.Storage.View, g);
        return gw;
    }

    public static void Adam<T>(Tensor<T> w, Tensor<T> g, Tensor<T> m, Tensor<T> v, AdamConstants k) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (w.Length > 0) w.Device!.Kernels.Adam(w.Length, w.Storage.View, g.Storage.View, m.Storage.View, v.Storage.View, k);
    }
}
