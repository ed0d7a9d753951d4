namespace HessianML.Systems.Diffusion;

/// <summary>
/// A Gaussian mixture sum_k w_k N(mu_k, s^2 I) in R^d with everything closed-form (METHOD §6): its log density and
/// score, and the same for the VP-diffused law at any noise level abar,
/// <code>p_abar = sum_k w_k N(sqrt(abar) mu_k, (abar s^2 + 1 - abar) I)</code>
/// (abar = 1 is the data law itself). Immutable and thread-safe.
/// </summary>
/// <remarks>
/// Numerics: responsibilities are a softmax of log w_k - |x - m_k|^2 / (2 v) with the maximum subtracted (log-sum-exp),
/// so nothing overflows even when |x - m_k|^2 / v is in the thousands (small s, far modes); squared distances are
/// summed directly, not expanded as |x|^2 - 2 x.m + |m|^2, which would cancel catastrophically near a mean.
/// </remarks>
public sealed class GaussianMixture
{
    private readonly double[] _logWeights;
    private readonly double[] _means;

    /// <summary>Number of components K.</summary>
    public int Components { get; }

    /// <summary>Dimension d.</summary>
    public int Dimension { get; }

    /// <summary>Common standard deviation s.</summary>
    public double Std { get; }

    /// <summary>The options this mixture was built from (means and weights filled in).</summary>
    public GaussianMixtureOptions Options { get; }

    /// <summary>Builds the mixture; throws an <see cref="ArgumentException"/> naming a bad option.</summary>
    public GaussianMixture(GaussianMixtureOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Components = options.Components;
        Dimension = options.Dimension;
        Std = options.Std;
        _means = new double[Components * Dimension];
        if (options.Means is not null)
            for (int i = 0; i < _means.Length; i++) _means[i] = options.Means[i];
        else
            for (int k = 0; k < Components; k++) PatternMean(k, Components, Dimension, _means.AsSpan(k * Dimension, Dimension));
        _logWeights = new double[Components];
        double total = options.Weights?.Sum() ?? Components;
        for (int k = 0; k < Components; k++)
            _logWeights[k] = Math.Log((options.Weights?[k] ?? 1.0) / total);
        Options = options with { Means = Array.AsReadOnly((double[])_means.Clone()), Weights = _logWeights.Select(Math.Exp).ToArray() };
    }

    /// <summary>The 1D two-component mixture of Proposition 4.1: (N(-mu, s^2) + N(mu, s^2)) / 2.</summary>
    public static GaussianMixture TwoModes1D(double mu, double s) =>
        new(new GaussianMixtureOptions { Components = 2, Dimension = 1, Std = s, Means = [-mu, mu] });

    /// <summary>Mean of component <paramref name="k"/>.</summary>
    public ReadOnlySpan<double> Mean(int k) => _means.AsSpan(k * Dimension, Dimension);

    /// <summary>Normalised weight w_k.</summary>
    public double Weight(int k) => Math.Exp(_logWeights[k]);

    /// <summary>Variance of each component of the diffused law: abar s^2 + 1 - abar.</summary>
    public double DiffusedVariance(double abar) => abar * Std * Std + (1 - abar);

    /// <summary>log p(x) of the data law.</summary>
    public double LogDensity(ReadOnlySpan<double> x) => DiffusedLogDensity(x, 1.0);

    /// <summary>Score grad log p(x) of the data law into <paramref name="score"/>.</summary>
    public void Score(ReadOnlySpan<double> x, Span<double> score) => DiffusedScore(x, 1.0, score);

    /// <summary>log p_abar(x) of the diffused law (abar in (0, 1]).</summary>
    public double DiffusedLogDensity(ReadOnlySpan<double> x, double abar)
    {
        CheckPoint(x, abar);
        Span<double> logits = Components <= 256 ? stackalloc double[Components] : new double[Components];
        double v = DiffusedVariance(abar);
        double lse = Logits(x, abar, v, logits);
        return lse - 0.5 * Dimension * Math.Log(2 * Math.PI * v);
    }

