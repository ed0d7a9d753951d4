namespace HessianML.Posterior;

/// <summary>Options of <see cref="FeatureDistancePosteriorEstimator"/> (METHOD.md §4b). Every default is stated with its reason.</summary>
public sealed class FeatureDistancePosteriorOptions
{
    /// <summary>Grid side K (the posterior lives on K x K cell centres). Default 24, as PosteriorGrid and METHOD §8.</summary>
    public int Grid { get; set; } = 24;

    /// <summary>
    /// Inverse temperature lambda of p(t'_k|x) ∝ exp(-lambda ||f(x) - mu_k||^2). Default null: lambda = d / (2 m), d the
    /// feature length and m the mean squared distance of the training rows' features to their own cell's centroid.
    /// WHY: that is the maximum-likelihood lambda = 1 / (2 s^2) when the features are isotropic Gaussian about their cell
    /// mean, f ~ N(mu(t), s^2 I_d) (then m = d s^2), the case in which eq. 16 is the exact Bayes posterior; it also
    /// makes lambda follow the features' units instead of a fixed number. It overestimates s^2 by the spread of mu(t)
    /// within one cell (for f = t + noise: by a cell width^2 / 12 per axis), so it errs towards a slightly flatter,
    /// not a sharper, posterior.
    /// </summary>
    public double? Lambda { get; set; }

    /// <summary>Feature column (Float32 vector of any fixed length d). Default "features".</summary>
    public string FeaturesColumnName { get; set; } = "features";

    /// <summary>Column of the known parameters (Float32 vector[2]), read by Fit only. Default "t" (the issue-4 contract).</summary>
    public string ParameterColumnName { get; set; } = "t";

    /// <summary>The parameter box. Default null: the bounding box of the data's t (give it in a chain: LogPartition reads it from the schema before fitting).</summary>
    public ParameterBox? Box { get; set; }

    /// <summary>
    /// Fraction of rows held out (split == true); held-out rows do not contribute to the centroids. Default 0.2, with
    /// PosteriorGrid's seeded rule (<see cref="PosteriorGridTransformer"/>.SplitRows), so <c>split</c> means the same in both.
    /// </summary>
    public double TestFraction { get; set; } = 0.2;

    /// <summary>Seed of the split. Default null: the context's next seed.</summary>
    public int? Seed { get; set; }

    internal FeatureDistancePosteriorOptions Clone() => (FeatureDistancePosteriorOptions)MemberwiseClone();

    internal void Validate()
    {
        static void Check(bool ok, string what)
        {
            if (!ok) throw new ArgumentOutOfRangeException(nameof(FeatureDistancePosteriorOptions), "FeatureDistancePosterior: " + what);
        }
        Check(Grid >= 1, $"Grid {Grid} must be >= 1");
        Check(Lambda is null || (Lambda > 0 && double.IsFinite(Lambda.Value)), $"Lambda {Lambda} must be positive and finite (or null)");
        Check(TestFraction >= 0 && TestFraction < 1, $"TestFraction {TestFraction} must be in [0, 1)");
        Check(!string.IsNullOrWhiteSpace(FeaturesColumnName), "FeaturesColumnName must be a non-empty column name");
        Check(!string.IsNullOrWhiteSpace(ParameterColumnName), "ParameterColumnName must be a non-empty column name");
    }
}
