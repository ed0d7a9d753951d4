using System.Globalization;

namespace HessianML.Systems.Diffusion;

/// <summary>
/// The data law of the known-score diffusion: sum_k w_k N(mu_k, s^2 I) in R^d (METHOD §6). Defaults give a
/// four-phase mixture of 8 x 8 RGB colour patterns whose phase map reads like the paper's grid of pictures.
/// </summary>
public sealed record GaussianMixtureOptions
{
    /// <summary>Number of components K (phases). Default 4: enough for boundaries where three phases meet.</summary>
    public int Components { get; init; } = 4;

    /// <summary>
    /// Dimension d. Default 192 = 3 x 8 x 8, a small RGB image. When <see cref="Means"/> is null the means are colour
    /// patterns, so d must then be a multiple of 3 (see <see cref="GaussianMixture.ImageShape"/>).
    /// </summary>
    public int Dimension { get; init; } = 192;

    /// <summary>
    /// Common standard deviation s of every component. Default 0.1: well below the distance between the pattern means
    /// (several units), so the modes are disjoint and the phase boundaries sharp, the regime of Proposition 4.1 where
    /// the Lipschitz constant of latent -> sample grows like mu^2 / s^4.
    /// </summary>
    public double Std { get; init; } = 0.1;

    /// <summary>Mixture weights w_k (positive; normalised to sum 1). Null = equal weights 1/K.</summary>
    public IReadOnlyList<double>? Weights { get; init; }

    /// <summary>
    /// The means, K x d row-major (component k is entries k*d .. k*d+d-1). Null = <see cref="GaussianMixture.PatternMean"/>:
    /// a distinct smooth colour pattern per component, values in [-1, 1].
    /// </summary>
    public IReadOnlyList<double>? Means { get; init; }

    /// <summary>Largest K accepted: beyond it the colour patterns stop being distinguishable by eye anyway.</summary>
    public const int MaxComponents = 4096;

    /// <summary>Largest d accepted (a 3 x 512 x 512 image is 786432).</summary>
    public const int MaxDimension = 1 << 22;

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first bad option and its value.</summary>
    public void Validate()
    {
        var inv = CultureInfo.InvariantCulture;
        if (Components < 1 || Components > MaxComponents)
            throw new ArgumentOutOfRangeException(nameof(Components), $"mixture components {Components} must be in [1, {MaxComponents}]");
        if (Dimension < 1 || Dimension > MaxDimension)
            throw new ArgumentOutOfRangeException(nameof(Dimension), $"mixture dimension {Dimension} must be in [1, {MaxDimension}]");
        if (!(Std > 0) || !double.IsFinite(Std))
            throw new ArgumentOutOfRangeException(nameof(Std), string.Create(inv, $"mixture std {Std} must be positive and finite"));
        if (Weights is not null)
        {
            if (Weights.Count != Components)
                throw new ArgumentException($"{Weights.Count} mixture weights given for {Components} components", nameof(Weights));
            for (int k = 0; k < Weights.Count; k++)
                if (!(Weights[k] > 0) || !double.IsFinite(Weights[k]))
                    throw new ArgumentException(string.Create(inv, $"mixture weight {k} is {Weights[k]}: weights must be positive and finite"), nameof(Weights));
        }
        if (Means is not null)
        {
            if (Means.Count != (long)Components * Dimension)
                throw new ArgumentException($"{Means.Count} mean entries given; {Components} components x dimension {Dimension} need {(long)Components * Dimension}", nameof(Means));
            for (int i = 0; i < Means.Count; i++)
                if (!double.IsFinite(Means[i]))
                    throw new ArgumentException(string.Create(inv, $"mean entry {i} (component {i / Dimension}) is {Means[i]}: means must be finite"), nameof(Means));
        }
        else if (Dimension % 3 != 0)
            throw new ArgumentException($"mixture dimension {Dimension} is not a multiple of 3: colour-pattern means need d = 3 x H x W (or give Means)", nameof(Dimension));
        if ((long)Components * Dimension > int.MaxValue / 2)
            throw new ArgumentException($"{Components} components x dimension {Dimension} is too many mean entries");
    }
}