    /// <summary>
    /// Score of the diffused law: grad log p_abar(x) = (sum_k r_k sqrt(abar) mu_k - x) / v, r the responsibilities.
    /// </summary>
    public void DiffusedScore(ReadOnlySpan<double> x, double abar, Span<double> score)
    {
        CheckPoint(x, abar);
        if (score.Length != Dimension)
            throw new ArgumentException($"score buffer has {score.Length} entries; the mixture dimension is {Dimension}");
        Span<double> r = Components <= 256 ? stackalloc double[Components] : new double[Components];
        double v = DiffusedVariance(abar);
        Responsibilities(x, abar, v, r);
        double c = Math.Sqrt(abar);
        int d = Dimension;
        for (int i = 0; i < d; i++) score[i] = -x[i];
        for (int k = 0; k < Components; k++)
        {
            double rk = r[k] * c;
            if (rk == 0) continue;
            var mu = _means.AsSpan(k * d, d);
            for (int i = 0; i < d; i++) score[i] += rk * mu[i];
        }
        double inv = 1 / v;
        for (int i = 0; i < d; i++) score[i] *= inv;
    }

    /// <summary>Posterior probabilities of the components given x under the diffused law (sum to 1).</summary>
    public void Responsibilities(ReadOnlySpan<double> x, double abar, Span<double> r)
    {
        CheckPoint(x, abar);
        if (r.Length != Components)
            throw new ArgumentException($"responsibility buffer has {r.Length} entries; the mixture has {Components} components");
        Responsibilities(x, abar, DiffusedVariance(abar), r);
    }

    /// <summary>
    /// The phase of a sample: the component with the highest responsibility under the data law (abar = 1), i.e. the
    /// nearest mean in the metric |x - mu_k|^2 / (2 s^2) - log w_k. Ties go to the lower index.
    /// </summary>
    public int Phase(ReadOnlySpan<double> x)
    {
        if (x.Length != Dimension)
            throw new ArgumentException($"sample has {x.Length} entries; the mixture dimension is {Dimension}");
        int best = 0;
        double bestScore = double.NegativeInfinity;
        double inv2v = 1 / (2 * Std * Std);
        for (int k = 0; k < Components; k++)
        {
            double s = _logWeights[k] - inv2v * SquaredDistance(x, _means.AsSpan(k * Dimension, Dimension), 1.0);
            if (s > bestScore) { bestScore = s; best = k; }
        }
        return best;
    }

    private void Responsibilities(ReadOnlySpan<double> x, double abar, double v, Span<double> r)
    {
        double lse = Logits(x, abar, v, r);
        for (int k = 0; k < r.Length; k++) r[k] = Math.Exp(r[k] - lse);
    }

    /// <summary>Fills log(w_k N(x; sqrt(abar) mu_k, v I)) up to the common Gaussian constant; returns their log-sum-exp.</summary>
    private double Logits(ReadOnlySpan<double> x, double abar, double v, Span<double> logits)
    {
        double c = Math.Sqrt(abar), inv2v = 1 / (2 * v), max = double.NegativeInfinity;
        for (int k = 0; k < Components; k++)
        {
            logits[k] = _logWeights[k] - inv2v * SquaredDistance(x, _means.AsSpan(k * Dimension, Dimension), c);
            max = Math.Max(max, logits[k]);
        }
        double sum = 0;
        for (int k = 0; k < Components; k++) sum += Math.Exp(logits[k] - max);
        return max + Math.Log(sum);
    }

