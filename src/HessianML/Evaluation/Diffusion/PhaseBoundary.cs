using HessianML.Geometry;

namespace HessianML.Evaluation.Diffusion;

/// <summary>Precision and recall of a predicted set of boundary cells against the true one, within a tolerance of cells.</summary>
/// <param name="Precision">Fraction of predicted cells with a true boundary cell within the tolerance (NaN when none is predicted).</param>
/// <param name="Recall">Fraction of true boundary cells with a predicted cell within the tolerance (NaN when there is no true boundary).</param>
/// <param name="Predicted">Number of predicted boundary cells.</param>
/// <param name="True">Number of true boundary cells.</param>
/// <param name="PredictedCorrect">Predicted cells counted correct.</param>
/// <param name="TrueFound">True cells counted found.</param>
public sealed record BoundaryScore(double Precision, double Recall, int Predicted, int True, int PredictedCorrect, int TrueFound);

/// <summary>
/// Phase boundaries on a K x K grid of cells of the unit square (index i * K + j, i along t1 = a, j along t2 = b: the
/// <see cref="Posterior.ParameterBox"/> order of every metric field): the true ones from a finer phase map, the
/// predicted ones from a metric field, and the score of one against the other.
/// </summary>
public static class PhaseBoundary
{
    /// <summary>
    /// The true boundary cells: cell (i, j) of the K x K grid is a boundary cell when the phases of the fine map's points
    /// inside it are not all equal. <paramref name="finePhases"/> is a <see cref="Systems.Diffusion.DiffusionSliceDataset.PhaseMap"/>
    /// of F x F cell centres (index iy * F + ix, ix along a), F a multiple of K, so each coarse cell holds (F / K)^2 of them.
    /// </summary>
    public static bool[] TrueCells(int[] finePhases, int fineGrid, int k)
    {
        ArgumentNullException.ThrowIfNull(finePhases);
        if (k < 1 || fineGrid < k || fineGrid % k != 0)
            throw new ArgumentException($"fine grid {fineGrid} must be a positive multiple of the cell grid {k}");
        if (finePhases.Length != fineGrid * fineGrid)
            throw new ArgumentException($"{finePhases.Length} phases do not fill a {fineGrid} x {fineGrid} map");
        int m = fineGrid / k;
        var cells = new bool[k * k];
        for (int i = 0; i < k; i++)
            for (int j = 0; j < k; j++)
            {
                int first = finePhases[(j * m) * fineGrid + i * m];
                for (int y = j * m; y < (j + 1) * m && !cells[i * k + j]; y++)
                    for (int x = i * m; x < (i + 1) * m; x++)
                        if (finePhases[y * fineGrid + x] != first) { cells[i * k + j] = true; break; }
            }
        return cells;
    }

    /// <summary>
    /// The scale-free size of the metric at each point: the larger eigenvalue of g divided by its median over the
    /// points. WHY the larger eigenvalue: at a boundary the metric grows across it, not along it (g is near rank one
    /// there), which the trace and the largest eigenvalue see and sqrt(det g) mostly does not; the eigenvalue is also
    /// unaffected by the sign of a slightly indefinite fitted g's small eigenvalue. WHY relative to the median: psi is
    /// learned up to a positive scale (METHOD §2), so only ratios of g mean anything.
    /// </summary>
    public static double[] RelativeSize(MetricField field)
    {
        ArgumentNullException.ThrowIfNull(field);
        var size = new double[field.Count];
        for (int i = 0; i < size.Length; i++)
            size[i] = FisherMetricTransformer.Eigenvalues(field.G11[i], field.G12[i], field.G22[i]).High;
        var sorted = size.Where(double.IsFinite).Order().ToArray();
        double median = sorted.Length == 0 ? double.NaN : sorted[sorted.Length / 2];
        if (!(median > 0)) throw new ArgumentException($"the metric's median largest eigenvalue is {median}: no positive scale to compare against");
        for (int i = 0; i < size.Length; i++) size[i] /= median;
        return size;
    }

