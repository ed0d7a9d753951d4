using HessianML.Systems;
using HessianML.Systems.Diffusion;

namespace HessianML.Evaluation.Diffusion;

/// <summary>
/// A fixed nonlinear feature map of a sample, f(x) = tanh(W x) with W an m x d matrix of N(0, 1/d) entries drawn from a
/// seed: the "feature space" of the Wang et al. pull-back baseline and of the feature-space path length (METHOD §7).
/// </summary>
/// <remarks>
/// WHY this map. The paper's feature spaces are pre-trained networks (CLIP, VGG), which this issue does not have (ONNX
/// models come with issue 7). What the baseline needs from a feature space is a fixed map that is not an isometry of
/// pixel space, so that its pull-back and its path lengths can disagree with the pixel ones: distances between nearby
/// images grow linearly, distances between very different images saturate (as perceptual distances do). A random
/// projection keeps pixel geometry up to small distortions (Johnson-Lindenstrauss), so everything the features do
/// differently is the tanh's saturation. N(0, 1/d) entries put each (W x)_j at the root-mean-square size of x's entries,
/// O(1) for images in [-1, 1], where tanh is neither linear nor flat.
/// </remarks>
public sealed class RandomFeatureMap
{
    private readonly double[] _w; // m x d, row-major

    /// <summary>Input length d.</summary>
    public int InputDimension { get; }

    /// <summary>Feature length m.</summary>
    public int FeatureDimension { get; }

    public RandomFeatureMap(int inputDimension, int featureDimension, ulong seed)
    {
        if (inputDimension < 1) throw new ArgumentOutOfRangeException(nameof(inputDimension), $"input dimension {inputDimension} must be at least 1");
        if (featureDimension < 1) throw new ArgumentOutOfRangeException(nameof(featureDimension), $"feature dimension {featureDimension} must be at least 1");
        if ((long)inputDimension * featureDimension > 1 << 28)
            throw new ArgumentException($"{featureDimension} features x input dimension {inputDimension} is too large a projection");
        (InputDimension, FeatureDimension) = (inputDimension, featureDimension);
        _w = new double[inputDimension * featureDimension];
        // Its own derived stream ("feature"), so W never coincides with the slice's latents drawn from the same seed.
        var rng = new SampleRandom(Gaussian.Derive(seed, 0x66656174757265UL));
        Gaussian.Fill(ref rng, _w);
        double scale = 1 / Math.Sqrt(inputDimension);
        for (int i = 0; i < _w.Length; i++) _w[i] *= scale;
    }

    /// <summary>Writes f(x) into <paramref name="feature"/> (length m). Thread-safe.</summary>
    public void Apply(ReadOnlySpan<double> x, Span<double> feature)
    {
        if (x.Length != InputDimension) throw new ArgumentException($"input has {x.Length} entries; the feature map takes {InputDimension}");
        if (feature.Length != FeatureDimension) throw new ArgumentException($"feature buffer has {feature.Length} entries; the map gives {FeatureDimension}");
        int d = InputDimension;
        for (int j = 0; j < FeatureDimension; j++)
        {
            var row = _w.AsSpan(j * d, d);
            double s = 0;
            for (int i = 0; i < d; i++) s += row[i] * x[i];
            feature[j] = Math.Tanh(s);
        }
    }

    /// <summary>f(x) as a new array.</summary>
    public double[] Apply(ReadOnlySpan<double> x)
    {
        var f = new double[FeatureDimension];
        Apply(x, f);
        return f;
    }
}
