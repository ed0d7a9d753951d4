namespace HessianML.Posterior;

/// <summary>
/// The smoothed training label of eq. 128: a Gaussian bump on the grid around a sample's true t,
/// y(t'_k) ∝ exp(-|t'_k - t|^2 / (2 sigma^2)), with distances in box-normalised coordinates (each side of the box has
/// length 1) so one sigma serves both axes. Cross-entropy against it learns the posterior convolved with this kernel,
/// which is why sigma should stay near a grid cell.
/// </summary>
public static class SmoothedLabels
{
    /// <summary>Writes the normalised label of point t into <paramref name="label"/> (length k1 * k2).</summary>
    public static void Fill(Span<float> label, double t1, double t2, ParameterBox box, int k1, int k2, double sigma)
    {
        if (!(sigma > 0)) throw new ArgumentOutOfRangeException(nameof(sigma), $"label width sigma {sigma} must be positive");
        if (label.Length != k1 * k2) throw new ArgumentException($"label has {label.Length} entries for a {k1} x {k2} grid");
        double u = box.Width1 > 0 ? (t1 - box.Lo1) / box.Width1 : 0.5, v = box.Width2 > 0 ? (t2 - box.Lo2) / box.Width2 : 0.5;
        // Separable: the 2D Gaussian is the outer product of two 1D ones, computed once per axis.
        Span<double> g1 = stackalloc double[k1], g2 = stackalloc double[k2];
        double s1 = 0, s2 = 0;
        for (int i = 0; i < k1; i++) s1 += g1[i] = Math.Exp(-Sq((i + 0.5) / k1 - u) / (2 * sigma * sigma));
        for (int j = 0; j < k2; j++) s2 += g2[j] = Math.Exp(-Sq((j + 0.5) / k2 - v) / (2 * sigma * sigma));
        if (s1 == 0 || s2 == 0)
        {
            // sigma far below a cell and t outside the grid's reach: fall back to the hard label of t's cell.
            label.Clear();
            label[box.CellOf(t1, t2, k1, k2)] = 1;
            return;
        }
        for (int i = 0; i < k1; i++)
            for (int j = 0; j < k2; j++)
                label[i * k2 + j] = (float)(g1[i] / s1 * (g2[j] / s2));
    }

    private static double Sq(double x) => x * x;
}
