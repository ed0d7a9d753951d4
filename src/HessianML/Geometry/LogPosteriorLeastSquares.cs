namespace HessianML.Geometry;

/// <summary>
/// Log-posterior least squares (METHOD.md §8): for an exponential family, log p(t'|bundle) = &lt;eta_i, t'&gt; + c_i - N psi(t')
/// exactly, so the grid values phi_k = N psi(t'_k) solve
///     min over phi, eta_i, c_i of  sum_i sum_k p_ik (log p_ik + phi_k - &lt;eta_i, t'_k&gt; - c_i)^2.
/// Eliminating each bundle's (eta_i, c_i) leaves one K x K system S phi = r with S = sum_i M_i, where M_i is the
/// p_i-weighted residual maker of the affine functions on the grid. The affine functions are S's null space (psi's
/// gauge); the answer is fixed orthogonal to them. Exact from exact posteriors; it trusts the posterior's log-shape,
/// so a poorly calibrated posterior hurts it more than the JSD fit.
/// </summary>
public static class LogPosteriorLeastSquares
{
    /// <summary>
    /// Solves for phi on the grid. <paramref name="posteriors"/> is n x K (rows sum to 1), <paramref name="grid"/>
    /// is K x 2 (cell centres). Cells with p below <paramref name="relativeFloor"/> times the row maximum carry no
    /// weight and are skipped, which keeps the work proportional to the posteriors' support rather than to K^2 per row.
    /// </summary>
    public static double[] Solve(ReadOnlySpan<float> posteriors, int n, ReadOnlySpan<double> grid, double relativeFloor = 1e-10) =>
        SolveBatching(posteriors, n, grid, relativeFloor, widePosterior: (grid.Length / 2 + 3) / 4);

