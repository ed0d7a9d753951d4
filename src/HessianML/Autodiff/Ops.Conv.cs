using System.Buffers;
using System.Numerics;
using HessianML.Tensors;
using HessianML.Tensors.Devices;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace HessianML.Autodiff;

public static partial class Ops
{
    // ------------------------------------------------------------ convolution (first order only)
    //
    // im2col + Gemm, done in chunks of batch entries: each chunk's columns (a few hundred KB at most) are built in a
    // pooled buffer, multiplied by the weights with one Gemm and written straight into the NCHW output, so no
    // [C*KH*KW, N*OH*OW] matrix is kept on the tape and no [O, N*OH*OW] product is permuted afterwards. Chunks run in
    // parallel when the convolution is large. The backward rebuilds the columns (cheaper than keeping megabytes per
    // op alive until the tape is dropped) into pooled buffers. Every output and gradient element is reduced in the
    // same order as one whole-batch im2col + Gemm (a Gemm element depends only on its depth k, never on the tile or
    // thread that computed it), so the chunking and the thread count never change a bit of the result.

    /// <summary>The sizes of one convolution; Cols = N * OH * OW, the width of the whole batch's column matrix.</summary>
    private sealed record ConvGeometry(int N, int C, int H, int W, int O, int KH, int KW, int Stride, int Padding, bool Circular,
        int OH, int OW)
    {
        /// <summary>Input row of kernel row ki at output row oy ([ki * OH + oy]), -1 in the zero padding; wrapped when circular.</summary>
        public int[] SourceRow { get; } = SourceIndex(KH, OH, Stride, Padding, H, Circular);

        /// <summary>Input column of kernel column kj at output column ox ([kj * OW + ox]), as <see cref="SourceRow"/>.</summary>
        public int[] SourceColumn { get; } = SourceIndex(KW, OW, Stride, Padding, W, Circular);

        private static int[] SourceIndex(int k, int outSize, int stride, int padding, int size, bool circular)
        {
            var map = new int[k * outSize];
            for (int ki = 0; ki < k; ki++)
                for (int o = 0; o < outSize; o++)
                {
                    int i = o * stride - padding + ki;
                    map[ki * outSize + o] = circular ? Wrap(i, size) : (uint)i < (uint)size ? i : -1;
                }
            return map;
        }

        public int Ckk => C * KH * KW;
        public int L => OH * OW;
        public int Cols => N * L;

        /// <summary>Batch entries per chunk: about 32K elements of columns + product (128 KB of floats, inside L2).</summary>
        public int ChunkEntries()
        {
            int perEntry = Math.Max(1, (Ckk + O) * L);
            int per = Math.Clamp((1 << 15) / perEntry, 1, Math.Max(1, N));
            // Enough chunks to share among the cores when the batch allows it.
            int spread = (N + 2 * Environment.ProcessorCount - 1) / (2 * Environment.ProcessorCount);
            return Math.Max(1, Math.Min(per, spread));
        }

        /// <summary>Multiply-adds of the convolution: below 2^18 a second thread costs more than it saves.</summary>
        public bool Parallel => (double)Cols * Ckk * O >= 1 << 18;
    }

