using System.Numerics;
using HessianML.Tensors;

namespace HessianML.Autodiff;

/// <summary>
/// Value, gradient and Hessian of a row-wise scalar network f: R^D -> R at N points, by double backward.
/// This is the Fisher metric g(t) = Hessian_t psi(t) of METHOD §3 (eq. 24) for a neural psi.
/// </summary>
public static class Derivatives
{
    /// <summary>
    /// f must map points [N,D] to [N] or [N,1] with row i depending on point i only (true of MLPs with
    /// LayerNorm over features). Returns Value [N], Gradient [N,D], Hessian [N,D,D] (symmetric).
    /// One backward for the gradient plus D backwards of its columns for the Hessian.
    /// </summary>
    public static (Tensor<T> Value, Tensor<T> Gradient, Tensor<T> Hessian) ValueGradientHessian<T>(Func<Var<T>, Var<T>> f, Tensor<T> points)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (points.Rank != 2) throw new ArgumentException($"Points must be [N,D], got {Tensor<T>.ShapeString(points.Shape)}.");
        int n = points.Shape[0], d = points.Shape[1];
        var x = Var<T>.Parameter(points.Clone());
        Var<T> y;
        using (GradMode.Enable()) y = f(x);
        if (y.Length != n)
            throw new ArgumentException($"f must give one value per point: {n} points gave shape {Tensor<T>.ShapeString(y.Shape)}.");
        var value = y.Value.ReshapeCopy(n);
        if (!y.RequiresGrad)
            return (value, Tensor<T>.Zeros(n, d), Tensor<T>.Zeros(n, d, d));
        var grad = Autograd.Grad(Ops.Sum(y), [x], createGraph: true)[0];
        var hess = Tensor<T>.Zeros(n, d, d);
        for (int j = 0; j < d; j++)
        {
            // Rows are independent, so d/dx of sum_i grad[i, j] gives H[i, j, :] for every i at once.
            var col = Ops.Sum(Ops.Slice(grad, 1, j, 1));
            var hj = col.RequiresGrad ? Autograd.Grad(col, [x], createGraph: false)[0].Value : Tensor<T>.Zeros(n, d);
            for (int i = 0; i < n; i++)
                for (int k = 0; k < d; k++) hess.Data[(i * d + j) * d + k] = hj.Data[i * d + k];
        }
        return (value, grad.Value.Clone(), hess);
    }
}