    /// <summary>As the public overload; rows with at least <paramref name="widePosterior"/> kept cells are batched (tests force either path).</summary>
    internal static double[] SolveBatching(ReadOnlySpan<float> posteriors, int n, ReadOnlySpan<double> grid, double relativeFloor, int widePosterior)
    {
        int k = grid.Length / 2;
        if (grid.Length != 2 * k || k < 4)
            throw new ArgumentException($"grid must be K x 2 with K >= 4 points, got {grid.Length} numbers");
        if (posteriors.Length != n * k)
            throw new ArgumentException($"posteriors have {posteriors.Length} numbers, expected {n} x {k}");

        // Centre and scale the grid coordinates: the affine basis is then well conditioned whatever the box.
        var (a1, a2) = StandardisedCoordinates(grid, k);
        var s = new double[k * k];
        var r = new double[k];
        var cells = new List<int>(k);
        Span<double> g = stackalloc double[9];
        Span<double> u = stackalloc double[3];
        Span<double> wal = stackalloc double[3]; // (W A)^T log p
        int skipped = 0;
        // The rank-3 part of each row's update, S -= U_i V_i^T over its kept cells (U_i = W A G, V_i = W A, k x 3): for a
        // wide posterior (a quarter of the grid or more) it is gathered, for a chunk of such rows, into two 3R x k panels
        // and applied as one matrix product, since the per-row double loop over kept cells costs O(support^2) (13-17 s
        // for 19 200 single-sample posteriors on a 24 x 24 grid; 0.8 s batched). A narrow posterior keeps the direct loop:
        // a panel row costs O(k^2) whatever the support, which on a large grid (96 x 96) would cost far more.
        const int Chunk = 256;
        double[]? ut = null, vt = null;
        int inChunk = 0;
        void Flush()
        {
            if (inChunk == 0) return;
            Tensors.Gemm.Multiply(ut!, vt!, s, k, k, 3 * inChunk, transA: true, transB: false, accumulate: true);
            Array.Clear(ut!, 0, 3 * inChunk * k);
            Array.Clear(vt!, 0, 3 * inChunk * k);
            inChunk = 0;
        }
        for (int i = 0; i < n; i++)
        {
            var p = posteriors.Slice(i * k, k);
            float max = 0;
            foreach (float v in p)
            {
                if (!(v >= 0) || float.IsInfinity(v)) throw new ArgumentException($"posterior row {i} has a negative or non-finite entry");
                max = Math.Max(max, v);
            }
            if (max == 0) throw new ArgumentException($"posterior row {i} is all zeros");
            cells.Clear();
            for (int c = 0; c < k; c++) if (p[c] >= relativeFloor * max) cells.Add(c);
            // G = (A^T W A)^-1 over the kept cells, A = [a1, a2, 1].
            g.Clear();
            foreach (int c in cells)
            {
                double w = p[c];
                double x = a1[c], y = a2[c];
                g[0] += w * x * x; g[1] += w * x * y; g[2] += w * x;
                g[4] += w * y * y; g[5] += w * y; g[8] += w;
            }
            g[3] = g[1]; g[6] = g[2]; g[7] = g[5];
            if (!Invert3(g))
            {
                skipped++;
                continue; // a posterior on fewer than three non-collinear cells says nothing about curvature
            }
            // M = W - (W A) G (W A)^T restricted to the kept cells; accumulate S += M and r -= M log p.
            wal.Clear();
            foreach (int c in cells)
            {
                double w = p[c], l = Math.Log(p[c]);
                wal[0] += w * a1[c] * l; wal[1] += w * a2[c] * l; wal[2] += w * l;
            }
            bool wide = cells.Count >= widePosterior;
            if (wide) (ut, vt) = (ut ?? new double[3 * Chunk * k], vt ?? new double[3 * Chunk * k]);
            int row = 3 * inChunk * k;
            foreach (int c in cells)
            {
                double w = p[c];
                // u = G (W A)_c^T : the row of (W A) G for cell c.
                u[0] = w * (g[0] * a1[c] + g[1] * a2[c] + g[2]);
                u[1] = w * (g[3] * a1[c] + g[4] * a2[c] + g[5]);
                u[2] = w * (g[6] * a1[c] + g[7] * a2[c] + g[8]);
                s[c * k + c] += w;
                r[c] -= w * Math.Log(p[c]) - (u[0] * wal[0] + u[1] * wal[1] + u[2] * wal[2]);
                if (wide)
                {
                    (ut![row + c], ut[row + k + c], ut[row + 2 * k + c]) = (-u[0], -u[1], -u[2]);
                    (vt![row + c], vt[row + k + c], vt[row + 2 * k + c]) = (w * a1[c], w * a2[c], w);
                    continue;
                }
                foreach (int d in cells)
                {
                    double wd = p[d];
                    s[c * k + d] -= wd * (u[0] * a1[d] + u[1] * a2[d] + u[2]);
                }
            }
            if (wide && ++inChunk == Chunk) Flush();
        }
        Flush();
        // WHY this check: posteriors too sharp to see curvature (one or two cells each, as feature-distance posteriors of
        // well-separated features are) leave cells with no equation at all, and the solve would fail deep inside.
        int empty = 0;
        for (int c = 0; c < k; c++) if (!(s[c * k + c] > 0)) empty++;
        string Undetermined() => $"log-posterior least squares: {empty} of {k} grid cells get no weight from any posterior " +
            $"({skipped} of {n} posteriors cover fewer than three non-collinear cells), so psi is undetermined there; " +
            "use the JSD fit (PsiFit.Jsd) or wider posteriors";
        if (empty > 0) throw new ArgumentException(Undetermined());
        // Fix the gauge: add the projector onto the affine functions, which leaves the solution on their orthogonal
        // complement unchanged (S annihilates them and r is orthogonal to them) and makes S invertible.
        var basis = OrthonormalAffineBasis(a1, a2, k);
        double scale = 0;
        for (int c = 0; c < k; c++) scale = Math.Max(scale, s[c * k + c]);
        for (int c = 0; c < k; c++)
            for (int d = 0; d < k; d++)
                s[c * k + d] += scale * (basis[0][c] * basis[0][d] + basis[1][c] * basis[1][d] + basis[2][c] * basis[2][d]);
        try
        {
            return CholeskySolve(s, r, k);
        }
        catch (InvalidOperationException) // cells with weight but too little to tie them to the rest
        {
            throw new ArgumentException(Undetermined().Replace($"{empty} of {k} grid cells get no weight from any posterior", "the posteriors do not tie every grid cell to the others"));
        }
    }

