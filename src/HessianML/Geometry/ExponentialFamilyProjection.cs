using System.Diagnostics;
using System.Globalization;
using HessianML.Autodiff;
using HessianML.Posterior;
using HessianML.Tensors;

namespace HessianML.Geometry;

/// <summary>
/// Projection of the posteriors onto the exponential-family form (METHOD §2, §8): for an exponential family,
/// p(t'_k | bundle_i) = softmax_k(&lt;eta_i, t'_k&gt; - N psi(t'_k)) EXACTLY, with eta_i = N grad psi at the bundle's own
/// maximum-likelihood point, not at its true t_i. The JSD fit centres its model at the true t_i and so fits a blurred
/// average of shifted posteriors (METHOD §8); this fit instead lets every row have its own natural parameter:
///     min over phi (a cubic B-spline) and eta_1..eta_n of  sum_i CE(p_i, softmax(&lt;eta_i, u_k&gt; - phi_k)),
/// u_k the standardised grid coordinates. The objective is jointly convex (cross-entropy of a log-linear model). For
/// fixed phi each eta_i is a 2-parameter problem solved by damped Newton steps (gradient E_q[u] - E_p[u], Hessian
/// Cov_q[u]), warm-started from the row's previous eta; phi then takes an Adam step on the spline coefficients with
/// the exact gradient B^T sum_i (p_i - q_i). Exact posteriors of an exponential family are fitted exactly (q = p);
/// unlike log-posterior least squares it weighs each cell by the posterior's mass, so badly calibrated tails of a
/// network posterior barely matter.
/// </summary>
public static class ExponentialFamilyProjection
{
    /// <summary>
    /// Fits the spline phi (~ N psi up to scale and affine part) to <paramref name="n"/> posteriors (n x K*K, rows
    /// summing to 1) on <paramref name="grid"/> (K*K x 2 cell centres). The rows' true t are not used: that is the point.
    /// </summary>
    public static TensorBSpline Fit(LogPartitionOptions o, ParameterBox box, double[] grid, float[] posteriors, int n)
    {
        int kk = grid.Length / 2;
        if (posteriors.Length != n * kk) throw new ArgumentException($"posteriors need {n} x {kk} numbers, got {posteriors.Length}");
        var spline = new TensorBSpline(box, o.SplineCount, o.SplineCount);
        int cc = spline.CoefficientCount;
        var bg = LogPartitionTrainer.GridBasis(spline, grid);
        var (u1, u2) = LogPosteriorLeastSquares.StandardisedCoordinates(grid, kk);
        var eta = new double[2 * n];
        var c = Var<double>.Parameter(Tensor<double>.Zeros(cc), "coefficients");
        var adam = new Adam<double>([c], o.EffectiveLearningRate);
        var rng = new SplitMix64(o.Seed ^ 0x9E3779B97F4A7C15UL);
        var phi = new double[kk];
        var q = new double[kk];
        var residual = new double[kk];
        var sw = Stopwatch.StartNew();
        int epochs = o.EffectiveEpochs, step = 0, totalSteps = epochs * ((n + o.BatchSize - 1) / o.BatchSize);
        for (int epoch = 0; epoch < epochs; epoch++)
        {
            var order = LogPartitionTrainer.Order(rng, n);
            double total = 0;
            for (int start = 0; start < n; start += o.BatchSize)
            {
                int b = Math.Min(o.BatchSize, n - start);
                Multiply(bg, c.Value.Data, phi, kk, cc);
                Array.Clear(residual);
                for (int r = 0; r < b; r++)
                {
                    int row = order[start + r];
                    var p = posteriors.AsSpan(row * kk, kk);
                    total += FitRow(p, phi, u1, u2, eta.AsSpan(2 * row, 2), q);
                    for (int k = 0; k < kk; k++) residual[k] += (p[k] - q[k]) / b;
                }
                var grad = new double[cc];
                for (int k = 0; k < kk; k++)
                {
                    double rk = residual[k];
                    if (rk == 0) continue;
                    for (int j = 0; j < cc; j++) grad[j] += bg[k * cc + j] * rk;
                }
                c.Grad = Tensor<double>.FromArray(grad, cc);
                adam.LearningRate = LogPartitionTrainer.Schedule(o, step++, totalSteps);
                adam.Step();
            }
            LogPartitionTrainer.Report(o, epoch, epochs, total / n, sw, "cross-entropy");
        }
        c.Value.Data.CopyTo(spline.Coefficients, 0);
        return spline;
    }

