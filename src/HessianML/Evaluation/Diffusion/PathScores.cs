namespace HessianML.Evaluation.Diffusion;

/// <summary>
/// METHOD §7's path scores for a path through some space (pixels, features) given as its points in order, one array per
/// point: the cumulative distance between consecutive points, and the curvature, the mean angle change per unit length.
/// </summary>
public static class PathScores
{
    /// <summary>Sum over consecutive points of the Euclidean distance |y_{i+1} - y_i|.</summary>
    public static double Length(IReadOnlyList<double[]> points)
    {
        ArgumentNullException.ThrowIfNull(points);
        double length = 0;
        for (int i = 0; i + 1 < points.Count; i++) length += Math.Sqrt(SquaredDistance(points[i], points[i + 1]));
        return length;
    }

    /// <summary>
    /// Sum of the turning angles between consecutive segments (radians, in [0, pi], from their cosine) divided by the
    /// path's length: <see cref="Geometry.Geodesics.CurveEnergy.Curvature"/>'s definition in any dimension (a circle of
    /// radius r scores 1 / r, a straight path 0). Zero-length segments are skipped.
    /// </summary>
    public static double Curvature(IReadOnlyList<double[]> points)
    {
        ArgumentNullException.ThrowIfNull(points);
        double turn = 0, length = 0;
        double[]? previous = null;
        double previousNorm = 0;
        for (int i = 0; i + 1 < points.Count; i++)
        {
            var a = points[i];
            var b = points[i + 1];
            if (a.Length != b.Length) throw new ArgumentException($"path points {i} and {i + 1} have lengths {a.Length} and {b.Length}");
            var step = new double[a.Length];
            for (int k = 0; k < a.Length; k++) step[k] = b[k] - a[k];
            double norm = Math.Sqrt(step.Sum(v => v * v));
            if (norm == 0) continue;
            length += norm;
            if (previous is not null)
            {
                double dot = 0;
                for (int k = 0; k < step.Length; k++) dot += previous[k] * step[k];
                turn += Math.Acos(Math.Clamp(dot / (norm * previousNorm), -1, 1));
            }
            (previous, previousNorm) = (step, norm);
        }
        return length > 0 ? turn / length : 0;
    }

    private static double SquaredDistance(double[] a, double[] b)
    {
        if (a.Length != b.Length) throw new ArgumentException($"path points have lengths {a.Length} and {b.Length}");
        double s = 0;
        for (int k = 0; k < a.Length; k++) s += (a[k] - b[k]) * (a[k] - b[k]);
        return s;
    }
}
