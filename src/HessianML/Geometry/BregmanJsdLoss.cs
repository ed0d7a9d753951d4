using System.Numerics;
using HessianML.Autodiff;
using HessianML.Tensors;
using HessianML.Tensors.Devices;

namespace HessianML.Geometry;

/// <summary>
/// The paper's log-partition loss (METHOD.md §3, eq. 21-23): for each training sample i with true parameter t_i and a
/// posterior p_i on the grid {t'_k}, the normalised Bregman model
/// <c>q(t'_k | t_i) = softmax_k(&lt;grad psi(t_i), t'_k&gt; - psi(t'_k))</c> is compared with p_i by the Jensen-Shannon
/// divergence, averaged over the batch. The gradient reaches psi's parameters through grad psi(t_i), which is built
/// inside the graph by double backward (<see cref="Autograd.Grad{T}(Var{T}, Var{T}, bool)"/>), as the released code's
/// <c>torch.autograd.grad(..., create_graph=True)</c> does.
/// </summary>
public static class BregmanJsdLoss
{
    /// <summary>
    /// Added inside the log of the mixture M = (q + p)/2 so that cells where both vanish contribute 0 (not NaN) to
    /// value and gradient; the same guard as the reference implementation (shared/peers/psi_step_torch.py).
    /// </summary>
    public const double LogGuard = 1e-12;

    /// <summary>
    /// Mean JSD over the batch. <paramref name="psi"/> maps points [n, 2] to values [n, 1]; <paramref name="grid"/> is
    /// the K x 2 table of cell centres; <paramref name="t"/> the batch's own parameters [B, 2]; <paramref name="target"/>
    /// the batch's posteriors [B, K] (rows sum to 1). Returns a scalar node; call Backward on it for parameter gradients.
    /// </summary>
    public static Var<T> Compute<T>(Func<Var<T>, Var<T>> psi, Tensor<T> grid, Tensor<T> t, Tensor<T> target)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (grid.Rank != 2 || grid.Dim(1) != 2)
            throw new ArgumentException($"grid must be K x 2 cell centres, got {grid}");
        if (t.Rank != 2 || t.Dim(1) != 2)
            throw new ArgumentException($"batch parameters t must be B x 2, got {t}");
        int b = t.Dim(0), k = grid.Dim(0);
        if (target.Rank != 2 || target.Dim(0) != b || target.Dim(1) != k)
            throw new ArgumentException(
                $"target posterior must be {b} x {k} (batch x grid cells), got {Tensor<T>.ShapeString(target.Shape)}");

        // grad psi at the batch's own t, kept in the graph (double backward).
        var tVar = Var<T>.Parameter(t.Clone(), "t");
        var gradT = Autograd.Grad(Ops.Sum(psi(tVar)), tVar, createGraph: true);              // [B, 2]

        // psi on the grid: the psi(t) term of the Bregman divergence cancels in the softmax.
        var gridVar = Var<T>.Constant(grid);
        var psiGrid = Ops.Reshape(psi(gridVar), 1, k);                                        // [1, K]
        var logits = Ops.MatMul(gradT, gridVar, transB: true) - psiGrid;                      // [B, K]
        return FromLogits(logits, target);
    }

    /// <summary>
    /// The JSD part alone: mean over rows of JSD(softmax(<paramref name="logits"/>), <paramref name="target"/>), logits
    /// and target both [B, K]. Shared by <see cref="Compute{T}"/> and by parametrisations whose logits are built without
    /// double backward (a B-spline psi: grad psi and psi on the grid are linear in its coefficients).
    /// </summary>
    public static Var<T> FromLogits<T>(Var<T> logits, Tensor<T> target) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (logits.Value.Rank != 2 || target.Rank != 2 || logits.Value.Dim(0) != target.Dim(0) || logits.Value.Dim(1) != target.Dim(1))
            throw new ArgumentException(
                $"logits {Tensor<T>.ShapeString(logits.Value.Shape)} and target {Tensor<T>.ShapeString(target.Shape)} must both be B x K");
        var logQ = Ops.LogSoftmax(logits);
        var q = Ops.Exp(logQ);

        var p = Var<T>.Constant(target);
        var m = (q + p) * T.CreateChecked(0.5);
        // JSD = 1/2 sum q log q + 1/2 sum p log p - sum m log m; the p log p part is a constant of the data.
        var qLogQ = Ops.Sum(q * logQ, axis: 1);
        var mLogM = Ops.Sum(m * Ops.Log(m + T.CreateChecked(LogGuard)), axis: 1);
        var perRow = qLogQ * T.CreateChecked(0.5) - mLogM + Var<T>.Constant(HalfNegEntropy(target));
        return Ops.Mean(perRow);
    }

    /// <summary>1/2 sum_k p log p per row (0 log 0 = 0), the data-only part of the JSD.</summary>
    private static Tensor<T> HalfNegEntropy<T>(Tensor<T> target) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int b = target.Dim(0), k = target.Dim(1);
        if (target.IsOnDevice)
            return DeviceOps.Unary(TensorKernels.SumAxis(DeviceOps.Unary(target, UnaryKind.XLogX), 1, false), UnaryKind.Scale, T.CreateChecked(0.5));
        var result = new T[b];
        var half = T.CreateChecked(0.5);
        for (int i = 0; i < b; i++)
        {
            T s = T.Zero;
            foreach (var v in target.Data.AsSpan(i * k, k))
                if (v > T.Zero)
                    s += v * T.Log(v);
            result[i] = half * s;
        }
        return Tensor<T>.FromArray(result, b);
    }
}