    private static void Multiply(double[] a, double[] x, double[] y, int rows, int cols)
    {
        for (int i = 0; i < rows; i++)
        {
            double s = 0;
            for (int j = 0; j < cols; j++) s += a[i * cols + j] * x[j];
            y[i] = s;
        }
    }

    /// <summary>
    /// Newton steps on one row's eta for fixed phi (warm start; halving while the cross-entropy rises); leaves q at the
    /// softmax of the final eta and returns the row's cross-entropy -sum p log q.
    /// </summary>
    internal static double FitRow(ReadOnlySpan<float> p, double[] phi, double[] u1, double[] u2, Span<double> eta, double[] q)
    {
        double pm1 = 0, pm2 = 0;
        for (int k = 0; k < p.Length; k++) { pm1 += p[k] * u1[k]; pm2 += p[k] * u2[k]; }
        double ce = Softmax(p, phi, u1, u2, eta[0], eta[1], q);
        for (int iter = 0; iter < 3; iter++)
        {
            double m1 = 0, m2 = 0;
            for (int k = 0; k < q.Length; k++) { m1 += q[k] * u1[k]; m2 += q[k] * u2[k]; }
            double h11 = 1e-9, h12 = 0, h22 = 1e-9;
            for (int k = 0; k < q.Length; k++)
            {
                double d1 = u1[k] - m1, d2 = u2[k] - m2;
                h11 += q[k] * d1 * d1; h12 += q[k] * d1 * d2; h22 += q[k] * d2 * d2;
            }
            double g1 = m1 - pm1, g2 = m2 - pm2, det = h11 * h22 - h12 * h12;
            if (g1 * g1 + g2 * g2 < 1e-20) break;
            double s1 = (h22 * g1 - h12 * g2) / det, s2 = (h11 * g2 - h12 * g1) / det;
            bool accepted = false;
            for (double scale = 1; scale > 1e-3 && !accepted; scale *= 0.5)
            {
                double e1 = eta[0] - scale * s1, e2 = eta[1] - scale * s2;
                double trial = Softmax(p, phi, u1, u2, e1, e2, q);
                if (trial <= ce) (eta[0], eta[1], ce, accepted) = (e1, e2, trial, true);
            }
            if (!accepted)
            {
                Softmax(p, phi, u1, u2, eta[0], eta[1], q); // no step helps: restore q of the current eta
                break;
            }
        }
        return ce;
    }

    /// <summary>q = softmax(eta . u - phi); returns -sum p log q (computed from the logits, so no log of an underflowed q).</summary>
    private static double Softmax(ReadOnlySpan<float> p, double[] phi, double[] u1, double[] u2, double e1, double e2, double[] q)
    {
        double max = double.NegativeInfinity;
        for (int k = 0; k < q.Length; k++) max = Math.Max(max, q[k] = e1 * u1[k] + e2 * u2[k] - phi[k]);
        double z = 0;
        for (int k = 0; k < q.Length; k++) z += Math.Exp(q[k] - max);
        double lse = max + Math.Log(z), ce = 0;
        for (int k = 0; k < q.Length; k++)
        {
            if (p[k] > 0) ce -= p[k] * (q[k] - lse);
            q[k] = Math.Exp(q[k] - lse);
        }
        return ce;
    }
}