    private static double SquaredDistance(ReadOnlySpan<double> x, ReadOnlySpan<double> mu, double scale)
    {
        double s = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double e = x[i] - scale * mu[i];
            s += e * e;
        }
        return s;
    }

    private void CheckPoint(ReadOnlySpan<double> x, double abar)
    {
        if (x.Length != Dimension)
            throw new ArgumentException($"point has {x.Length} entries; the mixture dimension is {Dimension}");
        if (!(abar > 0 && abar <= 1))
            throw new ArgumentOutOfRangeException(nameof(abar), $"abar {abar} must be in (0, 1]");
    }

    // ---- colour patterns -------------------------------------------------------------------------------------

    /// <summary>
    /// The image shape (H, W) of a d = 3 H W vector, laid out H x W x RGB row-major (channel last, the byte order of
    /// a PNG row): H is the largest divisor of d / 3 not above sqrt(d / 3), so 192 -> 8 x 8, 48 -> 4 x 4, 24 -> 2 x 4.
    /// </summary>
    public static (int Height, int Width) ImageShape(int dimension)
    {
        if (dimension < 3 || dimension % 3 != 0)
            throw new ArgumentException($"dimension {dimension} is not 3 x H x W (a positive multiple of 3)");
        int n = dimension / 3, h = (int)Math.Sqrt(n);
        while (h > 1 && n % h != 0) h--;
        return (h, n / h);
    }

    /// <summary>
    /// Mean of component k of K as a smooth colour pattern in [-0.9, 0.9]: hue k / K (so components differ in colour),
    /// a gentle hue gradient along a direction that turns by the golden angle from one component to the next, and a
    /// bright blob whose centre goes round the image with k. WHY these: a phase map of samples then shows K visibly
    /// different pictures, like the paper's grid; and the means are several units apart in R^d, so s = 0.1 gives
    /// disjoint modes.
    /// </summary>
    public static void PatternMean(int k, int components, int dimension, Span<double> mean)
    {
        var (h, w) = ImageShape(dimension);
        if (mean.Length != dimension) throw new ArgumentException($"mean buffer has {mean.Length} entries, not {dimension}");
        double theta = 2 * Math.PI * 0.6180339887498949 * k;
        double phi = 2 * Math.PI * k / components;
        double cx = 0.5 + 0.3 * Math.Cos(phi), cy = 0.5 + 0.3 * Math.Sin(phi);
        for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
        {
            double u = (x + 0.5) / w, v = (y + 0.5) / h;
            double hue = (double)k / components + 0.25 / components * 2 * (Math.Cos(theta) * (u - 0.5) + Math.Sin(theta) * (v - 0.5));
            double r2 = (u - cx) * (u - cx) + (v - cy) * (v - cy);
            double value = 0.3 + 0.7 * Math.Exp(-r2 / (2 * 0.2 * 0.2));
            var (rr, gg, bb) = HsvToRgb(hue, 0.85, value);
            int o = (y * w + x) * 3;
            mean[o] = 0.9 * (2 * rr - 1);
            mean[o + 1] = 0.9 * (2 * gg - 1);
            mean[o + 2] = 0.9 * (2 * bb - 1);
        }
    }

    private static (double R, double G, double B) HsvToRgb(double hue, double sat, double value)
    {
        hue -= Math.Floor(hue);
        double h6 = hue * 6;
        int sector = Math.Min(5, (int)h6);
        double f = h6 - sector;
        double p = value * (1 - sat), q = value * (1 - sat * f), t = value * (1 - sat * (1 - f));
        return sector switch
        {
            0 => (value, t, p),
            1 => (q, value, p),
            2 => (p, value, t),
            3 => (p, q, value),
            4 => (t, p, value),
            _ => (value, p, q),
        };
    }

    /// <summary>
    /// A sample as RGB bytes for <see cref="Figures.Png"/>: H x W x 3 row-major, each value clamped to [-1, 1]
    /// and mapped linearly to [0, 255] (rounded).
    /// </summary>
    public static byte[] ToRgb(ReadOnlySpan<double> x, int height, int width)
    {
        if (height < 1 || width < 1 || x.Length != 3L * height * width)
            throw new ArgumentException($"{x.Length} values are not a {height} x {width} RGB image ({3L * Math.Max(height, 0) * Math.Max(width, 0)} needed)");
        var rgb = new byte[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            double c = double.IsNaN(x[i]) ? 0 : Math.Clamp(x[i], -1, 1);
            rgb[i] = (byte)Math.Round((c + 1) * 127.5);
        }
        return rgb;
    }
}
