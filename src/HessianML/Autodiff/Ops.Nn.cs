using System.Numerics;
using HessianML.Tensors;
using HessianML.Tensors.Devices;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace HessianML.Autodiff;

public static partial class Ops
{
    private static int LastDim<T>(Var<T> a, string op) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (a.Value.Rank == 0) throw new ArgumentException($"{op} needs at least one axis.");
        return a.Value.Shape[^1];
    }

    /// <summary>Softmax along the last axis.</summary>
    public static Var<T> Softmax<T>(Var<T> a) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int d = LastDim(a, "Softmax");
        var v = a.Value.IsOnDevice ? DeviceOps.Rows(a.Value, RowKind.Softmax) : Tensor<T>.Zeros(a.Value.ShapeArray);
        if (!a.Value.IsOnDevice)
            for (int r = 0; r * d < v.Length; r++) TP.SoftMax<T>(a.Value.Data.AsSpan(r * d, d), v.Data.AsSpan(r * d, d));
        var y = Make("softmax", v, a);
        if (y.RequiresGrad)
        {
            // dx = y * (g - sum(g * y)) per row.
            y.GraphBack = (g, n) => [Mul(y, Sub(g, Sum(Mul(g, y), -1, keepDims: true)))];
            y.FastBack = (g, n) =>
            {
                var res = Tensor<T>.Zeros(v.ShapeArray);
                for (int r = 0; r * d < v.Length; r++)
                {
                    var yr = v.Data.AsSpan(r * d, d);
                    var gr = g.Data.AsSpan(r * d, d);
                    var o = res.Data.AsSpan(r * d, d);
                    TP.Subtract(gr, TP.Dot<T>(gr, yr), o);
                    TP.Multiply(o, yr, o);
                }
                return [res];
            };
        }
        return y;
    }

    private static Tensor<T> RowLogSumExp<T>(Tensor<T> a, int d) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (a.IsOnDevice) return DeviceOps.Rows(a, RowKind.LogSumExp);
        int rows = d == 0 ? 0 : a.Length / d;
        var shape = a.Shape[..^1].ToArray();
        var l = Tensor<T>.Zeros(shape);
        var tmp = new T[d];
        for (int r = 0; r < rows; r++)
        {
            var x = a.Data.AsSpan(r * d, d);
            T m = TP.Max<T>(x);
            TP.Subtract(x, m, tmp);
            TP.Exp<T>(tmp, tmp);
            l.Data[r] = m + T.Log(TP.Sum<T>(tmp));
        }
        return l;
    }

    /// <summary>log(sum(exp(x))) along the last axis (max-shifted), dropping it unless keepDims.</summary>
    public static Var<T> LogSumExp<T>(Var<T> a, bool keepDims = false) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int d = LastDim(a, "LogSumExp");
        var l = RowLogSumExp(a.Value, d);
        var keep = a.Value.Shape.ToArray();
        keep[^1] = 1;
        var y = Make("logsumexp", keepDims ? l.Reshape(keep) : l, a);
        if (y.RequiresGrad)
        {
            var s = a.Value.ShapeArray;
            // d lse / dx = softmax(x) = exp(x - lse).
            y.GraphBack = (g, n) => [Mul(BroadcastTo(Reshape(g, keep), s), Exp(Sub(a, Reshape(y, keep))))];
        }
        return y;
    }

    /// <summary>log softmax along the last axis: x - logsumexp(x).</summary>
    public static Var<T> LogSoftmax<T>(Var<T> a) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int d = LastDim(a, "LogSoftmax");
        Tensor<T> v;
        if (a.Value.IsOnDevice) v = DeviceOps.Rows(a.Value, RowKind.LogSoftmax);
        else
        {
            var l = RowLogSumExp(a.Value, d);
            v = Tensor<T>.Zeros(a.Value.ShapeArray);
            for (int r = 0; r * d < v.Length; r++) TP.Subtract(a.Value.Data.AsSpan(r * d, d), l.Data[r], v.Data.AsSpan(r * d, d));
        }
        var y = Make("log_softmax", v, a);
        if (y.RequiresGrad)
        {
            // dx = g - softmax * sum(g); softmax = exp(y) keeps it differentiable.
            y.GraphBack = (g, n) => [Sub(g, Mul(Exp(y), Sum(g, -1, keepDims: true)))];
            // The same arithmetic on raw rows (one temporary instead of four): exp over the whole tensor and each row's
            // sum as TensorPrimitives computes them in the graph form, so both give the same bits.
            y.FastBack = (g, n) =>
            {
                var res = Tensor<T>.Zeros(v.ShapeArray);
                TP.Exp<T>(v.Data, res.Data);
                for (int r = 0; r * d < v.Length; r++)
                {
                    var o = res.Data.AsSpan(r * d, d);
                    var gr = g.Data.AsSpan(r * d, d);
                    TP.Multiply(o, TP.Sum<T>(gr), o);
                    TP.Subtract(gr, o, o);
                }
                return [res];
            };
        }
        return y;
    }

    /// <summary>
    /// sum(targets * log_softmax(logits)) over every element (softmax along the last axis): the log-likelihood of
    /// (soft) labels, a scalar; a cross-entropy loss is its negative mean over rows. Fused so that neither the
    /// log-probabilities nor their product with the targets is kept on the tape (the backward recomputes them into one
    /// tensor); value and gradients are equal, bit for bit, to Sum(Mul(targets, LogSoftmax(logits))).
    /// </summary>
    public static Var<T> SoftmaxLogLikelihood<T>(Var<T> logits, Var<T> targets) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int d = LastDim(logits, "SoftmaxLogLikelihood");
        if (!logits.Value.SameShape(targets.Value))
            throw new ArgumentException($"SoftmaxLogLikelihood: targets {Tensor<T>.ShapeString(targets.Shape)} do not match logits {Tensor<T>.ShapeString(logits.Shape)}.");
        // On a device the unfused form: its ops are device kernels, and their backward is the graph form.
        if (logits.Value.IsOnDevice) return Sum(Mul(targets, LogSoftmax(logits)));
        int len = logits.Value.Length;
        var l = RowLogSumExp(logits.Value, d);
        T[] x = logits.Value.Data, t = targets.Value.Data, ld = l.Data;
        // log_softmax row by row into dst, as LogSoftmax computes it.
        void LogProbabilities(Span<T> dst)
        {
            for (int r = 0; r * d < len; r++) TP.Subtract(x.AsSpan(r * d, d), ld[r], dst.Slice(r * d, d));
        }
        var buffer = System.Buffers.ArrayPool<T>.Shared.Rent(len);
        var product = buffer.AsSpan(0, len);
        LogProbabilities(product);
        TP.Multiply(t, product, product);
        T total = TP.Sum<T>(product);
        System.Buffers.ArrayPool<T>.Shared.Return(buffer);
        var y = Make("softmax_log_likelihood", Tensor<T>.Scalar(total), logits, targets);
        if (!y.RequiresGrad) return y;
        var shape = logits.Value.ShapeArray;
        y.GraphBack = (g, n) =>
        {
            var ls = LogSoftmax(logits);
            var gb = BroadcastTo(g, shape);
            var gy = Mul(gb, targets);
            return [n[0] ? Sub(gy, Mul(Exp(ls), Sum(gy, -1, keepDims: true))) : null, n[1] ? Mul(gb, ls) : null];
        };
        y.FastBack = (g, n) =>
        {
            T c = g.Data[0];
            var res = new Tensor<T>?[2];
            if (n[1])
            {
                var gt = Tensor<T>.Zeros(shape);
                LogProbabilities(gt.Data);
                TP.Multiply(gt.Data, c, gt.Data);
                res[1] = gt;
            }
            if (n[0])
            {
                // g_logits = g y - softmax * rowsum(g y), with softmax = exp(log_softmax): LogSoftmax's backward.
                var gx = Tensor<T>.Zeros(shape);
                LogProbabilities(gx.Data);
                TP.Exp<T>(gx.Data, gx.Data);
                var gyBuffer = System.Buffers.ArrayPool<T>.Shared.Rent(len);
                var gy = gyBuffer.AsSpan(0, len);
                TP.Multiply(t, c, gy);
                for (int r = 0; r * d < len; r++)
                {
                    var o = gx.Data.AsSpan(r * d, d);
                    var gr = gy.Slice(r * d, d);
                    TP.Multiply(o, TP.Sum<T>(gr), o);
                    TP.Subtract(gr, o, o);
                }
                System.Buffers.ArrayPool<T>.Shared.Return(gyBuffer);
                res[0] = gx;
            }
            return res;
        };
        return y;
    }

    /// <summary>
    /// Layer normalisation over the last axis: (x - mean) / sqrt(var + eps) * gamma + beta, with the biased
    /// variance (PyTorch). gamma and beta have the last axis' length; either may be null (identity).
    /// </summary>
    public static Var<T> LayerNorm<T>(Var<T> x, Var<T>? gamma, Var<T>? beta, double eps = 1e-5) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int d = LastDim(x, "LayerNorm");
        gamma?.Value.RequireShape([d], "LayerNorm gamma");
        beta?.Value.RequireShape([d], "LayerNorm beta");
        int rows = x.Value.Length / d;
        T te = T.CreateChecked(eps), invD = T.One / T.CreateChecked(d);
        if (x.Value.IsOnDevice) return LayerNormOnDevice(x, gamma, beta, te);
        var xhat = Tensor<T>.Zeros(x.Value.ShapeArray);
        var rstd = new T[rows];
        var v = Tensor<T>.Zeros(x.Value.ShapeArray);
        for (int r = 0; r < rows; r++)
        {
            var xr = x.Value.Data.AsSpan(r * d, d);
            var hr = xhat.Data.AsSpan(r * d, d);
            T mean = TP.Sum<T>(xr) * invD;
            TP.Subtract(xr, mean, hr);
            T var = TP.Dot<T>(hr, hr) * invD;
            T rs = T.One / T.Sqrt(var + te);
            rstd[r] = rs;
            TP.Multiply(hr, rs, hr);
            var vr = v.Data.AsSpan(r * d, d);
            if (gamma is not null) TP.Multiply(hr, gamma.Value.Data, vr); else hr.CopyTo(vr);
            if (beta is not null) TP.Add(vr, beta.Value.Data, vr);
        }
        Var<T>[] parents = gamma is null && beta is null ? [x] : gamma is null ? [x, beta!] : beta is null ? [x, gamma] : [x, gamma, beta];
        var y = Make("layer_norm", v, parents);
        if (!y.RequiresGrad) return y;
        int gi = gamma is null ? -1 : 1, bi = beta is null ? -1 : (gamma is null ? 1 : 2);
        int[] ds = [d];
        y.FastBack = (g, n) =>
        {
            var res = new Tensor<T>?[parents.Length];
            if (bi >= 0 && n[bi]) res[bi] = TensorKernels.SumToShape(g, ds);
            if (gi >= 0 && n[gi])
            {
                // Column sums of g * xhat without materialising the product (one pass, no [rows, d] temporary).
                var gg = Tensor<T>.Zeros(d);
                for (int r = 0; r < rows; r++)
                    TP.MultiplyAdd(g.Data.AsSpan(r * d, d), xhat.Data.AsSpan(r * d, d), gg.Data, gg.Data);
                res[gi] = gg;
            }
            if (n[0])
            {
                var gx = Tensor<T>.Zeros(x.Value.ShapeArray);
                for (int r = 0; r < rows; r++)
                {
                    var gr = g.Data.AsSpan(r * d, d);
                    var hr = xhat.Data.AsSpan(r * d, d);
                    var o = gx.Data.AsSpan(r * d, d);
                    if (gamma is not null) TP.Multiply(gr, gamma.Value.Data, o); else gr.CopyTo(o);
                    // gx = rstd * (gh - mean(gh) - xhat * mean(gh * xhat))
                    T m1 = TP.Sum<T>(o) * invD, m2 = TP.Dot<T>(o, hr) * invD;
                    TP.Subtract(o, m1, o);
                    TP.MultiplyAdd(hr, -m2, o, o);
                    TP.Multiply(o, rstd[r], o);
                }
                res[0] = gx;
            }
            return res;
        };
        y.GraphBack = (g, n) => LayerNormGraphBackward(x, gamma, te, g, n, parents.Length, gi, bi, ds);
        return y;
    }

    /// <summary>
    /// LayerNorm on a device: one kernel for the value; the gradient is the graph form (differentiable ops, so double
    /// backward works as on the host), the same formula as the host's GraphBack.
    /// </summary>
    private static Var<T> LayerNormOnDevice<T>(Var<T> x, Var<T>? gamma, Var<T>? beta, T eps) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var v = DeviceOps.LayerNorm(x.Value, gamma?.Value, beta?.Value, double.CreateChecked(eps));
        Var<T>[] parents = gamma is null && beta is null ? [x] : gamma is null ? [x, beta!] : beta is null ? [x, gamma] : [x, gamma, beta];
        var y = Make("layer_norm", v, parents);
        if (!y.RequiresGrad) return y;
        int gi = gamma is null ? -1 : 1, bi = beta is null ? -1 : (gamma is null ? 1 : 2);
        int[] ds = [x.Value.Shape[^1]];
        y.GraphBack = (g, n) => LayerNormGraphBackward(x, gamma, eps, g, n, parents.Length, gi, bi, ds);
        return y;
    }

    /// <summary>LayerNorm's backward as differentiable ops (the normalisation rebuilt so the gradient depends on x).</summary>
    private static Var<T>?[] LayerNormGraphBackward<T>(Var<T> x, Var<T>? gamma, T eps, Var<T> g, bool[] n, int count, int gi, int bi, int[] ds)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var mu = Mean(x, -1, keepDims: true);
        var xc = Sub(x, mu);
        var rs = Div(Var<T>.Constant(T.One), Sqrt(AddScalar(Mean(Square(xc), -1, keepDims: true), eps)));
        var xh = Mul(xc, rs);
        var res = new Var<T>?[count];
        if (bi >= 0 && n[bi]) res[bi] = SumToShape(g, ds);
        if (gi >= 0 && n[gi]) res[gi] = SumToShape(Mul(g, xh), ds);
        if (n[0])
        {
            var gh = gamma is null ? g : Mul(g, gamma);
            var inner = Sub(Sub(gh, Mean(gh, -1, keepDims: true)), Mul(xh, Mean(Mul(gh, xh), -1, keepDims: true)));
            res[0] = Mul(rs, inner);
        }
        return res;
    }

    // ------------------------------------------------------------ convolution and pooling (first order only)

    private static int OutSize(int size, int k, int stride, int pad)
    {
        int o = (size + 2 * pad - k) / stride + 1;
        if (o <= 0) throw new ArgumentException($"Kernel {k} with stride {stride} and padding {pad} does not fit size {size}.");
        return o;
    }

    /// <summary>
    /// Average pooling, NCHW, kernel k, stride (default k), zero padding counted in the divisor
    /// (PyTorch's count_include_pad=True). Raw backward only.
    /// </summary>
    public static Var<T> AvgPool2d<T>(Var<T> x, int kernel, int stride = 0, int padding = 0) where T : unmanaged, IFloatingPointIeee754<T>
        => Pool(x, kernel, stride <= 0 ? kernel : stride, padding, max: false);

    /// <summary>Max pooling, NCHW, kernel k, stride (default k), padding ignored in the max. Raw backward only.</summary>
    public static Var<T> MaxPool2d<T>(Var<T> x, int kernel, int stride = 0, int padding = 0) where T : unmanaged, IFloatingPointIeee754<T>
        => Pool(x, kernel, stride <= 0 ? kernel : stride, padding, max: true);

    /// <summary>Mean over H and W: [N,C,H,W] -> [N,C]. Built from Reshape + Mean, so it is twice differentiable.</summary>
    public static Var<T> GlobalAvgPool2d<T>(Var<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (x.Value.Rank != 4) throw new ArgumentException($"GlobalAvgPool2d needs NCHW, got {Tensor<T>.ShapeString(x.Shape)}.");
        var s = x.Value.Shape;
        return Mean(Reshape(x, s[0], s[1], s[2] * s[3]), 2);
    }

    private static Var<T> Pool<T>(Var<T> x, int k, int stride, int padding, bool max) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (x.Value.Rank != 4) throw new ArgumentException($"Pooling needs NCHW, got {Tensor<T>.ShapeString(x.Shape)}.");
        if (k < 1 || padding < 0 || 2 * padding > k) throw new ArgumentException($"Pooling kernel {k} with padding {padding} is invalid.");
        int nb = x.Value.Shape[0], c = x.Value.Shape[1], h = x.Value.Shape[2], w = x.Value.Shape[3];
        int oh = OutSize(h, k, stride, padding), ow = OutSize(w, k, stride, padding);
        var v = Tensor<T>.Zeros(nb, c, oh, ow);
        var arg = max ? new int[v.Length] : null;
        var xd = x.Value.Data;
        T inv = T.One / T.CreateChecked(k * k);
        for (int p = 0; p < nb * c; p++)
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++)
                {
                    T acc = max ? T.NegativeInfinity : T.Zero;
                    int best = -1;
                    for (int i = 0; i < k; i++)
                    {
                        int iy = oy * stride - padding + i;
                        if ((uint)iy >= (uint)h) continue;
                        for (int j = 0; j < k; j++)
                        {
                            int ix = ox * stride - padding + j;
                            if ((uint)ix >= (uint)w) continue;
                            int idx = (p * h + iy) * w + ix;
                            if (!max) acc += xd[idx];
                            else if (best < 0 || xd[idx] > acc) { acc = xd[idx]; best = idx; }
                        }
                    }
                    int o = (p * oh + oy) * ow + ox;
                    v.Data[o] = max ? acc : acc * inv;
                    if (arg is not null) arg[o] = best;
                }
        var y = Make(max ? "max_pool2d" : "avg_pool2d", v, x);
        if (!y.RequiresGrad) return y;
        y.FastBack = (g, n) =>
        {
            var gx = Tensor<T>.Zeros(x.Value.ShapeArray);
            var gd = gx.Data;
            if (arg is not null)
            {
                for (int o = 0; o < arg.Length; o++) gd[arg[o]] += g.Data[o];
                return [gx];
            }
            for (int p = 0; p < nb * c; p++)
                for (int oy = 0; oy < oh; oy++)
                    for (int ox = 0; ox < ow; ox++)
                    {
                        T go = g.Data[(p * oh + oy) * ow + ox] * inv;
                        for (int i = 0; i < k; i++)
                        {
                            int iy = oy * stride - padding + i;
                            if ((uint)iy >= (uint)h) continue;
                            for (int j = 0; j < k; j++)
                            {
                                int ix = ox * stride - padding + j;
                                if ((uint)ix < (uint)w) gd[(p * h + iy) * w + ix] += go;
                            }
                        }
                    }
            return [gx];
        };
        return y;
    }
}
