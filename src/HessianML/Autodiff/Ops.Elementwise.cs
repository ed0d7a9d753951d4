using System.Numerics;
using HessianML.Tensors;
using HessianML.Tensors.Devices;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace HessianML.Autodiff;

/// <summary>
/// Differentiable ops. Each op computes its value with raw kernels and, when recording, attaches its
/// backward twice: as differentiable ops (double backward) and, for hot ops, fused on raw tensors.
/// Broadcasting follows numpy.
/// </summary>
public static partial class Ops
{
    internal static Var<T> Make<T>(string op, Tensor<T> value, params Var<T>[] parents) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (GradMode.Enabled)
            foreach (var p in parents)
                if (p.RequiresGrad) return new Var<T>(value, true, op, parents);
        return new Var<T>(value, false, op, []);
    }

    private static Tensor<T> Map<T>(Tensor<T> a, Action<ReadOnlySpan<T>, Span<T>> f) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var r = Tensor<T>.Zeros(a.ShapeArray);
        f(a.Data, r.Data);
        return r;
    }

    /// <summary>An element-wise function: the host span function, or its device kernel when a is on a device.</summary>
    private static Tensor<T> Map<T>(Tensor<T> a, UnaryKind kind, Action<ReadOnlySpan<T>, Span<T>> f, T c = default)
        where T : unmanaged, IFloatingPointIeee754<T>
        => a.IsOnDevice ? DeviceOps.Unary(a, kind, c) : Map(a, f);

    private static Tensor<T> Bin<T>(BinaryOp op, Tensor<T> a, Tensor<T> b) where T : unmanaged, IFloatingPointIeee754<T>
        => TensorKernels.Binary(op, a, b);

    // ------------------------------------------------------------ broadcasting adjoint pair

    /// <summary>Repeats a to shape (numpy broadcasting); the gradient sums back.</summary>
    public static Var<T> BroadcastTo<T>(Var<T> a, int[] shape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (a.Shape.SequenceEqual(shape)) return a;
        var y = Make("broadcast_to", TensorKernels.BroadcastTo(a.Value, shape), a);
        if (y.RequiresGrad)
        {
            var s = a.Value.ShapeArray;
            y.GraphBack = (g, n) => [SumToShape(g, s)];
            y.FastBack = (g, n) => [TensorKernels.SumToShape(g, s)];
        }
        return y;
    }

    /// <summary>Sums a over broadcast axes down to shape; the gradient broadcasts back.</summary>
    public static Var<T> SumToShape<T>(Var<T> a, int[] shape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (a.Shape.SequenceEqual(shape)) return a;
        var y = Make("sum_to_shape", TensorKernels.SumToShape(a.Value, shape), a);
        if (y.RequiresGrad)
        {
            var s = a.Value.ShapeArray;
            y.GraphBack = (g, n) => [BroadcastTo(g, s)];
            y.FastBack = (g, n) => [TensorKernels.BroadcastTo(g, s)];
        }
        return y;
    }

    // ------------------------------------------------------------ binary

    public static Var<T> Add<T>(Var<T> a, Var<T> b) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var y = Make("add", Bin(BinaryOp.Add, a.Value, b.Value), a, b);
        if (y.RequiresGrad)
        {
            int[] sa = a.Value.ShapeArray, sb = b.Value.ShapeArray;
            y.GraphBack = (g, n) => [n[0] ? SumToShape(g, sa) : null, n[1] ? SumToShape(g, sb) : null];
            y.FastBack = (g, n) => [n[0] ? TensorKernels.SumToShape(g, sa) : null, n[1] ? TensorKernels.SumToShape(g, sb) : null];
        }
        return y;
    }

    public static Var<T> Sub<T>(Var<T> a, Var<T> b) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var y = Make("sub", Bin(BinaryOp.Sub, a.Value, b.Value), a, b);
        if (y.RequiresGrad)
        {
            int[] sa = a.Value.ShapeArray, sb = b.Value.ShapeArray;
            y.GraphBack = (g, n) => [n[0] ? SumToShape(g, sa) : null, n[1] ? Scale(SumToShape(g, sb), -T.One) : null];
            y.FastBack = (g, n) => [n[0] ? TensorKernels.SumToShape(g, sa) : null,
                n[1] ? Map(TensorKernels.SumToShape(g, sb), (s, d) => TP.Negate(s, d)) : null];
        }
        return y;
    }

    public static Var<T> Mul<T>(Var<T> a, Var<T> b) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var y = Make("mul", Bin(BinaryOp.Mul, a.Value, b.Value), a, b);
        if (y.RequiresGrad)
        {
            int[] sa = a.Value.ShapeArray, sb = b.Value.ShapeArray;
            y.GraphBack = (g, n) => [n[0] ? SumToShape(Mul(g, b), sa) : null, n[1] ? SumToShape(Mul(g, a), sb) : null];
            y.FastBack = (g, n) => [n[0] ? TensorKernels.SumToShape(Bin(BinaryOp.Mul, g, b.Value), sa) : null,
                n[1] ? TensorKernels.SumToShape(Bin(BinaryOp.Mul, g, a.Value), sb) : null];
        }
        return y;
    }

    public static Var<T> Div<T>(Var<T> a, Var<T> b) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var y = Make("div", Bin(BinaryOp.Div, a.Value, b.Value), a, b);
        if (y.RequiresGrad)
        {
            int[] sa = a.Value.ShapeArray, sb = b.Value.ShapeArray;
            // d(a/b)/db = -(a/b)/b = -y/b.
            y.GraphBack = (g, n) => [n[0] ? SumToShape(Div(g, b), sa) : null,
                n[1] ? Scale(SumToShape(Div(Mul(g, y), b), sb), -T.One) : null];
        }
        return y;
    }

    /// <summary>c * a for a constant c.</summary>
    public static Var<T> Scale<T>(Var<T> a, T c) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var y = Make("scale", Map(a.Value, UnaryKind.Scale, (s, d) => TP.Multiply(s, c, d), c), a);
        if (y.RequiresGrad)
        {
            y.GraphBack = (g, n) => [Scale(g, c)];
            y.FastBack = (g, n) => [Map(g, (s, d) => TP.Multiply(s, c, d))];
        }
        return y;
    }

    public static Var<T> Scale<T>(Var<T> a, double c) where T : unmanaged, IFloatingPointIeee754<T> => Scale(a, T.CreateChecked(c));

    /// <summary>a + c for a constant c.</summary>
    public static Var<T> AddScalar<T>(Var<T> a, T c) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var y = Make("add_scalar", Map(a.Value, UnaryKind.AddScalar, (s, d) => TP.Add(s, c, d), c), a);
        if (y.RequiresGrad)
        {
            y.GraphBack = (g, n) => [g];
            y.FastBack = (g, n) => [g];
        }
        return y;
    }

    public static Var<T> AddScalar<T>(Var<T> a, double c) where T : unmanaged, IFloatingPointIeee754<T> => AddScalar(a, T.CreateChecked(c));

    public static Var<T> Neg<T>(Var<T> a) where T : unmanaged, IFloatingPointIeee754<T> => Scale(a, -T.One);

    // ------------------------------------------------------------ unary

    public static Var<T> Exp<T>(Var<T> a) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var y = Make("exp", Map(a.Value, UnaryKind.Exp, (s, d) => TP.Exp(s, d)), a);
        if (y.RequiresGrad)
        {
            y.GraphBack = (g, n) => [Mul(g, y)];
            y.FastBack = (g, n) => [Bin(BinaryOp.Mul, g, y.Value)];
        }
        return y;
    }

    public static Var<T> Log<T>(Var<T> a) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var y = Make("log", Map(a.Value, UnaryKind.Log, (s, d) => TP.Log(s, d)), a);
        if (y.RequiresGrad)
        {
            y.GraphBack = (g, n) => [Div(g, a)];
            y.FastBack = (g, n) => [Bin(BinaryOp.Div, g, a.Value)];
        }
        return y;
    }

    public static Var<T> Square<T>(Var<T> a) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var y = Make("square", Map(a.Value, UnaryKind.Square, (s, d) => TP.Multiply(s, s, d)), a);
        if (y.RequiresGrad)
        {
            T two = T.CreateChecked(2);
            y.GraphBack = (g, n) => [Mul(g, Scale(a, two))];
            y.FastBack = (g, n) =>
            {
                var r = Bin(BinaryOp.Mul, g, a.Value);
                TP.Multiply(r.Data, two, r.Data);
                return [r];
            };
        }
        return y;
    }

    public static Var<T> Sqrt<T>(Var<T> a) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var y = Make("sqrt", Map(a.Value, UnaryKind.Sqrt, (s, d) => TP.Sqrt(s, d)), a);
        if (y.RequiresGrad)
        {
            T half = T.CreateChecked(0.5);
            y.GraphBack = (g, n) => [Div(Scale(g, half), y)];
        }
        return y;
    }

    public static Var<T> Relu<T>(Var<T> a) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var y = Make("relu", Map(a.Value, UnaryKind.Relu, (s, d) => TP.Max(s, T.Zero, d)), a);
        if (y.RequiresGrad)
        {
            // The derivative is the constant mask (x > 0): its own derivative is zero almost everywhere.
            y.GraphBack = (g, n) =>
            {
                if (a.Value.IsOnDevice) return [Mul(g, Var<T>.Constant(DeviceOps.Unary(a.Value, UnaryKind.Step)))];
                var mask = Tensor<T>.Zeros(a.Value.ShapeArray);
                var x = a.Value.Data;
                for (int i = 0; i < x.Length; i++) mask.Data[i] = x[i] > T.Zero ? T.One : T.Zero;
                return [Mul(g, Var<T>.Constant(mask))];
            };
            y.FastBack = (g, n) =>
            {
                var r = Tensor<T>.Zeros(a.Value.ShapeArray);
                T[] x = a.Value.Data, gd = g.Data, d = r.Data;
                int i = 0;
                if (Vector.IsHardwareAccelerated)
                    for (; i <= x.Length - Vector<T>.Count; i += Vector<T>.Count)
                        Vector.ConditionalSelect(Vector.GreaterThan(new Vector<T>(x, i), Vector<T>.Zero), new Vector<T>(gd, i), Vector<T>.Zero)
                            .CopyTo(d, i);
                for (; i < x.Length; i++) d[i] = x[i] > T.Zero ? gd[i] : T.Zero;
                return [r];
            };
        }
        return y;
    }

    public static Var<T> Sigmoid<T>(Var<T> a) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var y = Make("sigmoid", Map(a.Value, UnaryKind.Sigmoid, (s, d) => TP.Sigmoid(s, d)), a);
        if (y.RequiresGrad)
        {
            y.GraphBack = (g, n) => [Mul(g, Sub(y, Square(y)))];
            y.FastBack = (g, n) =>
            {
                var r = Tensor<T>.Zeros(a.Value.ShapeArray);
                T[] s = y.Value.Data, gd = g.Data, d = r.Data;
                for (int i = 0; i < d.Length; i++) d[i] = gd[i] * s[i] * (T.One - s[i]);
                return [r];
            };
        }
        return y;
    }

    public static Var<T> Tanh<T>(Var<T> a) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var y = Make("tanh", Map(a.Value, UnaryKind.Tanh, (s, d) => TP.Tanh(s, d)), a);
        if (y.RequiresGrad)
        {
            y.GraphBack = (g, n) => [Mul(g, AddScalar(Neg(Square(y)), T.One))];
            y.FastBack = (g, n) =>
            {
                var r = Tensor<T>.Zeros(a.Value.ShapeArray);
                T[] t = y.Value.Data, gd = g.Data, d = r.Data;
                for (int i = 0; i < d.Length; i++) d[i] = gd[i] * (T.One - t[i] * t[i]);
                return [r];
            };
        }
        return y;
    }

    /// <summary>log(1 + e^x), computed stably as max(x,0) + log(1 + e^-|x|).</summary>
    public static Var<T> Softplus<T>(Var<T> a) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var v = a.Value.IsOnDevice ? DeviceOps.Unary(a.Value, UnaryKind.Softplus) : Tensor<T>.Zeros(a.Value.ShapeArray);
        if (!a.Value.IsOnDevice)
        {
            T[] x = a.Value.Data, d = v.Data;
            for (int i = 0; i < x.Length; i++) d[i] = T.Max(x[i], T.Zero) + T.LogP1(T.Exp(-T.Abs(x[i])));
        }
        var y = Make("softplus", v, a);
        if (y.RequiresGrad)
        {
            y.GraphBack = (g, n) => [Mul(g, Sigmoid(a))];
            y.FastBack = (g, n) =>
            {
                var r = Map(a.Value, (s, d) => TP.Sigmoid(s, d));
                TP.Multiply(r.Data, g.Data, r.Data);
                return [r];
            };
        }
        return y;
    }

    /// <summary>SiLU (swish): x * sigmoid(x).</summary>
    public static Var<T> Silu<T>(Var<T> a) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var sig = a.Value.IsOnDevice ? null : Map(a.Value, (s, d) => TP.Sigmoid(s, d));
        var y = Make("silu", sig is null ? DeviceOps.Unary(a.Value, UnaryKind.Silu) : Bin(BinaryOp.Mul, a.Value, sig), a);
        if (y.RequiresGrad)
        {
            // d/dx = s + x s (1 - s) = s + y (1 - s).
            y.GraphBack = (g, n) =>
            {
                var s = Sigmoid(a);
                return [Mul(g, Add(s, Mul(y, AddScalar(Neg(s), T.One))))];
            };
            y.FastBack = (g, n) =>
            {
                var r = Tensor<T>.Zeros(a.Value.ShapeArray);
                T[] s = sig!.Data, yy = y.Value.Data, gd = g.Data, d = r.Data;
                for (int i = 0; i < d.Length; i++) d[i] = gd[i] * (s[i] + yy[i] * (T.One - s[i]));
                return [r];
            };
        }
        return y;
    }

    // ------------------------------------------------------------ reductions

    /// <summary>Sum of all elements (a rank-0 scalar).</summary>
    public static Var<T> Sum<T>(Var<T> a) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var y = Make("sum", a.Value.IsOnDevice ? DeviceOps.SumAll(a.Value) : Tensor<T>.Scalar(TP.Sum<T>(a.Value.Data)), a);
        if (y.RequiresGrad)
        {
            var s = a.Value.ShapeArray;
            y.GraphBack = (g, n) => [BroadcastTo(g, s)];
            y.FastBack = (g, n) => [Tensor<T>.Full(g.Data[0], s)];
        }
        return y;
    }

    public static Var<T> Mean<T>(Var<T> a) where T : unmanaged, IFloatingPointIeee754<T>
        => Scale(Sum(a), T.One / T.CreateChecked(a.Length));

    public static Var<T> Sum<T>(Var<T> a, int axis, bool keepDims = false) where T : unmanaged, IFloatingPointIeee754<T>
    {
        axis = Tensor<T>.NormaliseAxis(axis, a.Value.Rank);
        var y = Make("sum_axis", TensorKernels.SumAxis(a.Value, axis, keepDims), a);
        if (y.RequiresGrad)
        {
            var s = a.Value.ShapeArray;
            var keep = TensorKernels.ReducedShape(s, axis, true);
            y.GraphBack = (g, n) => [BroadcastTo(Reshape(g, keep), s)];
            y.FastBack = (g, n) => [TensorKernels.BroadcastTo(g.Reshape(keep), s)];
        }
        return y;
    }

    public static Var<T> Mean<T>(Var<T> a, int axis, bool keepDims = false) where T : unmanaged, IFloatingPointIeee754<T>
        => Scale(Sum(a, axis, keepDims), T.One / T.CreateChecked(a.Value.Dim(axis)));
}
