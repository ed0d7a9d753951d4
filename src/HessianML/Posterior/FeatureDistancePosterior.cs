namespace HessianML.Posterior;

/// <summary>
/// The feature-distance posterior of eq. 16-19 for deterministic generators and pre-trained featurisers:
///     p(t'_k | x) ∝ exp(-lambda * ||f(x) - mu(t'_k)||^2),   mu(t'_k) = mean feature of the samples in cell k.
/// lambda is an inverse temperature: larger makes the posterior sharper. Cells that received no sample take the
/// centroid of the nearest cell that did (in box-normalised distance), so every grid point has a centroid.
/// </summary>
public sealed class FeatureDistancePosterior
{
    public ParameterBox Box { get; }
    public int K1 { get; }
    public int K2 { get; }
    public int Dimension { get; }
    public double Lambda { get; }

    /// <summary>Cell centroids mu, (K1*K2) x Dimension, row-major.</summary>
    public float[] Centroids { get; }

    /// <summary>Samples that fell in each cell (0 for cells filled from a neighbour).</summary>
    public int[] CellCounts { get; }

    public FeatureDistancePosterior(ParameterBox box, int k1, int k2, double lambda, float[] centroids, int[] cellCounts)
    {
        if (!(lambda > 0) || !double.IsFinite(lambda))
            throw new ArgumentOutOfRangeException(nameof(lambda), $"lambda {lambda} must be positive and finite");
        if (centroids.Length % (k1 * k2) != 0)
            throw new ArgumentException($"{centroids.Length} centroid numbers do not divide into {k1} x {k2} cells");
        (Box, K1, K2, Lambda, Centroids, CellCounts) = (box, k1, k2, lambda, centroids, cellCounts);
        Dimension = centroids.Length / (k1 * k2);
    }

    /// <summary>Learns the cell centroids from features (n x d) at their parameters t (n x 2).</summary>
    public static FeatureDistancePosterior Fit(ReadOnlySpan<float> features, int dimension, ReadOnlySpan<float> t,
        ParameterBox box, int k1, int k2, double lambda)
    {
        int n = t.Length / 2;
        if (dimension < 1 || features.Length != n * dimension)
            throw new ArgumentException($"features have {features.Length} numbers; expected {n} samples x {dimension}");
        if (n == 0) throw new ArgumentException("no samples to learn cell centroids from");
        int cells = k1 * k2;
        var sum = new double[cells * dimension];
        var count = new int[cells];
        for (int i = 0; i < n; i++)
        {
            int c = box.CellOf(t[2 * i], t[2 * i + 1], k1, k2);
            count[c]++;
            for (int d = 0; d < dimension; d++) sum[c * dimension + d] += features[i * dimension + d];
        }
        var mu = new float[cells * dimension];
        var filled = Enumerable.Range(0, cells).Where(c => count[c] > 0).ToArray();
        for (int c = 0; c < cells; c++)
        {
            int source = count[c] > 0 ? c : filled.MinBy(f => Sq((f / k2 - c / k2) / (double)k1) + Sq((f % k2 - c % k2) / (double)k2));
            for (int d = 0; d < dimension; d++)
                mu[c * dimension + d] = (float)(sum[source * dimension + d] / count[source]);
        }
        return new FeatureDistancePosterior(box, k1, k2, lambda, mu, count);
    }

    /// <summary>
    /// Mean over the samples of ||f(x_i) - mu(cell of t_i)||^2: the within-cell spread of the features, whose
    /// Gaussian reading (f ~ N(mu, s^2 I_d), so the mean is d s^2) gives the default lambda = d / (2 * mean).
    /// </summary>
    public double MeanSquaredDistanceToOwnCell(ReadOnlySpan<float> features, ReadOnlySpan<float> t)
    {
        int n = t.Length / 2;
        if (features.Length != n * Dimension)
            throw new ArgumentException($"features have {features.Length} numbers; expected {n} samples x {Dimension}");
        if (n == 0) throw new ArgumentException("no samples");
        double total = 0;
        for (int i = 0; i < n; i++)
        {
            var mu = Centroids.AsSpan(Box.CellOf(t[2 * i], t[2 * i + 1], K1, K2) * Dimension, Dimension);
            for (int d = 0; d < Dimension; d++) total += Sq(features[i * Dimension + d] - mu[d]);
        }
        return total / n;
    }

    /// <summary>The same centroids with another inverse temperature.</summary>
    public FeatureDistancePosterior WithLambda(double lambda) => new(Box, K1, K2, lambda, Centroids, CellCounts);

    /// <summary>Writes the posterior over the grid for one feature vector into <paramref name="posterior"/>.</summary>
    public void Posterior(ReadOnlySpan<float> feature, Span<float> posterior)
    {
        int cells = K1 * K2;
        if (feature.Length != Dimension) throw new ArgumentException($"feature has length {feature.Length}; the centroids have {Dimension}");
        if (posterior.Length != cells) throw new ArgumentException($"posterior buffer has {posterior.Length} cells; the grid has {cells}");
        Span<double> logits = cells <= 16384 ? stackalloc double[cells] : new double[cells];
        double max = double.NegativeInfinity;
        for (int c = 0; c < cells; c++)
        {
            var mu = Centroids.AsSpan(c * Dimension, Dimension);
            double d2 = 0;
            for (int d = 0; d < Dimension; d++) d2 += Sq(feature[d] - mu[d]);
            logits[c] = -Lambda * d2;
            max = Math.Max(max, logits[c]);
        }
        double z = 0;
        for (int c = 0; c < cells; c++) z += logits[c] = Math.Exp(logits[c] - max);
        for (int c = 0; c < cells; c++) posterior[c] = (float)(logits[c] / z);
    }

    private static double Sq(double x) => x * x;
}
