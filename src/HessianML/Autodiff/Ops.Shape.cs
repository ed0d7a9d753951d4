using System.Numerics;
using HessianML.Tensors;
using HessianML.Tensors.Devices;

namespace HessianML.Autodiff;

public static partial class Ops
{
    /// <summary>Same data, another shape (a view: no copy). One axis may be -1.</summary>
    public static Var<T> Reshape<T>(Var<T> a, params int[] shape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var y = Make("reshape", a.Value.Reshape(shape), a);
        if (y.RequiresGrad)
        {
            var s = a.Value.ShapeArray;
            y.GraphBack = (g, n) => [Reshape(g, s)];
            y.FastBack = (g, n) => [g.Reshape(s)];
        }
        return y;
    }

    private static void CopyBlocks<T>(Tensor<T> src, int srcN, int srcStart, Tensor<T> dst, int dstN, int dstStart, int count, int outer, int inner)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (src.IsOnDevice || dst.IsOnDevice)
        {
            DeviceOps.CopyBlocks(src, dst, outer, count * inner, srcN * inner, srcStart * inner, dstN * inner, dstStart * inner);
            return;
        }
        for (int o = 0; o < outer; o++)
            src.Data.AsSpan((o * srcN + srcStart) * inner, count * inner)
                .CopyTo(dst.Data.AsSpan((o * dstN + dstStart) * inner, count * inner));
    }

    /// <summary>Elements start..start+length-1 along an axis.</summary>
    public static Var<T> Slice<T>(Var<T> a, int axis, int start, int length) where T : unmanaged, IFloatingPointIeee754<T>
    {
        axis = Tensor<T>.NormaliseAxis(axis, a.Value.Rank);
        TensorKernels.Split(a.Shape, axis, out int outer, out int n, out int inner);
        if (start < 0 || length < 0 || start + length > n)
            throw new ArgumentOutOfRangeException(nameof(start), $"Slice [{start}, {start + length}) outside axis {axis} of shape {Tensor<T>.ShapeString(a.Shape)}.");
        var shape = a.Value.Shape.ToArray();
        shape[axis] = length;
        var v = a.Value.ZerosHere(shape);
        CopyBlocks(a.Value, n, start, v, length, 0, length, outer, inner);
        var y = Make("slice", v, a);
        if (y.RequiresGrad)
        {
            y.GraphBack = (g, nd) => [PadSlice(g, axis, start, n)];
            y.FastBack = (g, nd) => [PadSliceRaw(g, axis, start, n)];
        }
        return y;
    }

    private static Tensor<T> PadSliceRaw<T>(Tensor<T> g, int axis, int start, int total) where T : unmanaged, IFloatingPointIeee754<T>
    {
        TensorKernels.Split(g.Shape, axis, out int outer, out int len, out int inner);
        var shape = g.Shape.ToArray();
        shape[axis] = total;
        var r = g.ZerosHere(shape);
        CopyBlocks(g, len, 0, r, total, start, len, outer, inner);
        return r;
    }

    /// <summary>Adjoint of Slice: places a into zeros of length total along axis at start.</summary>
    internal static Var<T> PadSlice<T>(Var<T> a, int axis, int start, int total) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int len = a.Value.Shape[axis];
        var y = Make("pad_slice", PadSliceRaw(a.Value, axis, start, total), a);
        if (y.RequiresGrad)
        {
            y.GraphBack = (g, n) => [Slice(g, axis, start, len)];
            y.FastBack = (g, n) =>
            {
                TensorKernels.Split(g.Shape, axis, out int outer, out int tot, out int inner);
                var shape = g.Shape.ToArray();
                shape[axis] = len;
                var r = g.ZerosHere(shape);
                CopyBlocks(g, tot, start, r, len, 0, len, outer, inner);
                return [r];
            };
        }
        return y;
    }

    /// <summary>Joins tensors along an axis; all other axes must agree.</summary>
    public static Var<T> Concat<T>(IReadOnlyList<Var<T>> parts, int axis) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (parts.Count == 0) throw new ArgumentException("Concat of no tensors.");
        int rank = parts[0].Value.Rank;
        axis = Tensor<T>.NormaliseAxis(axis, rank);
        var shape = parts[0].Value.Shape.ToArray();
        int total = 0;
        foreach (var p in parts)
        {
            for (int d = 0; d < rank; d++)
                if (d != axis && (p.Value.Rank != rank || p.Value.Shape[d] != shape[d]))
                    throw new ArgumentException($"Concat along axis {axis}: shape {Tensor<T>.ShapeString(p.Shape)} does not match {Tensor<T>.ShapeString(parts[0].Shape)}.");
            total += p.Value.Shape[axis];
        }
        shape[axis] = total;
        var v = parts[0].Value.ZerosHere(shape);
        var offsets = new int[parts.Count];
        int off = 0;
        for (int i = 0; i < parts.Count; i++)
        {
            TensorKernels.Split(parts[i].Shape, axis, out int outer, out int len, out int inner);
            CopyBlocks(parts[i].Value, len, 0, v, total, off, len, outer, inner);
            offsets[i] = off;
            off += len;
        }
        var arr = parts.ToArray();
        var y = Make("concat", v, arr);
        if (y.RequiresGrad)
        {
            y.GraphBack = (g, n) =>
            {
                var r = new Var<T>?[arr.Length];
                for (int i = 0; i < arr.Length; i++) if (n[i]) r[i] = Slice(g, axis, offsets[i], arr[i].Value.Shape[axis]);
                return r;
            };
        }
        return y;
    }

    /// <summary>2-D matrix product op(a) op(b) through Gemm (transposes are flags, never copies).</summary>
    public static Var<T> MatMul<T>(Var<T> a, Var<T> b, bool transA = false, bool transB = false) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var y = Make("matmul", TensorKernels.MatMul(a.Value, b.Value, transA, transB), a, b);
        if (y.RequiresGrad)
        {
            y.GraphBack = (g, n) => [
                n[0] ? (transA ? MatMul(b, g, transB, true) : MatMul(g, b, false, !transB)) : null,
                n[1] ? (transB ? MatMul(g, a, true, transA) : MatMul(a, g, !transA, false)) : null];
            y.FastBack = (g, n) => [
                n[0] ? (transA ? TensorKernels.MatMul(b.Value, g, transB, true) : TensorKernels.MatMul(g, b.Value, false, !transB)) : null,
                n[1] ? (transB ? TensorKernels.MatMul(g, a.Value, true, transA) : TensorKernels.MatMul(a.Value, g, !transA, false)) : null];
        }
        return y;
    }

    /// <summary>
    /// Affine layer y = x Wᵀ + b with W stored [out, in] (PyTorch's layout) and b [out] (optional), fused so
    /// the bias is added in place and the backward is three Gemm-shaped products.
    /// </summary>
    public static Var<T> Linear<T>(Var<T> x, Var<T> weight, Var<T>? bias) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (x.Value.Rank != 2 || weight.Value.Rank != 2 || x.Value.Shape[1] != weight.Value.Shape[1])
            throw new ArgumentException($"Linear: input {Tensor<T>.ShapeString(x.Shape)} does not fit weight {Tensor<T>.ShapeString(weight.Shape)} ([out, in]).");
        int rows = x.Value.Shape[0], outF = weight.Value.Shape[0];
        var v = TensorKernels.MatMul(x.Value, weight.Value, false, true);
        if (bias is not null)
        {
            bias.Value.RequireShape([outF], "Linear bias");
            if (v.IsOnDevice) v = TensorKernels.Binary(BinaryOp.Add, v, bias.Value);
            else
                for (int r = 0; r < rows; r++)
                {
                    var row = v.Data.AsSpan(r * outF, outF);
                    System.Numerics.Tensors.TensorPrimitives.Add(row, bias.Value.Data, row);
                }
        }
        var y = bias is null ? Make("linear", v, x, weight) : Make("linear", v, x, weight, bias);
        if (y.RequiresGrad)
        {
            int[] bs = [outF];
            y.GraphBack = (g, n) => bias is null
                ? [n[0] ? MatMul(g, weight) : null, n[1] ? MatMul(g, x, transA: true) : null]
                : [n[0] ? MatMul(g, weight) : null, n[1] ? MatMul(g, x, transA: true) : null, n[2] ? SumToShape(g, bs) : null];
            y.FastBack = (g, n) => bias is null
                ? [n[0] ? TensorKernels.MatMul(g, weight.Value, false, false) : null, n[1] ? TensorKernels.MatMul(g, x.Value, true, false) : null]
                : [n[0] ? TensorKernels.MatMul(g, weight.Value, false, false) : null, n[1] ? TensorKernels.MatMul(g, x.Value, true, false) : null,
                   n[2] ? TensorKernels.SumToShape(g, bs) : null];
        }
        return y;
    }
}
