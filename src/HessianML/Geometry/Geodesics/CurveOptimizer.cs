using HessianML.Posterior;

namespace HessianML.Geometry.Geodesics;

/// <summary>
/// Minimisers of <see cref="CurveEnergy.Evaluate"/> over the interior points of a curve (ends fixed, points kept in
/// the box by projection): projected L-BFGS for the global method's refinement, and the released Adam loop.
/// </summary>
public static class CurveOptimizer
{
    /// <summary>
    /// Projected L-BFGS (memory 10, Armijo backtracking on the projected step) for at most <paramref name="maxSteps"/>
    /// iterations; stops earlier when an iteration lowers E by less than 1e-13 relative, or no step decreases it.
    /// Returns the iterations used. WHY L-BFGS: the energy of an M-point curve has condition number ~M^2, where
    /// first-order methods need thousands of steps; L-BFGS converges in a few hundred at O(M) cost each.
    /// </summary>
    public static int Lbfgs(TabulatedMetric metric, double[] x, double smoothness, int maxSteps) =>
        Lbfgs((p, g) => CurveEnergy.Evaluate(metric, p, smoothness, g), x, metric.Box, maxSteps);

    /// <summary>
    /// The same projected L-BFGS for any energy of the curve <paramref name="x"/> (interleaved t1, t2; ends fixed, interior
    /// kept in <paramref name="box"/>): <paramref name="energy"/> returns E(x) and writes its gradient.
    /// </summary>
    public static int Lbfgs(Func<double[], double[], double> energy, double[] x, ParameterBox box, int maxSteps)
    {
        int n = x.Length;
        if (n <= 4) return 0;
        const int memory = 10;
        var sList = new List<double[]>();
        var yList = new List<double[]>();
        var rho = new List<double>();
        var g = new double[n];
        var gNew = new double[n];
        var xNew = new double[n];
        var d = new double[n];
        var alphas = new double[memory];
        double f = energy(x, g);
        FixEnds(g);
        double scale = Math.Min(box.Width1, box.Width2);
        int it = 0, slow = 0;
        for (; it < maxSteps; it++)
        {
            // Two-loop recursion: d = -H g.
            Array.Copy(g, d, n);
            for (int k = sList.Count - 1; k >= 0; k--)
            {
                alphas[k] = rho[k] * Dot(sList[k], d);
                Axpy(-alphas[k], yList[k], d);
            }
            if (sList.Count > 0)
            {
                var (s, y) = (sList[^1], yList[^1]);
                double gamma = Dot(s, y) / Dot(y, y);
                for (int i = 0; i < n; i++) d[i] *= gamma;
            }
            for (int k = 0; k < sList.Count; k++)
            {
                double beta = rho[k] * Dot(yList[k], d);
                Axpy(alphas[k] - beta, sList[k], d);
            }
            for (int i = 0; i < n; i++) d[i] = -d[i];
            double gnorm = Math.Sqrt(Dot(g, g));
            if (gnorm == 0) break;
            if (Dot(g, d) >= 0 || sList.Count == 0)
            {
                // Steepest descent, first step of length 1e-3 of the box.
                for (int i = 0; i < n; i++) d[i] = -g[i] * 1e-3 * scale / gnorm;
                sList.Clear(); yList.Clear(); rho.Clear();
            }
            double step = 1, fNew = double.NaN;
            bool accepted = false;
            for (int tries = 0; tries < 50; tries++, step *= 0.5)
            {
                for (int i = 0; i < n; i++) xNew[i] = x[i] + step * d[i];
                Project(xNew, x, box);
                double decrease = 0;
                for (int i = 0; i < n; i++) decrease += g[i] * (xNew[i] - x[i]);
                fNew = energy(xNew, gNew);
                if (fNew <= f + 1e-4 * decrease && decrease < 0) { accepted = true; break; }
            }
            if (!accepted) break;
            FixEnds(gNew);
            var sv = new double[n];
            var yv = new double[n];
            for (int i = 0; i < n; i++) { sv[i] = xNew[i] - x[i]; yv[i] = gNew[i] - g[i]; }
            double sy = Dot(sv, yv);
            if (sy > 1e-300)
            {
                if (sList.Count == memory) { sList.RemoveAt(0); yList.RemoveAt(0); rho.RemoveAt(0); }
                sList.Add(sv); yList.Add(yv); rho.Add(1 / sy);
            }
            slow = f - fNew <= 1e-13 * Math.Abs(f) ? slow + 1 : 0;
            Array.Copy(xNew, x, n);
            Array.Copy(gNew, g, n);
            f = fNew;
            if (slow >= 5) { it++; break; }
        }
        return it;
    }

    /// <summary>
    /// The released optimiser (METHOD §5): Adam (beta1 0.9, beta2 0.999, eps 1e-8) on the interior points, clamped to
    /// the box after every step. DIFFERENCE: the released code detaches the metric (its gradient has no dg/dt term);
    /// here the full gradient of the same energy is used, which can only help it.
    /// </summary>
    public static void Adam(TabulatedMetric metric, double[] x, double smoothness, int steps, double learningRate)
    {
        int n = x.Length;
        var box = metric.Box;
        var g = new double[n];
        var m = new double[n];
        var v = new double[n];
        var previous = (double[])x.Clone();
        const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
        for (int t = 1; t <= steps; t++)
        {
            CurveEnergy.Evaluate(metric, x, smoothness, g);
            double c1 = 1 - Math.Pow(b1, t), c2 = 1 - Math.Pow(b2, t);
            for (int i = 2; i < n - 2; i++)
            {
                m[i] = b1 * m[i] + (1 - b1) * g[i];
                v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
                x[i] -= learningRate * (m[i] / c1) / (Math.Sqrt(v[i] / c2) + eps);
            }
            Project(x, previous, box);
        }
    }

    private static void FixEnds(double[] g) => g[0] = g[1] = g[^2] = g[^1] = 0;

    /// <summary>Clamps the interior points into the box; the ends are copied from <paramref name="reference"/>.</summary>
    private static void Project(double[] x, double[] reference, ParameterBox box)
    {
        (x[0], x[1], x[^2], x[^1]) = (reference[0], reference[1], reference[^2], reference[^1]);
        for (int i = 2; i < x.Length - 2; i += 2)
        {
            x[i] = Math.Clamp(x[i], box.Lo1, box.Hi1);
            x[i + 1] = Math.Clamp(x[i + 1], box.Lo2, box.Hi2);
        }
    }

    private static double Dot(double[] a, double[] b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }

    private static void Axpy(double a, double[] x, double[] y)
    {
        for (int i = 0; i < x.Length; i++) y[i] += a * x[i];
    }
}