    private static ConvGeometry Geometry<T>(string op, Tensor<T> x, Tensor<T> weight, Tensor<T>? bias, int stride, int padding, bool circular)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (x.Rank != 4 || weight.Rank != 4 || x.Shape[1] != weight.Shape[1])
            throw new ArgumentException($"{op}: input {Tensor<T>.ShapeString(x.Shape)} (NCHW) does not fit weight {Tensor<T>.ShapeString(weight.Shape)} (OCKK).");
        if (stride < 1 || padding < 0) throw new ArgumentException($"{op} needs stride >= 1 and padding >= 0.");
        int nb = x.Shape[0], c = x.Shape[1], h = x.Shape[2], w = x.Shape[3];
        int o = weight.Shape[0], kh = weight.Shape[2], kw = weight.Shape[3];
        bias?.RequireShape([o], $"{op} bias");
        if (circular && h * w == 0) throw new ArgumentException($"{op}: circular padding of an empty input {Tensor<T>.ShapeString(x.Shape)}.");
        return new ConvGeometry(nb, c, h, w, o, kh, kw, stride, padding, circular,
            OutSize(h, kh, stride, padding), OutSize(w, kw, stride, padding));
    }

    /// <summary>Runs body(b0, b1) over consecutive chunks of batch entries covering [0, N), in parallel when worth it.</summary>
    private static void ForChunks(ConvGeometry g, Action<int, int> body)
    {
        int per = g.ChunkEntries(), chunks = (g.N + per - 1) / per;
        if (chunks <= 1 || !g.Parallel)
        {
            for (int i = 0; i < chunks; i++) body(i * per, Math.Min(g.N, (i + 1) * per));
            return;
        }
        System.Threading.Tasks.Parallel.For(0, chunks, i => body(i * per, Math.Min(g.N, (i + 1) * per)));
    }

    /// <summary>
    /// Columns of batch entries [b0, b1): col[row * ld + c0 + (b - b0) * L + oy * OW + ox] = x[b, ci, iy, ix] for
    /// row = (ci, ki, kj), with iy = oy * stride - padding + ki (likewise ix); outside the input it is 0, or the
    /// wrapped-around site with circular padding. Every element of the written block is set.
    /// </summary>
    private static void Im2Col<T>(T[] x, ConvGeometry g, int b0, int b1, T[] col, int ld, int c0) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int c = g.C, h = g.H, w = g.W, kh = g.KH, kw = g.KW, oh = g.OH, ow = g.OW, l = g.L;
        int[] rows = g.SourceRow, columns = g.SourceColumn;
        for (int ci = 0; ci < c; ci++)
            for (int ki = 0; ki < kh; ki++)
                for (int kj = 0; kj < kw; kj++)
                {
                    int row = (ci * kh + ki) * kw + kj;
                    var ix = columns.AsSpan(kj * ow, ow);
                    for (int b = b0; b < b1; b++)
                        for (int oy = 0; oy < oh; oy++)
                        {
                            int iy = rows[ki * oh + oy];
                            var dst = col.AsSpan(row * ld + c0 + (b - b0) * l + oy * ow, ow);
                            if (iy < 0) { dst.Clear(); continue; }
                            var src = x.AsSpan(((b * c + ci) * h + iy) * w, w);
                            for (int ox = 0; ox < dst.Length; ox++)
                            {
                                int i = ix[ox];
                                dst[ox] = i >= 0 ? src[i] : T.Zero;
                            }
                        }
                }
    }

    /// <summary>
    /// The adjoint of <see cref="Im2Col{T}"/> for batch entries [b0, b1), whose columns start at c0 in rows of stride
    /// ld: gx[b, ci, iy, ix] += gcol[...]. An element's contributions are added row by row, in the same order whatever
    /// the chunk.
    /// </summary>
    private static void Col2Im<T>(T[] gcol, ConvGeometry g, int b0, int b1, T[] gx, int ld, int c0) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int c = g.C, h = g.H, w = g.W, kh = g.KH, kw = g.KW, oh = g.OH, ow = g.OW, l = g.L;
        int[] rows = g.SourceRow, columns = g.SourceColumn;
        for (int ci = 0; ci < c; ci++)
            for (int ki = 0; ki < kh; ki++)
                for (int kj = 0; kj < kw; kj++)
                {
                    int row = (ci * kh + ki) * kw + kj;
                    var ix = columns.AsSpan(kj * ow, ow);
                    for (int b = b0; b < b1; b++)
                        for (int oy = 0; oy < oh; oy++)
                        {
                            int iy = rows[ki * oh + oy];
                            if (iy < 0) continue;
                            var src = gcol.AsSpan(row * ld + c0 + (b - b0) * l + oy * ow, ow);
                            var dst = gx.AsSpan(((b * c + ci) * h + iy) * w, w);
                            for (int ox = 0; ox < src.Length; ox++)
                            {
                                int i = ix[ox];
                                if (i >= 0) dst[i] += src[ox];
                            }
                        }
                }
    }

    /// <summary>dst[s] = pre[s] > 0 ? value : 0.</summary>
    private static void ReluMask<T>(ReadOnlySpan<T> pre, T value, Span<T> dst) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int s = 0;
        if (Vector.IsHardwareAccelerated && pre.Length >= Vector<T>.Count)
        {
            var v = new Vector<T>(value);
            for (; s <= pre.Length - Vector<T>.Count; s += Vector<T>.Count)
                Vector.ConditionalSelect(Vector.GreaterThan(new Vector<T>(pre[s..]), Vector<T>.Zero), v, Vector<T>.Zero).CopyTo(dst[s..]);
        }
        for (; s < pre.Length; s++) dst[s] = pre[s] > T.Zero ? value : T.Zero;
    }

    private static int Wrap(int i, int n)
    {
        int r = i % n;
        return r < 0 ? r + n : r;
    }

    /// <summary>
    /// The pre-activations of batch entries [b0, b1) as [O, (b - b0) * L + position] in <paramref name="prod"/> (row
    /// stride (b1 - b0) * L), bias included; their columns are left in <paramref name="col"/> (same stride).
    /// </summary>
    private static void ChunkProduct<T>(T[] x, T[] weight, T[]? bias, ConvGeometry g, int b0, int b1, T[] col, T[] prod)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int cc = (b1 - b0) * g.L;
        Im2Col(x, g, b0, b1, col, cc, 0);
        TensorKernels.GemmT(weight, col, prod, g.O, cc, g.Ckk, false, false, false);
        if (bias is null) return;
        for (int oc = 0; oc < g.O; oc++)
            for (int b = 0; b < b1 - b0; b++)
            {
                var span = prod.AsSpan(oc * cc + b * g.L, g.L);
                TP.Add(span, bias[oc], span);
            }
    }

    /// <summary>
    /// 2-D convolution (cross-correlation, PyTorch's Conv2d): x [N,C,H,W], weight [O,C,KH,KW], bias [O] or null;
    /// zero padding, or circular (periodic: the input is a torus, PyTorch's padding_mode="circular"). Its backward is
    /// raw only: no double backward.
    /// </summary>
    public static Var<T> Conv2d<T>(Var<T> x, Var<T> weight, Var<T>? bias, int stride = 1, int padding = 0, bool circular = false)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var g = Geometry("Conv2d", x.Value, weight.Value, bias?.Value, stride, padding, circular);
        if (x.Value.IsOnDevice) return Conv2dOnDevice(x, weight, bias, g);
        int o = g.O, l = g.L;
        var v = Tensor<T>.Zeros(g.N, o, g.OH, g.OW);
        T[] xd = x.Value.Data, wd = weight.Value.Data, vd = v.Data;
        T[]? bd = bias?.Value.Data;
        ForChunks(g, (b0, b1) =>
        {
            int cc = (b1 - b0) * l;
            var col = ArrayPool<T>.Shared.Rent(g.Ckk * cc);
            var prod = ArrayPool<T>.Shared.Rent(o * cc);
            ChunkProduct(xd, wd, bd, g, b0, b1, col, prod);
            for (int b = b0; b < b1; b++)
                for (int oc = 0; oc < o; oc++)
                    prod.AsSpan(oc * cc + (b - b0) * l, l).CopyTo(vd.AsSpan((b * o + oc) * l, l));
            ArrayPool<T>.Shared.Return(col);
            ArrayPool<T>.Shared.Return(prod);
        });
        var y = bias is null ? Make("conv2d", v, x, weight) : Make("conv2d", v, x, weight, bias);
        if (!y.RequiresGrad) return y;
        y.FastBack = (grad, n) =>
        {
            T[] gd = grad.Data;
            return ConvBackward(g, x.Value, weight.Value, bias is not null, n, needColumns: false, (gp, col, b0, b1) =>
            {
                // gp[O, Cols] is the output gradient with the batch moved next to the positions.
                for (int b = b0; b < b1; b++)
                    for (int oc = 0; oc < o; oc++)
                        gd.AsSpan((b * o + oc) * l, l).CopyTo(gp.AsSpan(oc * g.Cols + b * l, l));
            });
        };
        return y;
    }

    /// <summary>
    /// Sum over positions of ReLU(Conv2d(x, weight, bias)): [N,C,H,W] -> [N,O], the layer "convolution, ReLU, global
    /// sum pool" fused so that the [N,O,OH,OW] activations never exist: each chunk's pre-activations are reduced while
    /// in cache, and the backward recomputes them to find where the ReLU was open. Values and gradients are equal, bit
    /// for bit, to Sum(Reshape(Relu(Conv2d(x, weight, bias, stride, padding, circular)), N, O, OH*OW), 2). Raw backward
    /// only.
    /// </summary>
    public static Var<T> Conv2dReluSum<T>(Var<T> x, Var<T> weight, Var<T>? bias, int stride = 1, int padding = 0, bool circular = false)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var g = Geometry("Conv2dReluSum", x.Value, weight.Value, bias?.Value, stride, padding, circular);
        // On a device the unfused form (its ops are device kernels); equal to the fused one by definition.
        if (x.Value.IsOnDevice) return Sum(Reshape(Relu(Conv2dOnDevice(x, weight, bias, g)), g.N, g.O, g.L), 2);
        int o = g.O, l = g.L;
        var v = Tensor<T>.Zeros(g.N, o);
        T[] xd = x.Value.Data, wd = weight.Value.Data, vd = v.Data;
        T[]? bd = bias?.Value.Data;
        ForChunks(g, (b0, b1) =>
        {
            int cc = (b1 - b0) * l;
            var col = ArrayPool<T>.Shared.Rent(g.Ckk * cc);
            var prod = ArrayPool<T>.Shared.Rent(o * cc);
            ChunkProduct(xd, wd, bd, g, b0, b1, col, prod);
            for (int b = b0; b < b1; b++)
                for (int oc = 0; oc < o; oc++)
                {
                    var span = prod.AsSpan(oc * cc + (b - b0) * l, l);
                    TP.Max(span, T.Zero, span);
                    vd[b * o + oc] = TP.Sum<T>(span);
                }
            ArrayPool<T>.Shared.Return(col);
            ArrayPool<T>.Shared.Return(prod);
        });
        var y = bias is null ? Make("conv2d_relu_sum", v, x, weight) : Make("conv2d_relu_sum", v, x, weight, bias);
        if (!y.RequiresGrad) return y;
        y.FastBack = (grad, n) =>
        {
            T[] gd = grad.Data;
            return ConvBackward(g, x.Value, weight.Value, bias is not null, n, needColumns: true, (gp, col, b0, b1) =>
            {
                // Recompute the chunk's pre-activations; the gradient passes where the ReLU was open.
                int cc = (b1 - b0) * l;
                var chunkCol = ArrayPool<T>.Shared.Rent(g.Ckk * cc);
                var prod = ArrayPool<T>.Shared.Rent(o * cc);
                ChunkProduct(xd, wd, bd, g, b0, b1, chunkCol, prod);
                if (col is not null)
                    for (int row = 0; row < g.Ckk; row++)
                        chunkCol.AsSpan(row * cc, cc).CopyTo(col.AsSpan(row * g.Cols + b0 * l, cc));
                for (int b = b0; b < b1; b++)
                    for (int oc = 0; oc < o; oc++)
                    {
                        ReluMask(prod.AsSpan(oc * cc + (b - b0) * l, l), gd[b * o + oc], gp.AsSpan(oc * g.Cols + b * l, l));
                    }
                ArrayPool<T>.Shared.Return(chunkCol);
                ArrayPool<T>.Shared.Return(prod);
            });
        };
        return y;
    }

    /// <summary>Conv2d with its operands on a device: a direct-convolution kernel, and kernels for the two gradients.</summary>
    private static Var<T> Conv2dOnDevice<T>(Var<T> x, Var<T> weight, Var<T>? bias, ConvGeometry g) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var dims = new ConvDims
        {
            N = g.N, C = g.C, H = g.H, W = g.W, O = g.O, KH = g.KH, KW = g.KW, Stride = g.Stride, Padding = g.Padding,
            Circular = g.Circular ? 1 : 0, OH = g.OH, OW = g.OW,
        };
        var v = DeviceOps.Conv2d(x.Value, weight.Value, bias?.Value, dims);
        var y = bias is null ? Make("conv2d", v, x, weight) : Make("conv2d", v, x, weight, bias);
        if (!y.RequiresGrad) return y;
        y.FastBack = (grad, n) =>
        {
            var res = new Tensor<T>?[bias is null ? 2 : 3];
            if (n[0]) res[0] = DeviceOps.Conv2dInputGrad(grad, weight.Value, dims);
            if (n[1]) res[1] = DeviceOps.Conv2dWeightGrad(grad, x.Value, dims);
            if (bias is not null && n[2])
                res[2] = TensorKernels.SumAxis(TensorKernels.SumAxis(grad.Reshape(g.N, g.O, g.L), 2, false), 0, false);
            return res;
        };
        return y;
    }

    /// <summary>
    /// The backward shared by the convolutions once the pre-activation gradient gp [O, Cols] is known: fill(gp, col,
    /// b0, b1) writes gp's columns of batch entries [b0, b1) (and, when <paramref name="needColumns"/> and the weight
    /// needs a gradient, the same columns of the whole-batch column matrix col; otherwise col is null and they are built
    /// here). Then gbias = row sums of gp, gweight = gp colᵀ, gx = col2im(weightᵀ gp): the same products and sums, in
    /// the same order, as one whole-batch im2col convolution.
    /// </summary>
    private static Tensor<T>?[] ConvBackward<T>(ConvGeometry g, Tensor<T> x, Tensor<T> weight, bool hasBias, bool[] needs, bool needColumns,
        Action<T[], T[]?, int, int> fill) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int o = g.O, ckk = g.Ckk, cols = g.Cols;
        var res = new Tensor<T>?[hasBias ? 3 : 2];
        var gp = ArrayPool<T>.Shared.Rent(o * cols);
        T[]? col = needs[1] ? ArrayPool<T>.Shared.Rent(ckk * cols) : null;
        try
        {
            T[] xd = x.Data;
            ForChunks(g, (b0, b1) =>
            {
                fill(gp, needColumns ? col : null, b0, b1);
                if (col is not null && !needColumns) Im2Col(xd, g, b0, b1, col, cols, b0 * g.L);
            });
            if (hasBias && needs[2])
            {
                var gb = Tensor<T>.Zeros(o);
                for (int oc = 0; oc < o; oc++) gb.Data[oc] = TP.Sum<T>(gp.AsSpan(oc * cols, cols));
                res[2] = gb;
            }
            if (col is not null)
            {
                // gweight = gp colᵀ [O, C*KH*KW], computed transposed as col gpᵀ: every element is the same multiply-add
                // chain over the batch columns (FMA is symmetric in its factors), and the wide side O fills the
                // kernel's vector lanes where C*KH*KW (9 for one input channel) would leave most of them empty. With a
                // side of 1 the Gemm takes its matrix-vector shortcut instead, which sums in another order: keep the
                // plain product then.
                var gw = Tensor<T>.Zeros(weight.ShapeArray);
                if (o > 1 && ckk > 1)
                {
                    var gwt = ArrayPool<T>.Shared.Rent(ckk * o);
                    TensorKernels.GemmT(col, gp, gwt, ckk, o, cols, false, true, false);
                    for (int p = 0; p < ckk; p++)
                        for (int oc = 0; oc < o; oc++)
                            gw.Data[oc * ckk + p] = gwt[p * o + oc];
                    ArrayPool<T>.Shared.Return(gwt);
                }
                else TensorKernels.GemmT(gp, col, gw.Data, o, ckk, cols, false, true, false);
                res[1] = gw;
            }
            if (needs[0])
            {
                // gcol = weightᵀ gp chunk by chunk (each chunk's columns stay in cache until col2im has folded them back;
                // a Gemm element depends only on the depth O, so the chunks give the whole product's bits).
                var gx = Tensor<T>.Zeros(x.ShapeArray);
                T[] wd = weight.Data, gxd = gx.Data;
                ForChunks(g, (b0, b1) =>
                {
                    int cc = (b1 - b0) * g.L;
                    var gpc = ArrayPool<T>.Shared.Rent(o * cc);
                    var gcol = ArrayPool<T>.Shared.Rent(ckk * cc);
                    for (int oc = 0; oc < o; oc++) gp.AsSpan(oc * cols + b0 * g.L, cc).CopyTo(gpc.AsSpan(oc * cc, cc));
                    TensorKernels.GemmT(wd, gpc, gcol, ckk, cc, o, true, false, false);
                    Col2Im(gcol, g, b0, b1, gxd, cc, 0);
                    ArrayPool<T>.Shared.Return(gpc);
                    ArrayPool<T>.Shared.Return(gcol);
                });
                res[0] = gx;
            }
        }
        finally
        {
            ArrayPool<T>.Shared.Return(gp);
            if (col is not null) ArrayPool<T>.Shared.Return(col);
        }
        return res;
    }
}