    private static (double[] A1, double[] A2) StandardisedCoordinates(ReadOnlySpan<double> grid, int k)
    {
        double m1 = 0, m2 = 0, v1 = 0, v2 = 0;
        for (int c = 0; c < k; c++) { m1 += grid[2 * c]; m2 += grid[2 * c + 1]; }
        m1 /= k; m2 /= k;
        for (int c = 0; c < k; c++) { v1 += Sq(grid[2 * c] - m1); v2 += Sq(grid[2 * c + 1] - m2); }
        double s1 = v1 > 0 ? Math.Sqrt(v1 / k) : 1, s2 = v2 > 0 ? Math.Sqrt(v2 / k) : 1;
        var a1 = new double[k];
        var a2 = new double[k];
        for (int c = 0; c < k; c++) { a1[c] = (grid[2 * c] - m1) / s1; a2[c] = (grid[2 * c + 1] - m2) / s2; }
        return (a1, a2);
    }

    private static double[][] OrthonormalAffineBasis(double[] a1, double[] a2, int k)
    {
        var vs = new[] { Enumerable.Repeat(1.0, k).ToArray(), (double[])a1.Clone(), (double[])a2.Clone() };
        for (int i = 0; i < 3; i++)
        {
            for (int j = 0; j < i; j++)
            {
                double dot = 0;
                for (int c = 0; c < k; c++) dot += vs[i][c] * vs[j][c];
                for (int c = 0; c < k; c++) vs[i][c] -= dot * vs[j][c];
            }
            double norm = Math.Sqrt(vs[i].Sum(v => v * v));
            if (norm < 1e-12) throw new ArgumentException("grid points are collinear: the affine gauge is undefined");
            for (int c = 0; c < k; c++) vs[i][c] /= norm;
        }
        return vs;
    }

    private static bool Invert3(Span<double> m)
    {
        double a = m[0], b = m[1], c = m[2], d = m[3], e = m[4], f = m[5], g = m[6], h = m[7], i = m[8];
        double c00 = e * i - f * h, c01 = -(d * i - f * g), c02 = d * h - e * g;
        double det = a * c00 + b * c01 + c * c02;
        double norm = Math.Abs(a) + Math.Abs(e) + Math.Abs(i);
        if (!(Math.Abs(det) > 1e-14 * norm * norm * norm)) return false;
        m[0] = c00 / det; m[1] = -(b * i - c * h) / det; m[2] = (b * f - c * e) / det;
        m[3] = c01 / det; m[4] = (a * i - c * g) / det; m[5] = -(a * f - c * d) / det;
        m[6] = c02 / det; m[7] = -(a * h - b * g) / det; m[8] = (a * e - b * d) / det;
        return true;
    }

    /// <summary>Dense Cholesky solve of a symmetric positive definite system (in place on a copy).</summary>
    internal static double[] CholeskySolve(double[] a, double[] b, int k)
    {
        var l = (double[])a.Clone();
        for (int j = 0; j < k; j++)
        {
            double d = l[j * k + j];
            for (int p = 0; p < j; p++) d -= l[j * k + p] * l[j * k + p];
            if (!(d > 0)) throw new InvalidOperationException($"system is not positive definite at row {j}");
            d = Math.Sqrt(d);
            l[j * k + j] = d;
            Parallel.For(j + 1, k, i =>
            {
                double s = l[i * k + j];
                for (int p = 0; p < j; p++) s -= l[i * k + p] * l[j * k + p];
                l[i * k + j] = s / d;
            });
        }
        var x = (double[])b.Clone();
        for (int i = 0; i < k; i++)
        {
            double s = x[i];
            for (int p = 0; p < i; p++) s -= l[i * k + p] * x[p];
            x[i] = s / l[i * k + i];
        }
        for (int i = k - 1; i >= 0; i--)
        {
            double s = x[i];
            for (int p = i + 1; p < k; p++) s -= l[p * k + i] * x[p];
            x[i] = s / l[i * k + i];
        }
        return x;
    }

    private static double Sq(double x) => x * x;
}
