using System.Numerics;
using System.Runtime.CompilerServices;
using TP = System.Numerics.Tensors.TensorPrimitives;

using HessianML.Tensors.Devices;

namespace HessianML.Tensors;

/// <summary>Element-wise binary operations with numpy broadcasting.</summary>
public enum BinaryOp { Add, Sub, Mul, Div }

/// <summary>
/// Raw (non-differentiable) tensor kernels shared by the autodiff ops. Broadcasting is numpy's rule;
/// the common patterns (equal shapes, scalar, and "one block of axes is 1": [B,N] with [N], [1,N], [B,1])
/// run as TensorPrimitives span calls, anything else through an index map.
/// </summary>
public static class TensorKernels
{
    // ------------------------------------------------------------ broadcasting

    public static int[] BroadcastShape(ReadOnlySpan<int> a, ReadOnlySpan<int> b)
    {
        int r = Math.Max(a.Length, b.Length);
        var s = new int[r];
        for (int i = 0; i < r; i++)
        {
            int da = i - (r - a.Length) >= 0 ? a[i - (r - a.Length)] : 1;
            int db = i - (r - b.Length) >= 0 ? b[i - (r - b.Length)] : 1;
            if (da != db && da != 1 && db != 1)
                throw new ArgumentException($"Cannot broadcast shapes {Tensor<float>.ShapeString(a)} and {Tensor<float>.ShapeString(b)}.");
            s[i] = da == 1 ? db : da;
        }
        return s;
    }

    private static int[] Pad(ReadOnlySpan<int> s, int rank)
    {
        var p = new int[rank];
        p.AsSpan().Fill(1);
        s.CopyTo(p.AsSpan(rank - s.Length));
        return p;
    }

    /// <summary>
    /// True when src (padded to out's rank) equals out except for ONE contiguous block of axes where src is 1:
    /// then out is [outer, n, inner] and src is [outer, 1, inner].
    /// </summary>
    private static bool TryBlock(ReadOnlySpan<int> src, ReadOnlySpan<int> outShape, out int outer, out int n, out int inner)
    {
        outer = n = inner = 1;
        var p = Pad(src, outShape.Length);
        int first = -1, last = -1;
        for (int i = 0; i < p.Length; i++)
            if (p[i] != outShape[i]) { if (first < 0) first = i; last = i; }
        if (first < 0) { n = 1; for (int i = 0; i < p.Length; i++) outer *= outShape[i]; return true; }
        for (int i = first; i <= last; i++) if (p[i] != 1) return false;
        for (int i = 0; i < first; i++) outer *= outShape[i];
        for (int i = first; i <= last; i++) n *= outShape[i];
        for (int i = last + 1; i < p.Length; i++) inner *= outShape[i];
        return true;
    }

    /// <summary>For each flat index of out, the flat index of the broadcast source.</summary>
    private static int[] BroadcastMap(ReadOnlySpan<int> src, ReadOnlySpan<int> outShape)
    {
        int r = outShape.Length;
        var p = Pad(src, r);
        var stride = new int[r];
        int acc = 1;
        for (int i = r - 1; i >= 0; i--) { stride[i] = p[i] == 1 ? 0 : acc; acc *= p[i]; }
        long total = Tensor<float>.ShapeLength(outShape);
        var map = new int[total];
        var idx = new int[r];
        int off = 0;
        for (int f = 0; f < total; f++)
        {
            map[f] = off;
            for (int d = r - 1; d >= 0; d--)
            {
                idx[d]++;
                off += stride[d];
                if (idx[d] < outShape[d]) break;
                off -= stride[d] * idx[d];
                idx[d] = 0;
            }
        }
        return map;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static T Apply<T>(BinaryOp op, T x, T y) where T : unmanaged, IFloatingPointIeee754<T> => op switch
    {
        BinaryOp.Add => x + y,
        BinaryOp.Sub => x - y,
        BinaryOp.Mul => x * y,
        _ => x / y,
    };

    public static void Apply<T>(BinaryOp op, ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> d) where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (op)
        {
            case BinaryOp.Add: TP.Add(x, y, d); break;
            case BinaryOp.Sub: TP.Subtract(x, y, d); break;
            case BinaryOp.Mul: TP.Multiply(x, y, d); break;
            default: TP.Divide(x, y, d); break;
        }
    }

