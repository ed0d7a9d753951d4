namespace HessianML.Posterior;

/// <summary>
/// Bundles of samples from parameter-space neighbourhoods (METHOD.md §4a): for each sample, its K_neib nearest
/// neighbours in the box (itself included), measured in box-normalised coordinates so that both axes count alike,
/// and K_bundle of them drawn without replacement. A bundle carries K_bundle times the information of one sample,
/// which is what makes the posterior over the grid sharp enough to see curvature.
/// </summary>
public static class NeighbourBundles
{
    /// <summary>
    /// Indices of the <paramref name="count"/> nearest points to each point (itself first), by box-normalised
    /// Euclidean distance; ties broken by index so the result is deterministic. t is n x 2, flat.
    /// </summary>
    public static int[][] NearestNeighbours(ReadOnlySpan<float> t, ParameterBox box, int count)
    {
        int n = t.Length / 2;
        if (t.Length % 2 != 0) throw new ArgumentException($"parameter array has odd length {t.Length}; expected n x 2");
        if (count < 1 || count > n)
            throw new ArgumentOutOfRangeException(nameof(count), $"neighbour count {count} must be in [1, {n}] (the sample count)");
        var x = new double[n];
        var y = new double[n];
        for (int i = 0; i < n; i++)
        {
            x[i] = box.Width1 > 0 ? (t[2 * i] - box.Lo1) / box.Width1 : 0;
            y[i] = box.Width2 > 0 ? (t[2 * i + 1] - box.Lo2) / box.Width2 : 0;
        }
        // Bucket the unit square so each query scans a few cells instead of all n points.
        int side = Math.Max(1, (int)Math.Sqrt(n / (double)Math.Max(count, 4)));
        var buckets = new List<int>[side * side];
        for (int b = 0; b < buckets.Length; b++) buckets[b] = [];
        int Cell(double v) => Math.Clamp((int)(v * side), 0, side - 1);
        for (int i = 0; i < n; i++) buckets[Cell(x[i]) * side + Cell(y[i])].Add(i);

        var result = new int[n][];
        Parallel.For(0, n, () => new List<(double, int)>(), (i, _, candidates) =>
        {
            int cx = Cell(x[i]), cy = Cell(y[i]);
            for (int ring = 0; ; ring++)
            {
                candidates.Clear();
                for (int a = Math.Max(0, cx - ring); a <= Math.Min(side - 1, cx + ring); a++)
                    for (int b = Math.Max(0, cy - ring); b <= Math.Min(side - 1, cy + ring); b++)
                        foreach (int j in buckets[a * side + b])
                            candidates.Add(((x[j] - x[i]) * (x[j] - x[i]) + (y[j] - y[i]) * (y[j] - y[i]), j));
                // Every point within distance ring/side is inside the scanned square, so once the count-th nearest
                // candidate is that close (or the whole square is covered) the answer is exact.
                bool covers = ring >= side;
                if (candidates.Count >= count)
                {
                    candidates.Sort((p, q) => p.Item1 != q.Item1 ? p.Item1.CompareTo(q.Item1) : p.Item2.CompareTo(q.Item2));
                    double reach = (double)ring / side;
                    if (covers || candidates[count - 1].Item1 <= reach * reach)
                    {
                        var nb = new int[count];
                        nb[0] = i;
                        for (int c = 0, m = 1; m < count; c++)
                            if (candidates[c].Item2 != i) nb[m++] = candidates[c].Item2;
                        result[i] = nb;
                        return candidates;
                    }
                }
                if (covers) throw new InvalidOperationException("neighbour search did not converge");
            }
        }, _ => { });
        return result;
    }

    /// <summary>
    /// For each sample, <paramref name="bundleSize"/> members drawn without replacement from its neighbours, always
    /// including the sample itself first (its own t is the bundle's label). Seeded per (seed, sample) by SplitMix64, so
    /// the bundles are the same in every process and for any thread count.
    /// </summary>
    public static int[][] Draw(int[][] neighbours, int bundleSize, int seed)
    {
        var bundles = new int[neighbours.Length][];
        for (int i = 0; i < neighbours.Length; i++)
        {
            var nb = neighbours[i];
            if (bundleSize < 1 || bundleSize > nb.Length)
                throw new ArgumentOutOfRangeException(nameof(bundleSize), $"bundle size {bundleSize} must be in [1, {nb.Length}] (the neighbour count)");
            // WHY not HashCode.Combine: .NET randomises it per process, which made every run's bundles different.
            ulong state = (ulong)(uint)seed << 32 | (uint)i;
            var rng = new Random(unchecked((int)Systems.SampleRandom.SplitMix64(ref state)));
            var pool = nb[1..];
            rng.Shuffle(pool);
            bundles[i] = [nb[0], .. pool[..(bundleSize - 1)]];
        }
        return bundles;
    }
}