    /// <summary>
    /// Predicted boundary cells: those whose <see cref="RelativeSize"/> exceeds sqrt(max), i.e. half-way in decades
    /// between the median cell (1) and the largest. WHY this rule: the metric is large on a thin set of cells (the
    /// boundaries) and small elsewhere, by a number of decades that depends on the system (mode spread, posterior
    /// temperature, grid), so the threshold is read from the values themselves, with no per-system constant; and a
    /// spline psi fitted to a crease rings, leaving weaker parallel ridges one or two cells beside the real one, which
    /// the half-way point mostly stays above. Measured on three slices (24 x 24 cells, 30 epochs; seeds 1, 2 with 4
    /// components, seed 3 with 3): precision 0.875 / 0.786 / 0.896 at recall 1.0 on all three, where Otsu's threshold on
    /// log size, pulled down by the ringing, gave 0.62 / 0.65 / 0.60 and a fixed 10 x the median 0.76 / 0.74 / 0.71.
    /// Returns the cells, the sizes and the threshold (as a relative size).
    /// </summary>
    public static (bool[] Cells, double[] Size, double Threshold) FromMetric(MetricField field)
    {
        var size = RelativeSize(field);
        double max = size.Where(double.IsFinite).DefaultIfEmpty(1).Max();
        double threshold = Math.Sqrt(Math.Max(max, 1));
        // A flat metric (max at the median) has no boundary: nothing is strictly above a threshold of max itself.
        return (size.Select(v => v > threshold && v > 1).ToArray(), size, threshold);
    }

    /// <summary>
    /// Precision and recall within <paramref name="tolerance"/> cells (Chebyshev distance: tolerance 1 is the cell and its
    /// eight neighbours): a predicted cell is correct when a true boundary cell is that close, a true cell is found when a
    /// predicted one is. WHY a tolerance: the metric's ridge is the posterior's and psi's smoothing of a jump, so it can sit
    /// a cell to either side of the cell the boundary crosses; both scores count only that much slack.
    /// </summary>
    public static BoundaryScore Score(bool[] predicted, bool[] truth, int k, int tolerance = 1)
    {
        ArgumentNullException.ThrowIfNull(predicted);
        ArgumentNullException.ThrowIfNull(truth);
        if (k < 1 || predicted.Length != k * k || truth.Length != k * k)
            throw new ArgumentException($"maps of {predicted.Length} and {truth.Length} cells do not both fill a {k} x {k} grid");
        if (tolerance < 0) throw new ArgumentOutOfRangeException(nameof(tolerance), $"tolerance {tolerance} must be >= 0");
        int nPred = 0, nTrue = 0, correct = 0, found = 0;
        for (int i = 0; i < k; i++)
            for (int j = 0; j < k; j++)
            {
                if (predicted[i * k + j]) { nPred++; if (Near(truth, k, i, j, tolerance)) correct++; }
                if (truth[i * k + j]) { nTrue++; if (Near(predicted, k, i, j, tolerance)) found++; }
            }
        return new BoundaryScore(nPred == 0 ? double.NaN : (double)correct / nPred, nTrue == 0 ? double.NaN : (double)found / nTrue,
            nPred, nTrue, correct, found);
    }

    /// <summary>
    /// The cells inside a phase: those with no true boundary cell within <paramref name="tolerance"/> cells (Chebyshev
    /// distance, as <see cref="Score"/>), in index order. WHY the slack: the fitted metric's ridge is a boundary's smoothed
    /// jump and reaches a cell to either side of it, so only cells beyond it say how the metric behaves within a phase.
    /// </summary>
    public static int[] InsidePhase(bool[] truth, int k, int tolerance = 1)
    {
        ArgumentNullException.ThrowIfNull(truth);
        if (k < 1 || truth.Length != k * k) throw new ArgumentException($"a map of {truth.Length} cells does not fill a {k} x {k} grid");
        if (tolerance < 0) throw new ArgumentOutOfRangeException(nameof(tolerance), $"tolerance {tolerance} must be >= 0");
        return Enumerable.Range(0, k * k).Where(c => !Near(truth, k, c / k, c % k, tolerance)).ToArray();
    }

    /// <summary>Whether <paramref name="map"/> marks a cell within <paramref name="tolerance"/> cells (Chebyshev) of cell (i, j).</summary>
    private static bool Near(bool[] map, int k, int i, int j, int tolerance)
    {
        for (int a = Math.Max(0, i - tolerance); a <= Math.Min(k - 1, i + tolerance); a++)
            for (int b = Math.Max(0, j - tolerance); b <= Math.Min(k - 1, j + tolerance); b++)
                if (map[a * k + b]) return true;
        return false;
    }
}