    public static void Apply<T>(BinaryOp op, ReadOnlySpan<T> x, T y, Span<T> d) where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (op)
        {
            case BinaryOp.Add: TP.Add(x, y, d); break;
            case BinaryOp.Sub: TP.Subtract(x, y, d); break;
            case BinaryOp.Mul: TP.Multiply(x, y, d); break;
            default: TP.Divide(x, y, d); break;
        }
    }

    public static void Apply<T>(BinaryOp op, T x, ReadOnlySpan<T> y, Span<T> d) where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (op)
        {
            case BinaryOp.Add: TP.Add(y, x, d); break;
            case BinaryOp.Sub: TP.Subtract(x, y, d); break;
            case BinaryOp.Mul: TP.Multiply(y, x, d); break;
            default: TP.Divide(x, y, d); break;
        }
    }

    /// <summary>out = a (op) b with broadcasting.</summary>
    public static Tensor<T> Binary<T>(BinaryOp op, Tensor<T> a, Tensor<T> b) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (a.IsOnDevice || b.IsOnDevice) return DeviceOps.Binary((int)op, a, b, BroadcastShape(a.Shape, b.Shape));
        if (a.SameShape(b))
        {
            var o = Tensor<T>.Zeros(a.ShapeArray);
            Apply(op, (ReadOnlySpan<T>)a.Data, b.Data, o.Data);
            return o;
        }
        var shape = BroadcastShape(a.Shape, b.Shape);
        var res = Tensor<T>.Zeros(shape);
        T[] x = a.Data, y = b.Data, d = res.Data;
        if (b.Length == 1 && a.Length == res.Length) { Apply(op, (ReadOnlySpan<T>)x, y[0], d); return res; }
        if (a.Length == 1 && b.Length == res.Length) { Apply(op, x[0], (ReadOnlySpan<T>)y, d); return res; }
        int outer, n, inner;
        if (a.Length == res.Length && TryBlock(b.Shape, shape, out outer, out n, out inner))
        {
            for (int o = 0; o < outer; o++)
                for (int j = 0; j < n; j++)
                {
                    int off = (o * n + j) * inner;
                    if (inner == 1) d[off] = Apply(op, x[off], y[o]);
                    else Apply(op, (ReadOnlySpan<T>)x.AsSpan(off, inner), y.AsSpan(o * inner, inner), d.AsSpan(off, inner));
                }
            return res;
        }
        if (b.Length == res.Length && TryBlock(a.Shape, shape, out outer, out n, out inner))
        {
            for (int o = 0; o < outer; o++)
                for (int j = 0; j < n; j++)
                {
                    int off = (o * n + j) * inner;
                    if (inner == 1) d[off] = Apply(op, x[o], y[off]);
                    else Apply(op, (ReadOnlySpan<T>)x.AsSpan(o * inner, inner), y.AsSpan(off, inner), d.AsSpan(off, inner));
                }
            return res;
        }
        var ma = BroadcastMap(a.Shape, shape);
        var mb = BroadcastMap(b.Shape, shape);
        for (int i = 0; i < d.Length; i++) d[i] = Apply(op, x[ma[i]], y[mb[i]]);
        return res;
    }

    /// <summary>Repeats a along broadcast axes to the given shape (always a fresh tensor).</summary>
    public static Tensor<T> BroadcastTo<T>(Tensor<T> a, int[] shape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var check = BroadcastShape(a.Shape, shape);
        if (!check.AsSpan().SequenceEqual(shape))
            throw new ArgumentException($"Cannot broadcast shape {Tensor<T>.ShapeString(a.Shape)} to {Tensor<T>.ShapeString(shape)}.");
        if (a.IsOnDevice) return DeviceOps.Binary(4, a, a, (int[])shape.Clone());
        var res = Tensor<T>.Zeros(shape);
        T[] x = a.Data, d = res.Data;
        if (TryBlock(a.Shape, shape, out int outer, out int n, out int inner))
        {
            for (int o = 0; o < outer; o++)
                for (int j = 0; j < n; j++)
                {
                    int off = (o * n + j) * inner;
                    if (inner == 1) d[off] = x[o];
                    else x.AsSpan(o * inner, inner).CopyTo(d.AsSpan(off, inner));
                }
            return res;
        }
        var m = BroadcastMap(a.Shape, shape);
        for (int i = 0; i < d.Length; i++) d[i] = x[m[i]];
        return res;
    }

    /// <summary>Sums g over the axes along which shape was broadcast to g's shape (the adjoint of BroadcastTo).</summary>
    public static Tensor<T> SumToShape<T>(Tensor<T> g, int[] shape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (g.Shape.SequenceEqual(shape)) return g;
        var check = BroadcastShape(shape, g.Shape);
        if (!check.AsSpan().SequenceEqual(g.Shape))
            throw new ArgumentException($"Cannot sum shape {Tensor<T>.ShapeString(g.Shape)} down to {Tensor<T>.ShapeString(shape)}.");
        if (g.IsOnDevice) return DeviceSumToShape(g, shape);
        var res = Tensor<T>.Zeros(shape);
        T[] x = g.Data, d = res.Data;
        if (res.Length == 1) { d[0] = TP.Sum<T>(x); return res; }
        if (TryBlock(shape, g.ShapeArray, out int outer, out int n, out int inner))
        {
            for (int o = 0; o < outer; o++)
            {
                if (inner == 1) { d[o] = TP.Sum<T>(x.AsSpan(o * n, n)); continue; }
                var dst = d.AsSpan(o * inner, inner);
                for (int j = 0; j < n; j++) TP.Add(dst, x.AsSpan((o * n + j) * inner, inner), dst);
            }
            return res;
        }
        var m = BroadcastMap(shape, g.Shape);
        for (int i = 0; i < x.Length; i++) d[m[i]] += x[i];
        return res;
    }

    /// <summary>SumToShape on a device: one axis-sum kernel per broadcast axis (keeping it as 1), then the target shape.</summary>
    private static Tensor<T> DeviceSumToShape<T>(Tensor<T> g, int[] shape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int lead = g.Rank - shape.Length;
        var r = g;
        for (int axis = 0; axis < g.Rank; axis++)
        {
            int target = axis < lead ? 1 : shape[axis - lead];
            if (target == 1 && g.Shape[axis] != 1) r = SumAxis(r, axis, keepDims: true);
        }
        return r.Reshape(shape);
    }

    // ------------------------------------------------------------ reductions along an axis

    public static int[] ReducedShape(ReadOnlySpan<int> shape, int axis, bool keepDims)
    {
        var s = shape.ToArray();
        if (keepDims) { s[axis] = 1; return s; }
        var r = new int[s.Length - 1];
        for (int i = 0, k = 0; i < s.Length; i++) if (i != axis) r[k++] = s[i];
        return r;
    }

    internal static void Split(ReadOnlySpan<int> shape, int axis, out int outer, out int n, out int inner)
    {
        outer = 1; inner = 1; n = shape[axis];
        for (int i = 0; i < axis; i++) outer *= shape[i];
        for (int i = axis + 1; i < shape.Length; i++) inner *= shape[i];
    }

    public static Tensor<T> SumAxis<T>(Tensor<T> a, int axis, bool keepDims) where T : unmanaged, IFloatingPointIeee754<T>
    {
        axis = Tensor<T>.NormaliseAxis(axis, a.Rank);
        Split(a.Shape, axis, out int outer, out int n, out int inner);
        if (a.IsOnDevice) return DeviceOps.SumAxis(a, outer, n, inner, ReducedShape(a.Shape, axis, keepDims));
        var res = Tensor<T>.Zeros(ReducedShape(a.Shape, axis, keepDims));
        T[] x = a.Data, d = res.Data;
        for (int o = 0; o < outer; o++)
        {
            if (inner == 1) { d[o] = TP.Sum<T>(x.AsSpan(o * n, n)); continue; }
            var dst = d.AsSpan(o * inner, inner);
            for (int j = 0; j < n; j++) TP.Add(dst, x.AsSpan((o * n + j) * inner, inner), dst);
        }
        return res;
    }

    // ------------------------------------------------------------ matrix multiply

    /// <summary>C[m,n] = op(A) op(B) through <see cref="Gemm"/>, for 2-D tensors.</summary>
    public static Tensor<T> MatMul<T>(Tensor<T> a, Tensor<T> b, bool transA, bool transB) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (a.Rank != 2 || b.Rank != 2)
            throw new ArgumentException($"MatMul needs 2-D tensors, got {Tensor<T>.ShapeString(a.Shape)} and {Tensor<T>.ShapeString(b.Shape)}.");
        int m = transA ? a.Shape[1] : a.Shape[0], k = transA ? a.Shape[0] : a.Shape[1];
        int kb = transB ? b.Shape[1] : b.Shape[0], n = transB ? b.Shape[0] : b.Shape[1];
        if (k != kb)
            throw new ArgumentException($"MatMul inner dimensions differ: {Tensor<T>.ShapeString(a.Shape)}{(transA ? "ᵀ" : "")} x {Tensor<T>.ShapeString(b.Shape)}{(transB ? "ᵀ" : "")}.");
        if (a.IsOnDevice || b.IsOnDevice) return DeviceOps.MatMul(a, b, m, n, k, transA, transB);
        var c = Tensor<T>.Zeros(m, n);
        GemmT(a.Data, b.Data, c.Data, m, n, k, transA, transB, false);
        return c;
    }

    /// <summary>Generic front to the float/double Gemm overloads (the JIT removes the type test).</summary>
    public static void GemmT<T>(T[] a, T[] b, T[] c, int m, int n, int k, bool transA, bool transB, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (m == 0 || n == 0) return;
        if (k == 0) { if (!accumulate) Array.Clear(c, 0, m * n); return; }
        if (typeof(T) == typeof(float))
            Gemm.Multiply(Unsafe.As<float[]>(a), Unsafe.As<float[]>(b), Unsafe.As<float[]>(c), m, n, k, transA, transB, accumulate);
        else if (typeof(T) == typeof(double))
            Gemm.Multiply(Unsafe.As<double[]>(a), Unsafe.As<double[]>(b), Unsafe.As<double[]>(c), m, n, k, transA, transB, accumulate);
        else
            throw new NotSupportedException($"Gemm for {typeof(T).Name}.");
    }
}
