using HessianML.Posterior;

namespace HessianML.Geometry;

/// <summary>
/// The Hessian metric nearest to a given metric on chosen cells of a K x K grid: psi values on the grid's cell centres
/// minimising sum over the cells of |G_i - H_i|_F^2 / |G_i|_F^2, H_i psi's central-difference Hessian at cell i (the
/// off-diagonal entry counted twice, as METHOD §7's per-cell error). WHY: a fitted Fisher metric is always a Hessian in
/// t, but a reference metric need not be one (the pixel pull-back J^T J of a diffusion slice is not: in fixed coordinates a
/// Hessian needs d2 g11 = d1 g12 and d1 g22 = d2 g12), so this is the floor any psi can reach against that reference.
/// The normal equations are banded (two points of a stencil are up to 2 (K + 1) unknowns apart) and solved by banded
/// Cholesky, with a ridge of 1e-9 of their mean diagonal for psi's gauge (affine functions have no Hessian) and psi pinned
/// to 0 at the cells no stencil reaches.
/// Cost O(K^4) time, O(K^3) memory.
/// </summary>
public static class NearestHessianMetric
{
    /// <summary>
    /// Fits psi on the K x K cell centres of <paramref name="box"/> (index i * K + j, i along t1, as
    /// <see cref="ParameterBox.CellCentres"/>) to <paramref name="reference"/> (a field at those centres) at the cells
    /// <paramref name="cells"/> that are not on the grid's edge (a central difference needs all eight neighbours).
    /// Returns the cells used and the Hessian metric at every cell (zero on the edge).
    /// </summary>
    public static (int[] Cells, MetricField Hessian) Fit(MetricField reference, ParameterBox box, int k, IEnumerable<int> cells)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(box);
        ArgumentNullException.ThrowIfNull(cells);
        if (k < 3) throw new ArgumentOutOfRangeException(nameof(k), $"grid {k} must be at least 3 for a central difference");
        if (reference.Count != k * k) throw new ArgumentException($"reference has {reference.Count} points, a {k} x {k} grid {k * k}");
        var use = cells.Where(c => OffTheEdge(c, k)).Distinct().Order().ToArray();
        if (use.Length == 0) throw new ArgumentException("no cell off the grid's edge to fit at");
        double h1 = box.Width1 / k, h2 = box.Width2 / k;
        int n = k * k, band = 2 * k + 2;   // two points of one stencil are up to 2 (K + 1) apart
        var normal = new double[n * (band + 1)];   // row u holds N[u, u - band .. u]
        var rhs = new double[n];
        void Add(ReadOnlySpan<(int U, double C)> terms, double target, double weight)
        {
            foreach (var (p, cp) in terms)
            {
                rhs[p] += weight * cp * target;
                foreach (var (q, cq) in terms)
                    if (q <= p) normal[p * (band + 1) + band - (p - q)] += weight * cp * cq;
            }
        }
        foreach (int c in use)
        {
            int i = c / k, j = c % k;
            double g11 = reference.G11[c], g12 = reference.G12[c], g22 = reference.G22[c];
            double norm = g11 * g11 + 2 * g12 * g12 + g22 * g22;
            if (!(norm > 0) || !double.IsFinite(norm)) throw new ArgumentException($"reference metric at cell {c} is zero or not finite");
            double w = 1 / norm, a = 1 / (h1 * h1), b = 1 / (h2 * h2), x = Math.Sqrt(2) / (4 * h1 * h2);
            Add([(c + k, a), (c, -2 * a), (c - k, a)], g11, w);
            Add([(c + 1, b), (c, -2 * b), (c - 1, b)], g22, w);
            Add([(c + k + 1, x), (c + k - 1, -x), (c - k + 1, -x), (c - k - 1, x)], Math.Sqrt(2) * g12, w);
        }
        // The gauge: psi's affine part has no Hessian (on each connected patch of cells), so a ridge of 1e-9 of the mean
        // diagonal picks the smallest psi; the values no stencil reaches are pinned to 0.
        double meanDiagonal = 0;
        for (int u = 0; u < n; u++) meanDiagonal += normal[u * (band + 1) + band];
        meanDiagonal /= n;
        for (int u = 0; u < n; u++)
            normal[u * (band + 1) + band] += normal[u * (band + 1) + band] == 0 ? meanDiagonal : 1e-9 * meanDiagonal;
        var psi = BandedCholeskySolve(normal, rhs, n, band);

        var hessian = MetricField.AtPoints([.. reference.T1], [.. reference.T2]);
        foreach (int c in use)
        {
            hessian.G11[c] = (psi[c + k] - 2 * psi[c] + psi[c - k]) / (h1 * h1);
            hessian.G22[c] = (psi[c + 1] - 2 * psi[c] + psi[c - 1]) / (h2 * h2);
            hessian.G12[c] = (psi[c + k + 1] - psi[c + k - 1] - psi[c - k + 1] + psi[c - k - 1]) / (4 * h1 * h2);
        }
        return (use, hessian);
    }

    /// <summary>Whether cell c of a K x K grid has all eight neighbours, so that a central-difference Hessian exists there.</summary>
    public static bool OffTheEdge(int c, int k) => c / k > 0 && c / k < k - 1 && c % k > 0 && c % k < k - 1;

    /// <summary>Solves N x = b for a symmetric positive definite N stored as rows u of N[u, u - band .. u].</summary>
    private static double[] BandedCholeskySolve(double[] m, double[] b, int n, int band)
    {
        int w = band + 1;
        for (int u = 0; u < n; u++)
        {
            int lo = Math.Max(0, u - band);
            for (int v = lo; v <= u; v++)
            {
                double s = m[u * w + band - (u - v)];
                int from = Math.Max(lo, Math.Max(0, v - band));
                for (int q = from; q < v; q++) s -= m[u * w + band - (u - q)] * m[v * w + band - (v - q)];
                if (v == u)
                {
                    if (!(s > 0)) throw new InvalidOperationException($"normal equations not positive definite at row {u}");
                    m[u * w + band] = Math.Sqrt(s);
                }
                else m[u * w + band - (u - v)] = s / m[v * w + band];
            }
        }
        var y = new double[n];
        for (int u = 0; u < n; u++)
        {
            double s = b[u];
            for (int q = Math.Max(0, u - band); q < u; q++) s -= m[u * w + band - (u - q)] * y[q];
            y[u] = s / m[u * w + band];
        }
        var x = new double[n];
        for (int u = n - 1; u >= 0; u--)
        {
            double s = y[u];
            for (int q = u + 1; q <= Math.Min(n - 1, u + band); q++) s -= m[q * w + band - (q - u)] * x[q];
            x[u] = s / m[u * w + band];
        }
        return x;
    }
}
